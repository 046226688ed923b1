import { afterEach, describe, expect, it } from "vitest";
import { type AnswerProof, decodeAnswerProof, verifyAnswer } from "../../protocol/index.ts";
import { api, closeAll, json, llmOutput, modelWorker, type TestWorker } from "./support.ts";

const workers: TestWorker[] = [];
afterEach(() => closeAll(workers));

function post(path: string, body: unknown): Promise<Response> {
  return api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

function ndjson(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

const chat = (extra: Record<string, unknown> = {}) => ({ model: "alpha", messages: [{ role: "user", content: "Hi" }], ...extra });

describe("Ollama-compatible /api", () => {
  it("reports a version and lists the models online as tags", async () => {
    expect(await json(await api("/monad/api/version"))).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    await modelWorker(workers, ["alpha", "beta:7b"], ["alpha"]);
    const tags = await json<{ models: { name: string; model: string; loaded: number }[] }>(await api("/monad/api/tags"));
    expect(tags.models.map((m) => m.name).sort()).toEqual(["alpha:latest", "beta:7b"]);
    expect(tags.models.find((m) => m.name === "alpha:latest")).toMatchObject({ model: "alpha:latest", loaded: 1 });
    // Per chain: nobody serves anything on Solana.
    expect(await json(await api("/solana/api/tags"))).toEqual({ models: [] });
  });

  it("streams /api/chat as NDJSON by default, ending with counts, nanosecond durations and the proof", async () => {
    const w = await modelWorker(workers, ["alpha"]);
    const pending = post("/monad/api/chat", chat({ options: { num_predict: 20, temperature: 0.1, stop: ["."], top_k: 3 } }));
    const assign = await w.next("job_assign");
    const id = String(assign.job_id);
    expect(assign.payload).toMatchObject({
      model: "alpha",
      messages: [{ role: "user", content: "Hi" }],
      max_tokens: 20,
      temperature: 0.1,
      stop: ["."],
    });
    const res = await pending;
    expect(res.headers.get("content-type")).toContain("application/x-ndjson");
    w.send({ type: "job_progress", job_id: id, text: "Hello", seq: 0 });
    setTimeout(() => w.complete(id, llmOutput("Hello you", { tokens: 2, prompt_tokens: 5 })), 30);
    const lines = ndjson(new TextDecoder().decode(await res.arrayBuffer()));
    const pieces = lines.slice(0, -1);
    expect(pieces.every((l) => l.done === false && (l.message as { role: string }).role === "assistant")).toBe(true);
    const text = pieces.map((l) => (l.message as { content: string }).content).join("");
    expect(text).toBe("Hello you");
    const done = lines.at(-1) as Record<string, unknown>;
    expect(done).toMatchObject({
      done: true,
      done_reason: "stop",
      model: "alpha:latest",
      prompt_eval_count: 5,
      eval_count: 2,
      load_duration: 0,
    });
    expect(Number.isInteger(done.total_duration) && (done.total_duration as number) > 1_000).toBe(true);
    expect(done.eval_duration as number).toBeLessThanOrEqual(done.total_duration as number);
    expect(verifyAnswer(done.dispatch as AnswerProof, text)).toEqual({ ok: true });
  });

  it("answers /api/generate with stream:false as one object, the proof also in headers", async () => {
    const w = await modelWorker(workers, ["alpha"]);
    const pending = post("/api/generate", {
      model: "alpha",
      prompt: "Once",
      system: "Tell stories.",
      stream: false,
      options: { num_predict: -1 },
    });
    const assign = await w.next("job_assign");
    expect(assign.payload).toMatchObject({ prompt: "Once", system: "Tell stories.", max_tokens: 4096 });
    w.complete(String(assign.job_id), llmOutput("upon a time", { finish_reason: "length" }));
    const res = await pending;
    expect(res.status).toBe(200);
    const body = await json<Record<string, unknown>>(res);
    expect(body).toMatchObject({ response: "upon a time", done: true, done_reason: "length", eval_count: 3 });
    const proof = decodeAnswerProof(res.headers.get("x-dispatch-receipt") ?? "");
    expect(proof?.job_id).toBe(assign.job_id);
    expect(verifyAnswer(proof as AnswerProof, "upon a time")).toEqual({ ok: true });
  });

  it("streams /api/generate pieces as `response` lines", async () => {
    const w = await modelWorker(workers, ["alpha"]);
    const pending = post("/monad/api/generate", { model: "alpha", prompt: "Once" });
    const assign = await w.next("job_assign");
    const res = await pending;
    w.send({ type: "job_progress", job_id: assign.job_id, text: "upon", seq: 0 });
    setTimeout(() => w.complete(String(assign.job_id), llmOutput("upon a time")), 30);
    const lines = ndjson(new TextDecoder().decode(await res.arrayBuffer()));
    expect(lines.slice(0, -1).map((l) => l.response)).toEqual(["upon", " a time"]);
    expect(lines.at(-1)).toMatchObject({ done: true, response: "" });
  });

  it("answers a generate call without a prompt as Ollama's model load, without running a job", async () => {
    const w = await modelWorker(workers, ["alpha"]);
    expect(await json(await post("/monad/api/generate", { model: "alpha" }))).toMatchObject({
      model: "alpha",
      done: true,
      done_reason: "load",
    });
    await w.nothing("job_assign", 100);
    const missing = await post("/monad/api/generate", { model: "ghost" });
    expect(missing.status).toBe(404);
    expect(await json(missing)).toMatchObject({ error: expect.stringContaining("ghost"), code: "model_not_served" });
  });

  it("answers errors in Ollama's {error} shape: unknown models 404, unsupported inputs 400", async () => {
    await modelWorker(workers, ["alpha"]);
    const unknown = await post("/monad/api/chat", chat({ model: "ghost" }));
    expect(unknown.status).toBe(404);
    expect(await json(unknown)).toMatchObject({ error: expect.stringContaining("ghost"), code: "model_not_served" });
    for (const [path, body, word] of [
      ["/monad/api/chat", chat({ messages: [{ role: "user", content: "x", images: ["aGk="] }] }), "images"],
      ["/monad/api/chat", chat({ tools: [{ type: "function" }] }), "tools"],
      ["/monad/api/chat", chat({ format: "json" }), "format"],
      ["/monad/api/chat", chat({ messages: [{ role: "tool", content: "x" }] }), "role"],
      ["/monad/api/chat", chat({ options: { num_predict: 0 } }), "num_predict"],
      ["/monad/api/generate", { model: "alpha", prompt: "x", raw: true }, "raw"],
      ["/monad/api/generate", { model: "alpha", prompt: "x", context: [1, 2] }, "context"],
      ["/monad/api/chat", { messages: [{ role: "user", content: "x" }] }, "model"],
    ] as const) {
      const res = await post(path, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(String((await json(res)).error), JSON.stringify(body)).toContain(word);
    }
  });
});
