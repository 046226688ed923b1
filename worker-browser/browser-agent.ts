import type {
  CoordinatorMessage,
  JobAssignMessage,
  JobCompleteMessage,
  PaymentPostedMessage,
  TaskFailure,
  TaskOutput,
} from "../protocol/index.ts";
import { canonicalReceipt, completionFor, TASK_ENGINE_VERSION, TrustClaimMessage } from "../protocol/index.ts";
import { FINAL_COMPLETION_ERRORS, TRUST_ERRORS } from "../worker-node/coordinator-messages.ts";
import { jobBudgetMs, TASK_CPU_BUDGET_MS } from "../worker-node/job-executor.ts";
import { CoordinatorSocket, type Registration, type SocketState } from "./coordinator-socket.ts";
import type { DeviceKey } from "./device-key.ts";
import type { TaskRunner } from "./task-runner.ts";

export interface BrowserAgentOptions {
  /** ws(s)://host/{chain}/v1/workers/ws */
  url: string;
  chain: string;
  key: DeviceKey;
  /** Where this chain pays our earnings; covered by the register signature. Absent: earnings wait. */
  payoutAddress?: string;
  slots: number;
  runner: TaskRunner;
  /** Free-form description for the coordinator's logs. */
  agent: string;
  events: AgentEvents;
}

/** What the page shows. */
export interface AgentEvents {
  state(state: SocketState): void;
  jobStarted(jobId: string, taskType: string): void;
  /** The coordinator stored our completion (`failed`: the output was an `{error}`). */
  jobAccepted(jobId: string, failed: boolean): void;
  jobDropped(jobId: string, reason: string): void;
  paired(userId: string): void;
  pairingRefused(code: string, message: string): void;
  paid(msg: PaymentPostedMessage): void;
  note(text: string): void;
}

/**
 * The browser worker: a SEEKER (TASK only) that takes assignments, runs them in its Web Workers
 * under the Node worker's CPU budget, signs receipts with the device key, and keeps every
 * completion until the coordinator acknowledges it, re-sending after reconnects.
 */
export class BrowserAgent {
  readonly #opts: BrowserAgentOptions;
  readonly #socket: CoordinatorSocket;
  readonly #active = new Map<string, AbortController>();
  readonly #outbox = new Map<string, { msg: JobCompleteMessage; failed: boolean }>();
  #trustPending: string | undefined;
  #draining = false;

