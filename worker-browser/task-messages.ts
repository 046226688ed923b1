import type { TaskFailure, TaskOutput } from "../protocol/index.ts";

/** Page -> task Web Worker. */
export type TaskWorkerRequest = { type: "init"; vectors: ArrayBuffer } | { type: "run"; id: number; payload: unknown };

/** Task Web Worker -> page. */
export type TaskWorkerReply =
  | { type: "ready" }
  | { type: "init_failed"; message: string }
  | { type: "output"; id: number; output: TaskOutput | TaskFailure };
