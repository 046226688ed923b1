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
