import type {
  CoordinatorMessage,
  Ed25519KeyPair,
  JobAssignMessage,
  JobCompleteMessage,
  JobType,
  ModelsUpdateMessage,
  ProviderType,
  RegisterAckMessage,
} from "../protocol/index.ts";
import { completionFor, signReceipt, TASK_ENGINE_VERSION } from "../protocol/index.ts";
import { FINAL_COMPLETION_ERRORS, TRUST_ERRORS } from "./coordinator-messages.ts";
import type { ExecutorDeps, JobOutput } from "./job-executor.ts";
import { executeJob, jobBudgetMs } from "./job-executor.ts";
import type { ModelLists } from "./llm/model-inventory.ts";
import type { Logger } from "./logger.ts";
import { ProgressStream } from "./progress-stream.ts";
import { type Registration, WorkerSession } from "./session.ts";
import { SlotBudget } from "./slot-budget.ts";

export interface AgentOptions {
  url: string;
  /** The chain whose coordinator `url` is: named in the register signature. */
  chain: string;
  /** Where this chain's coordinator pays our earnings; covered by the register signature. */
  payoutAddress?: string;
  keys: Ed25519KeyPair;
  providerType: ProviderType;
  capabilities: JobType[];
  slots: number;
  /** The machine's slots when several agents (one per chain) share them; a budget of `slots` of its own otherwise. */
  slotBudget?: SlotBudget;
  /** Free-form description sent at register (version, backend, model). */
  agent: string;
  agentId?: string;
  trustCode?: string;
  deps: ExecutorDeps;
  log: Logger;
  /** How long shutdown waits for the coordinator to acknowledge the last completions. */
  ackGraceMs?: number;
  backoff?: { baseMs: number; capMs: number };
  registerTimeoutMs?: number;
}

interface ActiveJob {
  controller: AbortController;
  cancelled: boolean;
  /** Waiting for a slot another chain's session holds. */
  waiting: boolean;
  done: Promise<void>;
}

/**
 * The worker: takes assignments from the session, runs them within their slots, and keeps
 * every signed completion until the coordinator acknowledges it, re-sending it after reconnects.
 */
export class WorkerAgent {
  readonly #opts: AgentOptions;
  readonly #session: WorkerSession;
  readonly #active = new Map<string, ActiveJob>();
  readonly #outbox = new Map<string, JobCompleteMessage>();
  readonly #outboxWaiters = new Set<() => void>();
  readonly #budget: SlotBudget;
  readonly #stopWatchingModels: () => void;
  /** Does the coordinator on the current connection understand `models_update`? */
  #modelsUpdates = false;
  /** The model lists the last `register` carried, to catch a change that raced its ack. */
  #registeredModels: ModelLists | undefined;
  #trustPending: string | undefined;
  /** USDC paid to us this run (micro-USD), from `payment_posted`. */
  #paidMicro = 0;
  #draining = false;
  #stopping: Promise<void> | undefined;
  #resolveStopped!: (code: number) => void;
  /** Resolves with the process exit code once the agent has stopped for good. */
  readonly stopped: Promise<number>;

