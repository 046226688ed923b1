import {
  hashOutput,
  type JobCompleteMessage,
  type JobRejectMessage,
  LIMITS,
  type Receipt,
  type ReceiptSubmitMessage,
  verifyReceiptAsync,
} from "../protocol/index.ts";
import type { Lifecycle } from "./lifecycle.ts";
import { type SocketAttachment, send, sendError } from "./sockets.ts";
import type { JobRow } from "./storage/job-store.ts";

/** What a worker's `{error}` output means for the job. */
interface WorkerFailure {
  /** `routing`: the worker does not serve the job's model after all (its list was stale). */
  kind: "input" | "worker" | "routing";
  error: string;
}

/**
 * The reference convention: a worker-side failure is `output: {error: "..."}`. Ours add
 * `error_kind`; without it (reference workers) the fault is assumed to be the worker's, so the
 * job is tried elsewhere rather than failed on one worker's word.
 */
export function workerFailure(output: unknown): WorkerFailure | null {
  if (typeof output !== "object" || output === null || Array.isArray(output)) return null;
  const o = output as { error?: unknown; error_kind?: unknown };
  if (o.error === undefined) return null;
  const error = String(o.error).slice(0, 500);
  if (error.startsWith("model_not_served")) return { kind: "routing", error };
  return { kind: o.error_kind === "input" ? "input" : "worker", error };
}

/**
 * Completions, receipts and rejections from worker sockets. A result counts only with a valid
 * receipt from the worker that holds the job; a worker fault sends the job to another worker and
 * counts against the worker; an input error ends the job only once a second worker agrees (or no
 * other worker could take it), so one hostile worker cannot fail jobs by calling them bad.
 */
export class Completions {
  private readonly life: Lifecycle;

  constructor(life: Lifecycle) {
    this.life = life;
  }

  async complete(ws: WebSocket, a: SocketAttachment, msg: JobCompleteMessage): Promise<void> {
    const job = this.life.jobs.get(msg.job_id);
    if (!job) {
      sendError(ws, "UNKNOWN_JOB", "no such job on this chain", msg.job_id);
      return;
    }
    if (msg.output_hash !== hashOutput(msg.output)) {
      if (this.mayComplete(job, a)) this.invalidReceipt(ws, a, job, "output_hash_mismatch", Date.now());
      else sendError(ws, "NOT_ASSIGNED", "this job is not assigned to this worker", job.id);
      return;
    }
    if (msg.receipt === undefined || msg.receipt_signature === undefined) {
      await this.halfArrived(ws, a, job, { output: { value: msg.output, hash: msg.output_hash } });
      return;
    }
    await this.finish(ws, a, msg.job_id, msg.output, { receipt: msg.receipt, signature: msg.receipt_signature });
  }

  async receiptSubmit(ws: WebSocket, a: SocketAttachment, msg: ReceiptSubmitMessage): Promise<void> {
    const job = this.life.jobs.get(msg.job_id);
    if (!job) {
      sendError(ws, "UNKNOWN_JOB", "no such job on this chain", msg.job_id);
      return;
    }
    await this.halfArrived(ws, a, job, { receipt: { receipt: msg.receipt, signature: msg.receipt_signature } });
  }

