import {
  type ErrorMessage,
  hashOutput,
  type JobCompleteMessage,
  type JobProgressMessage,
  type JobRejectMessage,
  LIMITS,
  PROVIDER_CAPABILITIES,
  parseWorkerMessage,
  type RegisterMessage,
  registerChallengeMessage,
  type TrustClaimMessage,
  verifyMessageAsync,
  verifyReceiptAsync,
  type WorkerMessage,
} from "../protocol/index.ts";
import type { TrustLayer } from "./chain/trust-layer.ts";
import { BENCH_MS, type Lifecycle } from "./lifecycle.ts";
import type { Listeners } from "./listeners.ts";
import { attachment, closeQuietly, type SocketAttachment, send, setAttachment } from "./sockets.ts";
import type { JobRow } from "./storage/job-store.ts";

export const HEARTBEAT_INTERVAL_MS = 10_000;

/** Close codes in the private range, so workers can tell why they were dropped. */
export const CLOSE = { authFailed: 4001, replaced: 4002, unverifiedRefused: 4003 } as const;

/** Handles frames from worker sockets. Never throws into `webSocketMessage`. */
export class WorkerSessions {
  private readonly life: Lifecycle;
  private readonly listeners: Listeners;
  private readonly chain: () => string;
  private readonly allowUnverified: () => boolean;
  private readonly trust: TrustLayer;

  constructor(life: Lifecycle, listeners: Listeners, chain: () => string, allowUnverified: () => boolean, trust: TrustLayer) {
    this.life = life;
    this.listeners = listeners;
    this.chain = chain;
    this.allowUnverified = allowUnverified;
    this.trust = trust;
  }

  /**
   * Handles one frame. Returns whether it may have moved a deadline or queued outbox work, so
   * the caller can skip rescheduling for the frequent frames that never do (tokens, heartbeats).
   */
  async onMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<boolean> {
    const a = attachment(ws);
    if (!a) {
      closeQuietly(ws, 1011, "unknown socket");
      return false;
    }
    const parsed = parseWorkerMessage(raw);
    if (!parsed.ok) {
      this.error(ws, parsed.code, parsed.message);
      return false;
    }
    const msg: WorkerMessage = parsed.value;
    if (msg.type === "register") {
      await this.register(ws, a, msg);
      return true;
    }
    if (a.pubkey === null) {
      this.error(ws, "NOT_REGISTERED", "send `register` (answering the challenge) before anything else");
      return false;
    }
    // Tokens can arrive hundreds of times a second: they prove liveness no better than the
    // heartbeat does, so only the other frames pay for a write to `last_seen`.
    if (msg.type === "job_progress") {
      this.progress(ws, a, msg);
      return false;
    }
    const now = Date.now();
    this.life.workers.touch(a.sid, now);
    switch (msg.type) {
      case "heartbeat":
        send(ws, { type: "heartbeat_ack", status: "ok" });
        return false;
      case "job_complete":
        await this.complete(ws, a, msg);
        return true;
      case "job_reject":
        this.reject(ws, a, msg, now);
        return true;
      case "trust_claim":
        this.trustClaim(ws, a, msg, now);
        return true;
    }
  }

  private error(ws: WebSocket, code: ErrorMessage["code"], message: string, jobId?: string): void {
    send(ws, jobId === undefined ? { type: "error", code, message } : { type: "error", code, message, job_id: jobId });
  }

