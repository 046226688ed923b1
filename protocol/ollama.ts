import { z } from "zod";
import { AnswerProof } from "./answer-proof.ts";
import { LIMITS } from "./limits.ts";
import { ModelName } from "./models.ts";

/**
 * Ollama's `/api/chat` and `/api/generate` requests, the part Dispatch runs. Options workers do
 * not offer (`top_k`, `num_ctx`, `keep_alive`, ...) are accepted and ignored; inputs that would
 * change what is asked (images, tools, structured `format`, raw templates) are refused by name.
 */
export const OllamaOptions = z
  .object({
    /** Tokens to generate; Ollama's -1 (no limit) and -2 (fill the context) mean our maximum. */
    num_predict: z
      .number()
      .int()
      .min(-2)
      .max(LIMITS.maxTokens)
      .refine((n) => n !== 0, "num_predict must be at least 1 (or -1 for our maximum)")
      .nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    stop: z.array(z.string().min(1).max(LIMITS.maxStopChars)).max(LIMITS.maxStopSequences).nullish(),
  })
  .loose();

const noImages = z.array(z.unknown()).max(0, "images are not supported: Dispatch workers read text").nullish();

export const OllamaMessage = z.object({
  role: z.enum(["system", "user", "assistant"], { message: 'role must be "system", "user" or "assistant" (tools are not supported)' }),
  content: z.string().max(LIMITS.maxPromptChars),
  images: noImages,
});

const Common = {
  model: ModelName,
  /** Ollama streams unless told `false`. */
  stream: z.boolean().nullish(),
  options: OllamaOptions.nullish(),
  format: z.unknown().optional(),
  keep_alive: z.unknown().optional(),
};

function refuseFormat(format: unknown, ctx: z.RefinementCtx): void {
  if (format !== undefined && format !== null && format !== "") {
    ctx.addIssue({ code: "custom", path: ["format"], message: "structured output (format) is not supported; use an extract_json TASK" });
  }
}

export const OllamaChatRequest = z
  .object({
    ...Common,
    messages: z.array(OllamaMessage).min(1, "messages must not be empty").max(LIMITS.maxChatMessages),
    tools: z.array(z.unknown()).max(0, "tools are not supported: Dispatch workers answer with text").nullish(),
  })
  .superRefine((r, ctx) => refuseFormat(r.format, ctx));
export type OllamaChatRequest = z.output<typeof OllamaChatRequest>;

export const OllamaGenerateRequest = z
  .object({
    ...Common,
    /** Empty or absent: Ollama's "load the model" call, answered at once with `done_reason: "load"`. */
    prompt: z.string().max(LIMITS.maxPromptChars).nullish(),
    system: z.string().max(LIMITS.maxPromptChars).nullish(),
    images: noImages,
    raw: z.boolean().nullish(),
    template: z.string().max(0, "custom templates are not supported: workers apply their model's own").nullish(),
    suffix: z.string().max(0, "suffix (fill-in-the-middle) is not supported").nullish(),
    context: z.array(z.unknown()).max(0, "context (the deprecated token history) is not supported; use /api/chat").nullish(),
  })
  .superRefine((r, ctx) => {
    refuseFormat(r.format, ctx);
    if (r.raw === true)
      ctx.addIssue({ code: "custom", path: ["raw"], message: "raw prompts are not supported: workers apply their model's template" });
  });
export type OllamaGenerateRequest = z.output<typeof OllamaGenerateRequest>;

/** The final (`done: true`) line of a chat or generate answer; streamed lines carry only the text so far. */
export const OllamaDone = z.object({
  model: z.string(),
  created_at: z.string(),
  done: z.literal(true),
  done_reason: z.string(),
  total_duration: z.number().int(),
  load_duration: z.number().int(),
  prompt_eval_count: z.number().int(),
  prompt_eval_duration: z.number().int(),
  eval_count: z.number().int(),
  eval_duration: z.number().int(),
  /** Ours: the job and its signed receipt. */
  dispatch: AnswerProof,
});

/** Ollama's error body (`{error}`, which its clients read), with our stable code and the job when there is one. */
export const OllamaError = z.object({ error: z.string(), code: z.string().optional(), job_id: z.string().optional() });

/** `GET /api/tags`: the models online workers serve, in Ollama's list shape. */
export const OllamaTags = z.object({
  models: z.array(
    z.object({
      name: z.string(),
      model: z.string(),
      modified_at: z.string(),
      size: z.number().int(),
      digest: z.string(),
      details: z.record(z.string(), z.unknown()),
    }),
  ),
});
