import { Worker } from "node:worker_threads";
import type { TaskFailure, TaskOutput } from "../../protocol/index.ts";

type Output = TaskOutput | TaskFailure;

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  busy: boolean;
}

interface Waiter {
  resolve: (slot: Slot) => void;
}

const THREAD_URL = new URL("./task-thread.ts", import.meta.url);

/**
 * A fixed set of worker threads running TASKs. A task that overruns its deadline or is
 * cancelled has its thread terminated and replaced: synchronous NLP code cannot be interrupted
 * any other way.
 */
export class TaskPool {
  readonly #slots: Slot[] = [];
  readonly #waiters: Waiter[] = [];
  #nextId = 1;
  #closed = false;

  constructor(size: number) {
    for (let i = 0; i < size; i++) this.#slots.push(spawn());
  }

  /** Resolves when every thread has loaded its language model and word vectors. */
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
        // A job cancelled while its thread is still loading its models stops at once.
        if ((await untilReadyOrAborted(slot.ready, opts.signal)) === "aborted") return { error: "task cancelled", error_kind: "worker" };
      } catch (err) {
        this.#replace(slot);
        return { error: `task thread failed to start: ${err instanceof Error ? err.message : String(err)}`, error_kind: "worker" };
      }
      const remaining = opts.timeoutMs - (Date.now() - started);
      return await new Promise<Output>((resolve) => {
        const finish = (out: Output, kill: boolean): void => {
          clearTimeout(timer);
          slot.worker.off("message", onMessage);
          slot.worker.off("error", onError);
          opts.signal?.removeEventListener("abort", onAbort);
          if (kill) this.#replace(slot);
          resolve(out);
        };
        const onMessage = (msg: { id?: number; output?: Output }): void => {
          if (msg.id === id && msg.output !== undefined) finish(msg.output, false);
        };
        const onError = (err: Error): void => finish({ error: `task thread crashed: ${err.message}`, error_kind: "worker" }, true);
        const onAbort = (): void => finish({ error: "task cancelled", error_kind: "worker" }, true);
        // Past its CPU budget a task is almost always pathological input (a backtracking schema
        // pattern, say): called an input error, it ends once a second worker agrees, and no
        // worker is blamed for it.
        const timer = setTimeout(
          () => finish({ error: `task exceeded its ${opts.timeoutMs} ms time limit`, error_kind: "input" }, true),
          Math.max(0, remaining),
        );
        slot.worker.on("message", onMessage);
        slot.worker.on("error", onError);
        if (opts.signal?.aborted) return onAbort();
        opts.signal?.addEventListener("abort", onAbort, { once: true });
        slot.worker.postMessage({ id, payload });
      });
    } finally {
      this.#release(slot);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  #acquire(): Promise<Slot> {
    const free = this.#slots.find((s) => !s.busy);
    if (free !== undefined) {
      free.busy = true;
      return Promise.resolve(free);
    }
    return new Promise((resolve) => this.#waiters.push({ resolve }));
  }

  #release(slot: Slot): void {
    // #replace swaps the thread inside the slot object, so the slot itself stays valid.
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve(slot);
    else slot.busy = false;
  }

  #replace(slot: Slot): void {
    void slot.worker.terminate();
    if (this.#closed) return;
    const fresh = spawn();
    slot.worker = fresh.worker;
    slot.ready = fresh.ready;
  }
}

function untilReadyOrAborted(ready: Promise<void>, signal: AbortSignal | undefined): Promise<"ready" | "aborted"> {
  if (signal === undefined) return ready.then(() => "ready");
  if (signal.aborted) return Promise.resolve("aborted");
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve("aborted");
    signal.addEventListener("abort", onAbort, { once: true });
    ready.then(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve("ready");
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

function spawn(): Slot {
  const worker = new Worker(THREAD_URL);
  // Threads must not keep a shutting-down process alive.
  worker.unref();
  const ready = new Promise<void>((resolve, reject) => {
    const onMessage = (msg: { ready?: boolean }): void => {
      if (msg.ready === true) {
        worker.off("message", onMessage);
        worker.off("error", reject);
        resolve();
      }
    };
    worker.on("message", onMessage);
    worker.once("error", reject);
  });
  // A thread that fails to start is reported by the job that waits on it, not as an unhandled rejection.
  ready.catch(() => undefined);
  return { worker, ready, busy: false };
}