  private async register(ws: WebSocket, prior: SocketAttachment, msg: RegisterMessage): Promise<void> {
    let verified = false;
    if (msg.signature !== undefined) {
      if (!(await verifyMessageAsync(registerChallengeMessage(prior.nonce), msg.signature, msg.provider_pubkey))) {
        this.error(ws, "AUTH_FAILED", "the signature does not answer this connection's challenge for that key");
        closeQuietly(ws, CLOSE.authFailed, "auth failed");
        return;
      }
      verified = true;
    } else if (!this.allowUnverified()) {
      this.error(ws, "UNVERIFIED_NOT_ALLOWED", "this coordinator requires a signed register: answer the challenge nonce");
      closeQuietly(ws, CLOSE.unverifiedRefused, "unverified workers not allowed");
      return;
    }
    // An ERC-8004 agent id is trusted only from a verified key whose agent publishes that key on-chain.
    let agentId: string | null = null;
    if (msg.agent_id !== undefined && verified) {
      const link = await this.trust.checkIdentity(msg.agent_id, msg.provider_pubkey);
      if (link === "not_linked") {
        this.error(
          ws,
          "AUTH_FAILED",
          `agent ${msg.agent_id} does not publish this key on-chain; link it with the worker's register-identity command`,
        );
        closeQuietly(ws, CLOSE.authFailed, "identity link refused");
        return;
      }
      if (link === "linked") agentId = msg.agent_id;
    }
    // Read again after the await: another frame on this socket may have registered meanwhile.
    const a = attachment(ws) ?? prior;
    const now = Date.now();
    if (a.pubkey !== null && a.pubkey !== msg.provider_pubkey) {
      this.error(ws, "PUBKEY_MISMATCH", "this socket is registered with another key; open a new connection");
      return;
    }
    const existing = this.life.workers.connectionByPubkey(msg.provider_pubkey);
    if (existing && existing.socket_id !== a.sid) {
      // An unproven claim to a key must not be able to knock its proven owner offline.
      if (existing.verified === 1 && !verified) {
        this.error(ws, "PUBKEY_MISMATCH", "that key is connected with a verified session; sign the challenge to replace it");
        closeQuietly(ws, CLOSE.authFailed, "key in use");
        return;
      }
      const old = this.life.socket(existing.socket_id);
      if (old) {
        this.error(old, "REPLACED", "this key registered again on a newer connection");
        closeQuietly(old, CLOSE.replaced, "replaced by a newer connection");
      }
      this.life.socketGone(existing.socket_id, now);
    }
    const allowed = PROVIDER_CAPABILITIES[msg.provider_type];
    const capabilities = [...new Set(msg.capabilities.filter((c) => allowed.includes(c)))];
    const slots = Math.min(msg.slots ?? 1, LIMITS.maxWorkerSlots);
    this.life.workers.removeConnection(a.sid);
    this.life.workers.register({
      socketId: a.sid,
      pubkey: msg.provider_pubkey,
      providerType: msg.provider_type,
      capabilities,
      verified,
      slots,
      agentId,
      now,
    });
    if (agentId) this.trust.onRegistered(msg.provider_pubkey, now);
    setAttachment(ws, { ...a, pubkey: msg.provider_pubkey, verified });
    send(ws, {
      type: "register_ack",
      status: "ok",
      worker_id: msg.provider_pubkey,
      verified,
      chain: this.chain(),
      privacy: verified ? ["PUBLIC", "PRIVATE"] : ["PUBLIC"],
      heartbeat_interval_ms: HEARTBEAT_INTERVAL_MS,
    });
    this.life.pump(now);
  }

  private progress(ws: WebSocket, a: SocketAttachment, msg: JobProgressMessage): void {
    const job = this.life.jobs.get(msg.job_id);
    if (job?.status !== "assigned" || job.worker_socket !== a.sid) {
      this.error(ws, "NOT_ASSIGNED", "progress for a job not assigned to this connection", msg.job_id);
      return;
    }
    this.listeners.emit({ type: "token", job_id: job.id, seq: msg.seq ?? 0, text: msg.text });
  }

  /** May this socket complete this job? The assigned socket, or the same key after a reconnect. */
  private mayComplete(job: JobRow, a: SocketAttachment): boolean {
    if (job.status === "assigned") return job.worker_socket === a.sid || job.worker_pubkey === a.pubkey;
    if (job.status === "pending") return job.worker_pubkey !== null && job.worker_pubkey === a.pubkey;
    return false;
  }

