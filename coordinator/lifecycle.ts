import { type FailureReason, type JobAssignMessage, type JobEvent, LIMITS, type LlmPayload, type TaskPayload } from "../protocol/index.ts";
import type { Listeners } from "./listeners.ts";
import { pickBest } from "./matching.ts";
import { closeQuietly, send, socketTag } from "./sockets.ts";
import { type JobRow, JobStore, wireStatus } from "./storage/job-store.ts";
import { OutboxStore } from "./storage/outbox-store.ts";
import { PaymentStore } from "./storage/payment-store.ts";
import type { Sql } from "./storage/sql.ts";
import { TrustStore } from "./storage/trust-store.ts";
import { WorkerStore } from "./storage/worker-store.ts";

/** How long a worker that timed out or sent a bad receipt is benched in matching. */
export const BENCH_MS = 60_000;
/** Pending jobs looked at per matching pass; the rest wait for the next free slot. */
const PUMP_BATCH = 200;

/** What the rest of the object wants to hear about, set once by the Durable Object. */
export interface LifecycleHooks {
  /** Inside the job's transaction: a worker finished a job (or failed it by timing out). */
  jobFinished(job: JobRow, success: boolean, outputHash: string | null, now: number): void;
  /** Other deadlines the alarm must honour (receipt batching). */
  deadlines(): (number | null)[];
}

export interface LifecycleOptions {
  allowUnverifiedWorkers: boolean;
  /** Solana payments cannot wait for completion (blockhashes expire): settle at assignment. */
  settleAtAssignment: boolean;
}

const TERMINAL = new Set(["completed", "failed"]);

export function isTerminal(job: JobRow): boolean {
  return TERMINAL.has(job.status);
}

export function statusEvent(job: JobRow): JobEvent {
  return { type: "status", job_id: job.id, stage: job.status, status: wireStatus(job.status), reason: job.reason };
}

export function executionMs(job: JobRow): number {
  return LIMITS.executionDeadlineSeconds[job.job_type] * 1000;
}

/**
 * The job lifecycle inside one chain's Durable Object: matching, reassignment, failure and
 * deadlines. Every transition is written to SQL first; messages and events go out afterwards.
 */
export class Lifecycle {
  readonly jobs: JobStore;
  readonly workers: WorkerStore;
  readonly trust: TrustStore;
  readonly outbox: OutboxStore;
  readonly payments: PaymentStore;
  private readonly ctx: DurableObjectState;
  private readonly listeners: Listeners;
  private readonly options: () => LifecycleOptions;
  private alarmAt: number | null = null;
  hooks: LifecycleHooks = { jobFinished: () => {}, deadlines: () => [] };

  constructor(ctx: DurableObjectState, sql: Sql, listeners: Listeners, options: () => LifecycleOptions) {
    this.ctx = ctx;
    this.jobs = new JobStore(sql);
    this.workers = new WorkerStore(sql);
    this.trust = new TrustStore(sql);
    this.outbox = new OutboxStore(sql);
    this.payments = new PaymentStore(sql);
    this.listeners = listeners;
    this.options = options;
  }

  transaction<T>(fn: () => T): T {
    return this.ctx.storage.transactionSync(fn);
  }

  socket(sid: string): WebSocket | undefined {
    return this.ctx.getWebSockets(socketTag(sid))[0];
  }

  /**
   * Event-driven matching: assigns the oldest pending jobs to the best free workers, all claims
   * in one synchronous transaction so no two jobs can take one slot. Sends after commit.
   */
  pump(now = Date.now()): void {
    // A backlog with every worker busy is the common overload case: one query, not one per job.
    if (!this.workers.hasFreeSlot()) return;
    const sends: { sid: string; message: JobAssignMessage; job: JobRow }[] = [];
    this.ctx.storage.transactionSync(() => {
      for (const job of this.jobs.pending(PUMP_BATCH)) {
        const candidates = this.workers.candidates({
          jobId: job.id,
          jobType: job.job_type,
          private: job.privacy_class === "PRIVATE",
          userId: job.user_id,
          allowUnverified: this.options().allowUnverifiedWorkers,
          now,
        });
        const best = pickBest(candidates, { tier: job.policy, jobType: job.job_type }, now);
        if (!best) continue;
        const deadline = now + executionMs(job);
        if (!this.jobs.assign(job.id, best.socket_id, best.pubkey, now, deadline)) continue;
        this.workers.noteAssigned(best.pubkey, now);
        if (job.payment_state === "verified" && this.options().settleAtAssignment) this.outbox.enqueue("settle", job.id, now);
        const payload = JSON.parse(job.payload) as LlmPayload | TaskPayload;
        sends.push({
          sid: best.socket_id,
          job: { ...job, status: "assigned" },
          message: {
            type: "job_assign",
            job_id: job.id,
            job_type: job.job_type,
            payload: payload as unknown as Record<string, unknown>,
            policy: job.policy,
            privacy_class: job.privacy_class,
            user_id: job.user_id,
            deadline_at: new Date(deadline).toISOString(),
            attempt: job.attempts + 1,
            payment_ref: job.payment_ref,
          },
        });
      }
    });
    const lost = new Set<string>();
    for (const { sid, message, job } of sends) {
      const ws = lost.has(sid) ? undefined : this.socket(sid);
      if (!ws || !send(ws, message)) {
        lost.add(sid);
        continue;
      }
      this.announce(job);
    }
    // A socket that vanished between claim and send: its jobs go back to the queue at once.
    for (const sid of lost) this.socketGone(sid, now);
  }

