import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OllamaServer } from "../../test/support/ollama-server.ts";
import { startOllamaServer } from "../../test/support/ollama-server.ts";
import { GenerationAbortedError } from "./llm-backend.ts";
import { OllamaBackend, probeOllama } from "./ollama-backend.ts";
import { selectBackend } from "./select-backend.ts";

const STORY = ["Once", " upon", " a", " time", ",", " a", " fox", " slept", "."];

let server: OllamaServer;

beforeAll(async () => {
  server = await startOllamaServer({
    "tiny:latest": { tokens: STORY },
    "broken:latest": { tokens: STORY, errorAfter: 3 },
    "stall:latest": { tokens: STORY, stallAfter: 2 },
    "slow:latest": { tokens: STORY, delayMs: 40 },
  });
});
afterAll(async () => {
  await server.close();
});

function request(overrides: Partial<Parameters<OllamaBackend["generate"]>[0]> = {}) {
  const tokens: string[] = [];
  return {
    tokens,
    req: {
      prompt: "Tell a story",
      maxTokens: 64,
      signal: AbortSignal.timeout(5_000),
      onToken: (t: string) => tokens.push(t),
      ...overrides,
    },
  };
}

describe("ollama backend", () => {
  it("streams every token through onToken and returns the full text", async () => {
    const backend = new OllamaBackend({ host: server.host, model: "tiny" });
    const { tokens, req } = request({ temperature: 0.2, system: "be brief" });
    const out = await backend.generate(req);
    expect(tokens).toEqual(STORY);
    expect(out).toEqual({ text: STORY.join(""), tokens: STORY.length, finish_reason: "stop", model: "tiny", backend: "ollama" });
    const sent = server.requests.at(-1) as { model: string; stream: boolean; system: string; options: Record<string, unknown> };
    expect(sent).toMatchObject({ model: "tiny", stream: true, system: "be brief", options: { num_predict: 64, temperature: 0.2 } });
  });

  it("honours max_tokens as num_predict and reports finish_reason length", async () => {
    const backend = new OllamaBackend({ host: server.host, model: "tiny" });
    const { tokens, req } = request({ maxTokens: 4 });
    const out = await backend.generate(req);
    expect(tokens).toEqual(STORY.slice(0, 4));
    expect(out.finish_reason).toBe("length");
    expect(out.tokens).toBe(4);
  });

  it("rejects with Ollama's message for a model the server does not have", async () => {
    const backend = new OllamaBackend({ host: server.host, model: "missing" });
    await expect(backend.generate(request().req)).rejects.toThrow(/model "missing" not found/);
  });

  it("rejects on an error line in the middle of the stream, after forwarding the tokens before it", async () => {
    const backend = new OllamaBackend({ host: server.host, model: "broken" });
    const { tokens, req } = request();
    await expect(backend.generate(req)).rejects.toThrow(/out of memory/);
    expect(tokens).toEqual(STORY.slice(0, 3));
  });

  it("aborts a stalled stream at the deadline instead of waiting forever", async () => {
    const backend = new OllamaBackend({ host: server.host, model: "stall" });
    const { tokens, req } = request({ signal: AbortSignal.timeout(300) });
    const started = Date.now();
    const err = await backend.generate(req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GenerationAbortedError);
    expect((err as GenerationAbortedError).partial).toBe(STORY.slice(0, 2).join(""));
    expect(tokens).toEqual(STORY.slice(0, 2));
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("aborts a slow stream when the signal fires mid-way", async () => {
    const backend = new OllamaBackend({ host: server.host, model: "slow" });
    const controller = new AbortController();
    const { tokens, req } = request({
      signal: controller.signal,
      onToken: () => {
        tokens.push("x");
        if (tokens.length === 2) controller.abort();
      },
    });
    await expect(backend.generate(req)).rejects.toBeInstanceOf(GenerationAbortedError);
    expect(tokens.length).toBe(2);
  });
});

describe("probing", () => {
  it("accepts a server that has the model, with or without the :latest tag", async () => {
    expect(await probeOllama({ host: server.host, model: "tiny" })).toMatchObject({ ok: true, version: "0.12.0-test" });
    expect(await probeOllama({ host: server.host, model: "tiny:latest" })).toMatchObject({ ok: true });
  });

  it("refuses a server without the model, naming the pull command", async () => {
    const probe = await probeOllama({ host: server.host, model: "llama3.2" });
    expect(probe).toMatchObject({ ok: false });
    expect(!probe.ok && probe.reason).toMatch(/ollama pull llama3.2/);
  });

  it("refuses a host where nothing listens", async () => {
    const dead = await startOllamaServer({});
    const host = dead.host;
    await dead.close();
    expect(await probeOllama({ host, model: "tiny" })).toMatchObject({ ok: false });
  });

  it("auto mode picks Ollama when it answers with the model", async () => {
    const { backend, notes } = await selectBackend({
      backend: "auto",
      ollamaHost: server.host,
      ollamaModel: "tiny",
      ggufPath: undefined,
      threads: 1,
      contextSize: 256,
      slots: 1,
    });
    expect(backend?.name).toBe("ollama");
    expect(notes.join("\n")).toMatch(/serves tiny/);
  });

  it("ollama mode advertises no LLM when the model is missing", async () => {
    const { backend, notes } = await selectBackend({
      backend: "ollama",
      ollamaHost: server.host,
      ollamaModel: "absent",
      ggufPath: undefined,
      threads: 1,
      contextSize: 256,
      slots: 1,
    });
    expect(backend).toBeUndefined();
    expect(notes.join("\n")).toMatch(/no model absent/);
  });
});
