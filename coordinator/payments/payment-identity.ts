import { fromBase64, sha256Hex } from "../../protocol/index.ts";
import type { PaymentPayload, PaymentRequirements } from "./x402.ts";

/**
 * What makes a payment unique is what the chain enforces, never the payload's bytes: the same
 * EIP-3009 authorization with an extra field or other hex case is the same payment, and may
 * admit one job only.
 * - EVM: the token, the payer and the authorization nonce (EIP-3009 or Permit2), lower-cased.
 * - SVM: the transaction message (what every signature signs), hashed; signatures excluded, so
 *   re-encoding or re-signing cannot make it look new.
 * Null when the payload carries none of these (it cannot be a payment we accept).
 */
export function paymentIdentity(payload: PaymentPayload, requirements: PaymentRequirements): string | null {
  const inner = payload.payload as Record<string, unknown>;
  const network = requirements.network;
  if (network.startsWith("eip155:")) {
    const auth = (inner.authorization ?? inner.permit2Authorization) as { from?: unknown; nonce?: unknown } | undefined;
    if (typeof auth?.from !== "string" || (typeof auth.nonce !== "string" && typeof auth.nonce !== "number")) return null;
    const scheme = inner.authorization ? "eip3009" : "permit2";
    const nonce = normalizeNonce(String(auth.nonce));
    if (nonce === null) return null;
    return `evm:${network}:${scheme}:${requirements.asset.toLowerCase()}:${auth.from.toLowerCase()}:${nonce}`;
  }
  if (network.startsWith("solana:")) {
    const message = typeof inner.transaction === "string" ? transactionMessage(inner.transaction) : null;
    return message === null ? null : `svm:${network}:${sha256Hex(message)}`;
  }
  return null;
}

/** Longest spelling of a uint256 nonce: 0x and 64 hex digits, or 78 decimal digits (with room for spaces). */
const MAX_NONCE_CHARS = 96;

/** A hex nonce (0x-prefixed, any case) or a decimal one, in one canonical spelling. */
function normalizeNonce(nonce: string): string | null {
  // The payer writes this; BigInt() of a 100,000-digit string would stall the chain's object.
  if (nonce.length > MAX_NONCE_CHARS) return null;
  const trimmed = nonce.trim().toLowerCase();
  if (/^0x[0-9a-f]+$/.test(trimmed)) return `0x${trimmed.slice(2).replace(/^0+(?=.)/, "")}`;
  if (/^\d+$/.test(trimmed)) return `0x${BigInt(trimmed).toString(16)}`;
  return trimmed;
}

/**
 * The message bytes of a base64 wire transaction: a compact-u16 signature count, that many
 * 64-byte signatures, then the message. Null when it is not shaped like one.
 */
export function transactionMessage(base64: string): Uint8Array | null {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(base64.replace(/\s+/g, ""));
  } catch {
    return null;
  }
  let count = 0;
  let offset = 0;
  for (let shift = 0; shift < 21; shift += 7) {
    const b = bytes[offset++];
    if (b === undefined) return null;
    count |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
  }
  const start = offset + count * 64;
  if (count === 0 || count > 16 || start >= bytes.length) return null;
  return bytes.subarray(start);
}
