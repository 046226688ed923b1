import type { JobStage, JobType, PaymentState, PrivacyClass, Tier } from "../../protocol/index.ts";
import { OutboxStore } from "./outbox-store.ts";
import type { Sql } from "./sql.ts";

export interface WorkerLine {
  [key: string]: SqlStorageValue;
  socket_id: string;
  pubkey: string;
  provider_type: string;
  capabilities: string;
  agent: string | null;
  verified: number;
  slots: number;
  connected_at: number;
  agent_id: string | null;
  reputation: number;
  successes: number;
  failures: number;
  active: number;
}

export interface JobLine {
  [key: string]: SqlStorageValue;
  id: string;
  job_type: JobType;
  policy: Tier;
  privacy_class: PrivacyClass;
  route: string;
  status: JobStage;
  reason: string | null;
  attempts: number;
  payment_state: PaymentState;
  price_micro: number;
  worker_pubkey: string | null;
  created_at: number;
  completed_at: number | null;
  anchor_batch: string | null;
  anchor_tx: string | null;
}

export interface BucketLine {
  [key: string]: SqlStorageValue;
  b: number;
  completed: number;
  failed: number;
  latency_sum: number | null;
  latency_max: number | null;
}

/**
 * The dashboard's reads, each bounded: a snapshot runs them every second or two while anyone
 * watches, so every query here is an index seek or a scan of a bounded set, except the money
 * totals, which the feed refreshes less often.
 */
export class DashboardStore {
  private readonly sql: Sql;
  private readonly outboxStore: OutboxStore;
  constructor(sql: Sql) {
    this.sql = sql;
    this.outboxStore = new OutboxStore(sql);
  }

  queue(): { pending: number; assigned: number; settling: number } {
    const rows = this.sql.all<{ status: string; n: number }>(
      // Audit runs are the coordinator's own jobs: never listed, as in /v1/health.
      "SELECT status, COUNT(*) AS n FROM jobs WHERE status IN ('pending', 'assigned', 'settling') AND audit_of IS NULL GROUP BY status",
    );
    const get = (s: string) => rows.find((r) => r.status === s)?.n ?? 0;
    return { pending: get("pending"), assigned: get("assigned"), settling: get("settling") };
  }

  /** Registered sockets by provider type, with their job slots. */
  fleet(): { provider_type: string; n: number; slots: number }[] {
    return this.sql.all("SELECT provider_type, COUNT(*) AS n, SUM(slots) AS slots FROM connections GROUP BY provider_type");
  }

  /** The longest-connected workers, with their current load (derived from the jobs table, like matching does). */
  workers(limit: number): WorkerLine[] {
    return this.sql.all<WorkerLine>(
      `SELECT c.socket_id, c.pubkey, c.provider_type, c.capabilities, c.agent, c.verified, c.slots, c.connected_at,
              w.agent_id, w.reputation, w.successes, w.failures,
              (SELECT COUNT(*) FROM jobs j WHERE j.worker_socket = c.socket_id AND j.status = 'assigned') AS active
       FROM connections c JOIN workers w ON w.pubkey = c.pubkey ORDER BY c.connected_at, c.pubkey LIMIT ?`,
      limit,
    );
  }

  /**
   * The models of the listed sockets, loaded ones first, at most `perSocket` each, with how many
   * each socket serves in all (a worker may list 64 models; a snapshot shows a few).
   */
  models(socketLimit: number, perSocket: number): { socket_id: string; route: string; loaded: number; total: number }[] {
    return this.sql.all(
      `SELECT socket_id, route, loaded, total FROM (
         SELECT r.socket_id, r.route, r.loaded,
                ROW_NUMBER() OVER (PARTITION BY r.socket_id ORDER BY r.loaded DESC, r.route) AS n,
                COUNT(*) OVER (PARTITION BY r.socket_id) AS total
         FROM connection_routes r
         WHERE r.route LIKE 'LLM_INFER:%'
           AND r.socket_id IN (SELECT socket_id FROM connections ORDER BY connected_at, pubkey LIMIT ?))
       WHERE n <= ?`,
      socketLimit,
      perSocket,
    );
  }