  /** A job lost its worker: back to the queue while attempts remain, else it fails. */
  requeueOrFail(job: JobRow, failure: FailureReason, now: number): JobRow | undefined {
    if (job.attempts >= LIMITS.maxAttempts) {
      this.jobs.fail(job.id, failure, now);
    } else {
      this.jobs.requeue(job.id, failure, now + LIMITS.queueDeadlineSeconds * 1000);
    }
    return this.jobs.get(job.id);
  }

  /** A worker socket is gone (closed, errored, replaced or stale): release its jobs. Idempotent. */
  socketGone(sid: string, now = Date.now()): void {
    const changed: JobRow[] = [];
    this.ctx.storage.transactionSync(() => {
      if (!this.workers.connection(sid)) return;
      for (const job of this.jobs.assignedTo(sid)) {
        const after = this.requeueOrFail(job, "worker_disconnected", now);
        if (after) changed.push(after);
      }
      this.workers.removeConnection(sid);
    });
    for (const job of changed) this.announce(job);
    if (changed.length > 0) this.pump(now);
  }

  /** Announces a job's new state to SSE listeners and, when terminal, to long-polls. */
  announce(job: JobRow | undefined): void {
    if (job) this.listeners.emit(statusEvent(job), isTerminal(job));
  }

  /** Enforces every deadline that has passed. Each item is caught alone: one bad row cannot stall the alarm. */
  sweep(now = Date.now()): void {
    for (const job of this.jobs.overdue(now, 500)) {
      try {
        this.expire(job, now);
      } catch (err) {
        console.error(`alarm: job ${job.id} could not be expired`, err);
      }
    }
    for (const conn of this.workers.staleConnections(now)) {
      const ws = this.socket(conn.socket_id);
      if (ws) closeQuietly(ws, 4000, "no heartbeat");
      this.socketGone(conn.socket_id, now);
    }
    this.pump(now);
  }

  private expire(job: JobRow, now: number): void {
    if (job.status === "pending") {
      const reason: FailureReason = job.last_failure === "worker_timeout" ? "worker_timeout" : "no_eligible_worker";
      if (this.jobs.fail(job.id, reason, now)) this.announce(this.jobs.get(job.id));
      return;
    }
    // Missed execution deadline: bench the worker, never offer it this job again, and tell it to stop.
    const sid = job.worker_socket;
    let after: JobRow | undefined;
    this.ctx.storage.transactionSync(() => {
      if (job.worker_pubkey) {
        this.jobs.exclude(job.id, job.worker_pubkey, "timeout");
        this.workers.noteFailure(job.worker_pubkey, now, BENCH_MS);
        this.hooks.jobFinished(job, false, null, now);
      }
      after = this.requeueOrFail(job, "worker_timeout", now);
    });
    const ws = sid ? this.socket(sid) : undefined;
    if (ws) send(ws, { type: "job_cancel", job_id: job.id, reason: "execution deadline passed" });
    this.announce(after);
  }

  /** Points the single alarm at the earliest deadline in SQL (or clears it). */
  async scheduleAlarm(): Promise<void> {
    const candidates = [
      this.jobs.earliestDeadline(),
      this.workers.earliestStaleDeadline(),
      this.outbox.earliestDue(),
      ...this.hooks.deadlines(),
    ].filter((t): t is number => t !== null);
    const next = candidates.length > 0 ? Math.min(...candidates) : null;
    if (next === this.alarmAt) return;
    this.alarmAt = next;
    if (next === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
  }

  forgetAlarm(): void {
    this.alarmAt = null;
  }
}
