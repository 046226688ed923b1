import { z } from "zod";
import { AnswerProof } from "./answer-proof.ts";
import type { ChatMessage } from "./chat.ts";
import { LIMITS } from "./limits.ts";
import { ModelName } from "./models.ts";

/**
 * OpenAI chat messages as agents send them, for the surfaces that accept that dialect (the
 * SDK's `chat`, the coordinator's `/v1/chat/completions`). Text only: a role or content part
 * a worker cannot run (tools, images) is refused by name rather than silently dropped.
 */
export const OpenAiTextPart = z.object({ type: z.literal("text"), text: z.string() });

export const OpenAiMessage = z.object({
  /** `developer` is OpenAI's newer name for `system`. */
  role: z.enum(["system", "developer", "user", "assistant"]),
  content: z.union([z.string(), z.array(OpenAiTextPart).max(LIMITS.maxChatMessages)]),
  name: z.string().max(64).optional(),
});
export type OpenAiMessage = z.input<typeof OpenAiMessage>;

export const OpenAiMessages = z.array(OpenAiMessage).min(1, "messages must not be empty").max(LIMITS.maxChatMessages);

/** Our chat turns from already-parsed OpenAI messages: text parts joined, `developer` as `system`. */
export function fromOpenAiMessages(messages: z.output<typeof OpenAiMessages>): ChatMessage[] {
  return messages.map((m) => ({
    role: m.role === "developer" ? "system" : m.role,
    content: typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join(""),
  }));
}

const Stop = z.string().min(1).max(LIMITS.maxStopChars);

/**
 * `POST /v1/chat/completions`, the part of OpenAI's request Dispatch runs. Sampling knobs
 * workers do not offer (`top_p`, penalties, `seed`, `logit_bias`, `metadata`...) are accepted
 * and ignored, as unknown keys are; features that would change the answer's shape (tools,
 * several choices, log probabilities, JSON modes, audio) are refused by name.
 */
export const ChatCompletionRequest = z
  .object({
    model: ModelName,
    messages: OpenAiMessages,
    /** OpenAI's older name for `max_completion_tokens`; either bounds the answer. */
    max_tokens: z.number().int().min(1).max(LIMITS.maxTokens).nullish(),
    max_completion_tokens: z.number().int().min(1).max(LIMITS.maxTokens).nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    stop: z.union([Stop, z.array(Stop).max(LIMITS.maxStopSequences)]).nullish(),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
    /** Becomes the job's `user_id`; a signed request's user is its signer. */
    user: z.string().min(1).max(LIMITS.maxUserIdChars).nullish(),
    /** `flex` runs the job at the CHEAP tier; anything else at FAST. */
    service_tier: z.enum(["auto", "default", "flex", "priority", "scale"]).nullish(),
    n: z.number().int().nullish(),
    tools: z.array(z.unknown()).nullish(),
    functions: z.array(z.unknown()).nullish(),
    logprobs: z.boolean().nullish(),
    response_format: z.object({ type: z.string() }).loose().nullish(),
    modalities: z.array(z.string()).nullish(),
    audio: z.unknown().optional(),
  })
  .superRefine((r, ctx) => {
    const refuse = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
    if (r.n !== null && r.n !== undefined && r.n !== 1) refuse("n", "only n = 1 is supported: each job gives one answer");
    if (r.tools && r.tools.length > 0) refuse("tools", "tools are not supported: Dispatch workers answer with text");
    if (r.functions && r.functions.length > 0) refuse("functions", "functions are not supported: Dispatch workers answer with text");
    if (r.logprobs === true) refuse("logprobs", "log probabilities are not supported");
    if (r.response_format && r.response_format.type !== "text") {
      refuse("response_format", 'only response_format {type: "text"} is supported; use an extract_json TASK for JSON');
    }
    if (r.modalities?.some((m) => m !== "text")) refuse("modalities", "only the text modality is supported");
    if (r.audio !== undefined && r.audio !== null) refuse("audio", "audio output is not supported");
  });
export type ChatCompletionRequest = z.output<typeof ChatCompletionRequest>;

/** OpenAI's error body, `{error: {message, type, code, param}}`, which OpenAI clients turn into typed errors. */
export const OpenAiError = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    code: z.string().nullable(),
    param: z.string().nullable(),
  }),
});
export type OpenAiError = z.infer<typeof OpenAiError>;

export const ChatUsage = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
});

/** A non-streamed answer (`chat.completion`), with `dispatch` carrying what proves it. */
export const ChatCompletion = z.object({
  id: z.string(),
  object: z.literal("chat.completion"),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({ role: z.literal("assistant"), content: z.string() }),
      finish_reason: z.enum(["stop", "length"]),
      logprobs: z.null(),
    }),
  ),
  usage: ChatUsage,
  /** Ours: the job and its signed receipt (also in the `x-dispatch-receipt` header). */
  dispatch: AnswerProof,
});
