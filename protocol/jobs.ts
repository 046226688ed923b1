import { z } from "zod";
import { ChatMessage } from "./chat.ts";
import { JobStage, JobStatus, JobType, Policy, PrivacyClass, TaskType, Tier } from "./enums.ts";
import { valueTooDeep } from "./json-guard.ts";
import { LIMITS } from "./limits.ts";
import { ModelName } from "./models.ts";
import { Receipt } from "./receipts.ts";

export const LlmPayload = z
  .object({
    job_type: z.literal("LLM_INFER").optional(),
    /** Any model the worker serves when absent. */
    model: ModelName.optional(),
    /** The reference form: one user turn. Exactly one of `prompt` and `messages` is given. */
    prompt: z.string().min(1, "prompt must not be empty").max(LIMITS.maxPromptChars).optional(),
    /** Chat form: the conversation so far, answered as the next assistant turn. */
    messages: z.array(ChatMessage).min(1, "messages must not be empty").max(LIMITS.maxChatMessages).optional(),
    max_tokens: z.number().int().min(1).max(LIMITS.maxTokens).default(LIMITS.defaultMaxTokens),
    temperature: z.number().min(0).max(2).optional(),
    /** Sent as the first (system) turn, before `messages` or `prompt`. */
    system: z.string().max(LIMITS.maxPromptChars).optional(),
    /** Generation ends before any of these strings; they are not part of the text. */
    stop: z.array(z.string().min(1).max(LIMITS.maxStopChars)).max(LIMITS.maxStopSequences).optional(),
  })
  .superRefine((p, ctx) => {
    if (p.prompt === undefined && p.messages === undefined) {
      ctx.addIssue({ code: "custom", path: ["prompt"], message: "give `prompt` (text) or `messages` (chat turns)" });
      return;
    }
    if (p.prompt !== undefined && p.messages !== undefined) {
      ctx.addIssue({ code: "custom", path: ["messages"], message: "give either `prompt` or `messages`, not both" });
      return;
    }
    // An empty list already has its own issue from `.min(1)`.
    if (p.messages === undefined || p.messages.length === 0) return;
    if (!p.messages.some((m) => m.role === "user")) {
      ctx.addIssue({ code: "custom", path: ["messages"], message: "messages must include at least one user turn" });
    }
    const chars = p.messages.reduce((n, m) => n + m.content.length, p.system?.length ?? 0);
    if (chars > LIMITS.maxPromptChars) {
      ctx.addIssue({
        code: "custom",
        path: ["messages"],
        message: `messages (with system) must total at most ${LIMITS.maxPromptChars} characters, got ${chars}`,
      });
    }
  });
export type LlmPayload = z.infer<typeof LlmPayload>;

export const TaskPayload = z.object({
  job_type: z.literal("TASK").optional(),
  task_type: TaskType,
  input: z.string().min(1, "input must not be empty").max(LIMITS.maxTaskInputChars),
  /** classify: candidate labels; sentiment (positive/negative/neutral) when absent. */
  labels: z.array(z.string().min(1).max(64)).min(2).max(32).optional(),
  /** extract_json: a JSON Schema the extracted objects must satisfy (bounded in depth and size). */
  schema: z
    .record(z.string(), z.unknown())
    .refine((s) => !valueTooDeep(s, LIMITS.maxSchemaDepth), `schema must not nest deeper than ${LIMITS.maxSchemaDepth} levels`)
    .refine((s) => JSON.stringify(s).length <= LIMITS.maxSchemaChars, `schema must be at most ${LIMITS.maxSchemaChars} characters`)
    .optional(),
  /** summarize: how many sentences to keep. */
  max_sentences: z.number().int().min(1).max(20).optional(),
});
export type TaskPayload = z.infer<typeof TaskPayload>;

export type JobPayload = LlmPayload | TaskPayload;

const UserId = z.string().min(1, "user_id must not be empty").max(LIMITS.maxUserIdChars);

/** The commit body as received; the payload is checked against its job type afterwards. */
export const CommitBody = z
  .object({
    job_type: JobType,
    user_id: UserId,
    privacy_class: PrivacyClass.default("PUBLIC"),
    payload: z.record(z.string(), z.unknown()),
  })
  .transform((body, ctx) => {
    const schema = body.job_type === "LLM_INFER" ? LlmPayload : TaskPayload;
    const parsed = schema.safeParse(body.payload);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        ctx.addIssue({ code: "custom", message: issue.message, path: ["payload", ...issue.path] });
      }
      return z.NEVER;
    }
    if (parsed.data.job_type !== undefined && parsed.data.job_type !== body.job_type) {
      ctx.addIssue({ code: "custom", message: "payload.job_type must equal job_type", path: ["payload", "job_type"] });
      return z.NEVER;
    }
    return { ...body, payload: { ...parsed.data, job_type: body.job_type } as JobPayload };
  });
