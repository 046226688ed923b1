import { z } from "zod";
import { Chain, JobStage, JobType, PrivacyClass, Tier } from "./enums.ts";
import { PaymentState } from "./jobs.ts";

/**
 * Bounds of one dashboard snapshot: it is pushed every second or two to every viewer, so its
 * size must not grow with the fleet or the job history.
 */
export const DASHBOARD_LIMITS = {
  /** Workers listed (oldest connection first); the rest are counted in `workers.more`. */
  workers: 200,
  /** Models listed per worker (loaded ones first); the rest are counted in `models_more`. */
  modelsPerWorker: 8,
  /** Most recent jobs listed, newest first. */
  jobs: 50,
  /** Throughput and latency buckets, oldest first, and the width of each. */
  buckets: 60,
  bucketMs: 5_000,
  /** Seconds between snapshots on the event stream. */
  intervalMs: 1_500,
} as const;

const Micro = z.number().int();

export const DashboardWorker = z.object({
  provider_pubkey: z.string(),
  provider_type: z.string(),
  /** The worker's own description of itself (free text it chose): display it as text only. */
  agent: z.string().nullable(),
  models: z.array(z.object({ name: z.string(), loaded: z.boolean() })),
  models_more: z.number().int(),
  capabilities: z.array(z.string()),
  verified: z.boolean(),
  /** ERC-8004 agent id, set only once the coordinator checked the link on-chain. */
  agent_id: z.string().nullable(),
  reputation: z.number(),
  successes: z.number().int(),
  failures: z.number().int(),
  slots: z.number().int(),
  active: z.number().int(),
  /** From the ledger, in micro-USD: all credited, and confirmed paid out. */
  earned_micro: Micro,
  paid_micro: Micro,
  connected_at: z.string(),
});
export type DashboardWorker = z.infer<typeof DashboardWorker>;

export const DashboardJob = z.object({
  /**
   * Null for PRIVATE jobs (their receipts are readable only by their owner, so there is nothing to
   * link), and for every job unless the operator publishes ids (`DASHBOARD_JOB_IDS`): an id is all
   * it takes to read a PUBLIC job's result.
   */
  id: z.string().nullable(),
  /** The id's first 8 characters, to tell PUBLIC jobs apart; null for PRIVATE jobs. */
  ref: z.string().nullable(),
  job_type: JobType,
  tier: Tier,
  privacy_class: PrivacyClass,
  model: z.string().nullable(),
  stage: JobStage,
  reason: z.string().nullable(),
  attempts: z.number().int(),
  payment_state: PaymentState,
  price_micro: Micro,
  /** Null for PRIVATE jobs (which worker serves a user is the user's business). */
  worker_pubkey: z.string().nullable(),
  created_at: z.string(),
  completed_at: z.string().nullable(),
  /** Commit to finish, for finished jobs. */
  latency_ms: z.number().int().nullable(),
  /** The receipt's anchoring: not yet in a batch, in a batch being anchored, or anchored by `transaction`. */
  anchor: z.object({ state: z.enum(["none", "batched", "anchored"]), transaction: z.string().nullable() }),
});
export type DashboardJob = z.infer<typeof DashboardJob>;

export const DashboardBucket = z.object({
  /** Bucket start, epoch milliseconds. */
  t: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
  /** Commit to completion of the jobs completed in the bucket (null when none). */
  latency_avg_ms: z.number().int().nullable(),
  latency_max_ms: z.number().int().nullable(),
});
export type DashboardBucket = z.infer<typeof DashboardBucket>;

/** `GET /v1/dashboard` and each `snapshot` event of `GET /v1/dashboard/events`. */
export const DashboardSnapshot = z.object({
  chain: Chain,
  network: z.string(),
  at: z.string(),
  interval_ms: z.number().int(),
  payments_mode: z.string(),
  queue: z.object({ pending: z.number().int(), assigned: z.number().int(), settling: z.number().int() }),
  workers: z.object({
    online: z.number().int(),
    by_type: z.record(z.string(), z.number().int()),
    slots: z.number().int(),
    /** Workers past `DASHBOARD_LIMITS.workers`, not listed. */
    more: z.number().int(),
    list: z.array(DashboardWorker),
  }),
  jobs: z.array(DashboardJob),
  series: z.object({ bucket_ms: z.number().int(), buckets: z.array(DashboardBucket) }),
  money: z.object({
    share_percent: z.number(),
    /** Jobs (within the retention period) by payment state: how many, and their price in micro-USD. */
    by_state: z.record(z.string(), z.object({ count: z.number().int(), micro: Micro })),
    /** All time, from the ledger and transfers: credited to workers, paid out, refunded to payers. */
    earned_micro: Micro,
    paid_micro: Micro,
    refunded_micro: Micro,
    open_transfers: z.number().int(),
    /** As of when (money figures refresh less often than the rest). */
    as_of: z.string(),
  }),
  outbox: z.object({
    pending: z.number().int(),
    dead: z.number().int(),
    by_kind: z.record(z.string(), z.number().int()),
    /** When the oldest pending item was queued (null when none is). */
    oldest_at: z.string().nullable(),
  }),
  anchoring: z.object({ enabled: z.boolean(), unanchored: z.number().int() }),
  streams: z.object({ holds: z.number().int(), streams: z.number().int() }),
  /** Explorer link templates (`{tx}` is replaced by a transaction), or null: payments on this chain, anchors on the EVM chain. */
  explorer: z.object({ payments: z.string().nullable(), anchors: z.string().nullable() }),
});
export type DashboardSnapshot = z.infer<typeof DashboardSnapshot>;
