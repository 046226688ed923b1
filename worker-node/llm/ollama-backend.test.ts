import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ChatMessage } from "../../protocol/index.ts";
import type { OllamaServer } from "../../test/support/ollama-server.ts";
import { startOllamaServer } from "../../test/support/ollama-server.ts";
import type { LlmRequest } from "./llm-backend.ts";
import { GenerationAbortedError } from "./llm-backend.ts";
import type { ModelLists } from "./model-inventory.ts";
import { OllamaBackend, probeOllama } from "./ollama-backend.ts";
import { selectBackend } from "./select-backend.ts";

// The real `ollama` client against an Ollama-compatible server over real HTTP (test/support).
const STORY = ["Once", " upon", " a", " time", ",", " a", " fox", " slept", "."];
const POEM = ["Roses", " are", " red", "."];
const CHAT: ChatMessage[] = [
  { role: "system", content: "Be brief." },
  { role: "user", content: "Tell a story" },
  { role: "assistant", content: "About what?" },
  { role: "user", content: "A fox" },
];

let server: OllamaServer;
const backends: OllamaBackend[] = [];

beforeAll(async () => {
  server = await startOllamaServer({
    "tiny:latest": { tokens: STORY },
    "poet:7b": { tokens: POEM, loaded: true },
    "broken:latest": { tokens: STORY, errorAfter: 3 },
    "stall:latest": { tokens: STORY, stallAfter: 2 },
    "slow:latest": { tokens: STORY, delayMs: 40 },
  });
});
afterEach(async () => {
  for (const b of backends.splice(0)) await b.close();
});
afterAll(async () => {
  await server.close();
});

async function connect(settings: Partial<Parameters<typeof OllamaBackend.connect>[0]> = {}): Promise<OllamaBackend> {
  const backend = await OllamaBackend.connect({ host: server.host, model: "tiny", ...settings });
  backends.push(backend);
  return backend;
}

function request(overrides: Partial<LlmRequest> = {}) {
  const tokens: string[] = [];
  const req: LlmRequest = {
    model: "tiny:latest",
    messages: [{ role: "user", content: "Tell a story" }],
    maxTokens: 64,
    signal: AbortSignal.timeout(5_000),
    onToken: (t: string) => tokens.push(t),
    ...overrides,
  };
  return { tokens, req };
}