  /** Newest jobs first, with where their receipt stands in anchoring. */
  recentJobs(limit: number): JobLine[] {
    return this.sql.all<JobLine>(
      `SELECT j.id, j.job_type, j.policy, j.privacy_class, j.route, j.status, j.reason, j.attempts, j.payment_state, j.price_micro,
              j.worker_pubkey, j.created_at, j.completed_at, r.anchor_batch, b.tx AS anchor_tx
       FROM (SELECT id, job_type, policy, privacy_class, route, status, reason, attempts, payment_state, price_micro, worker_pubkey,
                    created_at, completed_at FROM jobs WHERE audit_of IS NULL ORDER BY created_at DESC, id DESC LIMIT ?) j
       LEFT JOIN receipts r ON r.job_id = j.id LEFT JOIN anchor_batches b ON b.batch_id = r.anchor_batch
       ORDER BY j.created_at DESC, j.id DESC`,
      limit,
    );
  }

  /**
   * Finished jobs per time bucket from `since` on (a range seek on `completed_at`): completions,
   * failures, and the commit-to-completion latency of the completed ones. The bucket number is
   * cast because a bound JS number may arrive as a REAL, which would make the division exact.
   */
  buckets(since: number, bucketMs: number): BucketLine[] {
    return this.sql.all<BucketLine>(
      `SELECT CAST(completed_at / ? AS INTEGER) AS b,
              SUM(status = 'completed') AS completed, SUM(status = 'failed') AS failed,
              SUM(CASE WHEN status = 'completed' THEN completed_at - created_at END) AS latency_sum,
              MAX(CASE WHEN status = 'completed' THEN completed_at - created_at END) AS latency_max
       FROM jobs INDEXED BY jobs_finished WHERE completed_at >= ? AND status IN ('completed', 'failed') GROUP BY b`,
      bucketMs,
      since,
    );
  }

  outbox(): { pending: number; dead: number; byKind: Record<string, number>; oldest: number | null } {
    const rows = this.sql.all<{ kind: string; n: number; oldest: number }>(
      "SELECT kind, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE done_at IS NULL GROUP BY kind",
    );
    const dead = this.outboxStore.deadCount();
    const oldest = rows.length === 0 ? null : Math.min(...rows.map((r) => r.oldest));
    return {
      pending: rows.reduce((sum, r) => sum + r.n, 0),
      dead,
      byKind: Object.fromEntries(rows.map((r) => [r.kind, r.n])),
      oldest,
    };
  }

  /** Receipts not yet in an anchor batch (a running total, schema v8). */
  unanchored(): number {
    return this.sql.first<{ n: number }>("SELECT n FROM totals WHERE name = 'unanchored'")?.n ?? 0;
  }

  // ---- money: running totals (schema v8) and per-worker sums, refreshed on a slower clock by the feed ----

  /** Jobs by payment state, with the sum of their prices. */
  paymentStates(): { payment_state: string; n: number; micro: number }[] {
    return this.sql.all(
      "SELECT substr(name, 9) AS payment_state, n, micro FROM totals WHERE name LIKE 'payment:%' AND n > 0 ORDER BY name",
    );
  }

  /** Earned and confirmed-paid per listed worker key (the same keys `workers()` lists). */
  earnings(socketLimit: number): { pubkey: string; earned: number; paid: number }[] {
    return this.sql.all(
      `SELECT l.pubkey, SUM(l.amount_micro) AS earned,
              COALESCE(SUM(CASE WHEN t.state = 'confirmed' THEN l.amount_micro END), 0) AS paid
       FROM ledger l LEFT JOIN transfers t ON t.transfer_id = l.transfer_id
       WHERE l.pubkey IN (SELECT pubkey FROM connections ORDER BY connected_at, pubkey LIMIT ?)
       GROUP BY l.pubkey`,
      socketLimit,
    );
  }

  openTransfers(): number {
    return this.sql.first<{ n: number }>("SELECT COUNT(*) AS n FROM transfers WHERE state IN ('created', 'signed')")?.n ?? 0;
  }
}
