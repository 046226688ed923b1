import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Ed25519KeyPair } from "../protocol/index.ts";
import { generateKeyPair, publicKeyFromSecret } from "../protocol/index.ts";

export interface LoadedKey {
  keys: Ed25519KeyPair;
  created: boolean;
  /** Set when the file is readable by group or others. */
  warning?: string;
}

/**
 * Loads the worker's ed25519 identity, creating it on first run. The file holds the secret
 * key, so it is created 0600 (in a 0700 directory) and never overwritten.
 */
export async function loadOrCreateKey(file: string): Promise<LoadedKey> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    return { keys: await create(file), created: true };
  }
  const keys = parse(text, file);
  const mode = (await stat(file)).mode & 0o777;
  const warning = mode & 0o077 ? `key file ${file} is readable by others (mode ${mode.toString(8)}); run: chmod 600 ${file}` : undefined;
  return { keys, created: false, ...(warning !== undefined && { warning }) };
}

async function create(file: string): Promise<Ed25519KeyPair> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const keys = generateKeyPair();
  try {
    // "wx": if another process created the file meanwhile, use theirs rather than clobber it.
    await writeFile(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return parse(await readFile(file, "utf8"), file);
    throw err;
  }
  return keys;
}

function parse(text: string, file: string): Ed25519KeyPair {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new Error(`key file ${file} is not JSON; move it away to create a new identity`);
  }
  const { secretKey, publicKey } = (data ?? {}) as Partial<Ed25519KeyPair>;
  if (typeof secretKey !== "string" || !/^[0-9a-f]{64}$/.test(secretKey)) {
    throw new Error(`key file ${file} has no valid secretKey (64 hex characters)`);
  }
  const derived = publicKeyFromSecret(secretKey);
  if (publicKey !== undefined && publicKey !== derived) {
    throw new Error(`key file ${file}: publicKey does not match secretKey`);
  }
  return { secretKey, publicKey: derived };
}
