import type { JobAssignMessage, LlmOutput, TaskFailure, TaskOutput } from "../protocol/index.ts";
import { chatMessages, describeIssues, LIMITS, LlmPayload } from "../protocol/index.ts";
import type { LlmBackend } from "./llm/llm-backend.ts";
import { GenerationAbortedError } from "./llm/llm-backend.ts";
import type { TaskPool } from "./tasks/task-pool.ts";

export type JobOutput = TaskOutput | LlmOutput | TaskFailure;

export interface ExecutorDeps {
  tasks: TaskPool;
  llm: LlmBackend | undefined;
  /** Overrides `TASK_CPU_BUDGET_MS` (tests). */
  taskCpuBudgetMs?: number;
}

/** Time kept back from the deadline so the completion reaches the coordinator before it. */
const DELIVERY_MARGIN_MS = 1_000;

/**
 * CPU time one TASK may take, well under its 30 s deadline: honest inputs finish in
 * milliseconds, so a task still running after this is stuck on hostile input and its slot is
 * freed for other work.
 */
export const TASK_CPU_BUDGET_MS = 10_000;

/**
 * Milliseconds the job may run: until the coordinator's `deadline_at` (less a margin), and
 * never longer than the protocol's execution limit, so a skewed clock cannot stretch it.
 */
export function jobBudgetMs(assign: Pick<JobAssignMessage, "job_type" | "deadline_at">, now = Date.now()): number {
  const limit = LIMITS.executionDeadlineSeconds[assign.job_type] * 1_000 - DELIVERY_MARGIN_MS;
  const deadline = Date.parse(assign.deadline_at);
  if (Number.isNaN(deadline)) return limit;
  return Math.max(0, Math.min(limit, deadline - now - DELIVERY_MARGIN_MS));
}

/**
 * Runs one job to an output. Never throws: every failure is an `{error}` output, the
 * reference convention, and never text the backend did not produce.
 */
export async function executeJob(
  assign: JobAssignMessage,
  deps: ExecutorDeps,
  opts: { signal: AbortSignal; onToken: (text: string) => void },
): Promise<JobOutput> {
  const budget = jobBudgetMs(assign);
  if (budget <= 0) return { error: "deadline_exceeded: the job arrived after its deadline", error_kind: "worker" };
  if (assign.job_type === "TASK") {
    return deps.tasks.run(assign.payload, { timeoutMs: Math.min(budget, deps.taskCpuBudgetMs ?? TASK_CPU_BUDGET_MS), signal: opts.signal });
  }

  if (deps.llm === undefined) return { error: "LLM_INFER is not available on this worker", error_kind: "worker" };
  const parsed = LlmPayload.safeParse(assign.payload);
  if (!parsed.success) return { error: `invalid LLM_INFER payload: ${describeIssues(parsed.error)}`, error_kind: "input" };
  const payload = parsed.data;
  const llm = deps.llm;
  // A model pulled since the last look is found by looking again before refusing.
  let model = llm.resolveModel(payload.model);
  if (model === undefined) {
    await llm.refresh();
    model = llm.resolveModel(payload.model);
  }
  if (model === undefined) return { error: notServed(payload.model, llm.models().models) };
  const deadline = AbortSignal.timeout(budget);
  const signal = AbortSignal.any([opts.signal, deadline]);
  try {
    return await llm.generate({
      model,
      messages: chatMessages(payload),
      maxTokens: payload.max_tokens,
      ...(payload.temperature !== undefined && { temperature: payload.temperature }),
      ...(payload.stop !== undefined && { stop: payload.stop }),
      signal,
      onToken: opts.onToken,
    });
  } catch (err) {
    if (err instanceof GenerationAbortedError) {
      return deadline.aborted
        ? { error: `deadline_exceeded: generation stopped after ${budget} ms`, error_kind: "worker" }
        : { error: "cancelled: generation stopped before it finished", error_kind: "worker" };
    }
    return { error: err instanceof Error ? err.message : String(err), error_kind: "worker" };
  }
}

/** The refusal for a job's model, naming a few of the models that are served so the seeker can pick one. */
function notServed(requested: string | undefined, served: string[]): string {
  const shown = served.slice(0, 8).join(", ") + (served.length > 8 ? ` and ${served.length - 8} more` : "");
  const what = requested === undefined ? "no model is served here" : `${requested} is not served here`;
  return `model_not_served: ${what} (this worker serves ${shown || "no models"})`;
}
