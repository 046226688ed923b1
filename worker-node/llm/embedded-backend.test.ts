import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedBackend } from "./embedded-backend.ts";
import { GenerationAbortedError } from "./llm-backend.ts";
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

async function generate(prompt: string, opts: { maxTokens?: number; temperature?: number; signal?: AbortSignal } = {}) {
  const chunks: string[] = [];
  const out = await backend.generate({
    prompt,
    maxTokens: opts.maxTokens ?? 40,
    temperature: opts.temperature ?? 0,
    signal: opts.signal ?? AbortSignal.timeout(20_000),
    onToken: (t) => chunks.push(t),
  });
  return { out, chunks };
}

describe("embedded backend (node-llama-cpp, stories260K)", () => {
  it("continues the prompt with the model's own story, streaming it in pieces", async () => {
    const { out, chunks } = await generate("Once upon a time", { maxTokens: 30 });
    expect(out.backend).toBe("embedded");
    expect(out.model).toBe("stories260K-f16.gguf");
    expect(out.text).toMatch(/^, there was a little girl named Lily/);
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.join("")).toBe(out.text);
  });

  it("is deterministic at temperature 0, across calls and slots", async () => {
    const [a, b] = await Promise.all([generate("Once upon a time"), generate("Once upon a time")]);
    const c = await generate("Once upon a time");
    expect(a.out.text).toBe(b.out.text);
    expect(c.out.text).toBe(a.out.text);
  });

  it("does not carry one job's context into the next", async () => {
    const first = await generate("The dog ran to the park", { maxTokens: 20 });
    await generate("Once upon a time", { maxTokens: 20 });
    const again = await generate("The dog ran to the park", { maxTokens: 20 });
    expect(again.out.text).toBe(first.out.text);
  });

  it("stops at max_tokens and says so", async () => {
    const { out } = await generate("Once upon a time", { maxTokens: 5 });
    expect(out.tokens).toBe(5);
    expect(out.finish_reason).toBe("length");
  });

  it("aborts when the signal fires", async () => {
    const controller = new AbortController();
    const pending = backend.generate({
      prompt: "Once upon a time",
      maxTokens: 4000,
      temperature: 0.8,
      signal: controller.signal,
      onToken: () => controller.abort(),
    });
    await expect(pending).rejects.toBeInstanceOf(GenerationAbortedError);
  });

  it("is chosen by auto mode when no Ollama answers", async () => {
    const { backend: chosen, notes } = await selectBackend({
      backend: "auto",
      ollamaHost: "http://127.0.0.1:9",
      ollamaModel: "llama3.2",
      ggufPath: MODEL,
      threads: 1,
      contextSize: 128,
      slots: 1,
    });
    try {
      expect(chosen?.name).toBe("embedded");
      expect(notes[0]).toMatch(/no Ollama at/);
    } finally {
      await chosen?.close();
    }
  });

  it("refuses a file that is not a GGUF model", async () => {
    const { backend: chosen, notes } = await selectBackend({
      backend: "embedded",
      ollamaHost: "http://127.0.0.1:9",
      ollamaModel: "x",
      ggufPath: fileURLToPath(import.meta.url),
      threads: 1,
      contextSize: 128,
      slots: 1,
    });
    expect(chosen).toBeUndefined();
    expect(notes.join("\n")).toMatch(/embedded backend failed to load/);
  });
});
