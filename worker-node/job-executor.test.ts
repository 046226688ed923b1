import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobAssignMessage } from "../protocol/index.ts";
import type { OllamaServer } from "../test/support/ollama-server.ts";
import { startOllamaServer } from "../test/support/ollama-server.ts";
import { executeJob, jobBudgetMs } from "./job-executor.ts";
import { OllamaBackend } from "./llm/ollama-backend.ts";
import { TaskPool } from "./tasks/task-pool.ts";

let server: OllamaServer;
let tasks: TaskPool;

beforeAll(async () => {
  server = await startOllamaServer({
    "stall:latest": { tokens: ["Once", " upon", " a", " time"], stallAfter: 2 },
    "ok:latest": { tokens: ["Hi", "!"] },
  });
  tasks = new TaskPool(1);
});
afterAll(async () => {
  await Promise.all([server.close(), tasks.close()]);
});

function llmJob(payload: Record<string, unknown>, deadlineInMs = 30_000): JobAssignMessage {
  return {
    type: "job_assign",
    job_id: "j1",
    job_type: "LLM_INFER",
    payload,
    policy: "FAST",
    privacy_class: "PUBLIC",
    user_id: "u1",
    deadline_at: new Date(Date.now() + deadlineInMs).toISOString(),
    attempt: 1,
    payment_ref: null,
  };
}

const run = (assign: JobAssignMessage, model = "ok") => {
  const tokens: string[] = [];
  const deps = { tasks, llm: new OllamaBackend({ host: server.host, model }) };
  return executeJob(assign, deps, { signal: new AbortController().signal, onToken: (t) => tokens.push(t) }).then((output) => ({
    output,
    tokens,
  }));
};

describe("job execution", () => {
  it("runs LLM_INFER with the payload's max_tokens and temperature", async () => {
    const { output, tokens } = await run(llmJob({ prompt: "hello", max_tokens: 8, temperature: 0 }));
    expect(output).toEqual({ text: "Hi!", tokens: 2, finish_reason: "stop", model: "ok", backend: "ollama" });
    expect(tokens).toEqual(["Hi", "!"]);
    expect(server.requests.at(-1)).toMatchObject({ prompt: "hello", options: { num_predict: 8, temperature: 0 } });
  });

  it("turns a stream that stalls past the job deadline into a deadline_exceeded error", async () => {
    const started = Date.now();
    const { output, tokens } = await run(llmJob({ prompt: "hello" }, 1_600), "stall");
    expect(output).toEqual({ error: expect.stringMatching(/^deadline_exceeded/), error_kind: "worker" });
    expect(tokens).toEqual(["Once", " upon"]);
    expect(Date.now() - started).toBeLessThan(1_600);
  });

  it("reports backend failures and bad payloads as {error}", async () => {
    expect((await run(llmJob({ prompt: "hello" }), "missing")).output).toEqual({
      error: expect.stringMatching(/model "missing" not found/),
      error_kind: "worker",
    });
    expect((await run(llmJob({ prompt: "" }))).output).toEqual({
      error: expect.stringMatching(/^invalid LLM_INFER payload: prompt/),
      error_kind: "input",
    });
    expect((await run(llmJob({ prompt: "x", max_tokens: 999_999 }))).output).toEqual({
      error: expect.stringMatching(/max_tokens/),
      error_kind: "input",
    });
    const noLlm = await executeJob(
      llmJob({ prompt: "x" }),
      { tasks, llm: undefined },
      { signal: new AbortController().signal, onToken: () => {} },
    );
    expect(noLlm).toEqual({ error: "LLM_INFER is not available on this worker", error_kind: "worker" });
  });

  it("budgets a job by its deadline, capped by the protocol limit even if clocks disagree", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(jobBudgetMs({ job_type: "TASK", deadline_at: "2026-01-01T00:00:10Z" }, now)).toBe(9_000);
    expect(jobBudgetMs({ job_type: "TASK", deadline_at: "2026-01-01T01:00:00Z" }, now)).toBe(29_000);
    expect(jobBudgetMs({ job_type: "LLM_INFER", deadline_at: "" }, now)).toBe(59_000);
    expect(jobBudgetMs({ job_type: "TASK", deadline_at: "2025-12-31T23:59:59Z" }, now)).toBe(0);
  });
});
