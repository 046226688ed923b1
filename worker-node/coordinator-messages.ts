import { z } from "zod";
import type { CoordinatorMessage } from "../protocol/index.ts";
import { JobType, LIMITS, PrivacyClass, parseBoundedJson, Tier, type WS_ERROR_CODES } from "../protocol/index.ts";

// protocol/ws.ts declares the coordinator's messages as interfaces (the coordinator builds
// them); the worker receives them from the network, so it checks the fields it acts on.
const JobId = z.string().min(1).max(128);

const Challenge = z.object({
  type: z.literal("challenge"),
  nonce: z.string().min(1).max(512),
  chain: z.string().default(""),
  protocol: z.literal("dispatch/1").default("dispatch/1"),
});
const RegisterAck = z.object({
  type: z.literal("register_ack"),
  status: z.literal("ok"),
  worker_id: z.string().default(""),
  verified: z.boolean().default(false),
  chain: z.string().default(""),
  privacy: z.array(PrivacyClass).default(["PUBLIC"]),
  heartbeat_interval_ms: z.number().int().min(1_000).max(300_000).default(10_000),
  // An unreadable list from a newer coordinator means "nothing optional", not a failed registration.
  accepts: z.array(z.string().max(64)).max(64).optional().catch(undefined),
});
const HeartbeatAck = z.object({ type: z.literal("heartbeat_ack"), status: z.literal("ok").default("ok") });
const JobAssign = z.object({
  type: z.literal("job_assign"),
  job_id: JobId,
  job_type: JobType,
  payload: z.record(z.string(), z.unknown()),
  policy: Tier.default("CHEAP"),
  privacy_class: PrivacyClass.default("PUBLIC"),
  user_id: z.string().default(""),
  deadline_at: z.string().default(""),
  attempt: z.number().int().default(1),
  payment_ref: z.string().nullable().default(null),
});
const JobCancel = z.object({ type: z.literal("job_cancel"), job_id: JobId, reason: z.string().default("") });
const JobCompleteAck = z.object({
  type: z.literal("job_complete_ack"),
  job_id: JobId,
  status: z.enum(["accepted", "already_completed"]).default("accepted"),
});
const TrustClaimAck = z.object({ type: z.literal("trust_claim_ack"), user_id: z.string(), paired_at: z.string() });
const PaymentPosted = z.object({
  type: z.literal("payment_posted"),
  job_ids: z.array(JobId).max(10_000).default([]),
  tx_hash: z.string().max(256),
  amount: z.string().max(64).default(""),
  amount_micro: z.number().int().min(0).default(0),
  network: z.string().max(128).default(""),
  explorer_url: z.string().max(512).nullable().default(null),
});
const FeedbackPosted = z.object({
  type: z.literal("feedback_posted"),
  job_id: JobId,
  tx_hash: z.string().max(256),
  network: z.string().max(128).default(""),
  explorer_url: z.string().max(512).nullable().default(null),
});
const ErrorMsg = z.object({
  type: z.literal("error"),
  // Unknown codes from a newer coordinator are still errors worth logging.
  code: z.string().transform((c) => c as (typeof WS_ERROR_CODES)[number]),
  message: z.string().default(""),
  job_id: JobId.optional(),
});

const Incoming = z.discriminatedUnion("type", [
  Challenge,
  RegisterAck,
  HeartbeatAck,
  JobAssign,
  JobCancel,
  JobCompleteAck,
  TrustClaimAck,
  PaymentPosted,
  FeedbackPosted,
  ErrorMsg,
]);

export type ParsedIncoming = { ok: true; message: CoordinatorMessage } | { ok: false; ignored: boolean; reason: string };

/** The largest coordinator frame a worker reads (a job payload is at most 256 KiB). */
export const MAX_COORDINATOR_FRAME_CHARS = 4 * 1024 * 1024;

/** Levels a frame adds around the payload it carries (frame, payload, and room to spare). */
const FRAME_WRAPPING_LEVELS = 8;

/** Job codes after which the coordinator will never accept a completion a worker holds. */
export const FINAL_COMPLETION_ERRORS: ReadonlySet<string> = new Set(["UNKNOWN_JOB", "NOT_ASSIGNED", "INVALID_RECEIPT"]);
/** Codes that refuse a pairing claim for good (claiming it again cannot succeed). */
export const TRUST_ERRORS: ReadonlySet<string> = new Set(["INVALID_CODE", "ALREADY_CLAIMED", "EXPIRED", "TOO_MANY_PAIRINGS"]);

/**
 * Parses one frame from the coordinator; unknown types are ignored, as the protocol asks. Both
 * workers read through here, and the browser's WebSocket has no frame cap of its own: size and
 * nesting are bounded before parsing, so a hostile coordinator cannot stall or crash the page.
 */
export function parseCoordinatorMessage(raw: string): ParsedIncoming {
  if (raw.length > MAX_COORDINATOR_FRAME_CHARS) return { ok: false, ignored: false, reason: "frame too large" };
  // A job payload may itself be nested LIMITS.maxJsonDepth deep; the frame wraps it a few levels more.
  const json = parseBoundedJson(raw, LIMITS.maxJsonDepth + FRAME_WRAPPING_LEVELS);
  if (!json.ok) return { ok: false, ignored: false, reason: json.code === "too_deep" ? json.message : "frame is not JSON" };
  const data = json.value;
  const type = typeof data === "object" && data !== null ? (data as { type?: unknown }).type : undefined;
  if (typeof type !== "string") return { ok: false, ignored: false, reason: "frame has no type" };
  if (!Incoming.options.some((o) => o.shape.type.value === type)) return { ok: false, ignored: true, reason: `unknown type ${type}` };
  const parsed = Incoming.safeParse(data);
  if (!parsed.success)
    return {
      ok: false,
      ignored: false,
      reason: `${type}: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
    };
  return { ok: true, message: parsed.data as CoordinatorMessage };
}