  constructor(opts: BrowserAgentOptions) {
    this.#opts = opts;
    this.#socket = new CoordinatorSocket({
      url: opts.url,
      chain: opts.chain,
      key: opts.key,
      registration: () => this.#registration(),
      handlers: {
        state: (state) => this.#onState(state),
        message: (msg) => this.#onMessage(msg),
      },
    });
  }

  start(): void {
    this.#draining = false;
    this.#socket.start();
  }

  get running(): number {
    return this.#active.size;
  }

  /** Claims a trust pairing code over the verified socket (now, or as soon as it is registered). */
  claim(code: string): void {
    // A code from a link is anyone's text: one the coordinator would refuse as malformed (not as
    // a pairing) would otherwise be re-sent on every reconnect.
    if (!TrustClaimMessage.shape.pairing_code.safeParse(code).success) {
      this.#opts.events.pairingRefused("INVALID_CODE", "this is not a pairing code");
      return;
    }
    this.#trustPending = code;
    if (this.#socket.registered) this.#socket.send({ type: "trust_claim", pairing_code: code });
  }

  /**
   * Stops cleanly, as the Node worker does: refuses new jobs, lets running ones finish (each ends
   * within its CPU budget), waits at most `graceMs` for the coordinator to acknowledge their
   * completions, then closes the socket. Whatever is still unacknowledged is re-queued by the
   * coordinator when the socket closes.
   */
  async stop(graceMs = 5_000): Promise<void> {
    this.#draining = true;
    const pause = () => new Promise((r) => setTimeout(r, 100));
    const hardStop = Date.now() + TASK_CPU_BUDGET_MS + graceMs;
    while (this.#active.size > 0 && Date.now() < hardStop) await pause();
    const ackBy = Math.min(hardStop, Date.now() + graceMs);
    while (this.#outbox.size > 0 && this.#socket.registered && Date.now() < ackBy) await pause();
    for (const job of this.#active.values()) job.abort();
    this.#socket.stop("stopped");
  }

  /** Closes at once (page going away): the coordinator re-queues whatever we held. */
  abandon(): void {
    for (const job of this.#active.values()) job.abort();
    this.#socket.stop("page closed");
  }

  #registration(): Registration {
    return {
      provider_type: "SEEKER",
      capabilities: ["TASK"],
      slots: this.#opts.slots,
      agent: this.#opts.agent.slice(0, 200),
      // Tells the coordinator this page's TASK outputs are byte-identical to the Node worker's.
      task_engine: TASK_ENGINE_VERSION,
      ...(this.#opts.payoutAddress !== undefined && { payout_address: this.#opts.payoutAddress }),
    };
  }

  #onState(state: SocketState): void {
    this.#opts.events.state(state);
    if (state.kind !== "registered") return;
    for (const { msg } of this.#outbox.values()) this.#socket.send(msg);
    if (this.#trustPending !== undefined) this.#socket.send({ type: "trust_claim", pairing_code: this.#trustPending });
  }

  #onMessage(msg: CoordinatorMessage): void {
    const events = this.#opts.events;
    switch (msg.type) {
      case "job_assign":
        this.#onAssign(msg);
        return;
      case "job_cancel":
        this.#active.get(msg.job_id)?.abort();
        this.#active.delete(msg.job_id);
        this.#outbox.delete(msg.job_id);
        events.jobDropped(msg.job_id, `cancelled by the coordinator: ${msg.reason}`);
        return;
      case "job_complete_ack": {
        const held = this.#outbox.get(msg.job_id);
        this.#outbox.delete(msg.job_id);
        if (held !== undefined && msg.status === "accepted") events.jobAccepted(msg.job_id, held.failed);
        return;
      }
      case "trust_claim_ack":
        this.#trustPending = undefined;
        events.paired(msg.user_id);
        return;
      case "payment_posted":
        events.paid(msg);
        return;
      case "error":
        if (msg.job_id !== undefined && FINAL_COMPLETION_ERRORS.has(msg.code) && this.#outbox.delete(msg.job_id)) {
          events.jobDropped(msg.job_id, `refused by the coordinator: ${msg.message}`);
          return;
        }
        if (TRUST_ERRORS.has(msg.code)) {
          this.#trustPending = undefined;
          events.pairingRefused(msg.code, msg.message);
          return;
        }
        events.note(`coordinator: ${msg.code} ${msg.message}`);
        return;
      default:
        return;
    }
  }

  #onAssign(assign: JobAssignMessage): void {
    const held = this.#outbox.get(assign.job_id);
    if (held !== undefined) {
      // Re-assigned after a reconnect, but already done: the signed completion still holds.
      this.#socket.send(held.msg);
      return;
    }
    if (this.#active.has(assign.job_id)) return;
    const refusal = this.#draining
      ? "worker_shutting_down"
      : assign.job_type !== "TASK"
        ? `unsupported_job_type: ${assign.job_type}`
        : this.#active.size >= this.#opts.slots
          ? "no_free_slot"
          : undefined;
    if (refusal !== undefined) {
      this.#socket.send({ type: "job_reject", job_id: assign.job_id, reason: refusal });
      return;
    }
    const controller = new AbortController();
    this.#active.set(assign.job_id, controller);
    void this.#run(assign, controller).finally(() => {
      if (this.#active.get(assign.job_id) === controller) this.#active.delete(assign.job_id);
    });
  }

  async #run(assign: JobAssignMessage, controller: AbortController): Promise<void> {
    const taskType = typeof assign.payload.task_type === "string" ? assign.payload.task_type : "?";
    this.#opts.events.jobStarted(assign.job_id, taskType);
    // The Node worker's rule (worker-node/job-executor.ts): until the deadline less a margin, and
    // never past the TASK CPU budget, after which the Web Worker is killed.
    const budget = jobBudgetMs(assign);
    const output: TaskOutput | TaskFailure =
      budget <= 0
        ? { error: "deadline_exceeded: the job arrived after its deadline", error_kind: "worker" }
        : await this.#opts.runner.run(assign.payload, { timeoutMs: Math.min(budget, TASK_CPU_BUDGET_MS), signal: controller.signal });
    if (controller.signal.aborted) return;
    const completion = completionFor(assign, this.#opts.key.publicKey, output);
    const msg: JobCompleteMessage = { ...completion, receipt_signature: await this.#opts.key.sign(canonicalReceipt(completion.receipt)) };
    if (controller.signal.aborted) return;
    this.#outbox.set(assign.job_id, { msg, failed: "error" in completion.output });
    this.#socket.send(msg);
  }
}
