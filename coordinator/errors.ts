import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { HttpErrorCode } from "../protocol/index.ts";

/** A typed HTTP error: status, stable code, and a message that says what to do next. */
export class HttpError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: HttpErrorCode;
  readonly extra: Record<string, string>;
  constructor(status: ContentfulStatusCode, code: HttpErrorCode, message: string, extra: Record<string, string> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }

  toJSON(): Record<string, string> {
    return { error: this.code, message: this.message, ...this.extra };
  }
}

/** What the DO answers over RPC: either a body or a typed error, never a thrown exception across the boundary. */
export type Failure = { ok: false; status: number; error: Record<string, string>; headers?: Record<string, string> };
export type Outcome<T> = { ok: true; status: number; body: T; headers?: Record<string, string> } | Failure;

export function ok<T>(body: T, status = 200): Outcome<T> {
  return { ok: true, status, body };
}

export function fail(status: ContentfulStatusCode, code: HttpErrorCode, message: string, extra: Record<string, string> = {}): Failure {
  return { ok: false, status, error: { error: code, message, ...extra } };
}
