import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChatMessage } from "../../protocol/index.ts";
import { CHATML_TEMPLATE, withChatTemplate } from "../../test/support/gguf-chat-template.ts";
import { EmbeddedBackend } from "./embedded-backend.ts";
import { GenerationAbortedError, type LlmRequest } from "./llm-backend.ts";
import { selectBackend } from "./select-backend.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const MODEL = path.resolve(repoRoot, "../shared/models/stories260K-f16.gguf");

let backend: EmbeddedBackend;
beforeAll(async () => {
  backend = await EmbeddedBackend.load({ modelPath: MODEL, threads: 1, contextSize: 256, slots: 2 });
});
afterAll(async () => {
  await backend.close();
});

const user = (content: string): ChatMessage[] => [{ role: "user", content }];

async function generate(messages: ChatMessage[], opts: Partial<LlmRequest> = {}, on: EmbeddedBackend = backend) {
  const chunks: string[] = [];
  const out = await on.generate({
    model: on.defaultModel,
    messages,
    maxTokens: 40,
    temperature: 0,
    signal: AbortSignal.timeout(20_000),
    onToken: (t) => chunks.push(t),
    ...opts,
  });
  return { out, chunks };
}

describe("embedded backend (node-llama-cpp, stories260K)", () => {
  it("continues a one-turn prompt with the model's own story, streaming it in pieces", async () => {
    const { out, chunks } = await generate(user("Once upon a time"), { maxTokens: 30 });
    expect(out).toMatchObject({ backend: "embedded", model: "stories260K", prompt_tokens: 5 }); // BOS + 4 tokens
    expect(out.text).toMatch(/^, there was a little girl named Lily/);
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.join("")).toBe(out.text);
  });

  it("is deterministic at temperature 0, across calls and slots", async () => {
    const [a, b] = await Promise.all([generate(user("Once upon a time")), generate(user("Once upon a time"))]);
    const c = await generate(user("Once upon a time"));
    expect(a.out.text).toBe(b.out.text);
    expect(c.out.text).toBe(a.out.text);
  });

  it("does not carry one job's context into the next", async () => {
    const first = await generate(user("The dog ran to the park"), { maxTokens: 20 });
    await generate(user("Once upon a time"), { maxTokens: 20 });
    const again = await generate(user("The dog ran to the park"), { maxTokens: 20 });
    expect(again.out.text).toBe(first.out.text);
  });

  it("without a chat template, joins the turns as text to continue, as the reference prompt form always did", async () => {
    expect(backend.promptFormat).toBe("plain text");
    const chat = await generate([
      { role: "system", content: "The dog ran to the park." },
      { role: "user", content: "Once upon a time" },
    ]);
    const joined = await generate(user("The dog ran to the park.\n\nOnce upon a time"));
    expect(chat.out).toEqual(joined.out);
  });

  it("stops at max_tokens and says so", async () => {
    const { out } = await generate(user("Once upon a time"), { maxTokens: 5 });
    expect(out.tokens).toBe(5);
    expect(out.finish_reason).toBe("length");
  });

  it("ends before a stop sequence and leaves it out of the text", async () => {
    const { out, chunks } = await generate(user("Once upon a time"), { stop: [" Lily"] });
    expect(out.text).toBe(", there was a little girl named");
    expect(out.finish_reason).toBe("stop");
    expect(chunks.join("")).toBe(out.text);
  });

  it("aborts when the signal fires", async () => {
    const controller = new AbortController();
    const pending = generate(user("Once upon a time"), {
      maxTokens: 4000,
      temperature: 0.8,
      signal: controller.signal,
      onToken: () => controller.abort(),
    });
    await expect(pending).rejects.toBeInstanceOf(GenerationAbortedError);
  });

  it("serves its model under the GGUF's name, always loaded, and answers to the file name too", () => {
    expect(backend.models()).toEqual({ models: ["stories260K"], loaded: ["stories260K"] });
    expect(backend.resolveModel(undefined)).toBe("stories260K");
    expect(backend.resolveModel("Stories260K:latest")).toBe("stories260K");
    expect(backend.resolveModel("stories260K-f16.gguf")).toBe("stories260K");
    expect(backend.resolveModel("stories260K-f16")).toBe("stories260K");
    expect(backend.resolveModel("llama3.2")).toBeUndefined();
  });
});

describe("embedded backend with a chat template", () => {
  let dir: string;
  let templated: EmbeddedBackend;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "dispatch-gguf-"));
    const file = path.join(dir, "stories260K-chatml.gguf");
    await withChatTemplate(MODEL, file, CHATML_TEMPLATE);
    templated = await EmbeddedBackend.load({ modelPath: file, threads: 1, contextSize: 256, slots: 1 });
  });
  afterAll(async () => {
    await templated?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("renders the conversation through the model's template, not as plain text", async () => {
    expect(templated.promptFormat).toMatch(/^chat template \(/);
    const messages: ChatMessage[] = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Once upon a time" },
    ];
    const chat = await generate(messages, {}, templated);
    const plain = await generate(messages, {}, backend);
    // The role markers and turn separators of the template are tokens the model reads too.
    expect(chat.out.prompt_tokens).toBeGreaterThan((plain.out.prompt_tokens ?? 0) + 10);
    expect(chat.out.model).toBe("stories260K");
    expect(chat.chunks.join("")).toBe(chat.out.text);
    const again = await generate(messages, {}, templated);
    expect(again.out).toEqual(chat.out);
  });
});

describe("backend selection", () => {
  it("is chosen by auto mode when no Ollama answers", async () => {
    const { backend: chosen, notes } = await selectBackend({
      backend: "auto",
      ollamaHost: "http://127.0.0.1:9",
      ollamaModel: undefined,
      models: undefined,
      ggufPath: MODEL,
      threads: 1,
      contextSize: 128,
      slots: 1,
    });
    try {
      expect(chosen?.name).toBe("embedded");
      expect(notes[0]).toMatch(/no Ollama at/);
      expect(notes[1]).toMatch(/as model stories260K .*prompts as plain text/);
    } finally {
      await chosen?.close();
    }
  });

  it("refuses a file that is not a GGUF model", async () => {
    const { backend: chosen, notes } = await selectBackend({
      backend: "embedded",
      ollamaHost: "http://127.0.0.1:9",
      ollamaModel: undefined,
      models: undefined,
      ggufPath: fileURLToPath(import.meta.url),
      threads: 1,
      contextSize: 128,
      slots: 1,
    });
    expect(chosen).toBeUndefined();
    expect(notes.join("\n")).toMatch(/embedded backend failed to load/);
  });
});
