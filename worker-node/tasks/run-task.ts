import type { TaskFailure, TaskOutput } from "../../protocol/index.ts";
import { createTaskEngine, type TaskEngine } from "./task-engine.ts";
import { loadWordVectors } from "./word-vectors-node.ts";

let engine: TaskEngine | undefined;

/** This thread's engine, with the word vectors read from disk on first use. */
export function taskEngine(): TaskEngine {
  engine ??= createTaskEngine(loadWordVectors());
  return engine;
}

/** Runs one TASK synchronously in this thread (see TaskEngine.run). */
export function runTask(rawPayload: unknown): TaskOutput | TaskFailure {
  return taskEngine().run(rawPayload);
}
