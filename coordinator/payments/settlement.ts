import type { Lifecycle } from "../lifecycle.ts";
import { send } from "../sockets.ts";
import type { JobRow } from "../storage/job-store.ts";
import type { OutboxRow } from "../storage/outbox-store.ts";
import type { AuthorizationCheck } from "./authorization-check.ts";
import type { Payments, SettleResult } from "./service.ts";

/** Past this many attempts an unknown settlement is dead-lettered (still `unknown`, visible in health). */
export const MAX_SETTLE_ATTEMPTS = 30;
/** An unused EVM authorization this close to expiry is not settled again (it could expire on the way). */
const EXPIRY_MARGIN_MS = 15_000;

export type SettleStep = "done" | "retry";

/**
 * Settles one job's payment, and never records money wrong in a race:
 * - `settling` is written before the facilitator is called, so a crash mid-call reads as
 *   "outcome unknown", never as "not paid";
 * - a job that fails while its settlement is in flight keeps the settlement's outcome (a late
 *   success makes a refund due, never a lost transaction);
 * - an outcome that is unknown (no answer in time, or "already used") is resolved by asking the
 *   chain (EVM: was the EIP-3009 authorization used?) or the facilitator again (SVM: it keeps the
 *   transactions it broadcast) before anything is decided.
 */
export class Settlement {
  private readonly life: Lifecycle;
  private readonly payments: Payments;
  private readonly authorizations: () => AuthorizationCheck | null;
  /** Inside the transaction that settled a job: credit its worker, if the job is completed. */
  private readonly onSettled: (job: JobRow, now: number) => void;

  constructor(
    life: Lifecycle,
    payments: Payments,
    authorizations: () => AuthorizationCheck | null,
    onSettled: (job: JobRow, now: number) => void,
  ) {
    this.life = life;
    this.payments = payments;
    this.authorizations = authorizations;
    this.onSettled = onSettled;
  }

  async run(row: OutboxRow): Promise<SettleStep> {
    const job = this.life.jobs.get(row.ref);
    if (!job?.payment_ref) return "done";
    switch (job.payment_state) {
      case "verified":
        // A job that failed before its settlement started was voided; nothing to charge.
        if (job.status === "failed") return "done";
        return this.attempt(job, row.attempts);
      case "settling":
      case "unknown":
        // `settling` here means an earlier attempt never recorded its answer (the object restarted).
        return this.resolve(job, row.attempts);
      default:
        return "done";
    }
  }

  private async attempt(job: JobRow, attempts: number): Promise<SettleStep> {
    if (!this.life.transaction(() => this.life.jobs.beginSettle(job.id))) return "done";
    const result = await this.payments.settle(job.payment_ref ?? "");
    return this.apply(job.id, result, attempts);
  }

  private async resolve(job: JobRow, attempts: number): Promise<SettleStep> {
    const stored = this.payments.payment(job.payment_ref ?? "");
    const check = this.authorizations();
    if (stored && check && stored.requirements.network.startsWith("eip155:")) {
      const state = await check.state(stored.payload, stored.requirements);
      const now = Date.now();
      if (state.state === "used") return this.settled(job.id, state.transaction, now);
      if (state.state === "unused") {
        if (state.validBefore - EXPIRY_MARGIN_MS <= now) return this.voided(job.id, "the authorization expired unused", now);
        // Unused and still valid: nothing moved, settle it again.
        this.life.jobs.settleRetry(job.id);
        return this.attempt(this.life.jobs.get(job.id) ?? job, attempts);
      }
    }
    // SVM (or no RPC): ask the facilitator again. It keeps what it broadcast, so a settlement that
    // went through answers "duplicate" or reconciles to success, and one that did not is retried.
    this.life.jobs.beginSettle(job.id);
    const result = await this.payments.settle(job.payment_ref ?? "");
    if (result.outcome === "unknown" && result.reason === "duplicate_settlement") {
      return this.settled(job.id, result.transaction, Date.now());
    }
    if (result.outcome === "refused") {
      // After an unknown outcome a refusal may only mean "already done": never void on it alone.
      this.life.jobs.settleUnknown(job.id, result.transaction);
      return attempts + 1 >= MAX_SETTLE_ATTEMPTS ? "done" : "retry";
    }
    return this.apply(job.id, result, attempts);
  }

  private apply(jobId: string, result: SettleResult, attempts: number): SettleStep {
    const now = Date.now();
    if (result.outcome === "settled") return this.settled(jobId, result.transaction, now);
    if (result.outcome === "refused") return this.voided(jobId, `settlement refused: ${result.reason}`, now);
    this.life.jobs.settleUnknown(jobId, result.transaction);
    console.warn(`settlement of job ${jobId}: outcome unknown (${result.reason}); resolving`);
    return attempts + 1 >= MAX_SETTLE_ATTEMPTS ? "done" : "retry";
  }

  private settled(jobId: string, transaction: string | null, now: number): SettleStep {
    const after = this.life.transaction(() => {
      if (!this.life.jobs.settled(jobId, transaction, now)) return undefined;
      const job = this.life.jobs.get(jobId);
      if (job) this.onSettled(job, now);
      return job;
    });
    this.life.announce(after);
    return "done";
  }

  /** Nothing moved and nothing will: the payment is void, and a job still waiting on it fails. */
  private voided(jobId: string, why: string, now: number): SettleStep {
    const before = this.life.jobs.get(jobId);
    const after = this.life.transaction(() => {
      this.life.jobs.settleVoided(jobId);
      this.life.jobs.fail(jobId, "payment_failed", now, why);
      return this.life.jobs.get(jobId);
    });
    // A Solana job settles at assignment: its worker is still at it, and will not be paid.
    const sid = before?.status === "assigned" ? before.worker_socket : null;
    const ws = sid ? this.life.socket(sid) : undefined;
    if (ws) send(ws, { type: "job_cancel", job_id: jobId, reason: "the payment for this job could not be settled" });
    this.life.announce(after);
    return "done";
  }
}
