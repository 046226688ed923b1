import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { generateKeyPair, publicKeyFromSecret } from "../protocol/index.ts";
import { loadIdentity, loadOrCreateIdentity } from "./identity-file.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "dispatch-identity-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("identity file", () => {
  it("creates a key with mode 0600 in a 0700 directory, then loads the same key", async () => {
    const path = join(dir, "nested", "identity.json");
    const first = await loadOrCreateIdentity(path);
    expect(first.created).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "nested"))).mode & 0o777).toBe(0o700);
    expect(publicKeyFromSecret(first.identity.secretKey)).toBe(first.identity.publicKey);
    const again = await loadOrCreateIdentity(path);
    expect(again).toEqual({ identity: first.identity, created: false });
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({
      public_key: first.identity.publicKey,
      secret_key: first.identity.secretKey,
    });
  });

  it("refuses a key file other users can read", async () => {
    const path = join(dir, "identity.json");
    const key = generateKeyPair();
    await writeFile(path, JSON.stringify({ public_key: key.publicKey, secret_key: key.secretKey }));
    await chmod(path, 0o644);
    await expect(loadIdentity(path)).rejects.toThrow(/chmod 600/);
  });

  it("refuses a file whose public key does not belong to its secret key", async () => {
    const path = join(dir, "identity.json");
    await writeFile(path, JSON.stringify({ public_key: generateKeyPair().publicKey, secret_key: generateKeyPair().secretKey }), {
      mode: 0o600,
    });
    await expect(loadIdentity(path)).rejects.toThrow(/does not belong/);
    // And a broken file is never silently replaced by a new key.
    await expect(loadOrCreateIdentity(path)).rejects.toThrow(/does not belong/);
  });
});
