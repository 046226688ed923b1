import { z } from "zod";
import type { ChatMessage } from "./chat.ts";
import { LIMITS } from "./limits.ts";

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