  /**
   * One half of a split completion arrived (reference Android worker): wait for the other half,
   * but only briefly: the job's execution deadline moves to `receiptWaitSeconds` from now.
   */
  private async halfArrived(
    ws: WebSocket,
    a: SocketAttachment,
    job: JobRow,
    half: { output?: { value: unknown; hash: string }; receipt?: { receipt: Receipt; signature: string } },
  ): Promise<void> {
    if (job.status === "completed" || job.status === "settling") {
      this.alreadyDone(ws, a, job);
      return;
    }
    if (!this.mayComplete(job, a) || a.pubkey === null) {
      sendError(ws, "NOT_ASSIGNED", "this job is not assigned to this worker", job.id);
      return;
    }
    const held = this.life.partials.get(job.id);
    const sameSender = held !== undefined && held.pubkey === a.pubkey;
    const output = half.output ?? (sameSender ? held.output : undefined);
    const receipt = half.receipt ?? (sameSender ? held.receipt : undefined);
    if (output && receipt) {
      this.life.partials.delete(job.id);
      await this.finish(ws, a, job.id, output.value, receipt);
      return;
    }
    const now = Date.now();
    this.life.transaction(() => {
      this.life.partials.save(
        job.id,
        { socketId: a.sid, pubkey: a.pubkey ?? "", ...(output && { output }), ...(receipt && { receipt }) },
        now,
      );
      this.life.jobs.shortenExecution(job.id, now + LIMITS.receiptWaitSeconds * 1000);
    });
  }

  private async finish(
    ws: WebSocket,
    a: SocketAttachment,
    jobId: string,
    output: unknown,
    signed: { receipt: Receipt; signature: string },
  ): Promise<void> {
    const check = await verifyReceiptAsync({
      receipt: signed.receipt,
      signature: signed.signature,
      output,
      jobId,
      providerPubkey: a.pubkey ?? "",
    });
    // Decide on the state as it is now: it may have moved while the signature was checked.
    const now = Date.now();
    const job = this.life.jobs.get(jobId);
    if (!job) return;
    if (job.status === "completed" || job.status === "settling") {
      this.alreadyDone(ws, a, job);
      return;
    }
    if (!this.mayComplete(job, a)) {
      sendError(ws, "NOT_ASSIGNED", "this job is not assigned to this worker", job.id);
      return;
    }
    if (!check.ok) {
      this.invalidReceipt(ws, a, job, check.reason, now);
      return;
    }
    const outputHash = hashOutput(output);
    const reported = workerFailure(output);
    // An audit run's input error is its answer: the job it checks completed on the same payload,
    // and one engine must say the same thing about it on every worker.
    const failure = job.audit_of !== null && reported?.kind === "input" ? null : reported;
    const saveReceipt = () => this.life.jobs.saveReceipt({ ...signed.receipt, signature: signed.signature, job_id: job.id }, now);
    const after = this.life.transaction((): JobRow | undefined => {
      this.life.partials.delete(job.id);
      if (failure === null) {
        // A paid job's result waits for its settlement (unless it settled already, as Solana's
        // do at assignment); an unpaid one is released at once.
        const awaiting = job.payment_state === "verified" || job.payment_state === "settling" || job.payment_state === "unknown";
        const done = awaiting ? this.life.jobs.settling(job.id, output) : this.life.jobs.complete(job.id, output, now);
        if (!done) return undefined;
        if (job.payment_state === "verified") this.life.outbox.enqueue("settle", job.id, now);
        this.life.hooks.jobFinished(job, true, outputHash, now);
        saveReceipt();
        if (a.pubkey) this.life.workers.noteSuccess(a.pubkey);
        const after = this.life.jobs.get(job.id);
        if (after) this.life.hooks.jobMoved(after, now);
        return after;
      }
      if (a.pubkey) this.life.jobs.exclude(job.id, a.pubkey, `${failure.kind}_error`);
      const lastTry = job.attempts >= LIMITS.maxAttempts || job.expires_at <= now;
      if (failure.kind === "routing") {
        // Like a rejection: no fault, no attempt spent; this worker is just not one for the job.
        this.life.jobs.requeueRejected(job.id, now + LIMITS.queueDeadlineSeconds * 1000);
        return this.life.jobs.get(job.id);
      }
      if (failure.kind === "worker") {
        if (a.pubkey) this.life.workers.noteFailure(a.pubkey, now);
        this.life.hooks.jobFinished(job, false, outputHash, now);
        if (lastTry && this.life.jobs.failWithOutput(job.id, "worker_error", output, now)) saveReceipt();
        else this.life.jobs.requeue(job.id, "worker_error", now + LIMITS.queueDeadlineSeconds * 1000, failure.error);
        return this.life.jobs.get(job.id);
      }
      // An input error ends the job once confirmed: a second worker said the same, or no other
      // worker online could take it. The worker is not blamed either way.
      const confirmed =
        job.last_failure === "invalid_input" ||
        lastTry ||
        this.life.workers.candidates({
          jobId: job.id,
          route: job.route,
          private: job.privacy_class === "PRIVATE",
          userId: job.user_id,
          allowUnverified: true,
          now,
          busyToo: true,
          limit: 1,
        }).length === 0;
      if (confirmed && this.life.jobs.failWithOutput(job.id, "invalid_input", output, now)) saveReceipt();
      else this.life.jobs.requeue(job.id, "invalid_input", now + LIMITS.queueDeadlineSeconds * 1000, failure.error);
      return this.life.jobs.get(job.id);
    });
    send(ws, { type: "job_complete_ack", job_id: job.id, status: "accepted" });
    this.life.announce(after);
    if (after?.status === "pending") this.life.offerJobs([after.id], now);
    // Audit runs the completion started (a sampled job, a dispute's third run).
    this.life.flushOffers(now);
    this.life.fillWorkers([a.sid], now);
  }

