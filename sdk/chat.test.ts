import { describe, expect, it } from "vitest";
import type { JobEvent, JobStage } from "../protocol/index.ts";
import { DispatchError } from "./errors.ts";
import { ComputeRouter } from "./router.ts";
import { completedJob, json, MONAD, type RecordedRequest, SOLANA, scriptedFetch, sse } from "./test-support/builders.ts";

const ANSWER = {
  text: "Once upon a time",
  tokens: 4,
  prompt_tokens: 12,
  finish_reason: "stop",
  model: "llama3.2:latest",
  backend: "ollama",
};

type Sse = { event: string; data: JobEvent };
const status = (stage: JobStage): Sse => ({
  event: "status",
  data: { type: "status", job_id: "chat-1", stage, status: stage === "completed" ? "completed" : "pending", reason: null },
});
const token = (seq: number, text: string): Sse => ({ event: "token", data: { type: "token", job_id: "chat-1", seq, text } });

/** A coordinator that commits `chat-1`, streams `events` for it and serves `view` as its state. */
function coordinator(opts: { events?: Sse[]; view?: ReturnType<typeof completedJob> } = {}) {
  const view = opts.view ?? completedJob("chat-1", ANSWER, { view: { job_type: "LLM_INFER", policy: "FAST" } });
  return scriptedFetch((req) => {
    if (req.method === "POST") return json({ job_id: "chat-1" }, 201);
    if (req.url.pathname.endsWith("/events")) return sse(opts.events ?? [status("assigned"), status("completed")]);
    return json(view);
  });
}

const body = (req: RecordedRequest | undefined) => JSON.parse(req?.body ?? "{}") as { job_type: string; payload: Record<string, unknown> };

async function failure(promise: Promise<unknown>): Promise<DispatchError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof DispatchError) return err;
  throw new Error(`expected a DispatchError, got ${String(err)}`);
}

async function collect(stream: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const delta of stream) out.push(delta);
  return out;
}

