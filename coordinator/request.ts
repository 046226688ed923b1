import type { Context } from "hono";
import type { ZodType } from "zod";
import { describeIssues, LIMITS, sha256Hex, verifySeekerRequestAsync } from "../protocol/index.ts";
import { HttpError } from "./errors.ts";

/** Reads the raw body once (bounded), so it can be both hashed for signatures and parsed. */
export async function readBody(c: Context): Promise<string> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > LIMITS.maxBodyBytes) throw tooLarge();
  const text = await c.req.text();
  if (new TextEncoder().encode(text).byteLength > LIMITS.maxBodyBytes) throw tooLarge();
  return text;
}

function tooLarge(): HttpError {
  return new HttpError(413, "payload_too_large", `request bodies are limited to ${LIMITS.maxBodyBytes} bytes`);
}

export function parseJson<T>(text: string, schema: ZodType<T>): T {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new HttpError(400, "invalid_json", "the body is not valid JSON");
  }
  return validate(data, schema, "invalid_request");
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

/** The verified signer, or null when the request carries no signature. A bad signature is an error. */
export async function optionalSigner(c: Context, body: string): Promise<string | null> {
  if (!c.req.header("x-dispatch-signature")) return null;
  return requireSigner(c, body);
}

export async function requireSigner(c: Context, body: string): Promise<string> {
  const result = await verifySeekerRequestAsync({
    method: c.req.method,
    path: signedPath(c),
    body,
    headers: { get: (name) => c.req.header(name) ?? null },
    nowSeconds: Math.floor(Date.now() / 1000),
    skewSeconds: LIMITS.signatureSkewSeconds,
  });
  if (!result.ok) throw new HttpError(401, result.code, result.message);
  return result.userId;
}
