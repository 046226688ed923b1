import { sha256Hex, signMessage, verifyMessage, verifyMessageAsync } from "./crypto.ts";
import { toHex } from "./encoding.ts";
import { LIMITS } from "./limits.ts";

/**
 * Signed seeker requests. `user_id` is the seeker's ed25519 public key; the signature covers
 * the chain, the host, method, path (with query), the body's SHA-256, a timestamp and a
 * single-use nonce. So a captured request cannot be replayed (the coordinator remembers each
 * nonce for the whole freshness window), nor sent to another route, body, chain or coordinator.
 */
export const SEEKER_HEADERS = {
  user: "x-dispatch-user",
  timestamp: "x-dispatch-timestamp",
  nonce: "x-dispatch-nonce",
  signature: "x-dispatch-signature",
} as const;

const NONCE = new RegExp(`^[A-Za-z0-9_-]{${LIMITS.minNonceChars},${LIMITS.maxNonceChars}}$`);

export interface SigningParts {
  chain: string;
  /** `host[:port]` of the coordinator as the client addresses it, lower case. */
  host: string;
  method: string;
  /** Path with the chain prefix and the query, exactly as sent. */
  path: string;
  body: string;
  timestamp: string;
  nonce: string;
}

export function seekerSigningString(p: SigningParts): string {
  return [
    "dispatch-seeker-v2",
    p.chain,
    p.host.toLowerCase(),
    p.method.toUpperCase(),
    p.path,
    sha256Hex(p.body),
    p.timestamp,
    p.nonce,
  ].join("\n");
}

export function newNonce(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(16)));
}

/** Headers to add to a request made as `publicKey` to `url` (the full URL, query included) on `chain`. */
export function signSeekerRequest(args: {
  chain: string;
  method: string;
  url: string | URL;
  body?: string;
  secretKey: string;
  publicKey: string;
  now?: Date;
  nonce?: string;
}): Record<string, string> {
  const url = new URL(args.url);
  const timestamp = String(Math.floor((args.now ?? new Date()).getTime() / 1000));
  const nonce = args.nonce ?? newNonce();
  const message = seekerSigningString({
    chain: args.chain,
    host: url.host,
    method: args.method,
    path: url.pathname + url.search,
    body: args.body ?? "",
    timestamp,
    nonce,
  });
  return {
    [SEEKER_HEADERS.user]: args.publicKey,
    [SEEKER_HEADERS.timestamp]: timestamp,
    [SEEKER_HEADERS.nonce]: nonce,
    [SEEKER_HEADERS.signature]: signMessage(message, args.secretKey),
  };
}

/** A verified signer. The nonce must still be spent once (the coordinator's nonce store) before it counts. */
export interface SeekerAuth {
  userId: string;
  nonce: string;
  /** Unix ms after which the signature is stale anyway, so the nonce need not be remembered longer. */
  expiresAt: number;
}

export type SeekerAuthResult =
  | ({ ok: true } & SeekerAuth)
  | { ok: false; code: "signature_required" | "invalid_signature" | "stale_signature"; message: string };

export interface SeekerRequest {
  chain: string;
  host: string;
  method: string;
  path: string;
  body: string;
  headers: { get(name: string): string | null };
  nowSeconds: number;
  skewSeconds: number;
}

type Prepared =
  | { ok: true; user: string; message: string; signature: string; nonce: string; expiresAt: number }
  | Extract<SeekerAuthResult, { ok: false }>;

/** Header presence, shape and freshness: everything but the signature itself. */
function prepare(args: SeekerRequest): Prepared {
  const user = args.headers.get(SEEKER_HEADERS.user);
  const timestamp = args.headers.get(SEEKER_HEADERS.timestamp);
  const nonce = args.headers.get(SEEKER_HEADERS.nonce);
  const signature = args.headers.get(SEEKER_HEADERS.signature);
  if (!user || !timestamp || !signature || !nonce) {
    return {
      ok: false,
      code: "signature_required",
      message: `sign this request as the user: send ${Object.values(SEEKER_HEADERS).join(", ")} (dispatch-seeker-v2)`,
    };
  }
  if (!NONCE.test(nonce)) {
    return {
      ok: false,
      code: "invalid_signature",
      message: `${SEEKER_HEADERS.nonce} must be ${LIMITS.minNonceChars}-${LIMITS.maxNonceChars} characters of [A-Za-z0-9_-]`,
    };
  }
  const ts = Number(timestamp);
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(args.nowSeconds - ts) > args.skewSeconds) {
    return { ok: false, code: "stale_signature", message: "timestamp missing or too far from now; sign again" };
  }
  const message = seekerSigningString({
    chain: args.chain,
    host: args.host,
    method: args.method,
    path: args.path,
    body: args.body,
    timestamp,
    nonce,
  });
  return { ok: true, user, signature, message, nonce, expiresAt: (ts + args.skewSeconds) * 1000 };
}

const INVALID = {
  ok: false,
  code: "invalid_signature",
  message: "signature does not verify for this user, chain, host, method, path and body (dispatch-seeker-v2)",
} as const;

export function verifySeekerRequest(args: SeekerRequest): SeekerAuthResult {
  const p = prepare(args);
  if (!p.ok) return p;
  return verifyMessage(p.message, p.signature, p.user) ? { ok: true, userId: p.user, nonce: p.nonce, expiresAt: p.expiresAt } : INVALID;
}

/** `verifySeekerRequest` with native Ed25519 where the runtime has it. */
export async function verifySeekerRequestAsync(args: SeekerRequest): Promise<SeekerAuthResult> {
  const p = prepare(args);
  if (!p.ok) return p;
  return (await verifyMessageAsync(p.message, p.signature, p.user))
    ? { ok: true, userId: p.user, nonce: p.nonce, expiresAt: p.expiresAt }
    : INVALID;
}