  constructor(opts: AgentOptions) {
    this.#opts = opts;
    this.#budget = opts.slotBudget ?? new SlotBudget(opts.slots);
    this.#trustPending = opts.trustCode;
    this.stopped = new Promise((resolve) => {
      this.#resolveStopped = resolve;
    });
    this.#session = new WorkerSession({
      url: opts.url,
      chain: opts.chain,
      keys: opts.keys,
      log: opts.log,
      ...(opts.backoff && { backoff: opts.backoff }),
      ...(opts.registerTimeoutMs !== undefined && { registerTimeoutMs: opts.registerTimeoutMs }),
      registration: () => this.#registration(),
      handlers: {
        registered: (ack) => this.#onRegistered(ack),
        message: (msg) => this.#onMessage(msg),
        fatal: (reason) => {
          opts.log.error("stopping", { reason });
          void this.shutdown(reason, 1);
        },
      },
    });
    this.#stopWatchingModels = opts.deps.llm?.onModelsChange((lists) => this.#onModelsChange(lists)) ?? (() => {});
  }

  start(): void {
    this.#session.start();
  }

  /** Completions signed but not yet acknowledged (for tests and the heartbeat). */
  get pendingCompletions(): number {
    return this.#outbox.size;
  }

  /**
   * Graceful stop: refuse new jobs, finish the running ones, deliver their completions (waiting
   * up to `ackGraceMs` for acknowledgements, across reconnects), then close.
   */
  shutdown(reason: string, exitCode = 0): Promise<void> {
    this.#stopping ??= (async () => {
      const log = this.#opts.log;
      this.#draining = true;
      log.info("draining", { reason, running: this.#active.size, pending_completions: this.#outbox.size });
      // A job still waiting for a slot is handed back rather than started.
      for (const job of this.#active.values()) if (job.waiting) job.controller.abort();
      await Promise.all([...this.#active.values()].map((j) => j.done));
      if (exitCode === 0 && this.#outbox.size > 0) await this.#waitForOutbox(this.#opts.ackGraceMs ?? 15_000);
      if (this.#outbox.size > 0) log.warn("stopping with unacknowledged completions", { jobs: [...this.#outbox.keys()] });
      this.#stopWatchingModels();
      await this.#session.close();
      // The task pool and the LLM may serve other chains' agents: their owner closes them.
      log.info("stopped");
      this.#resolveStopped(exitCode);
    })();
    return this.#stopping;
  }

  /** What `register` says, read anew at every (re)connection so the model lists are current. */
  #registration(): Registration {
    const opts = this.#opts;
    const llm = opts.capabilities.includes("LLM_INFER") ? opts.deps.llm : undefined;
    const lists = llm?.models();
    this.#registeredModels = lists;
    return {
      provider_type: opts.providerType,
      capabilities: opts.capabilities,
      slots: opts.slots,
      agent: opts.agent.slice(0, 200),
      ...(opts.payoutAddress !== undefined && { payout_address: opts.payoutAddress }),
      // Lets the coordinator tell which workers must agree byte for byte on a TASK's output.
      ...(opts.capabilities.includes("TASK") && { task_engine: TASK_ENGINE_VERSION }),
      ...(opts.agentId !== undefined && { agent_id: opts.agentId }),
      ...(lists !== undefined && { models: lists.models, loaded_models: lists.loaded }),
    };
  }

  #onModelsChange(lists: ModelLists): void {
    if (!this.#opts.capabilities.includes("LLM_INFER")) return;
    const log = this.#opts.log;
    log.info("models changed", { models: lists.models.join(","), loaded_models: lists.loaded.join(",") });
    // A coordinator that does not know the message would only answer UNKNOWN_MSG; it hears
    // the new lists at the next register instead.
    if (!this.#modelsUpdates) return;
    this.#sendModels(lists);
  }

  #sendModels(lists: ModelLists): void {
    const msg: ModelsUpdateMessage = { type: "models_update", models: lists.models, loaded_models: lists.loaded };
    if (this.#session.send(msg)) this.#registeredModels = lists;
  }

  #onRegistered(ack: RegisterAckMessage): void {
    const log = this.#opts.log;
    this.#modelsUpdates = ack.accepts?.includes("models_update") ?? false;
    const now = this.#opts.capabilities.includes("LLM_INFER") ? this.#opts.deps.llm?.models() : undefined;
    if (this.#modelsUpdates && now !== undefined && !sameLists(now, this.#registeredModels)) this.#sendModels(now);
    log.info("registered", {
      worker_id: ack.worker_id,
      verified: ack.verified,
      privacy: ack.privacy.join(","),
      resending: this.#outbox.size,
    });
    if (!ack.verified) log.warn("coordinator did not verify our key: PUBLIC jobs only");
    for (const msg of this.#outbox.values()) this.#session.send(msg);
    if (this.#trustPending !== undefined) this.#session.send({ type: "trust_claim", pairing_code: this.#trustPending });
  }

  #onMessage(msg: CoordinatorMessage): void {
    const log = this.#opts.log;
    switch (msg.type) {
      case "job_assign":
        this.#onAssign(msg);
        return;
      case "job_cancel": {
        const job = this.#active.get(msg.job_id);
        log.warn("job cancelled by coordinator", { job_id: msg.job_id, reason: msg.reason, running: job !== undefined });
        if (job !== undefined) {
          job.cancelled = true;
          job.controller.abort();
        }
        this.#forget(msg.job_id);
        return;
      }
      case "job_complete_ack":
        log.debug("completion acknowledged", { job_id: msg.job_id, status: msg.status });
        this.#forget(msg.job_id);
        return;
      case "trust_claim_ack":
        this.#trustPending = undefined;
        log.info("trust pairing claimed", { user_id: msg.user_id, paired_at: msg.paired_at });
        return;
      case "payment_posted":
        this.#paidMicro += msg.amount_micro;
        log.info("earnings paid", {
          amount_usdc: msg.amount,
          jobs: msg.job_ids.length,
          tx: msg.tx_hash,
          explorer: msg.explorer_url ?? undefined,
          total_paid_usdc: (this.#paidMicro / 1_000_000).toFixed(6),
        });
        return;
      case "feedback_posted":
        log.debug("on-chain feedback posted", { job_id: msg.job_id, tx: msg.tx_hash, explorer: msg.explorer_url ?? undefined });
        return;
      case "error":
        if (msg.job_id !== undefined && FINAL_COMPLETION_ERRORS.has(msg.code) && this.#outbox.has(msg.job_id)) {
          log.warn("coordinator refused our completion; dropping it", { job_id: msg.job_id, code: msg.code, message: msg.message });
          this.#forget(msg.job_id);
          return;
        }
        if (TRUST_ERRORS.has(msg.code)) {
          this.#trustPending = undefined;
          log.error("trust pairing code refused", { code: msg.code, message: msg.message });
          return;
        }
        log.warn("coordinator error", { code: msg.code, message: msg.message, job_id: msg.job_id });
        return;
      default:
        return;
    }
  }

  #onAssign(assign: JobAssignMessage): void {
    const log = this.#opts.log.child({ job_id: assign.job_id });
    const held = this.#outbox.get(assign.job_id);
    if (held !== undefined) {
      // Re-assigned after a reconnect, but already done: the receipt is still valid.
      log.info("job already completed; re-sending completion");
      this.#session.send(held);
      return;
    }
    if (this.#active.has(assign.job_id)) {
      log.debug("job already running");
      return;
    }
    // More jobs than the slots we declared is the coordinator's mistake: hand the extra one back.
    const refusal = this.#draining
      ? "worker_shutting_down"
      : !this.#opts.capabilities.includes(assign.job_type)
        ? `unsupported_job_type: ${assign.job_type}`
        : this.#active.size >= this.#opts.slots
          ? "no_free_slot"
          : undefined;
    if (refusal !== undefined) {
      log.info("rejecting job", { reason: refusal });
      this.#session.send({ type: "job_reject", job_id: assign.job_id, reason: refusal });
      return;
    }

    const controller = new AbortController();
    const job: ActiveJob = { controller, cancelled: false, waiting: false, done: Promise.resolve() };
    this.#active.set(assign.job_id, job);
    job.done = this.#runInSlot(assign, job, log).finally(() => this.#active.delete(assign.job_id));
  }

  /**
   * Runs the job in one of the machine's slots. When other chains' sessions hold them all, the
   * job waits for one while it still has half its time; after that it is handed back so the
   * coordinator can give it to another worker.
   */
  async #runInSlot(assign: JobAssignMessage, job: ActiveJob, log: Logger): Promise<void> {
    if (!this.#budget.take()) {
      log.info("waiting for a slot held by another chain's job");
      job.waiting = true;
      const granted = await this.#budget.acquire(Date.now() + jobBudgetMs(assign) / 2, job.controller.signal);
      job.waiting = false;
      if (!granted) {
        if (job.cancelled) return;
        const reason = this.#draining ? "worker_shutting_down" : "no_free_slot";
        log.info("rejecting job", { reason });
        this.#session.send({ type: "job_reject", job_id: assign.job_id, reason });
        return;
      }
    }
    try {
      await this.#run(assign, job, log);
    } finally {
      this.#budget.release();
    }
  }

  async #run(assign: JobAssignMessage, job: ActiveJob, log: Logger): Promise<void> {
    const started = performance.now();
    const taskType = typeof assign.payload.task_type === "string" ? assign.payload.task_type : undefined;
    log.info("job started", { job_type: assign.job_type, task_type: taskType, attempt: assign.attempt, deadline_at: assign.deadline_at });
    const progress = new ProgressStream(assign.job_id, (msg) => this.#session.send(msg));
    let output: JobOutput;
    try {
      output = await executeJob(assign, this.#opts.deps, { signal: job.controller.signal, onToken: (t) => progress.push(t) });
    } catch (err) {
      // executeJob never throws by contract; this guards the contract, it does not replace it.
      output = { error: `internal worker error: ${err instanceof Error ? err.message : String(err)}`, error_kind: "worker" };
    }
    progress.flush();
    const durationMs = Math.round(performance.now() - started);
    if (job.cancelled) {
      log.info("job dropped after cancel", { duration_ms: durationMs });
      return;
    }
    const completion = this.#complete(assign, output);
    const failed = "error" in completion.output_obj;
    (failed ? log.warn : log.info)("job finished", {
      outcome: failed ? "error" : "ok",
      ...(failed && { error: (completion.output_obj as { error: string }).error }),
      duration_ms: durationMs,
      delivered: completion.sent,
    });
  }

  #complete(assign: JobAssignMessage, candidate: JobOutput): { output_obj: object; sent: boolean } {
    const completion = completionFor(assign, this.#opts.keys.publicKey, candidate);
    const msg: JobCompleteMessage = { ...completion, receipt_signature: signReceipt(completion.receipt, this.#opts.keys.secretKey) };
    this.#outbox.set(assign.job_id, msg);
    return { output_obj: completion.output, sent: this.#session.send(msg) };
  }

  #forget(jobId: string): void {
    if (!this.#outbox.delete(jobId)) return;
    if (this.#outbox.size === 0) for (const wake of this.#outboxWaiters) wake();
  }

  #waitForOutbox(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#outboxWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#outboxWaiters.add(done);
    });
  }
}

function sameLists(a: ModelLists, b: ModelLists | undefined): boolean {
  const same = (x: string[], y: string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return b !== undefined && same(a.models, b.models) && same(a.loaded, b.loaded);
}
