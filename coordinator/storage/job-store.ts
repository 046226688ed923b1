import {
  type AuditView,
  type FailureReason,
  formatPrice,
  type JobStage,
  type JobStatus,
  type JobType,
  type JobView,
  LIMITS,
  type PaymentState,
  type PrivacyClass,
  type Receipt,
  type Tier,
} from "../../protocol/index.ts";
import type { Sql } from "./sql.ts";

export interface JobRow {
  [key: string]: SqlStorageValue;
  id: string;
  job_type: JobType;
  policy: Tier;
  privacy_class: PrivacyClass;
  user_id: string;
  payload: string;
  status: JobStage;
  result: string | null;
  reason: string | null;
  worker_pubkey: string | null;
  worker_socket: string | null;
  attempts: number;
  last_failure: string | null;
  price_micro: number;
  payment_state: PaymentState;
  payment_ref: string | null;
  payment_tx: string | null;
  idempotency_key: string | null;
  request_hash: string;
  created_at: number;
  queue_deadline: number;
  assigned_at: number | null;
  exec_deadline: number | null;
  completed_at: number | null;
  /** What a worker must serve to take the job: the job type, or `LLM_INFER:<model>`. */
  route: string;
  /** 1 when the commit was signed by `user_id`: it counts against that identity's quota. */
  signed: number;
  client_addr: string | null;
  rejects: number;
  last_error: string | null;
  /** No re-queue outlives this: the job's whole life is bounded. */
  expires_at: number;
  refund_tx: string | null;
  /** Set on spot-check audit runs: the job they re-run. Such jobs are internal: unpaid, unlisted, outside every quota. */
  audit_of: string | null;
}

export interface ReceiptRow {
  [key: string]: SqlStorageValue;
  job_id: string;
  provider_pubkey: string;
  output_hash: string;
  completed_at: string;
  payment_ref: string | null;
  signature: string;
  verified: number;
}

export interface NewJob {
  id: string;
  jobType: JobType;
  tier: Tier;
  privacyClass: PrivacyClass;
  userId: string;
  payload: unknown;
  priceMicro: number;
  paymentState: PaymentState;
  paymentRef: string | null;
  idempotencyKey: string | null;
  requestHash: string;
  now: number;
  queueDeadline: number;
  route: string;
  signed: boolean;
  clientAddr: string | null;
  /** An audit run of this job (internal). */
  auditOf?: string;
}

/** Job rows: every lifecycle transition is one guarded UPDATE, so a stale caller changes nothing. */
export class JobStore {
  private readonly sql: Sql;
  constructor(sql: Sql) {
    this.sql = sql;
  }