export type CommitBody = z.output<typeof CommitBody>;

export const CommitResponse = z.object({
  job_id: z.string(),
  status: JobStatus.optional(),
  price: z.string().optional(),
  tier: Tier.optional(),
});
export type CommitResponse = z.infer<typeof CommitResponse>;

/**
 * Where a job's payment stands (the whole machine is in the README, "Payments"):
 * `verified` at commit, nothing moved; `settling` while a settlement is in flight; `unknown`
 * when a settlement's outcome was lost (a timeout) until the chain or facilitator says;
 * `settled`; `voided` (never moved, never will); `refund_due` then `refunded` when money moved
 * for work that was not delivered.
 */
export const PaymentState = z.enum(["disabled", "verified", "settling", "unknown", "settled", "voided", "refund_due", "refunded"]);
export type PaymentState = z.infer<typeof PaymentState>;

export const PaymentView = z.object({
  state: PaymentState,
  price: z.string(),
  amount: z.string(),
  network: z.string(),
  transaction: z.string().nullable(),
  /** The refund transfer back to the payer, once sent. */
  refund_transaction: z.string().nullable().optional(),
});
export type PaymentView = z.infer<typeof PaymentView>;

export const ReceiptView = Receipt.extend({
  signature: z.string(),
  verified: z.boolean(),
});
export type ReceiptView = z.infer<typeof ReceiptView>;

/**
 * A spot-check of a completed TASK job (README, "Spot-check audits"): another worker with the
 * same engine ran the same payload. `none`: not sampled (or no run could be had); `pending`: the
 * audit run is under way; `agreed`: byte-identical output; `disputed`: the outputs differed and a
 * third worker's run decides (`upheld`). The result and the payment are never changed by an audit.
 */
export const AuditView = z.object({
  state: z.enum(["none", "pending", "agreed", "disputed"]),
  /** The auditing worker's key (the one holding the run while `pending`). */
  auditor: z.string().nullable(),
  /** Whether the auditor's output hash equals this job's; null until it answered. */
  match: z.boolean().nullable(),
  /** `disputed`: the third worker's key. */
  referee: z.string().nullable().optional(),
  /** `disputed`: the third run sided with this job's output (true), with the auditor's (false), or neither or not yet (null). */
  upheld: z.boolean().nullable().optional(),
});
export type AuditView = z.infer<typeof AuditView>;

export const JobView = z.object({
  id: z.string(),
  status: JobStatus,
  stage: JobStage,
  job_type: JobType,
  policy: Tier,
  privacy_class: PrivacyClass,
  result: z.unknown().nullable(),
  receipt: ReceiptView.nullable(),
  payment: PaymentView,
  reason: z.string().nullable(),
  attempts: z.number().int(),
  created_at: z.string(),
  assigned_at: z.string().nullable(),
  completed_at: z.string().nullable(),
  /** Absent from coordinators older than spot-check audits. */
  audit: AuditView.optional(),
});
export type JobView = z.infer<typeof JobView>;

export const JobQuery = z.object({
  wait: z.coerce.number().min(0).max(LIMITS.maxWaitSeconds).optional(),
});

export const QuoteQuery = z.object({
  job_type: JobType,
  policy: Policy.default("AUTO"),
});
export type QuoteQuery = z.infer<typeof QuoteQuery>;

export const PaymentOption = z.object({
  scheme: z.string(),
  network: z.string(),
  amount: z.string(),
  asset: z.string().nullable(),
  pay_to: z.string().nullable(),
});

export const QuoteResponse = z.object({
  price: z.string(),
  endpoint: z.string(),
  policy_resolved: Tier,
  network: z.string(),
  expires_at: z.string(),
  job_type: JobType,
  chain: z.string(),
  payment: z.object({
    enabled: z.boolean(),
    accepts: z.array(PaymentOption),
  }),
});
export type QuoteResponse = z.infer<typeof QuoteResponse>;

