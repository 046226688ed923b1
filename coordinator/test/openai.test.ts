import { afterEach, describe, expect, it } from "vitest";
import { type AnswerProof, decodeAnswerProof, generateKeyPair, verifyAnswer } from "../../protocol/index.ts";
import {
  api,
  closeAll,
  commit,
  fireAlarm,
  getJob,
  json,
  llmBody,
  llmOutput,
  modelWorker,
  signed,
  signHeaders,
  sqlIn,
  sseData,
  type TestWorker,
  until,
} from "./support.ts";

const workers: TestWorker[] = [];
afterEach(() => closeAll(workers));

const CHAT = "/monad/v1/chat/completions";

function chat(body: unknown, headers: Record<string, string> = {}, path = CHAT): Promise<Response> {
  return api(path, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer anything", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const ask = (extra: Record<string, unknown> = {}) => ({ model: "alpha", messages: [{ role: "user", content: "Say hello" }], ...extra });

interface Completion {
  id: string;
  object: string;
  model: string;
  choices: { message: { role: string; content: string }; finish_reason: string }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  dispatch: AnswerProof;
}

interface Chunk {
  object: string;
  choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number };
  dispatch?: AnswerProof;
  error?: { message: string; type: string; code: string };
}

describe("POST /v1/chat/completions", () => {
  it("answers with the worker's text, OpenAI usage and a receipt that binds that exact text", async () => {
    const w = await modelWorker(workers, ["alpha"]);
    const pending = chat(
      ask({
        messages: [
          { role: "developer", content: "Be brief." },
          {
            role: "user",
            content: [
              { type: "text", text: "Say " },
              { type: "text", text: "hello" },
            ],
          },
        ],
        max_completion_tokens: 12,
        temperature: 0.3,
        stop: "\n\n",
        user: "openai-user",
        top_p: 0.9,
      }),
    );
    const assign = await w.next("job_assign");
    expect(assign.payload).toMatchObject({
      model: "alpha",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Say hello" },
      ],
      max_tokens: 12,
      temperature: 0.3,
      stop: ["\n\n"],
    });
    expect(assign.user_id).toBe("openai-user");
    expect(assign.policy).toBe("FAST");
    w.complete(String(assign.job_id), llmOutput("Hello there friend", { tokens: 3, prompt_tokens: 9 }));
    const res = await pending;
    expect(res.status).toBe(200);
    const body = await json<Completion>(res);
    expect(body).toMatchObject({
      id: `chatcmpl-${assign.job_id}`,
      object: "chat.completion",
      model: "alpha:latest",
      choices: [{ index: 0, message: { role: "assistant", content: "Hello there friend" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 },
    });
    expect(res.headers.get("x-dispatch-job-id")).toBe(assign.job_id);
    const proof = decodeAnswerProof(res.headers.get("x-dispatch-receipt") ?? "");
    expect(proof).toEqual(body.dispatch);
    expect(verifyAnswer(body.dispatch, "Hello there friend")).toEqual({ ok: true });
    expect(verifyAnswer(body.dispatch, "Hello there friend!")).toEqual({ ok: false, reason: "output_hash_mismatch" });
    // The same receipt is served for the job like any other.
    const receipt = await json<{ verified: boolean; signature: string }>(await api(`/monad/v1/receipts/${assign.job_id}`));
    expect(receipt).toMatchObject({ verified: true, signature: body.dispatch.receipt.signature });
  });

  it("keeps a worker's oversized output out of the headers: the proof stays in the body", async () => {
    const w = await modelWorker(workers, ["alpha"]);
    const pending = chat(ask());
    const assign = await w.next("job_assign");
    w.complete(String(assign.job_id), llmOutput("Hi", { padding: "x".repeat(64_000) }));
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.headers.get("x-dispatch-receipt")).toBeNull();
    expect(res.headers.get("x-dispatch-job-id")).toBe(assign.job_id);
    expect(verifyAnswer((await json<Completion>(res)).dispatch, "Hi")).toEqual({ ok: true });
  });

  it("streams chunks without event names, then the finish, the usage chunk with the proof, and [DONE]", async () => {
    const w = await modelWorker(workers, ["alpha"]);
    const pending = chat(ask({ stream: true, stream_options: { include_usage: true } }));
    const assign = await w.next("job_assign");
    const id = String(assign.job_id);
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("x-dispatch-job-id")).toBe(id);
    w.send({ type: "job_progress", job_id: id, text: "Once", seq: 0 });
    w.send({ type: "job_progress", job_id: id, text: " upon", seq: 1 });
    setTimeout(() => w.complete(id, llmOutput("Once upon a time", { tokens: 4 })), 50);
    const text = await res.text();
    expect(text).not.toMatch(/^event:/m);
    const events = sseData(text);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1) as Chunk[];
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && Array.isArray(c.choices))).toBe(true);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "" });
    const streamed = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    // What the live stream missed of the verified text arrives as one last delta.
    expect(streamed).toBe("Once upon a time");
    expect(chunks.map((c) => c.choices[0]?.delta.content).filter(Boolean)).toEqual(["Once", " upon", " a time"]);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe("stop");
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 4, total_tokens: 11 });
    expect(last?.dispatch?.job_id).toBe(id);
    expect(verifyAnswer(last?.dispatch as AnswerProof, streamed)).toEqual({ ok: true });
  });

  it("puts the proof on the finish chunk when no usage chunk was asked for", async () => {
    const w = await modelWorker(workers, ["alpha"]);
    const pending = chat(ask({ stream: true }));
    const assign = await w.next("job_assign");
    const res = await pending;
    w.complete(String(assign.job_id), llmOutput("Hi"));
    const chunks = sseData(await res.text()).slice(0, -1) as Chunk[];
    expect(chunks.some((c) => c.usage !== undefined)).toBe(false);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("stop");
    expect(verifyAnswer(chunks.at(-1)?.dispatch as AnswerProof, "Hi")).toEqual({ ok: true });
  });

  it("keeps a re-run's stream honest: text the new worker repeats is not sent twice, and a different answer ends in an error", async () => {
    const first = await modelWorker(workers, ["alpha"]);
    const pending = chat(ask({ stream: true }));
    const a = await first.next("job_assign");
    const id = String(a.job_id);
    const res = await pending;
    first.send({ type: "job_progress", job_id: id, text: "Hello", seq: 0 });
    first.send({ type: "heartbeat" });
    await first.next("heartbeat_ack");
    const second = await modelWorker(workers, ["alpha"]);
    first.close();
    expect((await second.next("job_assign")).job_id).toBe(id);
    second.send({ type: "job_progress", job_id: id, text: "Hel", seq: 0 });
    second.send({ type: "job_progress", job_id: id, text: "lo world", seq: 1 });
    second.complete(id, llmOutput("Hello world"));
    const chunks = sseData(await res.text()).slice(0, -1) as Chunk[];
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("Hello world");
    expect(verifyAnswer(chunks.at(-1)?.dispatch as AnswerProof, "Hello world")).toEqual({ ok: true });

    const pending2 = chat(ask({ stream: true }));
    const b = await second.next("job_assign");
    const id2 = String(b.job_id);
    const res2 = await pending2;
    second.send({ type: "job_progress", job_id: id2, text: "Yes", seq: 0 });
    second.send({ type: "heartbeat" });
    await second.next("heartbeat_ack");
    const third = await modelWorker(workers, ["alpha"]);
    second.close();
    expect((await third.next("job_assign")).job_id).toBe(id2);
    third.complete(id2, llmOutput("No"));
    const events = sseData(await res2.text()) as Chunk[];
    expect(events.at(-1)?.error).toMatchObject({ code: "stream_diverged", type: "server_error" });
    expect(events).not.toContain("[DONE]");
  });

  it("answers a model nobody serves with 404 in OpenAI's error shape", async () => {
    await modelWorker(workers, ["alpha"]);
    for (const stream of [false, true]) {
      const res = await chat(ask({ model: "nobody-serves-this", stream }));
      expect(res.status).toBe(404);
      expect(await json(res)).toEqual({
        error: { message: expect.stringContaining("nobody-serves-this"), type: "not_found_error", code: "model_not_found", param: null },
      });
    }
  });

  it("holds a streamed answer's status until a worker takes the job, so a job nobody takes is a plain 503", async () => {
    const busy = await modelWorker(workers, ["alpha"]);
    const blocker = chat(ask());
    const held = await busy.next("job_assign");
    const pending = chat(ask({ stream: true, user: "queued-stream" }));
    const [queued] = await until(async () => {
      const rows = await sqlIn("monad", "SELECT id FROM jobs WHERE user_id = 'queued-stream' AND status = 'pending'");
      return rows.length > 0 ? rows : undefined;
    });
    await sqlIn("monad", "UPDATE jobs SET queue_deadline = 0 WHERE id = ?", String(queued?.id));
    await fireAlarm();
    const res = await pending;
    expect(res.status).toBe(503);
    expect((await json<{ error: { code: string; type: string } }>(res)).error).toMatchObject({
      code: "no_eligible_worker",
      type: "server_error",
    });
    busy.complete(String(held.job_id), llmOutput("done"));
    expect((await blocker).status).toBe(200);
  });

  it("gives back the stream's hold when the client goes away mid-answer", async () => {
    const w = await modelWorker(workers, ["alpha"]);
    const pending = chat(ask({ stream: true }));
    const assign = await w.next("job_assign");
    const res = await pending;
    const holds = async () => (await json<{ listeners: { holds: number; streams: number } }>(await api("/monad/v1/health"))).listeners;
    expect(await holds()).toMatchObject({ holds: 1, streams: 1 });
    await res.body?.cancel();
    await until(async () => {
      const now = await holds();
      return now.holds === 0 && now.streams === 0;
    });
    // The job itself goes on: its answer is still there for whoever asks.
    w.complete(String(assign.job_id), llmOutput("still done"));
    expect(await getJob(String(assign.job_id), { wait: 5 })).toMatchObject({ status: "completed" });
  });

  it("refuses what it cannot run with 400 in OpenAI's shape, naming the parameter", async () => {
    const cases: [unknown, string | null][] = [
      ["{nope", null],
      [{ messages: [{ role: "user", content: "x" }] }, "model"],
      [ask({ messages: [] }), "messages"],
      [ask({ messages: [{ role: "tool", content: "x" }] }), "messages.0.role"],
      [ask({ messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }] }), "messages.0.content"],
      [ask({ tools: [{ type: "function", function: { name: "f" } }] }), "tools"],
      [ask({ n: 2 }), "n"],
      [ask({ max_tokens: 100_000 }), "max_tokens"],
      [ask({ response_format: { type: "json_object" } }), "response_format"],
      [ask({ stop: ["a", "b", "c", "d", "e"] }), "stop"],
      [ask({ service_tier: "turbo" }), "service_tier"],
      [ask({ messages: [{ role: "system", content: "only a system turn" }] }), "messages"],
    ];
    for (const [body, param] of cases) {
      const res = await chat(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const error = (await json<{ error: { type: string; param: string | null; message: string } }>(res)).error;
      expect(error.type).toBe("invalid_request_error");
      expect(error.param, JSON.stringify(body)).toBe(param);
      expect(error.message.length).toBeGreaterThan(0);
    }
    const huge = await chat(ask({ messages: [{ role: "user", content: "x".repeat(300_000) }] }));
    expect(huge.status).toBe(413);
    expect((await json<{ error: { code: string } }>(huge)).error.code).toBe("payload_too_large");
  });

  it("reports a job the workers refuse as an error status, streamed or not", async () => {
    const w = await modelWorker(workers, ["alpha"]);
    for (const stream of [false, true]) {
      const pending = chat(ask({ stream }));
      const assign = await w.next("job_assign");
      // Only one worker online: its input error is final.
      w.complete(String(assign.job_id), { error: "the prompt is not text I can read", error_kind: "input" });
      const res = await pending;
      if (stream) {
        // A worker held the job, so the stream had begun: the failure ends it as an error event.
        expect(res.status).toBe(200);
        const events = sseData(await res.text()) as Chunk[];
        expect(events.at(-1)?.error).toMatchObject({ code: "invalid_input", message: expect.stringContaining("not text I can read") });
      } else {
        expect(res.status).toBe(400);
        const error = (await json<{ error: { code: string; message: string } }>(res)).error;
        expect(error.code).toBe("invalid_input");
        expect(error.message).toContain("not text I can read");
      }
    }
  });

  it("runs at the CHEAP tier for service_tier flex or x-dispatch-tier, FAST otherwise", async () => {
    const w = await modelWorker(workers, ["alpha"]);
    for (const [body, headers, tier] of [
      [ask({ service_tier: "flex" }), {}, "CHEAP"],
      [ask(), { "x-dispatch-tier": "cheap" }, "CHEAP"],
      [ask({ service_tier: "flex" }), { "x-dispatch-tier": "fast" }, "FAST"],
      [ask({ service_tier: "default" }), {}, "FAST"],
    ] as const) {
      const pending = chat(body, headers);
      const assign = await w.next("job_assign");
      expect(assign.policy, JSON.stringify([body, headers])).toBe(tier);
      w.complete(String(assign.job_id), llmOutput("ok"));
      expect((await pending).status).toBe(200);
    }
  });

  it("gives unsigned callers without `user` an id of their own address, never one shared with strangers", async () => {
    const w = await modelWorker(workers, ["alpha"]);
    const users: string[] = [];
    for (const addr of ["10.9.0.1", "10.9.0.2", "10.9.0.1"]) {
      const pending = chat(ask(), { "cf-connecting-ip": addr });
      const assign = await w.next("job_assign");
      users.push(String(assign.user_id));
      w.complete(String(assign.job_id), llmOutput("ok"));
      await pending;
    }
    expect(users[0]).toMatch(/^anon-[0-9a-f]{24}$/);
    expect(users[0]).toBe(users[2]);
    expect(users[1]).not.toBe(users[0]);
  });

  it("runs a signed request as its signer's PRIVATE job, and refuses a private one that is not signed", async () => {
    const user = generateKeyPair();
    const refused = await chat(ask(), { "x-dispatch-privacy": "private" });
    expect(refused.status).toBe(401);
    expect((await json<{ error: { type: string } }>(refused)).error.type).toBe("authentication_error");

    const w = await modelWorker(workers, ["alpha"]);
    const code = await json<{ pairing_code: string }>(await signed(user, "POST", "/monad/v1/trust/create", { user_id: user.publicKey }));
    w.send({ type: "trust_claim", pairing_code: code.pairing_code });
    await w.next("trust_claim_ack");
    const text = JSON.stringify(ask());
    const pending = chat(text, signHeaders(user, "POST", CHAT, text));
    const assign = await w.next("job_assign");
    expect(assign).toMatchObject({ privacy_class: "PRIVATE", user_id: user.publicKey });
    w.complete(String(assign.job_id), llmOutput("secret"));
    const res = await pending;
    expect(res.status).toBe(200);
    expect((await json<Completion>(res)).choices[0]?.message.content).toBe("secret");
    // The job stays private: an unsigned read is refused.
    expect((await api(`/monad/v1/jobs/${assign.job_id}`)).status).toBe(401);

    const other = JSON.stringify(ask({ user: "someone-else" }));
    expect((await chat(other, signHeaders(user, "POST", CHAT, other))).status).toBe(403);
  });

  it("refuses a caller at its long-poll bound before committing anything", async () => {
    const addr = "10.8.8.8";
    const { body } = await commit(llmBody({}, "held-open"), { tier: "fast" });
    const held = Array.from({ length: 32 }, () => api(`/v1/jobs/${body.job_id}?wait=2`, { headers: { "cf-connecting-ip": addr } }));
    await new Promise((r) => setTimeout(r, 200));
    const res = await chat(ask({ user: "bounded-user" }), { "cf-connecting-ip": addr });
    expect(res.status).toBe(429);
    expect((await json<{ error: { code: string; type: string } }>(res)).error).toMatchObject({
      code: "too_many_waits",
      type: "rate_limit_error",
    });
    expect(await sqlIn("monad", "SELECT id FROM jobs WHERE user_id = 'bounded-user'")).toEqual([]);
    await Promise.all(held);
  });

  it("serves each chain at its own prefix, bare /v1 being Monad", async () => {
    const w = await modelWorker(workers, ["alpha"], [], { chain: "solana" });
    const pending = chat(ask(), {}, "/solana/v1/chat/completions");
    const assign = await w.next("job_assign");
    w.complete(String(assign.job_id), llmOutput("from solana"));
    expect((await json<Completion>(await pending)).choices[0]?.message.content).toBe("from solana");
    expect(await getJob(String(assign.job_id), { chain: "solana" })).toMatchObject({ status: "completed" });
    // Nobody serves alpha on Monad now.
    expect((await chat(ask(), {}, "/v1/chat/completions")).status).toBe(404);
  });
});
