// The Web Worker that runs TASKs: the same engine as the Node worker's task threads
// (worker-node/tasks/task-engine.ts, wink-nlp, the compact word vectors), so a job gives the same
// bytes here as on any other worker. It runs off the page's thread so the socket keeps its
// heartbeats, and the page kills it when a task overruns its CPU budget.

import { nlp } from "../worker-node/tasks/nlp.ts";
import { createTaskEngine, type TaskEngine } from "../worker-node/tasks/task-engine.ts";
import { WordVectors } from "../worker-node/tasks/word-vectors.ts";
import type { TaskWorkerReply, TaskWorkerRequest } from "./task-messages.ts";

interface WorkerScope {
  onmessage: ((event: MessageEvent<TaskWorkerRequest>) => void) | null;
  postMessage(message: TaskWorkerReply): void;
}

const scope = self as unknown as WorkerScope;
let engine: TaskEngine | undefined;

scope.onmessage = (event) => {
  const msg = event.data;
  if (msg.type === "init") {
    try {
      // The page checked the vectors' hash against the engine version before sending them.
      const vectors = WordVectors.fromBytes(new Uint8Array(msg.vectors));
      // Load the language model now, not during the first job.
      nlp();
      engine = createTaskEngine(vectors);
      scope.postMessage({ type: "ready" });
    } catch (err) {
      scope.postMessage({ type: "init_failed", message: err instanceof Error ? err.message : String(err) });
    }
    return;
  }
  if (engine === undefined) {
    scope.postMessage({ type: "output", id: msg.id, output: { error: "task engine not initialised", error_kind: "worker" } });
    return;
  }
  scope.postMessage({ type: "output", id: msg.id, output: engine.run(msg.payload) });
};
