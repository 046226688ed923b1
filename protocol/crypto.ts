import * as ed from "@noble/ed25519";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { fromBase64, fromHex, toBase64, toHex, utf8 } from "./encoding.ts";

// Synchronous SHA-512 lets signing and verification run inside a synchronous
// SQLite transaction in the coordinator, and in any runtime without WebCrypto.
ed.hashes.sha512 = sha512;

export const PUBKEY_HEX = /^[0-9a-f]{64}$/;

export function sha256Hex(data: string | Uint8Array): string {
  return toHex(sha256(typeof data === "string" ? utf8(data) : data));
}

export interface Ed25519KeyPair {
  /** 32-byte secret seed, hex. */
  secretKey: string;
  /** 32-byte public key, 64 lowercase hex characters. */
  publicKey: string;
}

export function generateKeyPair(): Ed25519KeyPair {
  const { secretKey, publicKey } = ed.keygen();
  return { secretKey: toHex(secretKey), publicKey: toHex(publicKey) };
}

export function publicKeyFromSecret(secretKeyHex: string): string {
  return toHex(ed.getPublicKey(fromHex(secretKeyHex)));
}

/** Detached ed25519 signature over UTF-8 `message`, base64. */
export function signMessage(message: string, secretKeyHex: string): string {
  return toBase64(ed.sign(utf8(message), fromHex(secretKeyHex)));
}

/** Never throws: malformed keys or signatures verify as false. */
export function verifyMessage(message: string, signatureB64: string, publicKeyHex: string): boolean {
  try {
    if (!PUBKEY_HEX.test(publicKeyHex)) return false;
    const sig = fromBase64(signatureB64);
    if (sig.length !== 64) return false;
    return ed.verify(sig, utf8(message), fromHex(publicKeyHex));
  } catch {
    return false;
  }
}

const importedKeys = new Map<string, Promise<CryptoKey | null>>();

/** Native Ed25519 where the runtime has it (workerd, Node 22, current browsers); null otherwise. */
function webCryptoKey(publicKeyHex: string): Promise<CryptoKey | null> {
  const cached = importedKeys.get(publicKeyHex);
  if (cached) return cached;
  const subtle = typeof crypto === "undefined" ? undefined : crypto.subtle;
  const key = subtle
    ? subtle.importKey("raw", fromHex(publicKeyHex), { name: "Ed25519" }, false, ["verify"]).catch(() => null)
    : Promise.resolve(null);
  // Bounded cache: workers re-use their key for every receipt, so a small cache hits almost always.
  if (importedKeys.size >= 1024) importedKeys.clear();
  importedKeys.set(publicKeyHex, key);
  return key;
}

/**
 * Same answer as `verifyMessage`, an order of magnitude faster where the runtime has native
 * Ed25519 (about 0.15 ms against 2 ms in pure JS). Never throws.
 */
export async function verifyMessageAsync(message: string, signatureB64: string, publicKeyHex: string): Promise<boolean> {
  try {
    if (!PUBKEY_HEX.test(publicKeyHex)) return false;
    const sig = fromBase64(signatureB64);
    if (sig.length !== 64) return false;
    const key = await webCryptoKey(publicKeyHex);
    if (key) return await crypto.subtle.verify("Ed25519", key, sig, utf8(message));
    return await ed.verifyAsync(sig, utf8(message), fromHex(publicKeyHex));
  } catch {
    return false;
  }
}