  private async complete(ws: WebSocket, a: SocketAttachment, msg: JobCompleteMessage): Promise<void> {
    if (!this.life.jobs.get(msg.job_id)) {
      this.error(ws, "UNKNOWN_JOB", "no such job on this chain", msg.job_id);
      return;
    }
    const check =
      msg.output_hash !== hashOutput(msg.output)
        ? ({ ok: false, reason: "output_hash_mismatch" } as const)
        : await verifyReceiptAsync({
            receipt: msg.receipt,
            signature: msg.receipt_signature,
            output: msg.output,
            jobId: msg.job_id,
            providerPubkey: a.pubkey ?? "",
          });
    // Decide on the state as it is now: it may have moved while the signature was checked.
    const now = Date.now();
    const job = this.life.jobs.get(msg.job_id);
    if (!job) return;
    if (job.status === "completed" || job.status === "settling") {
      const stored = this.life.jobs.receipt(job.id);
      if (stored && stored.provider_pubkey === a.pubkey) {
        send(ws, { type: "job_complete_ack", job_id: job.id, status: "already_completed" });
      } else {
        this.error(ws, "NOT_ASSIGNED", "this job was completed by another worker", job.id);
      }
      return;
    }
    if (!this.mayComplete(job, a)) {
      this.error(ws, "NOT_ASSIGNED", "this job is not assigned to this worker", job.id);
      return;
    }
    if (!check.ok) {
      this.invalidReceipt(ws, a, job, check.reason, now);
      return;
    }
    const failed = isWorkerFailure(msg.output);
    let after: JobRow | undefined;
    this.life.transaction(() => {
      // A paid job's result waits for its settlement; an unpaid one is released at once.
      const done = failed
        ? this.life.jobs.failWithOutput(job.id, msg.output, now)
        : job.payment_state === "verified"
          ? this.life.jobs.settling(job.id, msg.output)
          : this.life.jobs.complete(job.id, msg.output, now);
      if (!done) return;
      if (!failed && job.payment_state === "verified") this.life.outbox.enqueue("settle", job.id, now);
      this.life.hooks.jobFinished(job, !failed, msg.output_hash, now);
      this.life.jobs.saveReceipt({ ...msg.receipt, signature: msg.receipt_signature, job_id: job.id }, now);
      if (a.pubkey) this.life.workers.noteSuccess(a.pubkey);
      after = this.life.jobs.get(job.id);
    });
    send(ws, { type: "job_complete_ack", job_id: job.id, status: "accepted" });
    this.life.announce(after);
    this.life.pump(now);
  }

  private invalidReceipt(ws: WebSocket, a: SocketAttachment, job: JobRow, reason: string, now: number): void {
    this.error(ws, "INVALID_RECEIPT", `completion refused (${reason}); the job goes to another worker`, job.id);
    let after: JobRow | undefined;
    this.life.transaction(() => {
      if (a.pubkey) {
        this.life.jobs.exclude(job.id, a.pubkey, "invalid_receipt");
        this.life.workers.noteFailure(a.pubkey, now, BENCH_MS);
      }
      if (job.status === "assigned") after = this.life.requeueOrFail(job, "invalid_receipt", now);
    });
    this.life.announce(after);
    this.life.pump(now);
  }

  private reject(ws: WebSocket, a: SocketAttachment, msg: JobRejectMessage, now: number): void {
    const job = this.life.jobs.get(msg.job_id);
    if (job?.status !== "assigned" || job.worker_socket !== a.sid) {
      this.error(ws, "NOT_ASSIGNED", "reject for a job not assigned to this connection", msg.job_id);
      return;
    }
    let after: JobRow | undefined;
    this.life.transaction(() => {
      if (a.pubkey) this.life.jobs.exclude(job.id, a.pubkey, "rejected");
      // A reject is not a failed attempt; the exclusion alone keeps it from looping.
      this.life.jobs.requeue(job.id, "worker_error", now + LIMITS.queueDeadlineSeconds * 1000);
      this.life.jobs.refundAttempt(job.id);
      after = this.life.jobs.get(job.id);
    });
    this.life.announce(after);
    this.life.pump(now);
  }

  private trustClaim(ws: WebSocket, a: SocketAttachment, msg: TrustClaimMessage, now: number): void {
    if (!a.verified || a.pubkey === null) {
      this.error(ws, "AUTH_FAILED", "claim pairings over a verified session (sign the register challenge)");
      return;
    }
    const result = this.life.trust.claim(msg.pairing_code, a.pubkey, now);
    if (!result.ok) {
      const code = result.code === "invalid_code" ? "INVALID_CODE" : result.code === "expired" ? "EXPIRED" : "ALREADY_CLAIMED";
      this.error(ws, code, `pairing code refused: ${result.code}`);
      return;
    }
    send(ws, { type: "trust_claim_ack", user_id: result.userId, paired_at: new Date(result.pairedAt).toISOString() });
    this.life.pump(now);
  }
}

/** The reference convention: a worker-side failure is `output: {error: "..."}`. */
function isWorkerFailure(output: unknown): boolean {
  return typeof output === "object" && output !== null && !Array.isArray(output) && (output as { error?: unknown }).error !== undefined;
}
