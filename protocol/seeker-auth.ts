import { sha256Hex, signMessage, verifyMessage, verifyMessageAsync } from "./crypto.ts";

/**
 * Signed seeker requests. `user_id` is the seeker's ed25519 public key; the signature covers
 * method, path (with query), the body's SHA-256 and a timestamp, so it cannot be replayed
 * against another route or body, nor long after it was made.
 */
export const SEEKER_HEADERS = {
  user: "x-dispatch-user",
  timestamp: "x-dispatch-timestamp",
  signature: "x-dispatch-signature",
} as const;

export function seekerSigningString(args: { method: string; path: string; body: string; timestamp: string }): string {
  return ["dispatch-seeker-v1", args.method.toUpperCase(), args.path, sha256Hex(args.body), args.timestamp].join("\n");
}

/** Headers to add to a request made as `publicKey`. `path` includes the chain prefix and query. */
export function signSeekerRequest(args: {
  method: string;
  path: string;
  body?: string;
  secretKey: string;
  publicKey: string;
  now?: Date;
}): Record<string, string> {
  const timestamp = String(Math.floor((args.now ?? new Date()).getTime() / 1000));
  const message = seekerSigningString({ method: args.method, path: args.path, body: args.body ?? "", timestamp });
  return {
    [SEEKER_HEADERS.user]: args.publicKey,
    [SEEKER_HEADERS.timestamp]: timestamp,
    [SEEKER_HEADERS.signature]: signMessage(message, args.secretKey),
  };
}

export type SeekerAuthResult =
  | { ok: true; userId: string }
  | { ok: false; code: "signature_required" | "invalid_signature" | "stale_signature"; message: string };

export interface SeekerRequest {
  method: string;
  path: string;
  body: string;
  headers: { get(name: string): string | null };
  nowSeconds: number;
  skewSeconds: number;
}

type Prepared = { ok: true; user: string; message: string; signature: string } | Extract<SeekerAuthResult, { ok: false }>;

/** Header presence and freshness: everything but the signature itself. */
function prepare(args: SeekerRequest): Prepared {
  const user = args.headers.get(SEEKER_HEADERS.user);
  const timestamp = args.headers.get(SEEKER_HEADERS.timestamp);
  const signature = args.headers.get(SEEKER_HEADERS.signature);
  if (!user || !timestamp || !signature) {
    return {
      ok: false,
      code: "signature_required",
      message: `sign this request as the user: send ${Object.values(SEEKER_HEADERS).join(", ")}`,
    };
  }
  const ts = Number(timestamp);
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(args.nowSeconds - ts) > args.skewSeconds) {
    return { ok: false, code: "stale_signature", message: "timestamp missing or too far from now; sign again" };
  }
  return { ok: true, user, signature, message: seekerSigningString({ method: args.method, path: args.path, body: args.body, timestamp }) };
}

const INVALID = {
  ok: false,
  code: "invalid_signature",
  message: "signature does not verify for this user, method, path and body",
} as const;

export function verifySeekerRequest(args: SeekerRequest): SeekerAuthResult {
  const p = prepare(args);
  if (!p.ok) return p;
  return verifyMessage(p.message, p.signature, p.user) ? { ok: true, userId: p.user } : INVALID;
}

/** `verifySeekerRequest` with native Ed25519 where the runtime has it. */
export async function verifySeekerRequestAsync(args: SeekerRequest): Promise<SeekerAuthResult> {
  const p = prepare(args);
  if (!p.ok) return p;
  return (await verifyMessageAsync(p.message, p.signature, p.user)) ? { ok: true, userId: p.user } : INVALID;
}
