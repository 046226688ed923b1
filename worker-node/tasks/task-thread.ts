import { parentPort } from "node:worker_threads";
import { nlp } from "./nlp.ts";
import { taskEngine } from "./run-task.ts";

// Runs TASKs off the main thread, so a long task never delays heartbeats or token streaming,
// and a runaway one (a pathological schema regex, say) can be killed by terminating the thread.
if (parentPort === null) throw new Error("task-thread.ts must run as a worker thread");
const port = parentPort;
// Load the language model and the word vectors before the first job, not during it.
nlp();
const engine = taskEngine();
port.on("message", (msg: { id: number; payload: unknown }) => {
  port.postMessage({ id: msg.id, output: engine.run(msg.payload) });
});
port.postMessage({ ready: true });