  /** May this socket complete this job? The assigned socket, or the same key after a reconnect. */
  private mayComplete(job: JobRow, a: SocketAttachment): boolean {
    if (job.status === "assigned") return job.worker_socket === a.sid || job.worker_pubkey === a.pubkey;
    if (job.status === "pending") return job.worker_pubkey !== null && job.worker_pubkey === a.pubkey;
    return false;
  }

  private alreadyDone(ws: WebSocket, a: SocketAttachment, job: JobRow): void {
    const stored = this.life.jobs.receipt(job.id);
    if (stored && stored.provider_pubkey === a.pubkey) {
      send(ws, { type: "job_complete_ack", job_id: job.id, status: "already_completed" });
    } else {
      sendError(ws, "NOT_ASSIGNED", "this job was completed by another worker", job.id);
    }
  }

  private invalidReceipt(ws: WebSocket, a: SocketAttachment, job: JobRow, reason: string, now: number): void {
    sendError(ws, "INVALID_RECEIPT", `completion refused (${reason}); the job goes to another worker`, job.id);
    const after = this.life.transaction(() => {
      if (a.pubkey) {
        this.life.jobs.exclude(job.id, a.pubkey, "invalid_receipt");
        this.life.workers.noteFailure(a.pubkey, now);
      }
      return job.status === "assigned" ? this.life.requeueOrFail(job, "invalid_receipt", now) : undefined;
    });
    this.life.announce(after);
    if (after?.status === "pending") this.life.offerJobs([after.id], now);
  }

  reject(ws: WebSocket, a: SocketAttachment, msg: JobRejectMessage, now: number): void {
    const job = this.life.jobs.get(msg.job_id);
    if (job?.status !== "assigned" || job.worker_socket !== a.sid) {
      sendError(ws, "NOT_ASSIGNED", "reject for a job not assigned to this connection", msg.job_id);
      return;
    }
    const after = this.life.transaction(() => {
      if (a.pubkey) {
        this.life.jobs.exclude(job.id, a.pubkey, "rejected");
        this.life.workers.noteRejected(a.pubkey, now);
      }
      this.life.partials.delete(job.id);
      // A reject spends no attempt, but each is counted and the job's lifetime still bounds a
      // reject loop (every rejecting key is also excluded from the job).
      if (job.rejects + 1 >= LIMITS.maxRejectsPerJob)
        this.life.jobs.fail(job.id, "no_eligible_worker", now, "rejected by every worker offered");
      else this.life.jobs.requeueRejected(job.id, now + LIMITS.queueDeadlineSeconds * 1000);
      return this.life.jobs.get(job.id);
    });
    this.life.announce(after);
    if (after?.status === "pending") this.life.offerJobs([after.id], now);
  }
}
