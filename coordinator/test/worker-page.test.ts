import { describe, expect, it } from "vitest";
import { api } from "./support.ts";

describe("the /worker page", () => {
  it("is served as HTML that loads its scripts from /worker/ and names no other origin", async () => {
    const res = await api("/worker?chain=solana");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    // A pairing code in the address must never travel in a Referer.
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
    const html = await res.text();
    expect(html).toMatch(/<script defer src="\/worker\/page-[A-Z0-9]+\.js"><\/script>/);
    expect(html).toMatch(/href="\/worker\/style-[A-Z0-9]+\.css"/);
    expect(html).not.toContain("{{");
  });

  it("answers with a trailing slash too", async () => {
    const res = await api("/worker/");
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("<title>Dispatch worker</title>");
  });

  it("leaves the chain APIs where they were", async () => {
    expect((await api("/workers")).status).toBe(404);
    expect((await api("/monad/v1/health")).status).toBe(200);
  });
});
