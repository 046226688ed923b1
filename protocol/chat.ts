import { z } from "zod";
import { LIMITS } from "./limits.ts";

export const ChatRole = z.enum(["system", "user", "assistant"]);
export type ChatRole = z.infer<typeof ChatRole>;

/** One chat turn, OpenAI's shape narrowed to text content. */
export const ChatMessage = z.object({
  role: ChatRole,
  content: z.string().max(LIMITS.maxPromptChars),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

/** The two ways an LLM job states its input; exactly one of `prompt` and `messages` is set. */
export interface LlmInput {
  prompt?: string | undefined;
  messages?: ChatMessage[] | undefined;
  system?: string | undefined;
}

/**
 * The conversation a job asks for, whichever form it came in: `messages` as given, or the
 * reference `prompt` as one user turn. `system` becomes the first turn in both forms, so a
 * backend has one shape to render.
 */
export function chatMessages(input: LlmInput): ChatMessage[] {
  const system: ChatMessage[] = input.system === undefined ? [] : [{ role: "system", content: input.system }];
  if (input.messages !== undefined) return [...system, ...input.messages];
  return [...system, { role: "user", content: input.prompt ?? "" }];
}
