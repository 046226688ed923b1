import path from "node:path";
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel } from "node-llama-cpp";
import { getLlama, LlamaChatSession, LlamaCompletion, LlamaLogLevel } from "node-llama-cpp";
import type { LlmOutput } from "../../protocol/index.ts";
import type { LlmBackend, LlmRequest } from "./llm-backend.ts";
import { GenerationAbortedError } from "./llm-backend.ts";

export interface EmbeddedSettings {
  modelPath: string;
  /** CPU threads for generation; on small machines 1 beats 2. */
  threads: number;
  contextSize: number;
  /** Concurrent generations (one context sequence each). */
  slots: number;
}

/** Ollama's default, so a job behaves the same on either backend when the seeker sets none. */
const DEFAULT_TEMPERATURE = 0.8;

/**
 * node-llama-cpp on a local GGUF file. Models with a chat template get a chat session (the
 * prompt as a user turn, `system` as the system prompt); models without one (base models such
 * as stories260K) continue the raw prompt, which is the only thing they can do.
 */
export class EmbeddedBackend implements LlmBackend {
  readonly name = "embedded";
  readonly model: string;
  /** Tokens per sequence actually used: the requested size, capped at what the model was trained on. */
  readonly contextSize: number;
  readonly #llama: Llama;
  readonly #gguf: LlamaModel;
  readonly #context: LlamaContext;
  readonly #chat: boolean;
  readonly #free: LlamaContextSequence[] = [];
  readonly #waiting: ((seq: LlamaContextSequence) => void)[] = [];

  private constructor(llama: Llama, gguf: LlamaModel, context: LlamaContext, modelPath: string) {
    this.#llama = llama;
    this.#gguf = gguf;
    this.#context = context;
    this.model = path.basename(modelPath);
    this.contextSize = context.contextSize;
    this.#chat = typeof gguf.fileInfo.metadata.tokenizer?.chat_template === "string";
    for (let i = 0; i < context.totalSequences; i++) this.#free.push(context.getSequence());
  }

  /** Loads the model and proves it generates a token; rejects with the reason otherwise. */
  static async load(settings: EmbeddedSettings): Promise<EmbeddedBackend> {
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, progressLogs: false });
    try {
      const gguf = await llama.loadModel({ modelPath: settings.modelPath });
      const context = await gguf.createContext({
        contextSize: Math.min(settings.contextSize, gguf.trainContextSize),
        threads: settings.threads,
        sequences: settings.slots,
      });
      const backend = new EmbeddedBackend(llama, gguf, context, settings.modelPath);
      await backend.generate({ prompt: "Hello", maxTokens: 1, temperature: 0, signal: AbortSignal.timeout(30_000), onToken: () => {} });
      return backend;
    } catch (err) {
      await llama.dispose();
      throw err;
    }
  }

  async generate(req: LlmRequest): Promise<LlmOutput> {
    const sequence = await this.#acquire();
    let text = "";
    let tokens = 0;
    const options = {
      maxTokens: req.maxTokens,
      temperature: req.temperature ?? DEFAULT_TEMPERATURE,
      signal: req.signal,
      onTextChunk: (chunk: string) => {
        text += chunk;
        req.onToken(chunk);
      },
      onToken: (t: readonly unknown[]) => {
        tokens += t.length;
      },
    };
    try {
      let stopReason: string;
      if (this.#chat) {
        const session = new LlamaChatSession({
          contextSequence: sequence,
          autoDisposeSequence: false,
          ...(req.system !== undefined && { systemPrompt: req.system }),
        });
        try {
          stopReason = (await session.promptWithMeta(req.prompt, options)).stopReason;
        } finally {
          session.dispose({ disposeSequence: false });
        }
      } else {
        const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
        try {
          const input = req.system !== undefined ? `${req.system}\n\n${req.prompt}` : req.prompt;
          stopReason = (await completion.generateCompletionWithMeta(input, options)).metadata.stopReason;
        } finally {
          completion.dispose({ disposeSequence: false });
        }
      }
      return { text, tokens, finish_reason: stopReason === "maxTokens" ? "length" : "stop", model: this.model, backend: "embedded" };
    } catch (err) {
      if (req.signal.aborted) throw new GenerationAbortedError(text);
      throw new Error(`embedded: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      // The next job must not see this one's tokens.
      await sequence.clearHistory();
      this.#release(sequence);
    }
  }

  async close(): Promise<void> {
    await this.#context.dispose();
    await this.#gguf.dispose();
    await this.#llama.dispose();
  }

  #acquire(): Promise<LlamaContextSequence> {
    const seq = this.#free.pop();
    if (seq !== undefined) return Promise.resolve(seq);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(seq: LlamaContextSequence): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next(seq);
    else this.#free.push(seq);
  }
}
