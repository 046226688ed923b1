import { describe, expect, it } from "vitest";
import { chatMessages } from "./chat.ts";
import { CommitBody, LlmPayload } from "./jobs.ts";
import { LIMITS } from "./limits.ts";

function issues(payload: Record<string, unknown>): string[] {
  const parsed = LlmPayload.safeParse(payload);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("LLM job payloads", () => {
  it("still accepts the reference form {prompt, max_tokens}, with the default max_tokens", () => {
    expect(LlmPayload.parse({ prompt: "Tell a story" })).toEqual({ prompt: "Tell a story", max_tokens: LIMITS.defaultMaxTokens });
    const body = CommitBody.parse({ job_type: "LLM_INFER", user_id: "u", payload: { prompt: "hi", max_tokens: 16 } });
    expect(body.payload).toEqual({ job_type: "LLM_INFER", prompt: "hi", max_tokens: 16 });
  });

  it("accepts chat messages with a model, stop sequences and a temperature", () => {
    const payload = {
      model: "llama3.2:3b",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hello!" },
        { role: "user", content: "A haiku, please." },
      ],
      stop: ["\n\n"],
      temperature: 0.2,
    };
    expect(LlmPayload.parse(payload)).toEqual({ ...payload, max_tokens: LIMITS.defaultMaxTokens });
  });

  it("requires exactly one of prompt and messages, saying which", () => {
    expect(issues({ max_tokens: 5 })).toEqual(["prompt: give `prompt` (text) or `messages` (chat turns)"]);
    expect(issues({ prompt: "a", messages: [{ role: "user", content: "b" }] })).toEqual([
      "messages: give either `prompt` or `messages`, not both",
    ]);
  });

  it("refuses chats without a user turn, unknown roles and empty lists", () => {
    expect(issues({ messages: [{ role: "system", content: "x" }] })).toEqual(["messages: messages must include at least one user turn"]);
    expect(issues({ messages: [{ role: "tool", content: "x" }] })[0]).toMatch(/^messages\.0\.role:/);
    expect(issues({ messages: [] })).toEqual(["messages: messages must not be empty"]);
    expect(issues({ messages: [{ role: "user" }] })[0]).toMatch(/^messages\.0\.content:/);
  });

  it("bounds the conversation: turns, total characters, stop sequences and the model name", () => {
    const turn = { role: "user", content: "x" };
    expect(issues({ messages: Array(LIMITS.maxChatMessages + 1).fill(turn) })[0]).toMatch(/^messages:/);
    const half = "y".repeat(LIMITS.maxPromptChars / 2);
    expect(
      issues({
        messages: [
          { role: "user", content: half },
          { role: "user", content: half },
        ],
        system: "z",
      }),
    ).toEqual([
      `messages: messages (with system) must total at most ${LIMITS.maxPromptChars} characters, got ${LIMITS.maxPromptChars + 1}`,
    ]);
    expect(issues({ prompt: "p", stop: ["a", "b", "c", "d", "e"] })[0]).toMatch(/^stop:/);
    expect(issues({ prompt: "p", stop: [""] })[0]).toMatch(/^stop\.0:/);
    expect(issues({ prompt: "p", model: "bad model; drop table" })[0]).toMatch(/^model: model may hold letters/);
    expect(issues({ prompt: "p", model: "m".repeat(LIMITS.maxModelNameChars + 1) })[0]).toMatch(/^model: model must be at most 128/);
  });

  it("names the payload field in a commit body error", () => {
    const parsed = CommitBody.safeParse({ job_type: "LLM_INFER", user_id: "u", payload: { max_tokens: 3 } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(["payload", "prompt"]);
  });
});

describe("chatMessages", () => {
  it("turns a prompt and a system text into a system turn and a user turn", () => {
    expect(chatMessages({ prompt: "Hi", system: "Be brief." })).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "Hi" },
    ]);
    expect(chatMessages({ prompt: "Hi" })).toEqual([{ role: "user", content: "Hi" }]);
  });

  it("keeps messages as given, after the system text when there is one", () => {
    const messages = [
      { role: "user" as const, content: "Hi" },
      { role: "assistant" as const, content: "Hello" },
    ];
    expect(chatMessages({ messages })).toEqual(messages);
    expect(chatMessages({ messages, system: "S" })).toEqual([{ role: "system", content: "S" }, ...messages]);
  });
});
