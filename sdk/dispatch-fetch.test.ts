import { describe, expect, it } from "vitest";
import { generateKeyPair, LIMITS, verifySeekerRequest } from "../protocol/index.ts";
import { dispatchFetch } from "./dispatch-fetch.ts";
import type { PaymentClient } from "./payments.ts";
import { json, scriptedFetch } from "./test-support/builders.ts";

const URL_ = "http://coordinator.test/solana/v1/chat/completions";
const BODY = JSON.stringify({ model: "alpha", messages: [{ role: "user", content: "Hi" }] });

function payer(): PaymentClient & { calls: number } {
  const p = {
    calls: 0,
    async createPaymentHeaders(res: Response) {
      p.calls++;
      expect(res.status).toBe(402);
      return { "payment-signature": `paid-${p.calls}` };
    },
  };
  return p;
}

describe("dispatchFetch", () => {
  it("pays a 402 once and resends the same request with the payment", async () => {
    const { fetch, requests } = scriptedFetch((req) =>
      req.headers.get("payment-signature") ? json({ ok: true }) : json({ error: { message: "pay" } }, 402, { "payment-required": "x" }),
    );
    const pay = payer();
    const res = await dispatchFetch({ payment: pay, fetch })(URL_, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: BODY,
    });
    expect(res.status).toBe(200);
    expect(pay.calls).toBe(1);
    expect(requests.map((r) => [r.body, r.headers.get("content-type"), r.headers.get("payment-signature")])).toEqual([
      [BODY, "application/json", null],
      [BODY, "application/json", "paid-1"],
    ]);
  });

  it("hands a second 402 to the client instead of paying again", async () => {
    const { fetch, requests } = scriptedFetch(() => json({ error: { message: "refused" } }, 402));
    const pay = payer();
    const res = await dispatchFetch({ payment: pay, fetch })(URL_, { method: "POST", body: BODY });
    expect(res.status).toBe(402);
    expect(pay.calls).toBe(1);
    expect(requests).toHaveLength(2);
  });

  it("passes a 402 through untouched when it has no payer", async () => {
    const { fetch } = scriptedFetch(() => json({ error: { message: "pay" } }, 402));
    expect((await dispatchFetch({ fetch })(URL_, { method: "POST", body: BODY })).status).toBe(402);
  });

  it("signs each attempt as the identity, over the exact path, body and chain", async () => {
    const key = generateKeyPair();
    const nonces: string[] = [];
    const { fetch, requests } = scriptedFetch((req) => {
      const check = verifySeekerRequest({
        chain: "solana",
        host: req.url.host,
        method: req.method,
        path: req.url.pathname + req.url.search,
        body: req.body,
        headers: req.headers,
        nowSeconds: Math.floor(Date.now() / 1000),
        skewSeconds: LIMITS.signatureSkewSeconds,
      });
      expect(check).toMatchObject({ ok: true, userId: key.publicKey });
      nonces.push(req.headers.get("x-dispatch-nonce") ?? "");
      return requests.length === 1 ? json({}, 402) : json({ ok: true });
    });
    const res = await dispatchFetch({ identity: key, payment: payer(), fetch })(URL_, { method: "POST", body: BODY });
    expect(res.status).toBe(200);
    expect(new Set(nonces).size).toBe(2);
  });
});
