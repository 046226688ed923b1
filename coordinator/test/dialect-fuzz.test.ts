import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { api } from "./support.ts";

// Bodies shaped like the dialects' requests, so the generator reaches deep into validation.
const value = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
);
const message = fc.record(
  {
    role: fc.oneof(fc.constantFrom("system", "developer", "user", "assistant", "tool"), value),
    content: fc.oneof(fc.string({ maxLength: 30 }), value),
    images: value,
  },
  { requiredKeys: [] },
);
const dialectLike = fc.record(
  {
    model: fc.oneof(fc.constantFrom("alpha", "ghost:1b"), value),
    messages: fc.oneof(fc.array(message, { maxLength: 4 }), value),
    prompt: value,
    system: value,
    stream: fc.oneof(fc.boolean(), value),
    max_tokens: value,
    max_completion_tokens: value,
    temperature: value,
    stop: value,
    n: value,
    tools: value,
    service_tier: value,
    stream_options: value,
    options: fc.oneof(fc.record({ num_predict: value, temperature: value, stop: value }, { requiredKeys: [] }), value),
    format: value,
    raw: value,
    context: value,
  },
  { requiredKeys: [] },
);

// Mostly valid requests with a few knobs set to edge values, so some get past validation to the object.
const nearlyValid = fc
  .record({
    model: fc.constantFrom("alpha", "ghost:1b"),
    stream: fc.boolean(),
    knobs: fc.record(
      {
        max_tokens: fc.oneof(fc.integer({ min: -3, max: 5000 }), value),
        temperature: fc.oneof(fc.double({ min: -1, max: 3, noNaN: true }), value),
        stop: fc.oneof(fc.array(fc.string({ maxLength: 70 }), { maxLength: 6 }), value),
        options: fc.record(
          { num_predict: fc.integer({ min: -3, max: 5000 }), stop: fc.array(fc.string({ maxLength: 8 }), { maxLength: 5 }) },
          { requiredKeys: [] },
        ),
        user: fc.oneof(fc.string({ maxLength: 140 }), value),
        service_tier: fc.oneof(fc.constantFrom("flex", "default", "auto"), value),
      },
      { requiredKeys: [] },
    ),
  })
  .map(({ model, stream, knobs }) => ({ model, stream, messages: [{ role: "user", content: "hi" }], prompt: "hi", ...knobs }));

const ROUTES = ["/monad/v1/chat/completions", "/solana/v1/chat/completions", "/monad/api/chat", "/api/generate"] as const;

describe("property: hostile input to the OpenAI and Ollama surfaces never causes a 500", () => {
  it("answers random bodies with a 4xx in the dialect's own error shape (no worker serves anything here)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          dialectLike.map((b) => JSON.stringify(b)),
          nearlyValid.map((b) => JSON.stringify(b)),
          fc.string({ maxLength: 200 }),
        ),
        fc.constantFrom(...ROUTES),
        async (body, route) => {
          const res = await api(route, { method: "POST", headers: { "content-type": "application/json" }, body });
          const text = await res.text();
          expect(res.status >= 400 && res.status < 500, `${res.status} ${text} for ${route} ${body}`).toBe(true);
          const error = (JSON.parse(text) as { error: unknown }).error;
          if (route.includes("/v1/")) expect(typeof (error as { message?: unknown }).message).toBe("string");
          else expect(typeof error).toBe("string");
        },
      ),
      { numRuns: 200 },
    );
  });
});
