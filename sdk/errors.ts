import type { FailureReason, HttpErrorCode } from "../protocol/index.ts";

/** Codes the SDK adds to the coordinator's HTTP error codes and job failure reasons. */
export type SdkErrorCode =
  /** The receipt did not verify (signature, output hash, job id or provider). */
  | "invalid_receipt"
  /** The job did not settle within the per-type timeout; it may still finish: `wait` on it. */
  | "timeout"
  /** The coordinator could not be reached (DNS, refused connection, reset). */
  | "network_error"
  /** The coordinator answered something that is not the documented shape. */
  | "invalid_response"
  /** The coordinator asked for payment and the x402 client could not or did not pay. */
  | "payment_failed"
  /** The 402 asked more (or another asset or payee) than the caller allows for one job: nothing was paid. */
  | "price_too_high"
  /** A hosted provider (OpenAI, Anthropic) failed or answered nonsense. */
  | "hosted_error"
  /** A signed request (PRIVATE job, trust pairing) was attempted without an identity key. */
  | "identity_required"
  /** Every route was tried (or ruled out) and none could serve the job. */
  | "no_route"
  /** The job is still pending: there is no result or receipt yet. */
  | "not_settled"
  /** The caller aborted the call through its AbortSignal. */
  | "aborted"
  /** The receipt's batch has not been anchored on-chain yet. */
  | "not_anchored"
  /** An anchoring proof that does not lead from the receipt to a root held on-chain. */
  | "invalid_anchor"
  /** A non-2xx answer with no recognisable error code. */
  | "http_error";

export type DispatchErrorCode = HttpErrorCode | FailureReason | SdkErrorCode;

/** Every failure the SDK reports: a stable `code`, the HTTP `status` when one exists. */
export class DispatchError extends Error {
  override name = "DispatchError";
  readonly code: DispatchErrorCode;
  /** HTTP status of the answer that caused it; 0 when no HTTP answer was involved. */
  readonly status: number;
  readonly jobId: string | undefined;
  /** The request field the coordinator rejected, when it named one. */
  readonly field: string | undefined;

  constructor(code: DispatchErrorCode, message: string, opts: { status?: number; jobId?: string; field?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.status = opts.status ?? 0;
    this.jobId = opts.jobId;
    this.field = opts.field;
  }
}

export function isDispatchError(err: unknown, code?: DispatchErrorCode): err is DispatchError {
  return err instanceof DispatchError && (code === undefined || err.code === code);
}
