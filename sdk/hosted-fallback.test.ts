import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { generateKeyPair } from "../protocol/index.ts";
import { ComputeRouter } from "./router.ts";
import {
  completedJob,
  failedJob,
  json,
  MONAD,
  paymentRequiredHeader,
  type RecordedRequest,
  scriptedFetch,
} from "./test-support/builders.ts";
import { type FakeHostedServer, startHostedServer } from "./test-support/hosted-servers.ts";
import type { FetchLike } from "./types.ts";

let openai: FakeHostedServer;
let anthropic: FakeHostedServer;

beforeAll(async () => {
  openai = await startHostedServer("openai", "from openai");
  anthropic = await startHostedServer("anthropic", "from anthropic");
});
afterAll(async () => {
  await openai.close();
  await anthropic.close();
});
beforeEach(() => {
  openai.requests.length = 0;
  anthropic.requests.length = 0;
  openai.reply.status = 200;
  openai.reply.text = "from openai";
});

/** Coordinator calls are scripted; everything else (the hosted servers) goes over real HTTP. */
function routed(coordinator: (req: RecordedRequest) => Response | Promise<Response>): FetchLike {
  const scripted = scriptedFetch(coordinator);
  return (input, init) => (input.startsWith(MONAD) ? scripted.fetch(input, init) : globalThis.fetch(input, init));
}

const noWorker = routed((req) => (req.method === "POST" ? json({ job_id: "j" }, 201) : json(failedJob("j", "no_eligible_worker"))));

/** A port nothing listens on: connection refused, a network failure before any payment. */
const UNREACHABLE = "http://127.0.0.1:9/monad";

const identity = generateKeyPair();

function hosted(which: "both" | "openai" | "anthropic") {
  return {
    ...(which !== "anthropic" ? { openai: { apiKey: "test-key", baseUrl: openai.baseUrl, model: "gpt-test" } } : {}),
    ...(which !== "openai" ? { anthropic: { apiKey: "test-key", baseUrl: anthropic.baseUrl, model: "claude-test" } } : {}),
  };
}