describe("ollama backend: chat", () => {
  it("streams every token through onToken and returns the text with both token counts", async () => {
    const backend = await connect();
    const { tokens, req } = request({ messages: CHAT, temperature: 0.2, stop: ["\n\n"] });
    const out = await backend.generate(req);
    expect(tokens).toEqual(STORY);
    expect(out).toEqual({
      text: STORY.join(""),
      tokens: STORY.length,
      prompt_tokens: 9, // the server counts the words of every turn
      finish_reason: "stop",
      model: "tiny:latest",
      backend: "ollama",
    });
    const sent = server.requests.at(-1);
    expect(sent).toEqual({
      model: "tiny:latest",
      messages: CHAT,
      stream: true,
      options: { num_predict: 64, temperature: 0.2, stop: ["\n\n"] },
    });
  });

  it("runs the job's model when it names one, and the default otherwise", async () => {
    const backend = await connect();
    expect(backend.resolveModel(undefined)).toBe("tiny:latest");
    expect(backend.resolveModel("POET:7b")).toBe("poet:7b");
    expect(backend.resolveModel("poet")).toBeUndefined(); // poet:latest is another model than poet:7b
    const out = await backend.generate(request({ model: "poet:7b" }).req);
    expect(out).toMatchObject({ text: "Roses are red.", model: "poet:7b" });
    expect(server.requests.at(-1)).toMatchObject({ model: "poet:7b" });
  });

  it("honours max_tokens as num_predict and stop sequences, with the finish reason of each", async () => {
    const backend = await connect();
    const short = await backend.generate(request({ maxTokens: 4 }).req);
    expect(short).toMatchObject({ text: "Once upon a time", tokens: 4, finish_reason: "length" });
    const stopped = await backend.generate(request({ stop: [" fox"] }).req);
    expect(stopped).toMatchObject({ text: "Once upon a time, a", finish_reason: "stop" });
  });

  it("rejects with Ollama's message for a model the server does not have", async () => {
    const backend = await connect();
    await expect(backend.generate(request({ model: "missing:latest" }).req)).rejects.toThrow(/model "missing:latest" not found/);
  });

  it("rejects on an error line in the middle of the stream, after forwarding the tokens before it", async () => {
    const backend = await connect();
    const { tokens, req } = request({ model: "broken:latest" });
    await expect(backend.generate(req)).rejects.toThrow(/ollama: .*out of memory/);
    expect(tokens).toEqual(STORY.slice(0, 3));
  });

  it("aborts a stalled stream at the deadline instead of waiting forever", async () => {
    const backend = await connect();
    const { tokens, req } = request({ model: "stall:latest", signal: AbortSignal.timeout(300) });
    const started = Date.now();
    const err = await backend.generate(req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GenerationAbortedError);
    expect((err as GenerationAbortedError).partial).toBe(STORY.slice(0, 2).join(""));
    expect(tokens).toEqual(STORY.slice(0, 2));
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("aborts a slow stream when the signal fires mid-way", async () => {
    const backend = await connect();
    const controller = new AbortController();
    const seen: string[] = [];
    const { req } = request({
      model: "slow:latest",
      signal: controller.signal,
      onToken: (t) => {
        seen.push(t);
        if (seen.length === 2) controller.abort();
      },
    });
    await expect(backend.generate(req)).rejects.toBeInstanceOf(GenerationAbortedError);
    expect(seen).toEqual(STORY.slice(0, 2));
  });
});

/** A server of its own, for tests about what is loaded (the shared one loads models as jobs run). */
async function withServer(models: Parameters<typeof startOllamaServer>[0], fn: (s: OllamaServer) => Promise<void>): Promise<void> {
  const own = await startOllamaServer(models);
  try {
    await fn(own);
  } finally {
    await own.close();
  }
}

describe("ollama backend: models", () => {
  it("serves every model the server lists, default first, then the loaded ones", async () => {
    await withServer(
      { "a:latest": { tokens: ["x"] }, "b:latest": { tokens: ["x"] }, "poet:7b": { tokens: POEM, loaded: true } },
      async (own) => {
        const backend = await connect({ host: own.host, model: "b" });
        expect(backend.models()).toEqual({ models: ["b:latest", "poet:7b", "a:latest"], loaded: ["poet:7b"] });
      },
    );
  });

  it("serves only the models named in --models", async () => {
    const backend = await connect({ only: ["tiny", "poet:7b"] });
    expect(backend.models().models).toEqual(["tiny:latest", "poet:7b"]);
    expect(backend.resolveModel("slow")).toBeUndefined();
  });

  it("notices models pulled, loaded and unloaded: after a job and on its periodic look", async () => {
    await withServer({ "a:latest": { tokens: ["x"] }, "b:latest": { tokens: ["y"] } }, async (server2) => {
      const backend = await OllamaBackend.connect({ host: server2.host, refreshMs: 100 });
      backends.push(backend);
      expect(backend.models()).toEqual({ models: ["a:latest", "b:latest"], loaded: [] });
      const changes: ModelLists[] = [];
      backend.onModelsChange((lists) => changes.push(lists));

      await backend.generate(request({ model: "b:latest" }).req);
      await backend.refresh();
      expect(changes.at(-1)).toEqual({ models: ["a:latest", "b:latest"], loaded: ["b:latest"] });

      server2.add("c:latest", { tokens: ["z"] });
      server2.unload("b:latest");
      await expect.poll(() => changes.at(-1), { timeout: 2_000 }).toEqual({ models: ["a:latest", "b:latest", "c:latest"], loaded: [] });
      const count = changes.length;
      await backend.refresh();
      expect(changes.length).toBe(count); // nothing changed, nobody told
    });
  });

  it("serves the models of an Ollama without /api/ps, none of them known as loaded", async () => {
    const old = await startOllamaServer({ "a:latest": { tokens: ["x"], loaded: true } }, { withoutPs: true });
    try {
      const backend = await connect({ host: old.host, model: undefined });
      expect(backend.models()).toEqual({ models: ["a:latest"], loaded: [] });
    } finally {
      await old.close();
    }
  });

  it("keeps the last known lists while the server does not answer", async () => {
    const server2 = await startOllamaServer({ "a:latest": { tokens: ["x"], loaded: true } });
    const backend = await OllamaBackend.connect({ host: server2.host });
    backends.push(backend);
    await server2.close();
    await backend.refresh();
    expect(backend.models()).toEqual({ models: ["a:latest"], loaded: ["a:latest"] });
  });
});

describe("probing", () => {
  it("accepts a server that has the model, with or without the :latest tag", async () => {
    expect(await probeOllama({ host: server.host, model: "tiny" })).toMatchObject({
      ok: true,
      version: "0.12.0-test",
      defaultModel: "tiny:latest",
    });
    expect(await probeOllama({ host: server.host, model: "tiny:latest" })).toMatchObject({ ok: true });
  });

  it("defaults to llama3.2 when served and no model was chosen, else to the first model listed", async () => {
    expect(await probeOllama({ host: server.host })).toMatchObject({ ok: true, defaultModel: "tiny:latest" });
    const withLlama = await startOllamaServer({ "a:latest": { tokens: ["x"] }, "llama3.2:latest": { tokens: ["y"] } });
    try {
      expect(await probeOllama({ host: withLlama.host })).toMatchObject({ ok: true, defaultModel: "llama3.2:latest" });
    } finally {
      await withLlama.close();
    }
  });

  it("refuses a server without the chosen model, naming the pull command", async () => {
    const probe = await probeOllama({ host: server.host, model: "llama3.2" });
    expect(probe).toMatchObject({ ok: false });
    expect(!probe.ok && probe.reason).toMatch(/ollama pull llama3.2/);
  });

  it("notes the --models the server lacks, and refuses when it has none of them", async () => {
    const some = await probeOllama({ host: server.host, only: ["tiny", "absent:1b"] });
    expect(some).toMatchObject({ ok: true, lists: { models: ["tiny:latest"] } });
    expect(some.ok && some.notes.join("\n")).toMatch(/has no model absent:1b \(run: ollama pull absent:1b\)/);
    const none = await probeOllama({ host: server.host, only: ["absent:1b"] });
    expect(!none.ok && none.reason).toMatch(/has none of absent:1b \(run: ollama pull absent:1b\)/);
  });

  it("refuses a host where nothing listens", async () => {
    const dead = await startOllamaServer({});
    const host = dead.host;
    await dead.close();
    expect(await probeOllama({ host, model: "tiny" })).toMatchObject({ ok: false });
  });

  it("auto mode picks Ollama when it answers, naming what it serves", async () => {
    await withServer(
      { "tiny:latest": { tokens: STORY }, "poet:7b": { tokens: POEM, loaded: true }, "x:latest": { tokens: POEM } },
      async (own) => {
        const { backend, notes } = await selectBackend({
          backend: "auto",
          ollamaHost: own.host,
          ollamaModel: "tiny",
          models: ["tiny", "poet:7b"],
          ggufPath: undefined,
          threads: 1,
          contextSize: 256,
          slots: 1,
        });
        try {
          expect(backend?.name).toBe("ollama");
          expect(notes.join("\n")).toMatch(/serves tiny:latest, poet:7b \(default tiny:latest; loaded now: poet:7b\)/);
        } finally {
          await backend?.close();
        }
      },
    );
  });

  it("ollama mode advertises no LLM when the model is missing", async () => {
    const { backend, notes } = await selectBackend({
      backend: "ollama",
      ollamaHost: server.host,
      ollamaModel: "absent",
      models: undefined,
      ggufPath: undefined,
      threads: 1,
      contextSize: 256,
      slots: 1,
    });
    expect(backend).toBeUndefined();
    expect(notes.join("\n")).toMatch(/no model absent/);
  });
});