  insert(job: NewJob): void {
    this.sql.run(
      `INSERT INTO jobs (id, job_type, policy, privacy_class, user_id, payload, status, price_micro, payment_state, payment_ref,
        idempotency_key, request_hash, created_at, queue_deadline, route, signed, client_addr, expires_at, audit_of)
       VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      job.id,
      job.jobType,
      job.tier,
      job.privacyClass,
      job.userId,
      JSON.stringify(job.payload),
      job.priceMicro,
      job.paymentState,
      job.paymentRef,
      job.idempotencyKey,
      job.requestHash,
      job.now,
      job.queueDeadline,
      job.route,
      job.signed ? 1 : 0,
      job.clientAddr,
      job.now + LIMITS.maxJobLifetimeSeconds * 1000,
      job.auditOf ?? null,
    );
  }

  get(id: string): JobRow | undefined {
    return this.sql.first<JobRow>("SELECT * FROM jobs WHERE id = ?", id);
  }

  /** A job as seekers may see it: audit runs are the coordinator's own and read as not found. */
  seekerJob(id: string): JobRow | undefined {
    return this.sql.first<JobRow>("SELECT * FROM jobs WHERE id = ? AND audit_of IS NULL", id);
  }

  /** Audit runs waiting or running: they are bounded, so audits never crowd out seekers' work. */
  auditRunsInFlight(): number {
    return (
      this.sql.first<{ n: number }>("SELECT COUNT(*) AS n FROM jobs WHERE status IN ('pending', 'assigned') AND audit_of IS NOT NULL")?.n ??
      0
    );
  }

  byIdempotencyKey(userId: string, key: string): JobRow | undefined {
    return this.sql.first<JobRow>("SELECT * FROM jobs WHERE user_id = ? AND idempotency_key = ?", userId, key);
  }

  /**
   * Unfinished jobs held against a quota: a signed identity's own jobs, or the unsigned jobs
   * under a user id. Unsigned work never counts against a signed identity, so nobody can fill
   * someone else's quota by committing under their public key.
   */
  activeForUser(userId: string, signed: boolean): number {
    return (
      this.sql.first<{ n: number }>(
        "SELECT COUNT(*) AS n FROM jobs WHERE user_id = ? AND signed = ? AND status IN ('pending', 'assigned', 'settling') AND audit_of IS NULL",
        userId,
        signed ? 1 : 0,
      )?.n ?? 0
    );
  }

  /** Unfinished unsigned jobs committed from one client address. */
  activeUnsignedForAddress(addr: string): number {
    return (
      this.sql.first<{ n: number }>(
        "SELECT COUNT(*) AS n FROM jobs WHERE client_addr = ? AND signed = 0 AND status IN ('pending', 'assigned', 'settling') AND audit_of IS NULL",
        addr,
      )?.n ?? 0
    );
  }

  /**
   * The oldest PUBLIC job on one route this worker key may take. An index seek on
   * (status, privacy_class, route, created_at): jobs no one can serve sit on other routes and
   * cannot hold this one up; only jobs this very key was excluded from are stepped over.
   */
  oldestPublic(route: string, pubkey: string): JobRow | undefined {
    return this.sql.first<JobRow>(
      `SELECT * FROM jobs j WHERE j.status = 'pending' AND j.privacy_class = 'PUBLIC' AND j.route = ?
         AND NOT EXISTS (SELECT 1 FROM job_exclusions x WHERE x.job_id = j.id AND x.provider_pubkey = ?)
       ORDER BY j.created_at, j.id LIMIT 1`,
      route,
      pubkey,
    );
  }

  /** The oldest PRIVATE job of a user who paired with this key, on a route this socket serves. */
  oldestPrivate(pubkey: string, socketId: string): JobRow | undefined {
    return this.sql.first<JobRow>(
      `SELECT * FROM jobs j WHERE j.status = 'pending' AND j.privacy_class = 'PRIVATE'
         AND j.user_id IN (SELECT t.user_id FROM trust_pairings t
                           WHERE t.provider_pubkey = ? AND t.claimed_at IS NOT NULL AND t.revoked_at IS NULL)
         AND j.route IN (SELECT r.route FROM connection_routes r WHERE r.socket_id = ?)
         AND NOT EXISTS (SELECT 1 FROM job_exclusions x WHERE x.job_id = j.id AND x.provider_pubkey = ?)
       ORDER BY j.created_at, j.id LIMIT 1`,
      pubkey,
      socketId,
      pubkey,
    );
  }

  assignedTo(socketId: string): JobRow[] {
    return this.sql.all<JobRow>("SELECT * FROM jobs WHERE worker_socket = ? AND status = 'assigned'", socketId);
  }

  /** Seekers' jobs waiting and running (audit runs are counted with the audits). */
  counts(): { pending: number; assigned: number } {
    const rows = this.sql.all<{ status: string; n: number }>(
      "SELECT status, COUNT(*) AS n FROM jobs WHERE status IN ('pending', 'assigned') AND audit_of IS NULL GROUP BY status",
    );
    const get = (s: string) => rows.find((r) => r.status === s)?.n ?? 0;
    return { pending: get("pending"), assigned: get("assigned") };
  }

  assign(id: string, socketId: string, pubkey: string, now: number, execDeadline: number): boolean {
    return (
      this.sql.run(
        `UPDATE jobs SET status = 'assigned', worker_socket = ?, worker_pubkey = ?, assigned_at = ?, exec_deadline = ?,
           attempts = attempts + 1
         WHERE id = ? AND status = 'pending'`,
        socketId,
        pubkey,
        now,
        execDeadline,
        id,
      ) === 1
    );
  }

  /**
   * Back to the queue with a fresh queue window, never past the job's lifetime; the caller has
   * checked the attempt limit. `lastError` keeps what the worker said, for the final answer.
   */
  requeue(id: string, failure: FailureReason, queueDeadline: number, lastError: string | null = null): boolean {
    return (
      this.sql.run(
        `UPDATE jobs SET status = 'pending', worker_socket = NULL, exec_deadline = NULL, last_failure = ?, last_error = ?,
           queue_deadline = MIN(?, expires_at)
         WHERE id = ? AND status = 'assigned'`,
        failure,
        lastError,
        queueDeadline,
        id,
      ) === 1
    );
  }

  /** A worker turned the job down: no attempt spent, but the rejection is counted and the lifetime still bounds it. */
  requeueRejected(id: string, queueDeadline: number): boolean {
    return (
      this.sql.run(
        `UPDATE jobs SET status = 'pending', worker_socket = NULL, exec_deadline = NULL, last_failure = 'worker_error',
           queue_deadline = MIN(?, expires_at), attempts = MAX(attempts - 1, 0), rejects = rejects + 1
         WHERE id = ? AND status = 'assigned'`,
        queueDeadline,
        id,
      ) === 1
    );
  }

  /** Moves the execution deadline earlier (a completion waiting for its receipt). */
  shortenExecution(id: string, deadline: number): void {
    this.sql.run("UPDATE jobs SET exec_deadline = MIN(exec_deadline, ?) WHERE id = ? AND status = 'assigned'", deadline, id);
  }

  complete(id: string, output: unknown, now: number): boolean {
    return (
      this.sql.run(
        `UPDATE jobs SET status = 'completed', result = ?, worker_socket = NULL, exec_deadline = NULL, completed_at = ?
         WHERE id = ? AND status IN ('pending', 'assigned')`,
        JSON.stringify(output),
        now,
        id,
      ) === 1
    );
  }

  /** The work is done and verified; the result waits (unreleased) until the payment settles. */
  settling(id: string, output: unknown): boolean {
    return (
      this.sql.run(
        `UPDATE jobs SET status = 'settling', result = ?, worker_socket = NULL, exec_deadline = NULL
         WHERE id = ? AND status IN ('pending', 'assigned')`,
        JSON.stringify(output),
        id,
      ) === 1
    );
  }

  /** A settlement request is about to leave: recorded first, so a crash mid-call reads as "outcome unknown". */
  beginSettle(id: string): boolean {
    return this.sql.run("UPDATE jobs SET payment_state = 'settling' WHERE id = ? AND payment_state IN ('verified', 'unknown')", id) === 1;
  }

  /**
   * Settlement succeeded (or the chain says the payment was used): a job waiting on it completes;
   * one that failed meanwhile is owed a refund. Applies to an in-flight or unknown settlement
   * only, so a late answer is never lost and never applied twice.
   */
  settled(id: string, transaction: string | null, now: number): boolean {
    return (
      this.sql.run(
        `UPDATE jobs SET payment_tx = COALESCE(?, payment_tx),
           payment_state = CASE WHEN status = 'failed' THEN 'refund_due' ELSE 'settled' END,
           completed_at = CASE WHEN status = 'settling' THEN ? ELSE completed_at END,
           status = CASE WHEN status = 'settling' THEN 'completed' ELSE status END
         WHERE id = ? AND payment_state IN ('settling', 'unknown')`,
        transaction,
        now,
        id,
      ) === 1
    );
  }

  /** The settlement's outcome was lost (timeout, or a refusal that may mean "already used"): find out before deciding. */
  settleUnknown(id: string, transaction: string | null): void {
    this.sql.run(
      "UPDATE jobs SET payment_state = 'unknown', payment_tx = COALESCE(?, payment_tx) WHERE id = ? AND payment_state = 'settling'",
      transaction,
      id,
    );
  }

  /** The payment never moved and never will (refused, or expired unused). */
  settleVoided(id: string): boolean {
    return this.sql.run("UPDATE jobs SET payment_state = 'voided' WHERE id = ? AND payment_state IN ('settling', 'unknown')", id) === 1;
  }

  /** An unknown settlement turned out unused and still valid: settle it again. */
  settleRetry(id: string): void {
    this.sql.run("UPDATE jobs SET payment_state = 'verified' WHERE id = ? AND payment_state IN ('settling', 'unknown')", id);
  }

  /** The refund transfer back to the payer is confirmed. */
  refunded(id: string, transaction: string): void {
    this.sql.run(
      "UPDATE jobs SET payment_state = 'refunded', refund_tx = ? WHERE id = ? AND payment_state = 'refund_due'",
      transaction,
      id,
    );
  }

  /** Jobs owed a refund with no refund transfer yet. */
  refundsWithoutTransfer(limit: number): JobRow[] {
    return this.sql.all<JobRow>(
      `SELECT * FROM jobs j WHERE j.payment_state = 'refund_due'
         AND NOT EXISTS (SELECT 1 FROM transfers t WHERE t.kind = 'refund' AND t.job_id = j.id) LIMIT ?`,
      limit,
    );
  }

  /**
   * A worker reported failure (`output: {error}`, the reference convention) and the job ends
   * with it. The result is the worker's own output, so the stored receipt still verifies.
   */
  failWithOutput(id: string, reason: FailureReason, output: unknown, now: number): boolean {
    return this.markFailed(id, reason, output, now);
  }

  /**
   * A failed job is never charged: an unsettled payment is voided, one already settled (Solana
   * settles at assignment) is owed a refund, and one whose settlement is in flight or unknown
   * stays so until its outcome decides (settled then means refund due).
   */
  fail(id: string, reason: FailureReason, now: number, message?: string): boolean {
    return this.markFailed(id, reason, message === undefined ? { error: reason } : { error: reason, message }, now);
  }

  private markFailed(id: string, reason: FailureReason, result: unknown, now: number): boolean {
    return (
      this.sql.run(
        `UPDATE jobs SET status = 'failed', reason = ?, result = ?, worker_socket = NULL, exec_deadline = NULL, completed_at = ?,
           payment_state = CASE payment_state WHEN 'verified' THEN 'voided' WHEN 'settled' THEN 'refund_due' ELSE payment_state END
         WHERE id = ? AND status IN ('pending', 'assigned', 'settling')`,
        reason,
        JSON.stringify(result),
        now,
        id,
      ) === 1
    );
  }

  exclude(jobId: string, pubkey: string, reason: string): void {
    this.sql.run("INSERT OR IGNORE INTO job_exclusions (job_id, provider_pubkey, reason) VALUES (?, ?, ?)", jobId, pubkey, reason);
  }

  saveReceipt(r: Receipt & { signature: string }, now: number): void {
    this.sql.run(
      `INSERT INTO receipts (job_id, provider_pubkey, output_hash, completed_at, payment_ref, signature, verified, created_at)
       VALUES (?, ?, ?, ?, ?, ?, 1, ?)`,
      r.job_id,
      r.provider_pubkey,
      r.output_hash,
      r.completed_at,
      r.payment_ref,
      r.signature,
      now,
    );
  }

  receipt(jobId: string): ReceiptRow | undefined {
    return this.sql.first<ReceiptRow>("SELECT * FROM receipts WHERE job_id = ?", jobId);
  }

  overdue(now: number, limit: number): JobRow[] {
    return this.sql.all<JobRow>(
      `SELECT * FROM (SELECT * FROM jobs WHERE status = 'pending' AND queue_deadline <= ? LIMIT ?)
       UNION ALL SELECT * FROM (SELECT * FROM jobs WHERE status = 'assigned' AND exec_deadline <= ? LIMIT ?)`,
      now,
      limit,
      now,
      limit,
    );
  }

  /** Finished jobs older than `before`, for retention, oldest first. */
  finishedBefore(before: number, limit: number): { id: string }[] {
    return this.sql.all<{ id: string }>(
      "SELECT id FROM jobs WHERE completed_at IS NOT NULL AND completed_at < ? AND status IN ('completed', 'failed') ORDER BY completed_at LIMIT ?",
      before,
      limit,
    );
  }
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The reference status set. `settling` (work done, payment settling, result not yet released)
 * reads as `assigned`: the job is still in hand, not finished. `stage` carries the detail.
 */
export function wireStatus(stage: JobStage): JobStatus {
  return stage === "settling" ? "assigned" : stage;
}

export function toJobView(job: JobRow, receipt: ReceiptRow | undefined, network: string, audit?: AuditView): JobView {
  return {
    id: job.id,
    status: wireStatus(job.status),
    stage: job.status,
    job_type: job.job_type,
    policy: job.policy,
    privacy_class: job.privacy_class,
    // Nothing is released before the payment settles.
    result: job.result === null || job.status === "settling" ? null : (JSON.parse(job.result) as unknown),
    receipt:
      receipt && job.status !== "settling"
        ? {
            job_id: receipt.job_id,
            provider_pubkey: receipt.provider_pubkey,
            output_hash: receipt.output_hash,
            completed_at: receipt.completed_at,
            payment_ref: receipt.payment_ref,
            signature: receipt.signature,
            verified: receipt.verified === 1,
          }
        : null,
    payment: {
      state: job.payment_state,
      price: formatPrice(job.price_micro),
      amount: String(job.price_micro),
      network,
      transaction: job.payment_tx,
      refund_transaction: job.refund_tx,
    },
    reason: job.reason,
    attempts: job.attempts,
    created_at: iso(job.created_at) ?? "",
    assigned_at: iso(job.assigned_at),
    completed_at: iso(job.completed_at),
    ...(audit && { audit }),
  };
}