describe("hosted fallback", () => {
  it("serves a PUBLIC LLM job through OpenAI when no worker is eligible, and says so", async () => {
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch: noWorker, hosted: hosted("both") });
    const result = await router.runLLM({ prompt: "Summarize this", max_tokens: 50, system: "Be brief" });
    expect(result).toMatchObject({ route: "hosted:openai", text: "from openai", job_id: null, receipt: null });
    expect(result.fallback_reason).toBe("no_eligible_worker");
    expect(openai.requests).toHaveLength(1);
    expect(openai.requests[0]?.body).toMatchObject({
      model: "gpt-test",
      max_tokens: 50,
      messages: [
        { role: "system", content: "Be brief" },
        { role: "user", content: "Summarize this" },
      ],
    });
    expect(anthropic.requests).toHaveLength(0);
  });

  it("sends a chat's turns to the hosted provider, and to Anthropic with its system text beside them", async () => {
    const messages = [
      { role: "system" as const, content: "Be brief" },
      { role: "user" as const, content: "Hi" },
      { role: "assistant" as const, content: "Hello" },
      { role: "user" as const, content: "Bye" },
    ];
    const viaOpenai = new ComputeRouter({ coordinators: { monad: MONAD }, fetch: noWorker, hosted: hosted("openai") });
    const answer = await viaOpenai.chat({ messages, model: "llama3.2", stop: ["\n"] });
    expect(answer).toMatchObject({
      route: "hosted:openai",
      message: { role: "assistant", content: "from openai" },
      model: "gpt-test",
      usage: null,
    });
    expect(openai.requests[0]?.body).toMatchObject({ model: "gpt-test", messages, stop: ["\n"] });
    const viaAnthropic = new ComputeRouter({ coordinators: { monad: MONAD }, fetch: noWorker, hosted: hosted("anthropic") });
    await viaAnthropic.chat({ messages });
    expect(anthropic.requests[0]?.body).toMatchObject({ system: "Be brief", messages: messages.slice(1) });
  });

  it("uses Anthropic when the coordinator cannot be reached at all", async () => {
    const router = new ComputeRouter({ coordinators: { monad: UNREACHABLE }, hosted: hosted("anthropic") });
    const result = await router.runLLM({ prompt: "Hello", system: "Be kind" });
    expect(result).toMatchObject({ route: "hosted:anthropic", text: "from anthropic", fallback_reason: "network_error" });
    const req = anthropic.requests[0];
    expect(req?.headers["anthropic-version"]).toBe("2023-06-01");
    expect(req?.body).toMatchObject({ model: "claude-test", system: "Be kind", messages: [{ role: "user", content: "Hello" }] });
  });

  it("moves on to Anthropic when OpenAI fails", async () => {
    openai.reply.status = 503;
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch: noWorker, hosted: hosted("both") });
    const result = await router.runLLM({ prompt: "Hello" });
    expect(result.route).toBe("hosted:anthropic");
    expect(openai.requests).toHaveLength(1);
  });

  it("runs a classify TASK on a hosted model and returns a label from the given set", async () => {
    openai.reply.text = '```json\n{"scores": {"Bug": 0.6, "feature": 0.15, "other": 0.25}}\n```';
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch: noWorker, hosted: hosted("openai") });
    const result = await router.runTask({ task_type: "classify", input: "it crashes", labels: ["bug", "feature"] });
    // Labels outside the given set are dropped and the rest renormalised.
    expect(result).toMatchObject({ route: "hosted:openai", output: { label: "bug", confidence: 0.8, scores: { bug: 0.8, feature: 0.2 } } });
  });

  it("never sends a PRIVATE job to a hosted provider, whatever failed", async () => {
    for (const [coordinators, fetch] of [
      [{ monad: MONAD }, noWorker],
      [{ monad: UNREACHABLE }, undefined],
    ] as const) {
      const router = new ComputeRouter({ coordinators, identity, hosted: hosted("both"), ...(fetch ? { fetch } : {}) });
      await expect(router.runLLM({ prompt: "my secret", privacy: "PRIVATE" })).rejects.toMatchObject({
        code: fetch ? "no_eligible_worker" : "network_error",
      });
      await expect(router.runTask({ task_type: "summarize", input: "my secret", privacy: "PRIVATE" })).rejects.toBeDefined();
    }
    expect(openai.requests).toHaveLength(0);
    expect(anthropic.requests).toHaveLength(0);
  });

  it("never falls back after a payment was sent", async () => {
    const fetch = routed((req) => {
      if (req.method === "POST") {
        return req.headers.get("payment-signature")
          ? json({ job_id: "j" }, 201)
          : json({ error: "payment_required", message: "pay" }, 402, { "PAYMENT-REQUIRED": paymentRequiredHeader() });
      }
      return json(failedJob("j", "no_eligible_worker"));
    });
    const router = new ComputeRouter({
      coordinators: { monad: MONAD },
      fetch,
      hosted: hosted("both"),
      x402Client: { createPaymentHeaders: async () => ({ "PAYMENT-SIGNATURE": "paid" }) },
    });
    await expect(router.runLLM({ prompt: "Hello" })).rejects.toMatchObject({ code: "no_eligible_worker" });
    expect(openai.requests).toHaveLength(0);
  });

  it("does not fall back when a worker answered with a bad receipt", async () => {
    const view = completedJob("j", "text");
    const fetch = routed((req) => (req.method === "POST" ? json({ job_id: "j" }, 201) : json({ ...view, result: "forged" })));
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch, hosted: hosted("both") });
    await expect(router.runLLM({ prompt: "Hello" })).rejects.toMatchObject({ code: "invalid_receipt" });
    expect(openai.requests).toHaveLength(0);
  });
});
