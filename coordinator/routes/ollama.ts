import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type Chain, type ModelsResponse, OllamaChatRequest, OllamaGenerateRequest, sameModel } from "../../protocol/index.ts";
import {
  chatAsk,
  doneObject,
  failureLine,
  generateAsk,
  loadedObject,
  OLLAMA_API_VERSION,
  type OllamaKind,
  ollamaError,
  pieceLine,
  tags,
} from "../adapters/ollama.ts";
import type { Env } from "../env.ts";
import { HttpError } from "../errors.ts";
import { answerLlm, type LiveAnswer, type LlmFailure, proofHeaders, streamLlm } from "../llm-answer.ts";
import { parseJson, readBody } from "../request.ts";
import { SettingsError } from "../settings.ts";
import { type LlmAsk, llmCall } from "./llm-request.ts";
import { textStream } from "./text-stream.ts";

type AppEnv = { Bindings: Env };

/**
 * The Ollama-compatible surface of one chain, mounted at `/{chain}/api` (bare `/api` is
 * Monad): point an Ollama client's host at the chain URL. Streams NDJSON unless `stream: false`.
 */
export function ollamaRoutes(chain: Chain): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  const stub = (c: Context<AppEnv>) => c.env.CHAIN.getByName(chain);

  api.get("/version", (c) => c.json({ version: OLLAMA_API_VERSION }));

  api.get("/tags", async (c) => c.json(tags((await stub(c).models(chain)) as ModelsResponse)));

  api.post("/chat", async (c) => {
    const text = await readBody(c);
    const req = parseJson(text, OllamaChatRequest);
    return answer(c, "chat", req.model, req.stream !== false, await llmCall(c, chain, text, chatAsk(req)));
  });

  api.post("/generate", async (c) => {
    const text = await readBody(c);
    const req = parseJson(text, OllamaGenerateRequest);
    if (req.prompt == null || req.prompt === "") {
      // Ollama's way to load a model ahead of use: there is nothing to run, only a model to find.
      const online = (await stub(c).models(chain)) as ModelsResponse;
      if (!online.data.some((m) => sameModel(m.id, req.model))) {
        throw new HttpError(404, "model_not_served", `no worker online serves model ${req.model}; see /api/tags`);
      }
      return c.json(loadedObject(req.model));
    }
    const ask: LlmAsk = generateAsk({ ...req, prompt: req.prompt });
    return answer(c, "generate", req.model, req.stream !== false, await llmCall(c, chain, text, ask));
  });

  // Ollama clients read `error` from the body, whatever went wrong.
  api.onError((err, c) => {
    if (err instanceof HttpError) return c.json(ollamaError(err.code, err.message), err.status);
    if (err instanceof SettingsError) console.error("configuration error:", err.message);
    else console.error("unhandled error", err);
    return c.json(ollamaError("internal_error", "unexpected error; it has been logged"), 500);
  });
  return api;

  async function answer(
    c: Context<AppEnv>,
    kind: OllamaKind,
    model: string,
    stream: boolean,
    call: Awaited<ReturnType<typeof llmCall>>,
  ): Promise<Response> {
    if (!stream) {
      const done = await answerLlm(stub(c), call);
      if (done.failed) return failureResponse(done);
      return c.json(doneObject(kind, model, done, done.text), 200, proofHeaders(done));
    }
    const live = await streamLlm(stub(c), call);
    if (live.failed) return failureResponse(live);
    return new Response(
      textStream(lines(live, kind, model), live.cancel, (work) => c.executionCtx.waitUntil(work)),
      {
        headers: { "content-type": "application/x-ndjson; charset=utf-8", "cache-control": "no-cache", "x-dispatch-job-id": live.jobId },
      },
    );
  }
}

async function* lines(live: LiveAnswer, kind: OllamaKind, model: string): AsyncGenerator<string> {
  for await (const event of live.events) {
    if (event.type === "delta") yield pieceLine(kind, model, event.text);
    else if (event.type === "done") return yield `${JSON.stringify(doneObject(kind, model, event.answer))}\n`;
    else return yield failureLine(event.failure);
  }
}

function failureResponse(failure: LlmFailure): Response {
  const headers: Record<string, string> = { ...failure.headers };
  if (failure.jobId !== null) headers["x-dispatch-job-id"] = failure.jobId;
  return Response.json(ollamaError(failure.code, failure.message, failure.jobId), {
    status: failure.status as ContentfulStatusCode,
    headers,
  });
}
