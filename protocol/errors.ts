/** Stable machine-readable HTTP error codes: `{error: code, message}`. */
export const HTTP_ERROR_CODES = [
  "invalid_request",
  "invalid_json",
  "json_too_deep",
  "invalid_query",
  "payload_too_large",
  "not_found",
  "job_not_found",
  "unknown_chain",
  "payment_required",
  "payment_invalid",
  "payment_already_used",
  "payment_unavailable",
  "no_trusted_worker",
  "model_not_served",
  "signature_required",
  "invalid_signature",
  "stale_signature",
  "replayed_signature",
  "forbidden",
  "too_many_pending_jobs",
  "too_many_waits",
  "too_many_connections",
  "rate_limited",
  "invalid_code",
  "already_claimed",
  "expired",
  "too_many_pairings",
  "idempotency_conflict",
  "upgrade_required",
  "internal_error",
] as const;
export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number];

/** WebSocket `error` codes (upper case, as the reference uses `PARSE_ERROR`, `UNKNOWN_MSG`). */
export const WS_ERROR_CODES = [
  "PARSE_ERROR",
  "UNKNOWN_MSG",
  "INVALID_MESSAGE",
  "FRAME_TOO_LARGE",
  "NOT_REGISTERED",
  "AUTH_FAILED",
  "PUBKEY_MISMATCH",
  "UNVERIFIED_NOT_ALLOWED",
  "UNKNOWN_JOB",
  "NOT_ASSIGNED",
  "INVALID_RECEIPT",
  "RECEIPT_PENDING",
  "REPLACED",
  "INVALID_CODE",
  "ALREADY_CLAIMED",
  "EXPIRED",
  "TOO_MANY_PAIRINGS",
  "INTERNAL",
] as const;
export type WsErrorCode = (typeof WS_ERROR_CODES)[number];

/** Reasons a job fails, reported as `result.error` (reference-compatible) and `reason`. */
export const FAILURE_REASONS = [
  "no_eligible_worker",
  "no_trusted_worker",
  "worker_disconnected",
  "worker_timeout",
  "worker_error",
  "invalid_input",
  "model_not_served",
  "invalid_receipt",
  "payment_failed",
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];