export const HealthResponse = z.object({
  status: z.literal("ok"),
  workers_online: z.number().int(),
  workers_by_type: z.record(z.string(), z.number().int()),
  jobs_queued: z.number().int(),
  jobs_assigned: z.number().int(),
  network: z.string(),
  chain: z.string(),
  timestamp: z.string(),
  payments: z.object({ enabled: z.boolean(), mode: z.string(), facilitator: z.string().nullable() }),
  /** External writes (settlements, chain writes) not yet done. */
  outbox_pending: z.number().int(),
  /** External writes given up after bounded retries (kept for the operator). */
  outbox_dead: z.number().int(),
  /** Worker sockets open (registered or still in their handshake). */
  sockets: z.number().int(),
  /** Long-polls and event streams held open, streams dropped for reading too slowly, token replay memory. */
  listeners: z.object({
    holds: z.number().int(),
    streams: z.number().int(),
    replay_bytes: z.number().int(),
    dropped_streams: z.number().int(),
  }),
  allow_unverified_workers: z.boolean(),
  onchain: z.object({ enabled: z.boolean(), reputation_registry: z.string().nullable(), receipt_anchor: z.string().nullable() }),
  /**
   * Spot-check audits over the retention window: the sample rate, audits started, under way,
   * agreed, disputed (of which `overturned`: the third run sided against the checked job), and
   * abandoned (no run could be had). Absent from older coordinators.
   */
  audits: z
    .object({
      sample_percent: z.number(),
      run: z.number().int(),
      pending: z.number().int(),
      agreed: z.number().int(),
      disputed: z.number().int(),
      overturned: z.number().int(),
      abandoned: z.number().int(),
    })
    .optional(),
  /** Every non-secret setting this chain uses, with its effective value (defaults applied; null = unset). */
  settings: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())])),
});
export type HealthResponse = z.infer<typeof HealthResponse>;

export const ErrorBody = z.object({
  error: z.string(),
  message: z.string(),
  field: z.string().optional(),
  job_id: z.string().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** Server-Sent Event payloads on `GET /v1/jobs/{id}/events` (event name = `type`). */
export const JobEvent = z.discriminatedUnion("type", [
  z.object({ type: z.literal("status"), job_id: z.string(), stage: JobStage, status: JobStatus, reason: z.string().nullable() }),
  z.object({ type: z.literal("token"), job_id: z.string(), seq: z.number().int(), text: z.string() }),
]);
export type JobEvent = z.infer<typeof JobEvent>;

/** `GET /v1/workers`: the workers online on this chain, as matching sees them. */
export const WorkersResponse = z.object({
  workers: z.array(
    z.object({
      provider_pubkey: z.string(),
      provider_type: z.string(),
      capabilities: z.array(z.string()),
      verified: z.boolean(),
      slots: z.number().int(),
      active: z.number().int(),
      agent_id: z.string().nullable(),
      reputation: z.number(),
      successes: z.number().int(),
      failures: z.number().int(),
    }),
  ),
});
export type WorkersResponse = z.infer<typeof WorkersResponse>;

/** `GET /v1/workers/{pubkey}`: what one worker earned on this chain, what was paid, and how. */
export const WorkerAccount = z.object({
  provider_pubkey: z.string(),
  online: z.boolean(),
  /** Where payouts go on this chain (set in the worker's signed `register`); null: earnings wait. */
  payout_address: z.string().nullable(),
  network: z.string(),
  /** The worker's share of each settled job's price, in percent. */
  share_percent: z.number(),
  /** Micro-USD (USDC atomic units): all credited; confirmed paid; credited but not yet paid. */
  earned_micro: z.number().int(),
  paid_micro: z.number().int(),
  pending_micro: z.number().int(),
  /** Of `earned_micro`, what spot-check audits earned (absent from older coordinators). */
  audit_micro: z.number().int().optional(),
  payouts: z.array(
    z.object({
      id: z.string(),
      amount_micro: z.number().int(),
      jobs: z.number().int(),
      state: z.string(),
      transaction: z.string().nullable(),
      explorer_url: z.string().nullable(),
      created_at: z.string(),
      confirmed_at: z.string().nullable(),
    }),
  ),
});
export type WorkerAccount = z.infer<typeof WorkerAccount>;

/** `GET /v1/receipts/{id}`: the receipt, a fresh verification, and its anchoring proof once anchored. */
export const ReceiptResponse = z.object({
  job_id: z.string(),
  receipt: Receipt,
  signature: z.string(),
  verified: z.boolean(),
  output_hash: z.string(),
  anchor: z
    .object({
      batch_id: z.string(),
      root: z.string().regex(/^0x[0-9a-f]{64}$/),
      leaf: z.string().regex(/^0x[0-9a-f]{64}$/),
      proof: z.array(z.string().regex(/^0x[0-9a-f]{64}$/)),
      transaction: z.string().nullable(),
      anchored_at: z.string().nullable(),
    })
    .nullable(),
});
export type ReceiptResponse = z.infer<typeof ReceiptResponse>;
