import type { TaskFailure, TaskOutput } from "../../protocol/index.ts";
import { describeIssues, TaskPayload } from "../../protocol/index.ts";
import { classify } from "./classify.ts";
import { extractJson } from "./extract-json.ts";
import { summarize } from "./summarize.ts";
import { TaskInputError } from "./task-input-error.ts";
import type { WordVectors } from "./word-vectors.ts";

/** Runs TASKs synchronously. No runtime APIs: the same engine runs in a Node thread or a browser Web Worker. */
export interface TaskEngine {
  /**
   * Never throws: a payload the task cannot work with becomes `{error, error_kind: "input"}`, the
   * job's output; a fault of this engine is `error_kind: "worker"`, so another worker is tried.
   */
  run(rawPayload: unknown): TaskOutput | TaskFailure;
}

export function createTaskEngine(vectors: WordVectors): TaskEngine {
  return {
    run(rawPayload) {
      const parsed = TaskPayload.safeParse(rawPayload);
      if (!parsed.success) return { error: `invalid TASK payload: ${describeIssues(parsed.error)}`, error_kind: "input" };
      const payload = parsed.data;
      try {
        switch (payload.task_type) {
          case "summarize":
            return summarize(payload, vectors);
          case "classify":
            if (payload.labels !== undefined && new Set(payload.labels).size !== payload.labels.length) {
              return { error: "invalid TASK payload: labels must be distinct", error_kind: "input" };
            }
            return classify(payload, vectors);
          case "extract_json":
            return extractJson(payload);
        }
      } catch (err) {
        if (err instanceof TaskInputError) return { error: err.message, error_kind: "input" };
        return { error: `task ${payload.task_type} failed: ${err instanceof Error ? err.message : String(err)}`, error_kind: "worker" };
      }
    },
  };
}
