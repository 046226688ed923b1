import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { publicKeyFromSecret, signMessage, verifyMessage } from "../protocol/index.ts";
import { loadOrCreateKey } from "./key-file.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "dispatch-key-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("worker key file", () => {
  it("creates an ed25519 identity on first run, readable only by its owner", async () => {
    const file = path.join(dir, "nested", "key.json");
    const first = await loadOrCreateKey(file);
    expect(first.created).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    const onDisk = JSON.parse(await readFile(file, "utf8")) as { secretKey: string; publicKey: string };
    expect(onDisk).toEqual(first.keys);
    expect(verifyMessage("hi", signMessage("hi", first.keys.secretKey), first.keys.publicKey)).toBe(true);
  });

  it("reuses the same identity on later runs", async () => {
    const file = path.join(dir, "key.json");
    const a = await loadOrCreateKey(file);
    const b = await loadOrCreateKey(file);
    expect(b).toEqual({ keys: a.keys, created: false });
  });

  it("warns about a key file others can read", async () => {
    const file = path.join(dir, "key.json");
    const secretKey = "11".repeat(32);
    await writeFile(file, JSON.stringify({ secretKey }), { mode: 0o644 });
    const loaded = await loadOrCreateKey(file);
    expect(loaded.keys.publicKey).toBe(publicKeyFromSecret(secretKey));
    expect(loaded.warning).toMatch(/chmod 600/);
  });

  it("refuses a corrupt or inconsistent key file instead of replacing it", async () => {
    const file = path.join(dir, "key.json");
    await writeFile(file, "not json", { mode: 0o600 });
    await expect(loadOrCreateKey(file)).rejects.toThrow(/not JSON/);
    await writeFile(file, JSON.stringify({ secretKey: "11".repeat(32), publicKey: "22".repeat(32) }));
    await expect(loadOrCreateKey(file)).rejects.toThrow(/does not match/);
    expect(await readFile(file, "utf8")).toContain("22".repeat(32));
  });
});
