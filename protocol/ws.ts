import { z } from "zod";
import { PUBKEY_HEX } from "./crypto.ts";
import { JobType, type PrivacyClass, ProviderType, type Tier } from "./enums.ts";
import type { WS_ERROR_CODES } from "./errors.ts";
import { parseBoundedJson } from "./json-guard.ts";
import { LIMITS } from "./limits.ts";
import { ModelList } from "./models.ts";
import { Receipt } from "./receipts.ts";

const Pubkey = z.string().regex(PUBKEY_HEX, "provider_pubkey must be 64 lowercase hex characters");
const JobId = z.string().min(1).max(128);

// ---- worker -> coordinator ----

export const RegisterMessage = z.object({
  type: z.literal("register"),
  provider_pubkey: Pubkey,
  provider_type: ProviderType,
  capabilities: z.array(JobType).min(1).max(LIMITS.maxCapabilities),
  pricing_hint: z.unknown().optional(),
  /** Ours: base64 ed25519 signature over `registerSigningString(...)`. Absent on reference workers. */
  signature: z.string().max(128).optional(),
  /**
   * Ours: where this worker's earnings are paid on this chain (an EVM address on monad, a base58
   * account on solana). Covered by the register signature, so a relay cannot swap it.
   */
  payout_address: z.string().min(1).max(64).optional(),
  /** Ours: concurrent job slots (default 1). */
  slots: z.number().int().min(1).max(LIMITS.maxWorkerSlots).optional(),
  /** Ours: free-form agent description for logs (version, backend, model). */
  agent: z.string().max(200).optional(),
  /** Ours: `TASK_ENGINE_VERSION` of a worker that runs TASKs; equal values give byte-identical TASK outputs. */
  task_engine: z.string().max(64).optional(),
  /** Ours: ERC-8004 agent id (decimal string) the worker claims; checked on-chain when enabled. */
  agent_id: z
    .string()
    .regex(/^\d{1,78}$/)
    .optional(),
  /** Ours: the LLM models this worker serves (absent: any LLM_INFER job, the reference behaviour). */
  models: ModelList.optional(),
  /** Ours: which of `models` are loaded now, so they answer without a load delay. */
  loaded_models: ModelList.optional(),
});
export type RegisterMessage = z.infer<typeof RegisterMessage>;

export const HeartbeatMessage = z.object({
  type: z.literal("heartbeat"),
  provider_pubkey: Pubkey.optional(),
  metrics: z.record(z.string(), z.unknown()).optional(),
});
export type HeartbeatMessage = z.infer<typeof HeartbeatMessage>;

/**
 * The result of a job. The reference Android worker sends it without `receipt` and
 * `receipt_signature` and follows with `receipt_submit`; the job completes only once a valid
 * receipt arrives.
 */
export const JobCompleteMessage = z.object({
  type: z.literal("job_complete"),
  job_id: JobId,
  output: z.unknown(),
  output_hash: z.string().max(128),
  receipt: Receipt.optional(),
  receipt_signature: z.string().max(128).optional(),
});
export type JobCompleteMessage = z.infer<typeof JobCompleteMessage>;

/** The receipt for a `job_complete` sent without one (reference Android worker). */
export const ReceiptSubmitMessage = z.object({
  type: z.literal("receipt_submit"),
  job_id: JobId,
  receipt: Receipt,
  receipt_signature: z.string().max(128),
});
export type ReceiptSubmitMessage = z.infer<typeof ReceiptSubmitMessage>;

export const JobRejectMessage = z.object({
  type: z.literal("job_reject"),
  job_id: JobId,
  reason: z.string().max(500).optional(),
});
export type JobRejectMessage = z.infer<typeof JobRejectMessage>;

/** Ours: streamed LLM tokens, forwarded to the job's SSE listeners. */
export const JobProgressMessage = z.object({
  type: z.literal("job_progress"),
  job_id: JobId,
  text: z.string().max(16_384),
  seq: z.number().int().min(0).optional(),
});
export type JobProgressMessage = z.infer<typeof JobProgressMessage>;

/** Ours: claim a pairing code over the authenticated session. */
export const TrustClaimMessage = z.object({
  type: z.literal("trust_claim"),
  pairing_code: z.string().min(1).max(64),
});
export type TrustClaimMessage = z.infer<typeof TrustClaimMessage>;

/**
 * Ours: the worker's model lists changed (a model was pulled, loaded or unloaded). Sent only
 * to a coordinator whose `register_ack` lists "models_update" in `accepts`; it replaces what
 * the last `register` or `models_update` said.
 */
export const ModelsUpdateMessage = z.object({
  type: z.literal("models_update"),
  models: ModelList,
  loaded_models: ModelList,
});
export type ModelsUpdateMessage = z.infer<typeof ModelsUpdateMessage>;

export const WorkerMessage = z.discriminatedUnion("type", [
  RegisterMessage,
  HeartbeatMessage,
  JobCompleteMessage,
  ReceiptSubmitMessage,
  JobRejectMessage,
  JobProgressMessage,
  TrustClaimMessage,
  ModelsUpdateMessage,
]);
export type WorkerMessage = z.infer<typeof WorkerMessage>;

// ---- coordinator -> worker ----

