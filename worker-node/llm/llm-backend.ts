import type { ChatMessage, LlmOutput } from "../../protocol/index.ts";
import type { ModelLists } from "./model-inventory.ts";

export interface LlmRequest {
  /** A model the backend serves, as `resolveModel` named it. */
  model: string;
  /** The conversation to answer (`chatMessages` turns a reference prompt into one). */
  messages: ChatMessage[];
  maxTokens: number;
  temperature?: number;
  /** Generation ends before any of these; they are left out of the text. */
  stop?: string[];
  /** Aborted at the job deadline, on `job_cancel`, or on shutdown. */
  signal: AbortSignal;
  /** Called with each piece of generated text, in order, as it is produced. */
  onToken: (text: string) => void;
}

/** A working LLM: only constructed after a probe proved it answers. */
export interface LlmBackend {
  readonly name: LlmOutput["backend"];
  /** The model a job that names none runs on. */
  readonly defaultModel: string;
  /** The models served and loaded now, default first. */
  models(): ModelLists;
  /** The served name for a job's `model` (any model when absent), or undefined when not served. */
  resolveModel(requested: string | undefined): string | undefined;
  /** Looks again at what is served and loaded (a no-op where that cannot change). */
  refresh(): Promise<void>;
  /** Calls `listener` whenever the model lists change; returns the unsubscribe function. */
  onModelsChange(listener: (lists: ModelLists) => void): () => void;
  /** Rejects on failure or abort; never returns text the model did not produce. */
  generate(request: LlmRequest): Promise<LlmOutput>;
  close(): Promise<void>;
}

/** Thrown by a backend when the request's signal aborts generation. */
export class GenerationAbortedError extends Error {
  override name = "GenerationAbortedError";
  readonly partial: string;

  constructor(partial: string) {
    super("generation aborted");
    this.partial = partial;
  }
}
