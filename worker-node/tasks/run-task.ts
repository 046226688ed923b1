import type { TaskFailure, TaskOutput } from "../../protocol/index.ts";
import { describeIssues, TaskPayload } from "../../protocol/index.ts";
import { classify } from "./classify.ts";
import { extractJson } from "./extract-json.ts";
import { summarize } from "./summarize.ts";
import { TaskInputError } from "./task-input-error.ts";

/**
 * Runs one TASK synchronously. Never throws: a payload the task cannot work with becomes
 * `{error, error_kind: "input"}`, which is what the seeker sees as the job's output; a fault of
 * this worker is `error_kind: "worker"`, so the coordinator tries another worker.
 */
export function runTask(rawPayload: unknown): TaskOutput | TaskFailure {
  const parsed = TaskPayload.safeParse(rawPayload);
  if (!parsed.success) return { error: `invalid TASK payload: ${describeIssues(parsed.error)}`, error_kind: "input" };
  const payload = parsed.data;
  try {
    switch (payload.task_type) {
      case "summarize":
        return summarize(payload);
      case "classify":
        if (payload.labels !== undefined && new Set(payload.labels).size !== payload.labels.length) {
          return { error: "invalid TASK payload: labels must be distinct", error_kind: "input" };
        }
        return classify(payload);
      case "extract_json":
        return extractJson(payload);
    }
  } catch (err) {
    if (err instanceof TaskInputError) return { error: err.message, error_kind: "input" };
    return { error: `task ${payload.task_type} failed: ${err instanceof Error ? err.message : String(err)}`, error_kind: "worker" };
  }
}
