import type { z } from "zod";
import {
  LIMITS,
  type ModelsResponse,
  type OllamaChatRequest,
  type OllamaGenerateRequest,
  type OllamaOptions,
} from "../../protocol/index.ts";
import type { LlmAnswer, LlmFailure } from "../llm-answer.ts";
import type { LlmAsk } from "../routes/llm-request.ts";

/**
 * The Ollama dialect at the edge: `/api/chat` and `/api/generate` requests become LLM_INFER
 * payloads; answers become Ollama's NDJSON lines (text pieces, then a `done: true` line with
 * counts and nanosecond durations) and its `{error}` shape. The job id and signed receipt ride
 * on the final line (`dispatch`) and, unstreamed, in `x-dispatch-*` headers.
 */

/** The API level whose `/api` subset these routes follow (what `GET /api/version` reports). */
export const OLLAMA_API_VERSION = "0.12.0";

export type OllamaKind = "chat" | "generate";

function sampling(options: z.output<typeof OllamaOptions> | null | undefined): Record<string, unknown> {
  const n = options?.num_predict;
  return {
    // Ollama's -1 (no limit) and -2 (fill the context) are bounded by our maximum.
    max_tokens: n == null ? LIMITS.defaultMaxTokens : n < 0 ? LIMITS.maxTokens : n,
    ...(options?.temperature == null ? {} : { temperature: options.temperature }),
    ...(options?.stop == null || options.stop.length === 0 ? {} : { stop: options.stop }),
  };
}

export function chatAsk(req: OllamaChatRequest): LlmAsk {
  return {
    payload: { model: req.model, messages: req.messages.map((m) => ({ role: m.role, content: m.content })), ...sampling(req.options) },
  };
}

export function generateAsk(req: OllamaGenerateRequest & { prompt: string }): LlmAsk {
  return {
    payload: {
      model: req.model,
      prompt: req.prompt,
      ...(req.system == null || req.system === "" ? {} : { system: req.system }),
      ...sampling(req.options),
    },
  };
}

/** One NDJSON line. */
export function line(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

function piece(kind: OllamaKind, model: string, text: string): Record<string, unknown> {
  const base = { model, created_at: new Date().toISOString() };
  return kind === "chat" ? { ...base, message: { role: "assistant", content: text } } : { ...base, response: text };
}

/** A streamed piece of text. */
export function pieceLine(kind: OllamaKind, model: string, text: string): string {
  return line({ ...piece(kind, model, text), done: false });
}

const ns = (ms: number) => Math.max(0, Math.round(ms * 1_000_000));

/** The final object: the whole text when unstreamed (`text`), empty after streamed pieces; counts, durations, proof. */
export function doneObject(kind: OllamaKind, model: string, answer: LlmAnswer, text = ""): Record<string, unknown> {
  const { view, output } = answer;
  const created = Date.parse(view.created_at);
  const completed = view.completed_at === null ? Date.now() : Date.parse(view.completed_at);
  const assigned = view.assigned_at === null ? created : Date.parse(view.assigned_at);
  return {
    ...piece(kind, output?.model ?? model, text),
    done: true,
    done_reason: output?.finish_reason ?? "stop",
    total_duration: ns(completed - created),
    load_duration: 0,
    prompt_eval_count: output?.prompt_tokens ?? 0,
    prompt_eval_duration: 0,
    eval_count: output?.tokens ?? 0,
    eval_duration: ns(completed - assigned),
    dispatch: answer.proof,
  };
}

/** Ollama's answer to a generate call with no prompt: the model is ready. */
export function loadedObject(model: string): Record<string, unknown> {
  return { model, created_at: new Date().toISOString(), response: "", done: true, done_reason: "load" };
}

/** Ollama's error shape is `{error: message}`; ours adds the stable code and the job. */
export function ollamaError(code: string, message: string, jobId: string | null = null): Record<string, string> {
  return { error: message, code, ...(jobId === null ? {} : { job_id: jobId }) };
}

export function failureLine(failure: LlmFailure): string {
  return line(ollamaError(failure.code, failure.message, failure.jobId));
}

/** `GET /api/tags` from the models online. */
export function tags(models: ModelsResponse): Record<string, unknown> {
  return {
    models: models.data.map((m) => ({
      name: m.id,
      model: m.id,
      modified_at: new Date(0).toISOString(),
      size: 0,
      digest: "",
      details: { format: "", family: "", families: null, parameter_size: "", quantization_level: "" },
      workers: m.workers ?? 0,
      loaded: m.loaded ?? 0,
    })),
  };
}
