import { type FailureReason, type JobAssignMessage, type JobEvent, LIMITS } from "../protocol/index.ts";
import { isAuditRoute } from "./job-routes.ts";
import type { Listeners } from "./listeners.ts";
import { pickBest } from "./matching.ts";
import { closeQuietly, send, socketTag } from "./sockets.ts";
import { AuditStore } from "./storage/audit-store.ts";
import { type JobRow, JobStore, wireStatus } from "./storage/job-store.ts";
import { NonceStore } from "./storage/nonce-store.ts";
import { OutboxStore } from "./storage/outbox-store.ts";
import { PartialStore } from "./storage/partial-store.ts";
import { PaymentStore } from "./storage/payment-store.ts";
import { SocketStore } from "./storage/socket-store.ts";
import type { Sql } from "./storage/sql.ts";
import { TrustStore } from "./storage/trust-store.ts";
import { STALE_AFTER_MS, WorkerStore } from "./storage/worker-store.ts";

/** Rows handled per alarm pass for each kind of deadline; the alarm comes back for the rest. */
const SWEEP_BATCH = 500;

/** What the rest of the object wants to hear about, set once by the Durable Object. */
export interface LifecycleHooks {
  /** Inside the job's transaction: a worker finished a job (or failed it by timing out). */
  jobFinished(job: JobRow, success: boolean, outputHash: string | null, now: number): void;
  /** Other deadlines the alarm must honour (receipt batching, retention). */
  deadlines(): (number | null)[];
  /** Inside the transaction that moved a job's payment or status: credit its worker once it is completed and settled. */
  jobMoved(job: JobRow, now: number): void;
}

export interface LifecycleOptions {
  allowUnverifiedWorkers: boolean;
  /** Solana payments cannot wait for completion (blockhashes expire): settle at assignment. */
  settleAtAssignment: boolean;
}

/** One assignment decided inside a transaction, sent once it has committed. */
interface Claim {
  sid: string;
  job: JobRow;
  message: JobAssignMessage;
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
 *
 * Matching keeps one invariant: no pending job waits while a free slot that could take it
 * exists. A new or re-queued job goes to the best free worker at once (job-driven); a slot that
 * frees up takes the oldest job its worker can serve (worker-driven, an index seek per route),
 * so jobs nobody can serve never hold up jobs somebody can.
 */
export class Lifecycle {
  readonly jobs: JobStore;
  readonly workers: WorkerStore;
  readonly trust: TrustStore;
  readonly outbox: OutboxStore;
  readonly payments: PaymentStore;
  readonly sockets: SocketStore;
  readonly nonces: NonceStore;
  readonly partials: PartialStore;
  readonly audits: AuditStore;
  private readonly ctx: DurableObjectState;
  private readonly listeners: Listeners;
  private readonly options: () => LifecycleOptions;
  private readonly sql: Sql;
  private alarmAt: number | null = null;
  /** Jobs created inside a transaction (audit runs), offered once it has committed. */
  private readonly toOffer: string[] = [];
  hooks: LifecycleHooks = { jobFinished: () => {}, deadlines: () => [], jobMoved: () => {} };

  constructor(ctx: DurableObjectState, sql: Sql, listeners: Listeners, options: () => LifecycleOptions) {
    this.ctx = ctx;
    this.sql = sql;
    this.jobs = new JobStore(sql);
    this.workers = new WorkerStore(sql);
    this.trust = new TrustStore(sql);
    this.outbox = new OutboxStore(sql);
    this.payments = new PaymentStore(sql);
    this.sockets = new SocketStore(sql);
    this.nonces = new NonceStore(sql);
    this.partials = new PartialStore(sql);
    this.audits = new AuditStore(sql);
    this.listeners = listeners;
    this.options = options;
  }

  transaction<T>(fn: () => T): T {
    return this.ctx.storage.transactionSync(fn);
  }

  socket(sid: string): WebSocket | undefined {
    return this.ctx.getWebSockets(socketTag(sid))[0];
  }

