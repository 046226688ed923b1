import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type Chain, ChatCompletionRequest } from "../../protocol/index.ts";
import { ChunkWriter, chatAsk, chatCompletion, openAiError } from "../adapters/openai.ts";
import type { Env } from "../env.ts";
import { HttpError } from "../errors.ts";
import { answerLlm, type LiveAnswer, type LlmFailure, proofHeaders, streamLlm } from "../llm-answer.ts";
import { parseJson, readBody } from "../request.ts";
import { SettingsError } from "../settings.ts";
import { llmCall } from "./llm-request.ts";
import { textStream } from "./text-stream.ts";

type AppEnv = { Bindings: Env };

/**
 * The OpenAI-compatible surface of one chain, mounted at `/{chain}/v1`: point an OpenAI client's
 * `baseURL` at it. `GET /v1/models` is the chain API's own (already OpenAI's list shape).
 */
export function openAiRoutes(chain: Chain): Hono<AppEnv> {
  const api = new Hono<AppEnv>();

  api.post("/chat/completions", async (c) => {
    const text = await readBody(c);
    const req = parseJson(text, ChatCompletionRequest);
    const call = await llmCall(c, chain, text, chatAsk(req));
    const stub = c.env.CHAIN.getByName(chain);
    if (req.stream !== true) {
      const answer = await answerLlm(stub, call);
      if (answer.failed) return failureResponse(answer);
      return c.json(chatCompletion(answer, req.model), 200, proofHeaders(answer));
    }
    const live = await streamLlm(stub, call);
    if (live.failed) return failureResponse(live);
    const writer = new ChunkWriter(live.jobId, req.model, req.stream_options?.include_usage === true);
    return new Response(
      textStream(chunks(live, writer), live.cancel, (work) => c.executionCtx.waitUntil(work)),
      {
        headers: {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache",
          "x-dispatch-job-id": live.jobId,
        },
      },
    );
  });

  // OpenAI clients understand only OpenAI's error shape, so errors on this surface take it.
  api.onError((err, c) => {
    if (err instanceof HttpError) {
      const param = err.extra.field === undefined ? null : err.extra.field.replace(/^payload\./, "");
      return c.json(openAiError(err.status, err.code, err.message, param), err.status);
    }
    if (err instanceof SettingsError) console.error("configuration error:", err.message);
    else console.error("unhandled error", err);
    return c.json(openAiError(500, "internal_error", "unexpected error; it has been logged", null), 500);
  });
  return api;
}

async function* chunks(live: LiveAnswer, writer: ChunkWriter): AsyncGenerator<string> {
  yield writer.start();
  for await (const event of live.events) {
    if (event.type === "delta") yield writer.delta(event.text);
    else if (event.type === "done") return yield writer.end(event.answer);
    else return yield writer.error(event.failure);
  }
}

function failureResponse(failure: LlmFailure): Response {
  const headers: Record<string, string> = { ...failure.headers };
  if (failure.jobId !== null) headers["x-dispatch-job-id"] = failure.jobId;
  return Response.json(openAiError(failure.status, failure.code, failure.message, null, failure.jobId), {
    status: failure.status as ContentfulStatusCode,
    headers,
  });
}
