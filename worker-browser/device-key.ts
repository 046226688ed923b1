import type { Ed25519KeyPair } from "../protocol/index.ts";
import { fromBase64, generateKeyPair, signMessage, toBase64, toHex, utf8 } from "../protocol/index.ts";

/** The worker's ed25519 identity in this browser. The secret never leaves the device unless the user exports it. */
export interface DeviceKey {
  /** 64 lowercase hex characters: the worker's `provider_pubkey`. */
  readonly publicKey: string;
  /** `webcrypto`: a CryptoKey held by the browser; `noble`: a seed in JavaScript (no WebCrypto Ed25519 here, or no secure context). */
  readonly kind: "webcrypto" | "noble";
  /** Detached ed25519 signature over the UTF-8 message, base64 (the same bytes on both kinds: Ed25519 is deterministic). */
  sign(message: string): Promise<string>;
  /** The key in the Node worker's key-file format (`npm run worker -- --key <file>`). */
  exportKeyFile(): Promise<Ed25519KeyPair>;
}

const DB = "dispatch-worker";
const STORE = "keys";
const RECORD = "device";

type Stored = { kind: "webcrypto"; publicKey: string; privateKey: CryptoKey } | { kind: "noble"; publicKey: string; seed: string };

/** The key kept in IndexedDB, created on first use. */
export async function loadOrCreateDeviceKey(): Promise<{ key: DeviceKey; created: boolean }> {
  const db = await openDb();
  try {
    const stored = await request<Stored | undefined>(db.transaction(STORE).objectStore(STORE).get(RECORD));
    if (stored !== undefined) return { key: fromStored(stored), created: false };
    const fresh = await createStored();
    // `add`, not `put`: a second tab that created a key meanwhile wins, and this one re-reads it.
    try {
      await request(db.transaction(STORE, "readwrite").objectStore(STORE).add(fresh, RECORD));
    } catch {
      const theirs = await request<Stored | undefined>(db.transaction(STORE).objectStore(STORE).get(RECORD));
      if (theirs !== undefined) return { key: fromStored(theirs), created: false };
      throw new Error("could not store the worker key in IndexedDB");
    }
    return { key: fromStored(fresh), created: true };
  } finally {
    db.close();
  }
}

/** A key for this page load only, never stored (kiosks and unattended runs: `?autostart=1`). */
export async function ephemeralDeviceKey(): Promise<DeviceKey> {
  return fromStored(await createStored());
}

async function createStored(): Promise<Stored> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle !== undefined) {
    try {
      // Extractable only so the user can export a backup; the page itself never reads it.
      const pair = (await subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
      const raw = new Uint8Array(await subtle.exportKey("raw", pair.publicKey));
      return { kind: "webcrypto", publicKey: toHex(raw), privateKey: pair.privateKey };
    } catch {
      // Browsers without WebCrypto Ed25519 use the same algorithm in JavaScript below.
    }
  }
  const pair = generateKeyPair();
  return { kind: "noble", publicKey: pair.publicKey, seed: pair.secretKey };
}

function fromStored(stored: Stored): DeviceKey {
  if (stored.kind === "noble") {
    return {
      publicKey: stored.publicKey,
      kind: "noble",
      sign: async (message) => signMessage(message, stored.seed),
      exportKeyFile: async () => ({ secretKey: stored.seed, publicKey: stored.publicKey }),
    };
  }
  const { privateKey, publicKey } = stored;
  return {
    publicKey,
    kind: "webcrypto",
    sign: async (message) => toBase64(new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, privateKey, utf8(message)))),
    exportKeyFile: async () => {
      const jwk = await crypto.subtle.exportKey("jwk", privateKey);
      if (jwk.d === undefined) throw new Error("the browser did not export the private key");
      return { secretKey: toHex(fromBase64Url(jwk.d)), publicKey };
    },
  };
}

function fromBase64Url(text: string): Uint8Array {
  const b64 = text.replaceAll("-", "+").replaceAll("_", "/");
  return fromBase64(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
}

function openDb(): Promise<IDBDatabase> {
  const open = indexedDB.open(DB, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  return request(open);
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error("IndexedDB request failed"));
  });
}
