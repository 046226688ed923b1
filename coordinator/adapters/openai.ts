import { type ChatCompletionRequest, fromOpenAiMessages, LIMITS, type OpenAiError, type Tier } from "../../protocol/index.ts";
import type { LlmAnswer, LlmFailure } from "../llm-answer.ts";
import type { LlmAsk } from "../routes/llm-request.ts";

/**
 * The OpenAI dialect at the edge: a chat completion request becomes an LLM_INFER payload, and
 * an answer becomes `chat.completion` or `chat.completion.chunk` objects and OpenAI's error
 * shape. The job id and signed receipt ride along (`dispatch`, `x-dispatch-*` headers).
 */

/** The job a chat completion request asks for. */
export function chatAsk(req: ChatCompletionRequest): LlmAsk {
  const stop = req.stop == null ? undefined : [req.stop].flat();
  return {
    payload: {
      model: req.model,
      messages: fromOpenAiMessages(req.messages),
      max_tokens: req.max_completion_tokens ?? req.max_tokens ?? LIMITS.defaultMaxTokens,
      ...(req.temperature == null ? {} : { temperature: req.temperature }),
      ...(stop === undefined || stop.length === 0 ? {} : { stop }),
    },
    user: req.user,
    tier: serviceTier(req.service_tier),
  };
}

function serviceTier(tier: ChatCompletionRequest["service_tier"]): Tier | null {
  return tier === "flex" ? "CHEAP" : tier == null ? null : "FAST";
}

const completionId = (jobId: string) => `chatcmpl-${jobId}`;

function createdOf(answer: LlmAnswer): number {
  return Math.floor(Date.parse(answer.view.created_at) / 1000);
}

function usage(answer: LlmAnswer): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  // A backend that did not count the prompt reports 0: OpenAI clients expect numbers here.
  const prompt = answer.output?.prompt_tokens ?? 0;
  const completion = answer.output?.tokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** The non-streamed answer. */
export function chatCompletion(answer: LlmAnswer, requestedModel: string): Record<string, unknown> {
  return {
    id: completionId(answer.jobId),
    object: "chat.completion",
    created: createdOf(answer),
    model: answer.output?.model ?? requestedModel,
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: answer.text },
        finish_reason: answer.output?.finish_reason ?? "stop",
        logprobs: null,
      },
    ],
    usage: usage(answer),
    dispatch: answer.proof,
  };
}

/** Writes `chat.completion.chunk` events for one streamed answer. */
export class ChunkWriter {
  private readonly id: string;
  private readonly model: string;
  private readonly created = Math.floor(Date.now() / 1000);
  private readonly includeUsage: boolean;

  constructor(jobId: string, model: string, includeUsage: boolean) {
    this.id = completionId(jobId);
    this.model = model;
    this.includeUsage = includeUsage;
  }

  private event(choices: unknown[], extra: Record<string, unknown> = {}): string {
    // No `event:` name: OpenAI clients skip named events.
    return `data: ${JSON.stringify({ id: this.id, object: "chat.completion.chunk", created: this.created, model: this.model, choices, ...extra })}\n\n`;
  }

  /** The opening chunk names the role, as OpenAI's does. */
  start(): string {
    return this.event([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]);
  }

  delta(text: string): string {
    return this.event([{ index: 0, delta: { content: text }, finish_reason: null }]);
  }

  /** The finish reason, the usage chunk when asked for, then `[DONE]`; the last chunk carries the proof. */
  end(answer: LlmAnswer): string {
    const finish = [{ index: 0, delta: {}, finish_reason: answer.output?.finish_reason ?? "stop" }];
    if (!this.includeUsage) return `${this.event(finish, { dispatch: answer.proof })}data: [DONE]\n\n`;
    return `${this.event(finish)}${this.event([], { usage: usage(answer), dispatch: answer.proof })}data: [DONE]\n\n`;
  }

  /** A failure mid-stream: OpenAI clients throw on a data object carrying `error`. */
  error(failure: LlmFailure): string {
    return `data: ${JSON.stringify(openAiError(failure.status, failure.code, failure.message, null, failure.jobId))}\n\n`;
  }
}

/** OpenAI's error type for a status, so clients raise the matching error class. */
function errorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 402) return "payment_required";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** OpenAI's error body; our stable code is `code` (OpenAI's own `model_not_found` for a model no worker serves). */
export function openAiError(status: number, code: string, message: string, param: string | null, jobId: string | null = null): OpenAiError {
  return {
    error: {
      message: jobId === null || message.includes(jobId) ? message : `${message} (job ${jobId})`,
      type: errorType(status),
      code: code === "model_not_served" ? "model_not_found" : code,
      param,
    },
  };
}
