import type { TaskFailure, TaskOutput } from "../protocol/index.ts";
import type { TaskWorkerReply, TaskWorkerRequest } from "./task-messages.ts";

type Output = TaskOutput | TaskFailure;

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  busy: boolean;
}

export interface TaskRunnerOptions {
  /** Web Workers, i.e. TASKs run at once (one or two on a phone). */
  slots: number;
  /** Starts one task Web Worker (the bundled task-worker script). */
  spawn: () => Worker;
  /** The compact word vectors, already checked against the engine version; each Web Worker gets a copy. */
  vectors: ArrayBuffer;
}

/**
 * The browser's counterpart of worker-node's TaskPool: a fixed set of Web Workers, each holding
 * the TASK engine. Synchronous NLP code cannot be interrupted, so a task past its budget (or
 * cancelled) has its Web Worker terminated and replaced, exactly as the Node worker does with
 * its threads.
 */
export class TaskRunner {
  readonly #opts: TaskRunnerOptions;
  readonly #slots: Slot[] = [];
  readonly #waiters: ((slot: Slot) => void)[] = [];
  #nextId = 1;
  #closed = false;

  constructor(opts: TaskRunnerOptions) {
    this.#opts = opts;
    for (let i = 0; i < opts.slots; i++) this.#slots.push(this.#spawn());
  }

  /** Resolves once every Web Worker has loaded its language model and vectors; rejects if one cannot. */
  async ready(): Promise<void> {
    await Promise.all(this.#slots.map((s) => s.ready));
  }

  /** Runs one task; resolves `{error}` on deadline or abort, never rejects. */
  async run(payload: unknown, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<Output> {
    if (this.#closed) return { error: "worker is shutting down", error_kind: "worker" };
    const slot = await this.#acquire();
    const id = this.#nextId++;
    const started = Date.now();
    try {
      try {
        await slot.ready;
      } catch (err) {
        this.#replace(slot);
        return { error: `task worker failed to start: ${err instanceof Error ? err.message : String(err)}`, error_kind: "worker" };
      }
      if (opts.signal?.aborted) return { error: "task cancelled", error_kind: "worker" };
      const remaining = opts.timeoutMs - (Date.now() - started);
      return await new Promise<Output>((resolve) => {
        const worker = slot.worker;
        const finish = (out: Output, kill: boolean): void => {
          clearTimeout(timer);
          worker.removeEventListener("message", onMessage);
          worker.removeEventListener("error", onError);
          opts.signal?.removeEventListener("abort", onAbort);
          if (kill) this.#replace(slot);
          resolve(out);
        };
        const onMessage = (event: MessageEvent<TaskWorkerReply>): void => {
          const msg = event.data;
          if (msg.type === "output" && msg.id === id) finish(msg.output, false);
        };
        const onError = (event: ErrorEvent): void => {
          event.preventDefault();
          finish({ error: `task worker crashed: ${event.message}`, error_kind: "worker" }, true);
        };
        const onAbort = (): void => finish({ error: "task cancelled", error_kind: "worker" }, true);
        // The same words and kind as the Node worker: past its CPU budget a task is almost always
        // pathological input, which ends once a second worker agrees, blaming no worker.
        const timer = setTimeout(
          () => finish({ error: `task exceeded its ${opts.timeoutMs} ms time limit`, error_kind: "input" }, true),
          Math.max(0, remaining),
        );
        worker.addEventListener("message", onMessage);
        worker.addEventListener("error", onError);
        opts.signal?.addEventListener("abort", onAbort, { once: true });
        post(worker, { type: "run", id, payload });
      });
    } finally {
      this.#release(slot);
    }
  }

  close(): void {
    this.#closed = true;
    for (const s of this.#slots) s.worker.terminate();
  }

  #acquire(): Promise<Slot> {
    const free = this.#slots.find((s) => !s.busy);
    if (free !== undefined) {
      free.busy = true;
      return Promise.resolve(free);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #release(slot: Slot): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter(slot);
    else slot.busy = false;
  }

  #replace(slot: Slot): void {
    slot.worker.terminate();
    if (this.#closed) return;
    const fresh = this.#spawn();
    slot.worker = fresh.worker;
    slot.ready = fresh.ready;
  }

  #spawn(): Slot {
    const worker = this.#opts.spawn();
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (event: MessageEvent<TaskWorkerReply>): void => {
        const msg = event.data;
        if (msg.type === "ready") resolve();
        else if (msg.type === "init_failed") reject(new Error(msg.message));
        else return;
        worker.removeEventListener("message", onMessage);
      };
      worker.addEventListener("message", onMessage);
      worker.addEventListener("error", (event) => reject(new Error(event.message || "task worker failed to load")), { once: true });
    });
    // A Web Worker that fails to start is reported by the job that waits on it.
    ready.catch(() => undefined);
    // A copy, not a transfer: the next Web Worker (after a kill) needs the vectors too.
    post(worker, { type: "init", vectors: this.#opts.vectors });
    return { worker, ready, busy: false };
  }
}

function post(worker: Worker, msg: TaskWorkerRequest): void {
  worker.postMessage(msg);
}
