import type { Context } from "hono";
import type { ZodType } from "zod";
import {
  type Chain,
  describeIssues,
  LIMITS,
  parseBoundedJson,
  type SeekerAuth,
  sha256Hex,
  verifySeekerRequestAsync,
} from "../protocol/index.ts";
import { HttpError } from "./errors.ts";

/**
 * Reads the raw body once, so it can be both hashed for signatures and parsed. Bounded while it
 * streams in: a chunked body with no content-length is cut off at the limit, never read whole.
 */
export async function readBody(c: Context): Promise<string> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > LIMITS.maxBodyBytes) throw tooLarge();
  const body = c.req.raw.body;
  if (body === null) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > LIMITS.maxBodyBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}

/** The `Idempotency-Key` header, bounded; null when absent. The same key and body always mean the same job. */
export function idempotencyKey(c: Context): string | null {
  const key = c.req.header("idempotency-key") ?? null;
  if (key !== null && (key.length === 0 || key.length > LIMITS.maxIdempotencyKeyChars)) {
    throw new HttpError(400, "invalid_request", `Idempotency-Key must be 1-${LIMITS.maxIdempotencyKeyChars} characters`, {
      field: "Idempotency-Key",
    });
  }
  return key;
}

/** The client's address as Cloudflare reports it (`unknown` when nothing does, as in tests). */
export function clientAddress(c: Context): string {
  return (c.req.header("cf-connecting-ip") ?? "unknown").slice(0, 64);
}

function tooLarge(): HttpError {
  return new HttpError(413, "payload_too_large", `request bodies are limited to ${LIMITS.maxBodyBytes} bytes`);
}

export function parseJson<T>(text: string, schema: ZodType<T>): T {
  const json = parseBoundedJson(text, LIMITS.maxJsonDepth);
  if (!json.ok) {
    throw json.code === "too_deep"
      ? new HttpError(400, "json_too_deep", `the body nests deeper than ${LIMITS.maxJsonDepth} levels`)
      : new HttpError(400, "invalid_json", "the body is not valid JSON");
  }
  return validate(json.value, schema, "invalid_request");
}

export function validate<T>(data: unknown, schema: ZodType<T>, code: "invalid_request" | "invalid_query"): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const field = first && first.path.length > 0 ? first.path.join(".") : undefined;
    throw new HttpError(400, code, describeIssues(parsed.error), field === undefined ? {} : { field });
  }
  return parsed.data;
}

export function bodyHash(text: string): string {
  return sha256Hex(text);
}

/** The full request path (chain prefix and query included): what a seeker signs. */
function signedPath(c: Context): string {
  const url = new URL(c.req.url);
  return url.pathname + url.search;
}

/**
 * The verified signer, or null when the request carries no signature. A bad signature is an
 * error. The nonce is not spent here: the chain's object spends it, once, when it acts.
 */
export async function optionalSigner(c: Context, chain: Chain, body: string): Promise<SeekerAuth | null> {
  if (!c.req.header("x-dispatch-signature")) return null;
  return requireSigner(c, chain, body);
}

export async function requireSigner(c: Context, chain: Chain, body: string): Promise<SeekerAuth> {
  const result = await verifySeekerRequestAsync({
    chain,
    host: new URL(c.req.url).host,
    method: c.req.method,
    path: signedPath(c),
    body,
    headers: { get: (name) => c.req.header(name) ?? null },
    nowSeconds: Math.floor(Date.now() / 1000),
    skewSeconds: LIMITS.signatureSkewSeconds,
  });
  if (!result.ok) throw new HttpError(401, result.code, result.message);
  return { userId: result.userId, nonce: result.nonce, expiresAt: result.expiresAt };
}
