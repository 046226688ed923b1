import { generateKeyPair, PUBKEY_HEX, publicKeyFromSecret } from "../protocol/index.ts";
import { DispatchError } from "./errors.ts";
import type { Identity } from "./types.ts";

/** A fresh seeker identity; keep the secret key private (see identity-file.ts for Node). */
export function createIdentity(): Identity {
  return generateKeyPair();
}

/** Accepts a secret key alone or a pair, and refuses a pair whose halves do not match. */
export function identityFromKeys(keys: { secretKey: string; publicKey?: string }): Identity {
  if (!/^[0-9a-f]{64}$/i.test(keys.secretKey)) {
    throw new DispatchError("invalid_request", "identity secret key must be 64 hex characters (a 32-byte ed25519 seed)");
  }
  const secretKey = keys.secretKey.toLowerCase();
  const publicKey = publicKeyFromSecret(secretKey);
  if (keys.publicKey !== undefined && (!PUBKEY_HEX.test(keys.publicKey) || keys.publicKey !== publicKey)) {
    throw new DispatchError("invalid_request", "identity public key does not belong to its secret key");
  }
  return { publicKey, secretKey };
}
