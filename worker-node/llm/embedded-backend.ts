import path from "node:path";
import type { ChatHistoryItem, ChatWrapper, Llama, LlamaContext, LlamaContextSequence, LlamaModel } from "node-llama-cpp";
import { getLlama, LlamaChat, LlamaCompletion, LlamaLogLevel, resolveChatWrapper } from "node-llama-cpp";
import type { ChatMessage, LlmOutput } from "../../protocol/index.ts";
import { LIMITS, MODEL_NAME, modelKey } from "../../protocol/index.ts";
import type { LlmBackend, LlmRequest } from "./llm-backend.ts";
import { GenerationAbortedError } from "./llm-backend.ts";
import { ModelInventory, type ModelLists } from "./model-inventory.ts";
import { StopFilter } from "./stop-filter.ts";

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
 * node-llama-cpp on a local GGUF file, serving that one model. A model whose GGUF carries a
 * chat template gets the conversation rendered through it (node-llama-cpp picks the matching
 * chat wrapper); a base model without one (stories260K) gets plain text to continue.
 */
export class EmbeddedBackend implements LlmBackend {
  readonly name = "embedded";
  readonly defaultModel: string;
  /** Tokens per sequence actually used: the requested size, capped at what the model was trained on. */
  readonly contextSize: number;
  /** How conversations reach the model: the chat wrapper's name, or "plain text" for base models. */
  readonly promptFormat: string;
  readonly #llama: Llama;
  readonly #gguf: LlamaModel;
  readonly #context: LlamaContext;
  readonly #chatWrapper: ChatWrapper | undefined;
  readonly #inventory: ModelInventory;
  /** Other names a seeker may use for this model: the file name, with and without `.gguf`. */
  readonly #aliases: Set<string>;
  readonly #free: LlamaContextSequence[] = [];
  readonly #waiting: ((seq: LlamaContextSequence) => void)[] = [];

  private constructor(llama: Llama, gguf: LlamaModel, context: LlamaContext, modelPath: string) {
    this.#llama = llama;
    this.#gguf = gguf;
    this.#context = context;
    this.contextSize = context.contextSize;
    this.defaultModel = modelName(gguf, modelPath);
    // The embedded model is in memory for the life of the process: always loaded.
    this.#inventory = new ModelInventory(this.defaultModel, { models: [this.defaultModel], loaded: [this.defaultModel] });
    const file = path.basename(modelPath);
    this.#aliases = new Set([file, file.replace(/\.gguf$/i, "")].map(modelKey));
    // Only a template the file itself declares: node-llama-cpp would otherwise guess a wrapper
    // from the architecture (Llama 2's for stories260K), a format the model never saw.
    const hasTemplate = typeof gguf.fileInfo.metadata.tokenizer?.chat_template === "string";
    this.#chatWrapper = hasTemplate ? resolveChatWrapper(gguf) : undefined;
    this.promptFormat = this.#chatWrapper === undefined ? "plain text" : `chat template (${this.#chatWrapper.wrapperName})`;
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
      await backend.generate({
        model: backend.defaultModel,
        messages: [{ role: "user", content: "Hello" }],
        maxTokens: 1,
        temperature: 0,
        signal: AbortSignal.timeout(30_000),
        onToken: () => {},
      });
      return backend;
    } catch (err) {
      await llama.dispose();
      throw err;
    }
  }

  models(): ModelLists {
    return this.#inventory.lists;
  }

  resolveModel(requested: string | undefined): string | undefined {
    const served = this.#inventory.resolve(requested);
    if (served !== undefined || requested === undefined) return served;
    return this.#aliases.has(modelKey(requested)) ? this.defaultModel : undefined;
  }

  async refresh(): Promise<void> {}

  onModelsChange(listener: (lists: ModelLists) => void): () => void {
    return this.#inventory.onChange(listener);
  }

  async generate(req: LlmRequest): Promise<LlmOutput> {
    const sequence = await this.#acquire();
    let text = "";
    let tokens = 0;
    const emit = (chunk: string): void => {
      text += chunk;
      req.onToken(chunk);
    };
    const stops = req.stop === undefined ? undefined : new StopFilter(req.stop, emit);
    // A stop sequence ends generation through this signal; the caller's signal still means failure.
    const stopper = new AbortController();
    const options = {
      maxTokens: req.maxTokens,
      temperature: req.temperature ?? DEFAULT_TEMPERATURE,
      signal: AbortSignal.any([req.signal, stopper.signal]),
      stopOnAbortSignal: true,
      onTextChunk: (chunk: string) => {
        if (stops === undefined) emit(chunk);
        else if (stops.push(chunk)) stopper.abort();
      },
      onToken: (t: readonly unknown[]) => {
        tokens += t.length;
      },
    };
    try {
      let stopReason: string;
      let promptTokens: number;
      if (this.#chatWrapper !== undefined) {
        const history = chatHistory(req.messages);
        promptTokens = this.#chatWrapper.generateContextState({ chatHistory: history }).contextText.tokenize(this.#gguf.tokenizer).length;
        const chat = new LlamaChat({ contextSequence: sequence, chatWrapper: this.#chatWrapper, autoDisposeSequence: false });
        try {
          stopReason = (await chat.generateResponse(history, options)).metadata.stopReason;
        } finally {
          chat.dispose({ disposeSequence: false });
        }
      } else {
        const input = plainText(req.messages);
        promptTokens = this.#gguf.tokenize(input).length + (this.#gguf.tokens.shouldPrependBosToken ? 1 : 0);
        const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
        try {
          stopReason = (await completion.generateCompletionWithMeta(input, options)).metadata.stopReason;
        } finally {
          completion.dispose({ disposeSequence: false });
        }
      }
      if (req.signal.aborted) throw new GenerationAbortedError(text);
      stops?.flush();
      return {
        text,
        tokens,
        prompt_tokens: promptTokens,
        finish_reason: stopReason === "maxTokens" && !stops?.stopped ? "length" : "stop",
        model: this.defaultModel,
        backend: "embedded",
      };
    } catch (err) {
      if (err instanceof GenerationAbortedError) throw err;
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

/**
 * The name the model is served under: the GGUF's `general.name` when the protocol can carry
 * it (real releases often use spaces there), else the file name without `.gguf`.
 */
export function modelName(gguf: Pick<LlamaModel, "fileInfo">, modelPath: string): string {
  const valid = (n: string) => n.length <= LIMITS.maxModelNameChars && MODEL_NAME.test(n);
  const declared = gguf.fileInfo.metadata.general?.name;
  if (typeof declared === "string" && valid(declared)) return declared;
  const stem = path
    .basename(modelPath)
    .replace(/\.gguf$/i, "")
    .replace(/[^A-Za-z0-9._:/-]+/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, LIMITS.maxModelNameChars);
  return valid(stem) ? stem : "embedded-model";
}

/** The conversation as node-llama-cpp's chat history; a trailing assistant turn is continued, not repeated. */
function chatHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((m) =>
    m.role === "assistant" ? { type: "model", response: [m.content] } : { type: m.role, text: m.content },
  );
  if (history.at(-1)?.type !== "model") history.push({ type: "model", response: [] });
  return history;
}

/**
 * The fallback for models without a chat template. A base model has no notion of turns, and a
 * "User:/Assistant:" format it was never trained on would only be a guess, so the turns are
 * joined as text for it to continue. For the reference form (an optional system text and one
 * prompt) this is exactly what that form always sent: `system`, a blank line, the prompt.
 */
function plainText(messages: ChatMessage[]): string {
  return messages.map((m) => m.content).join("\n\n");
}
