import { fromOpenAiMessages, LIMITS, LlmOutput, OpenAiMessages } from "../protocol/index.ts";
import { AsyncQueue } from "./async-queue.ts";
import { DispatchError } from "./errors.ts";
import type { ChatRequest, ChatResult, ChatStream, LlmResult } from "./types.ts";

/** The LLM_INFER payload for an OpenAI-shaped chat request; the rest is checked with the commit body. */
export function chatPayload(req: ChatRequest): Record<string, unknown> {
  const parsed = OpenAiMessages.safeParse(req.messages);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = ["messages", ...(issue?.path ?? [])].join(".");
    throw new DispatchError("invalid_request", `invalid chat: ${field}: ${issue?.message ?? "invalid"}`, { field });
  }
  return {
    messages: fromOpenAiMessages(parsed.data),
    max_tokens: req.max_tokens ?? LIMITS.defaultMaxTokens,
    ...(req.model === undefined ? {} : { model: req.model }),
    ...(req.temperature === undefined ? {} : { temperature: req.temperature }),
    ...(req.stop === undefined ? {} : { stop: [req.stop].flat() }),
  };
}

/** An LLM result in OpenAI's terms: the assistant message, the model, the finish reason and usage. */
export function chatResult(result: LlmResult): ChatResult {
  const base = { ...result, message: { role: "assistant" as const, content: result.text } };
  const out = LlmOutput.safeParse(result.output);
  if (!out.success) {
    // A hosted answer ({text, model}) or an output from a worker that predates LlmOutput.
    const model = (result.output as { model?: unknown } | null)?.model;
    return { ...base, model: typeof model === "string" ? model : null, finish_reason: null, usage: null };
  }
  const prompt = out.data.prompt_tokens ?? null;
  return {
    ...base,
    model: out.data.model,
    finish_reason: out.data.finish_reason,
    usage: { prompt_tokens: prompt, completion_tokens: out.data.tokens, total_tokens: prompt === null ? null : prompt + out.data.tokens },
  };
}

/**
 * Runs a chat with a token callback and hands its tokens out as an async iterator. Once the
 * result has verified, whatever the live stream missed of its text is the last delta, so the
 * deltas always add up to the verified answer.
 */
export function streamChat(run: (onToken: (text: string) => void) => Promise<ChatResult>): ChatStream {
  const deltas = new AsyncQueue<string>();
  let streamed = "";
  const result = run((text) => {
    streamed += text;
    deltas.push(text);
  }).then(
    (answer) => {
      // Text that diverged from the answer (a re-run on another worker) cannot be taken back; `result` has the truth.
      if (answer.text.length > streamed.length && answer.text.startsWith(streamed)) deltas.push(answer.text.slice(streamed.length));
      deltas.end();
      return answer;
    },
    (err: unknown) => {
      deltas.fail(err);
      throw err;
    },
  );
  // The iterator reports the failure too: a caller who only iterates must not get an unhandled rejection.
  result.catch(() => {});
  return { result, [Symbol.asyncIterator]: () => deltas[Symbol.asyncIterator]() };
}