export interface ChallengeMessage {
  type: "challenge";
  nonce: string;
  chain: string;
  protocol: "dispatch/1";
}

export interface RegisterAckMessage {
  type: "register_ack";
  status: "ok";
  worker_id: string;
  verified: boolean;
  chain: string;
  /** Job types this socket may receive (unverified sockets: PUBLIC only). */
  privacy: ("PUBLIC" | "PRIVATE")[];
  heartbeat_interval_ms: number;
  /** Ours: optional worker messages this coordinator understands (e.g. "models_update"); absent means none. */
  accepts?: string[];
}

export interface HeartbeatAckMessage {
  type: "heartbeat_ack";
  status: "ok";
}

export interface JobAssignMessage {
  type: "job_assign";
  job_id: string;
  job_type: JobType;
  payload: Record<string, unknown>;
  policy: Tier;
  privacy_class: PrivacyClass;
  user_id: string;
  /** Ours: ISO time by which the completion must arrive. */
  deadline_at: string;
  attempt: number;
  payment_ref: string | null;
}

/** Ours: the coordinator took the job back (deadline passed); stop working on it. */
export interface JobCancelMessage {
  type: "job_cancel";
  job_id: string;
  reason: string;
}

/** Ours: the completion is stored; the worker may forget it. */
export interface JobCompleteAckMessage {
  type: "job_complete_ack";
  job_id: string;
  status: "accepted" | "already_completed";
}

export interface TrustClaimAckMessage {
  type: "trust_claim_ack";
  user_id: string;
  paired_at: string;
}

export interface ErrorMessage {
  type: "error";
  code: (typeof WS_ERROR_CODES)[number];
  message: string;
  job_id?: string;
}

/** Reference: this worker's earnings were paid out (one batched transfer for these jobs). */
export interface PaymentPostedMessage {
  type: "payment_posted";
  job_ids: string[];
  tx_hash: string;
  /** USDC paid, as a decimal string ("0.0081"), and in micro-USD (ours). */
  amount: string;
  amount_micro: number;
  network: string;
  explorer_url: string | null;
}

/** Reference: on-chain feedback was given for one of this worker's jobs. */
export interface FeedbackPostedMessage {
  type: "feedback_posted";
  job_id: string;
  tx_hash: string;
  network: string;
  explorer_url: string | null;
}

export type CoordinatorMessage =
  | ChallengeMessage
  | RegisterAckMessage
  | HeartbeatAckMessage
  | JobAssignMessage
  | JobCancelMessage
  | JobCompleteAckMessage
  | TrustClaimAckMessage
  | PaymentPostedMessage
  | FeedbackPostedMessage
  | ErrorMessage;

/**
 * The exact heartbeat frame the coordinator answers without waking its Durable Object (the
 * WebSocket Hibernation API's auto-response), and that answer. Our workers send this frame; a
 * heartbeat with any other bytes (the reference's, with `provider_pubkey`) is handled normally.
 */
export const HEARTBEAT_FRAME = '{"type":"heartbeat"}';
export const HEARTBEAT_ACK_FRAME = '{"type":"heartbeat_ack","status":"ok"}';

/**
 * The message a worker signs to answer a challenge. It names the chain and the coordinator's
 * `host[:port]` as the worker dialled it, so a relay that passes a real coordinator's nonce to a
 * worker gets a signature the real coordinator refuses; and the payout address, so no one in
 * between can redirect the worker's earnings.
 */
export function registerSigningString(args: { chain: string; host: string; nonce: string; payoutAddress?: string | undefined }): string {
  return ["dispatch-register-v2", args.chain, args.host.toLowerCase(), args.nonce, args.payoutAddress ?? ""].join("\n");
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; code: ErrorMessage["code"]; message: string };

/** Parses one text frame from a worker. Never throws. */
export function parseWorkerMessage(raw: string | ArrayBuffer): ParseResult<WorkerMessage> {
  const size = typeof raw === "string" ? raw.length : raw.byteLength;
  if (size > LIMITS.maxFrameBytes) {
    return { ok: false, code: "FRAME_TOO_LARGE", message: `frames are limited to ${LIMITS.maxFrameBytes} bytes` };
  }
  const json = parseBoundedJson(typeof raw === "string" ? raw : new TextDecoder().decode(raw), LIMITS.maxJsonDepth);
  if (!json.ok) {
    return json.code === "too_deep"
      ? { ok: false, code: "INVALID_MESSAGE", message: json.message }
      : { ok: false, code: "PARSE_ERROR", message: "frame is not valid JSON" };
  }
  const data = json.value;
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return { ok: false, code: "INVALID_MESSAGE", message: "frame must be a JSON object with a `type`" };
  }
  const type = (data as { type?: unknown }).type;
  const known = WorkerMessage.options.map((o) => o.shape.type.value) as string[];
  if (typeof type !== "string" || !known.includes(type)) {
    return { ok: false, code: "UNKNOWN_MSG", message: `unknown message type; expected one of ${known.join(", ")}` };
  }
  const parsed = WorkerMessage.safeParse(data);
  if (!parsed.success) {
    return { ok: false, code: "INVALID_MESSAGE", message: describeIssues(parsed.error) };
  }
  return { ok: true, value: parsed.data };
}

/** One readable line naming the fields that are wrong. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`)
    .join("; ");
}
