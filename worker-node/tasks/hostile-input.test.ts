import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobAssignMessage } from "../../protocol/index.ts";
import { executeJob } from "../job-executor.ts";
import { TaskPool } from "./task-pool.ts";

let tasks: TaskPool;
beforeAll(async () => {
  tasks = new TaskPool(1);
  await tasks.ready();
});
afterAll(() => tasks.close());

function taskJob(payload: Record<string, unknown>): JobAssignMessage {
  return {
    type: "job_assign",
    job_id: "hostile",
    job_type: "TASK",
    payload,
    policy: "CHEAP",
    privacy_class: "PUBLIC",
    user_id: "u1",
    deadline_at: new Date(Date.now() + 30_000).toISOString(),
    attempt: 1,
    payment_ref: null,
  };
}

const run = (payload: Record<string, unknown>, taskCpuBudgetMs?: number) =>
  executeJob(
    taskJob(payload),
    { tasks, llm: undefined, ...(taskCpuBudgetMs !== undefined && { taskCpuBudgetMs }) },
    {
      signal: new AbortController().signal,
      onToken: () => {},
    },
  );

describe("TASKs under hostile input", () => {
  it("refuses a JSON candidate nested thousands deep at once instead of working on it to the deadline", async () => {
    const input = `${"[".repeat(40_000)}${"]".repeat(40_000)}`;
    const started = performance.now();
    const output = (await run({ task_type: "extract_json", input })) as { objects: unknown[]; errors: { message: string }[] };
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(output.objects).toEqual([]);
    expect(output.errors[0]?.message).toMatch(/nested deeper than/);
  });

  it("frees the slot of a task stuck on a backtracking schema pattern after its CPU budget, as an input error", async () => {
    const schema = { type: "object", properties: { s: { type: "string", pattern: "^(a+)+$" } } };
    const input = JSON.stringify({ s: `${"a".repeat(40)}!` });
    const started = performance.now();
    const output = await run({ task_type: "extract_json", input, schema }, 500);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(output).toMatchObject({ error_kind: "input" });
    // The pool replaced the killed thread and serves the next job.
    expect(await run({ task_type: "classify", input: "I love it." })).toMatchObject({ label: "positive" });
  });

  it("calls a payload it cannot run an input error", async () => {
    expect(await run({ task_type: "summarize" })).toMatchObject({ error_kind: "input" });
  });
});