  /** Job-driven matching: each job goes to the best free worker for it, if there is one now. */
  offerJobs(jobIds: readonly string[], now = Date.now()): void {
    if (jobIds.length === 0) return;
    this.dispatch(() => {
      const claims: Claim[] = [];
      for (const id of jobIds) {
        const job = this.jobs.get(id);
        const claim = job?.status === "pending" ? this.claimBestWorker(job, now) : undefined;
        if (claim) claims.push(claim);
      }
      return claims;
    }, now);
  }

  /** Inside a transaction: offer this new job once the transaction has committed (`flushOffers`). */
  offerLater(jobId: string): void {
    this.toOffer.push(jobId);
  }

  /** Offers the jobs `offerLater` collected. Ids whose transaction rolled back are no longer pending and are skipped. */
  flushOffers(now = Date.now()): void {
    this.offerJobs(this.toOffer.splice(0), now);
  }

  /** Worker-driven matching: each socket's free slots take the oldest jobs it can serve. */
  fillWorkers(sids: readonly string[], now = Date.now()): void {
    if (sids.length === 0) return;
    this.dispatch(() => sids.flatMap((sid) => this.claimOldestJobs(sid, now)), now);
  }

  /** Runs the claims in one synchronous transaction (no two can take one slot), then sends. */
  private dispatch(plan: () => Claim[], now: number): void {
    const claims = this.ctx.storage.transactionSync(plan);
    const lost = new Set<string>();
    for (const { sid, message, job } of claims) {
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

  private claimBestWorker(job: JobRow, now: number): Claim | undefined {
    const candidates = this.workers.candidates({
      jobId: job.id,
      route: job.route,
      private: job.privacy_class === "PRIVATE",
      userId: job.user_id,
      allowUnverified: this.options().allowUnverifiedWorkers,
      now,
    });
    const best = pickBest(candidates, { tier: job.policy, jobType: job.job_type }, now);
    if (!best) return undefined;
    // A benched worker gets work only when no healthy one serves the route at all: otherwise the
    // job waits for a healthy slot (a worker that faults or rejects everything starves itself).
    if (best.unhealthy_until > now && job.privacy_class === "PUBLIC" && this.workers.healthyServing(job.route, now)) {
      return undefined;
    }
    return this.claim(job, best.socket_id, best.pubkey, now);
  }

  private claimOldestJobs(sid: string, now: number): Claim[] {
    const conn = this.workers.connection(sid);
    if (!conn || conn.offer_after > now || this.workers.benchedUntil(conn.pubkey) > now) return [];
    const verified = conn.verified === 1;
    const publicOk = verified || this.options().allowUnverifiedWorkers;
    const routes = this.workers.routes(sid);
    const jobRoutes = routes.filter((r) => !isAuditRoute(r));
    const auditRoutes = routes.filter(isAuditRoute);
    const claims: Claim[] = [];
    for (let free = this.workers.freeSlots(sid); free > 0; free--) {
      let oldest: JobRow | undefined;
      const consider = (job: JobRow | undefined) => {
        if (job && (!oldest || job.created_at < oldest.created_at || (job.created_at === oldest.created_at && job.id < oldest.id))) {
          oldest = job;
        }
      };
      if (publicOk) for (const route of jobRoutes) consider(this.jobs.oldestPublic(route, conn.pubkey));
      if (verified) consider(this.jobs.oldestPrivate(conn.pubkey, sid));
      // Audit runs take only a slot no seeker's job wants: checking work never delays work.
      if (!oldest) for (const route of auditRoutes) consider(this.jobs.oldestPublic(route, conn.pubkey));
      const claim = oldest ? this.claim(oldest, sid, conn.pubkey, now) : undefined;
      if (!claim) break;
      claims.push(claim);
    }
    return claims;
  }

  private claim(job: JobRow, sid: string, pubkey: string, now: number): Claim | undefined {
    const deadline = now + executionMs(job);
    if (!this.jobs.assign(job.id, sid, pubkey, now, deadline)) return undefined;
    this.workers.noteAssigned(pubkey, now);
    if (job.payment_state === "verified" && this.options().settleAtAssignment) this.outbox.enqueue("settle", job.id, now);
    return {
      sid,
      job: { ...job, status: "assigned" },
      message: {
        type: "job_assign",
        job_id: job.id,
        job_type: job.job_type,
        payload: JSON.parse(job.payload) as Record<string, unknown>,
        policy: job.policy,
        privacy_class: job.privacy_class,
        user_id: job.user_id,
        deadline_at: new Date(deadline).toISOString(),
        attempt: job.attempts + 1,
        payment_ref: job.payment_ref,
      },
    };
  }

  /** A job lost its worker: back to the queue while attempts remain, else it fails. Inside a transaction. */
  requeueOrFail(job: JobRow, failure: FailureReason, now: number, lastError: string | null = null): JobRow | undefined {
    this.partials.delete(job.id);
    if (job.attempts >= LIMITS.maxAttempts || job.expires_at <= now) {
      this.jobs.fail(job.id, failure, now, lastError ?? undefined);
    } else {
      this.jobs.requeue(job.id, failure, now + LIMITS.queueDeadlineSeconds * 1000, lastError);
    }
    return this.jobs.get(job.id);
  }

  /** A worker socket is gone (closed, errored, replaced or stale): release its jobs. Idempotent. */
  socketGone(sid: string, now = Date.now()): void {
    const changed: JobRow[] = [];
    this.ctx.storage.transactionSync(() => {
      this.sockets.closed(sid);
      if (!this.workers.connection(sid)) return;
      for (const job of this.jobs.assignedTo(sid)) {
        const after = this.requeueOrFail(job, "worker_disconnected", now);
        if (after) changed.push(after);
      }
      this.workers.removeConnection(sid);
    });
    this.announceAll(changed);
    this.offerJobs(
      changed.filter((j) => j.status === "pending").map((j) => j.id),
      now,
    );
  }

  /** Announces a job's new state to SSE listeners and, when terminal, to long-polls. */
  announce(job: JobRow | undefined): void {
    if (!job) return;
    this.listeners.emit(statusEvent(job), isTerminal(job));
    if (job.payment_state === "refund_due") this.kickRefunds(Date.now());
  }

  announceAll(jobs: readonly (JobRow | undefined)[]): void {
    for (const job of jobs) this.announce(job);
  }

  /** Enforces every deadline that has passed. Each item is caught alone: one bad row cannot stall the alarm. */
  sweep(now = Date.now()): void {
    for (const job of this.jobs.overdue(now, SWEEP_BATCH)) {
      try {
        this.expire(job, now);
      } catch (err) {
        console.error(`alarm: job ${job.id} could not be expired`, err);
      }
    }
    for (const conn of this.workers.staleConnections(now, SWEEP_BATCH)) {
      const ws = this.socket(conn.socket_id);
      // Heartbeats are answered by the runtime without waking the object: the time of the last
      // one it answered says the worker is alive, so record it instead of dropping the worker.
      const heard = ws ? this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() : undefined;
      if (ws && heard !== undefined && heard > now - STALE_AFTER_MS) {
        this.workers.touch(conn.socket_id, heard);
        continue;
      }
      if (ws) closeQuietly(ws, 4000, "no heartbeat");
      this.socketGone(conn.socket_id, now);
    }
    // Sockets that never registered hold a slot of the socket cap for nothing.
    for (const sid of this.sockets.unregisteredSince(now - LIMITS.unregisteredSocketSeconds * 1000, SWEEP_BATCH)) {
      const ws = this.socket(sid);
      if (ws) closeQuietly(ws, 4008, "register within the handshake window");
      this.sockets.closed(sid);
    }
    const due = this.workers.offersDue(now).map((c) => c.socket_id);
    for (const sid of due) this.workers.offerMade(sid);
    const refills = this.workers.refillsDue(now);
    for (const sid of refills) this.workers.refilled(sid);
    this.fillWorkers([...due, ...refills], now);
    this.nonces.prune(now, SWEEP_BATCH);
    this.partials.pruneOrphans(SWEEP_BATCH);
    this.kickRefunds(now);
  }

  /** Money that moved for work that failed is owed back: the transfer lane plans the refund. */
  private kickRefunds(now: number): void {
    if (this.jobs.refundsWithoutTransfer(1).length > 0) this.outbox.schedule("transfers", "lane", now);
  }

  private expire(job: JobRow, now: number): void {
    if (job.status === "pending") {
      const reason: FailureReason =
        job.last_failure === "worker_timeout" || job.last_failure === "invalid_input" ? job.last_failure : "no_eligible_worker";
      if (this.jobs.fail(job.id, reason, now, job.last_error ?? undefined)) this.announce(this.jobs.get(job.id));
      return;
    }
    // Missed execution deadline (or a completion whose receipt never came): bench the worker,
    // never offer it this job again, and tell it to stop.
    const sid = job.worker_socket;
    const failure: FailureReason = this.partials.get(job.id) ? "invalid_receipt" : "worker_timeout";
    let after: JobRow | undefined;
    this.ctx.storage.transactionSync(() => {
      if (job.worker_pubkey) {
        this.jobs.exclude(job.id, job.worker_pubkey, failure === "invalid_receipt" ? "no_receipt" : "timeout");
        this.workers.noteFailure(job.worker_pubkey, now);
        this.hooks.jobFinished(job, false, null, now);
      }
      after = this.requeueOrFail(job, failure, now);
    });
    const ws = sid ? this.socket(sid) : undefined;
    if (ws) send(ws, { type: "job_cancel", job_id: job.id, reason: "execution deadline passed" });
    this.announce(after);
    if (after?.status === "pending") this.offerJobs([after.id], now);
    if (sid) this.fillWorkers([sid], now);
  }

  /** Points the single alarm at the earliest deadline in SQL (or clears it). */
  async scheduleAlarm(): Promise<void> {
    const candidates = [this.earliestDeadline(), ...this.hooks.deadlines()].filter((t): t is number => t !== null);
    const next = candidates.length > 0 ? Math.min(...candidates) : null;
    if (next === this.alarmAt) return;
    this.alarmAt = next;
    if (next === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
  }

  /**
   * Every deadline the lifecycle keeps, in one statement (this runs after most frames and
   * commits): queue and execution deadlines, silent sockets, first offers and bench ends,
   * handshakes to reap, outbox items due. Each part is an index lookup.
   */
  private earliestDeadline(): number | null {
    // One row of scalar subqueries (SQLite in Durable Objects caps the terms of a compound SELECT).
    const row = this.sql.first<Record<string, number | null>>(
      `SELECT (SELECT MIN(queue_deadline) FROM jobs WHERE status = 'pending') AS queued,
              (SELECT MIN(exec_deadline) FROM jobs WHERE status = 'assigned') AS running,
              (SELECT MIN(last_seen) + ? FROM connections) AS silent,
              (SELECT MIN(offer_after) FROM connections WHERE offer_after > 0) AS offer,
              (SELECT MIN(refill_at) FROM connections WHERE refill_at > 0) AS refill,
              (SELECT MIN(opened_at) + ? FROM sockets WHERE registered = 0) AS handshake,
              (SELECT MIN(next_attempt_at) FROM outbox WHERE done_at IS NULL) AS outbox`,
      STALE_AFTER_MS,
      LIMITS.unregisteredSocketSeconds * 1000,
    );
    const times = Object.values(row ?? {}).filter((t): t is number => typeof t === "number");
    return times.length > 0 ? Math.min(...times) : null;
  }

  forgetAlarm(): void {
    this.alarmAt = null;
  }
}