describe("ComputeRouter.chat", () => {
  it("sends OpenAI-shaped messages as an LLM_INFER job and answers in OpenAI's terms, verified", async () => {
    const { fetch, requests } = coordinator();
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    const answer = await router.chat({
      model: "llama3.2",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Tell a story" },
      ],
      max_tokens: 32,
      temperature: 0,
      stop: "\n\n",
    });
    const commit = requests[0];
    expect(commit?.url.pathname).toBe("/monad/v1/jobs/commit/fast");
    expect(body(commit)).toMatchObject({
      job_type: "LLM_INFER",
      payload: {
        job_type: "LLM_INFER",
        model: "llama3.2",
        messages: [
          { role: "system", content: "Be brief." },
          { role: "user", content: "Tell a story" },
        ],
        max_tokens: 32,
        temperature: 0,
        stop: ["\n\n"],
      },
    });
    expect(body(commit).payload).not.toHaveProperty("prompt");
    expect(answer).toMatchObject({
      route: "dispatch:monad",
      job_id: "chat-1",
      text: "Once upon a time",
      message: { role: "assistant", content: "Once upon a time" },
      model: "llama3.2:latest",
      finish_reason: "stop",
      usage: { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 },
    });
    expect(answer.receipt?.job_id).toBe("chat-1");
    // Without stream: a long-poll, no event stream.
    expect(requests.some((r) => r.url.pathname.endsWith("/events"))).toBe(false);
  });

  it("takes developer turns and text parts, as OpenAI clients send them", async () => {
    const { fetch, requests } = coordinator();
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    await router.chat({
      messages: [
        { role: "developer", content: "Be brief." },
        {
          role: "user",
          content: [
            { type: "text", text: "Tell " },
            { type: "text", text: "a story" },
          ],
        },
      ],
    });
    expect(body(requests[0]).payload).toMatchObject({
      max_tokens: 256,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Tell a story" },
      ],
    });
  });

  it("refuses what a worker cannot run before sending anything, naming the field", async () => {
    const { fetch, requests } = scriptedFetch(() => json({}, 500));
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    const tool = await failure(router.chat({ messages: [{ role: "tool", content: "x" } as never] }));
    expect(tool).toMatchObject({ code: "invalid_request", field: "messages.0.role" });
    const image = await failure(
      router.chat({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] } as never] }),
    );
    expect(image).toMatchObject({ code: "invalid_request", field: "messages.0.content" });
    const noUser = await failure(router.chat({ messages: [{ role: "system", content: "x" }] }));
    expect(noUser).toMatchObject({ code: "invalid_request", field: "payload.messages" });
    const stops = await failure(router.chat({ messages: [{ role: "user", content: "x" }], stop: ["a", "b", "c", "d", "e"] }));
    expect(stops).toMatchObject({ code: "invalid_request", field: "payload.stop" });
    const model = await failure(router.chat({ messages: [{ role: "user", content: "x" }], model: "no spaces please" }));
    expect(model).toMatchObject({ code: "invalid_request", field: "payload.model" });
    expect(requests).toHaveLength(0);
  });

  it("streams text deltas as the worker produces them and ends only after verifying the receipt", async () => {
    const { fetch, requests } = coordinator({
      events: [status("assigned"), token(0, "Once upon"), token(1, " a time"), status("completed")],
    });
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    const stream = router.chat({ messages: [{ role: "user", content: "Tell a story" }], stream: true });
    expect(await collect(stream)).toEqual(["Once upon", " a time"]);
    expect((await stream.result).usage).toEqual({ prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 });
    expect(requests.map((r) => r.url.pathname)).toEqual([
      "/monad/v1/jobs/commit/fast",
      "/monad/v1/jobs/chat-1/events",
      "/monad/v1/jobs/chat-1",
    ]);
  });

  it("adds up to the whole answer even when the live stream missed the tokens", async () => {
    // The job finished before the stream opened: the coordinator sends only the final status.
    const { fetch } = coordinator({ events: [status("completed")] });
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    const stream = router.chat({ messages: [{ role: "user", content: "Tell a story" }], stream: true });
    expect(await collect(stream)).toEqual(["Once upon a time"]);
    const partial = coordinator({ events: [token(0, "Once"), status("completed")] });
    const again = new ComputeRouter({ coordinators: { monad: MONAD }, fetch: partial.fetch });
    expect(await collect(again.chat({ messages: [{ role: "user", content: "x" }], stream: true }))).toEqual(["Once", " upon a time"]);
  });

  it("throws at the end of the stream, and rejects its result, when the receipt does not verify", async () => {
    const honest = completedJob("chat-1", ANSWER, { view: { job_type: "LLM_INFER" } });
    const { fetch } = coordinator({
      events: [token(0, "Once upon a time"), status("completed")],
      view: { ...honest, result: { ...ANSWER, text: "Something else entirely" } },
    });
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    const stream = router.chat({ messages: [{ role: "user", content: "Tell a story" }], stream: true });
    const seen: string[] = [];
    const err = await failure(
      (async () => {
        for await (const delta of stream) seen.push(delta);
      })(),
    );
    expect(seen).toEqual(["Once upon a time"]);
    expect(err.code).toBe("invalid_receipt");
    expect((await failure(stream.result)).code).toBe("invalid_receipt");
  });

  it("reports a failure before any token through the iterator, without an unhandled rejection", async () => {
    const { fetch } = scriptedFetch(() => json({ error: "too_many_pending_jobs", message: "wait" }, 429));
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    const stream = router.chat({ messages: [{ role: "user", content: "x" }], stream: true });
    expect((await failure(collect(stream))).code).toBe("too_many_pending_jobs");
  });
});

describe("ComputeRouter.models", () => {
  it("lists the models a chain's workers serve", async () => {
    const list = {
      object: "list",
      data: [{ id: "llama3.2:latest", object: "model", created: 0, owned_by: "dispatch", workers: 3, loaded: 1 }],
    };
    const { fetch, requests } = scriptedFetch(() => json(list));
    const router = new ComputeRouter({ coordinators: { monad: MONAD, solana: SOLANA }, fetch });
    expect(await router.models({ chain: "solana" })).toEqual(list);
    expect(requests[0]?.url.toString()).toBe(`${SOLANA}/v1/models`);
  });

  it("refuses an answer that is not a model list", async () => {
    const { fetch } = scriptedFetch(() => json({ models: ["llama3.2"] }));
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    expect((await failure(router.models())).code).toBe("invalid_response");
  });
});
