import type { LlmOutput } from "../../protocol/index.ts";

export interface LlmRequest {
  prompt: string;
  system?: string;
  maxTokens: number;
  temperature?: number;
  /** Aborted at the job deadline, on `job_cancel`, or on shutdown. */
  signal: AbortSignal;
  /** Called with each piece of generated text, in order, as it is produced. */
  onToken: (text: string) => void;
}

/** A working LLM: only constructed after a probe proved it answers. */
export interface LlmBackend {
  readonly name: LlmOutput["backend"];
  readonly model: string;
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
