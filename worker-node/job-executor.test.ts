import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobAssignMessage } from "../protocol/index.ts";
import type { OllamaServer } from "../test/support/ollama-server.ts";
import { startOllamaServer } from "../test/support/ollama-server.ts";
import { executeJob, jobBudgetMs } from "./job-executor.ts";
import type { LlmBackend } from "./llm/llm-backend.ts";
import { OllamaBackend } from "./llm/ollama-backend.ts";
import { TaskPool } from "./tasks/task-pool.ts";

let server: OllamaServer;
let tasks: TaskPool;
let llm: LlmBackend;

beforeAll(async () => {
  server = await startOllamaServer({
    "stall:latest": { tokens: ["Once", " upon", " a", " time"], stallAfter: 2 },
    "ok:latest": { tokens: ["Hi", "!"] },
    "other:3b": { tokens: ["Yo"] },
    "broken:latest": { tokens: ["a", "b"], errorAfter: 1 },
  });
  tasks = new TaskPool(1);
  llm = await OllamaBackend.connect({ host: server.host, model: "ok" });
});
afterAll(async () => {
  await Promise.all([server.close(), tasks.close(), llm.close()]);
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

const run = (assign: JobAssignMessage) => {
  const tokens: string[] = [];
  const deps = { tasks, llm };
  return executeJob(assign, deps, { signal: new AbortController().signal, onToken: (t) => tokens.push(t) }).then((output) => ({
    output,
    tokens,
  }));
};

describe("job execution", () => {
  it("runs a reference LLM_INFER job with the payload's max_tokens and temperature, as one user turn", async () => {
    const { output, tokens } = await run(llmJob({ prompt: "hello", max_tokens: 8, temperature: 0 }));
    expect(output).toEqual({ text: "Hi!", tokens: 2, prompt_tokens: 1, finish_reason: "stop", model: "ok:latest", backend: "ollama" });
    expect(tokens).toEqual(["Hi", "!"]);
    expect(server.requests.at(-1)).toMatchObject({
      model: "ok:latest",
      messages: [{ role: "user", content: "hello" }],
      options: { num_predict: 8, temperature: 0 },
    });
  });

  it("runs a chat job on the model it names, with its system text first and its stop sequences", async () => {
    const messages = [
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello" },
      { role: "user", content: "Bye" },
    ];
    const { output } = await run(llmJob({ model: "OTHER:3b", messages, system: "Be brief.", stop: ["\n"] }));
    expect(output).toMatchObject({ text: "Yo", model: "other:3b" });
    expect(server.requests.at(-1)).toMatchObject({
      model: "other:3b",
      messages: [{ role: "system", content: "Be brief." }, ...messages],
      options: { stop: ["\n"] },
    });
  });

  it("refuses a model it does not serve, naming the ones it does, without calling the backend", async () => {
    const before = server.requests.length;
    const { output } = await run(llmJob({ model: "llama3.2", prompt: "hi" }));
    expect(output).toEqual({
      error: expect.stringMatching(/^model_not_served: llama3.2 is not served here \(this worker serves ok:latest, /),
    });
    expect(server.requests.length).toBe(before);
  });

  it("finds a model pulled since its last look before refusing", async () => {
    server.add("fresh:latest", { tokens: ["New"] });
    const { output } = await run(llmJob({ model: "fresh", prompt: "hi" }));
    expect(output).toMatchObject({ text: "New", model: "fresh:latest" });
  });

  it("turns a stream that stalls past the job deadline into a deadline_exceeded error", async () => {
    const started = Date.now();
    const { output, tokens } = await run(llmJob({ model: "stall", prompt: "hello" }, 1_600));
    expect(output).toEqual({ error: expect.stringMatching(/^deadline_exceeded/), error_kind: "worker" });
    expect(tokens).toEqual(["Once", " upon"]);
    expect(Date.now() - started).toBeLessThan(1_600);
  });

  it("reports backend failures and bad payloads as {error}", async () => {
    expect((await run(llmJob({ model: "broken", prompt: "hello" }))).output).toEqual({
      error: expect.stringMatching(/out of memory/),
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
    expect((await run(llmJob({ prompt: "x", messages: [{ role: "user", content: "y" }] }))).output).toEqual({
      error: "invalid LLM_INFER payload: messages: give either `prompt` or `messages`, not both",
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
