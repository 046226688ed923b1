import { type Context, Hono } from "hono";
import { cors } from "hono/cors";
import {
  type Chain,
  CommitBody,
  JobQuery,
  PUBKEY_HEX,
  QuoteQuery,
  TrustClaimBody,
  TrustCreateBody,
  TrustListQuery,
  tierFromPath,
} from "../protocol/index.ts";
import type { Env } from "./env.ts";
import { HttpError, type Outcome } from "./errors.ts";
import { openApiDocument } from "./openapi.ts";
import { quote } from "./quote.ts";
import { bodyHash, clientAddress, idempotencyKey, optionalSigner, parseJson, readBody, requireSigner, validate } from "./request.ts";
import { dashboardRoutes } from "./routes/dashboard.ts";
import { ollamaRoutes } from "./routes/ollama.ts";
import { openAiRoutes } from "./routes/openai.ts";
import { workerPageRoutes } from "./routes/worker-page.ts";
import { readSettings, SettingsError } from "./settings.ts";

type AppEnv = { Bindings: Env };

function reply(outcome: Outcome<unknown>): Response {
  const init = { status: outcome.status, headers: outcome.headers ?? {} };
  return outcome.ok ? Response.json(outcome.body, init) : Response.json(outcome.error, init);
}

const JOB_ID = /^[A-Za-z0-9_-]{1,128}$/;

function jobId(raw: string): string {
  if (!JOB_ID.test(raw)) throw new HttpError(404, "job_not_found", "Job not found");
  return raw;
}

/** The API of one chain. Thin: it validates, verifies signatures, and forwards to the chain's Durable Object. */
function chainApi(chain: Chain): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  const stub = (env: Env) => env.CHAIN.getByName(chain);

  const upgradeToWorker = (c: Context<AppEnv>) => {
    if (c.req.raw.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      throw new HttpError(426, "upgrade_required", "workers connect here with a WebSocket upgrade");
    }
    // Forward the raw upgrade: the Durable Object accepts it with the hibernation API. The host
    // the worker dialled is part of what it signs; the address bounds sockets per client.
    const params = new URLSearchParams({ chain, host: new URL(c.req.url).host, addr: clientAddress(c) });
    return stub(c.env).fetch(new Request(`https://coordinator/ws?${params}`, { headers: { upgrade: "websocket" } }));
  };
  const caller = async (c: Context<AppEnv>, body: string) => ({ auth: await optionalSigner(c, chain, body), addr: clientAddress(c) });

  api.get("/", (c) => {
    if (c.req.header("upgrade")?.toLowerCase() === "websocket") return upgradeToWorker(c);
    return c.json({ service: "dispatch-coordinator", chain, api: "/v1", openapi: "/v1/openapi.json", workers: "/v1/workers/ws" });
  });

  api.get("/v1/health", async (c) => c.json(await stub(c.env).health(chain)));

  api.get("/v1/quote", (c) => {
    const query = validate(c.req.query(), QuoteQuery, "invalid_query");
    return c.json(quote(chain, query, readSettings(c.env, chain)));
  });

  api.post("/v1/jobs/commit/:tier", async (c) => {
    const tier = tierFromPath(c.req.param("tier"));
    if (!tier) throw new HttpError(404, "not_found", "commit to /v1/jobs/commit/fast or /v1/jobs/commit/cheap");
    const { wait } = validate(c.req.query(), JobQuery, "invalid_query");
    const text = await readBody(c);
    const body = parseJson(text, CommitBody);
    const key = idempotencyKey(c);
    const auth = body.privacy_class === "PRIVATE" ? await requireSigner(c, chain, text) : await optionalSigner(c, chain, text);
    if (auth !== null && auth.userId !== body.user_id) {
      throw new HttpError(403, "forbidden", "the request is signed by a different key than user_id");
    }
    // Tier is part of the request identity: the same key on another tier is a different request.
    const requestHash = bodyHash(`${tier}\n${JSON.stringify(body)}`);
    const paymentHeader = c.req.header("payment-signature") ?? null;
    const input = {
      chain,
      tier,
      body,
      idempotencyKey: key,
      requestHash,
      auth,
      paymentHeader,
      resourceUrl: c.req.url,
      addr: clientAddress(c),
    };
    // ?wait=N: the finished job in this one round trip (200), or the commit answer as 202 if it takes longer.
    const waitMs = Math.round((wait ?? 0) * 1000);
    return reply(waitMs > 0 ? await stub(c.env).commitAndWait(input, waitMs) : await stub(c.env).commit(input));
  });

  api.get("/v1/jobs/:id", async (c) => {
    const id = jobId(c.req.param("id"));
    const { wait } = validate(c.req.query(), JobQuery, "invalid_query");
    return reply(await stub(c.env).job({ chain, jobId: id, caller: await caller(c, ""), waitMs: Math.round((wait ?? 0) * 1000) }));
  });

  api.get("/v1/jobs/:id/events", async (c) => {
    const id = jobId(c.req.param("id"));
    const { auth, addr } = await caller(c, "");
    const headers: Record<string, string> =
      auth === null
        ? {}
        : { "x-dispatch-viewer": auth.userId, "x-dispatch-viewer-nonce": auth.nonce, "x-dispatch-viewer-expires": String(auth.expiresAt) };
    const lastEventId = c.req.header("last-event-id");
    if (lastEventId !== undefined && /^\d{1,9}$/.test(lastEventId)) headers["last-event-id"] = lastEventId;
    const params = new URLSearchParams({ chain, job: id, addr });
    return stub(c.env).fetch(new Request(`https://coordinator/events?${params}`, { headers }));
  });

  api.get("/v1/receipts/:id", async (c) => {
    const id = jobId(c.req.param("id"));
    return reply(await stub(c.env).receipt({ chain, jobId: id, caller: await caller(c, "") }));
  });

  api.post("/v1/trust/create", async (c) => {
    const text = await readBody(c);
    const body = parseJson(text, TrustCreateBody);
    const auth = await requireSigner(c, chain, text);
    if (auth.userId !== body.user_id) throw new HttpError(403, "forbidden", "sign with the key named by user_id");
    return reply(await stub(c.env).trustCreate(chain, auth));
  });

  api.post("/v1/trust/claim", async (c) => {
    const body = parseJson(await readBody(c), TrustClaimBody);
    return reply(await stub(c.env).trustClaim(chain, body.pairing_code, body.provider_pubkey));
  });

  api.get("/v1/trust/list", async (c) => {
    const { user_id } = validate(c.req.query(), TrustListQuery, "invalid_query");
    const auth = await requireSigner(c, chain, "");
    if (auth.userId !== user_id) throw new HttpError(403, "forbidden", "sign with the key named by user_id");
    return reply(await stub(c.env).trustList(chain, auth));
  });

  api.delete("/v1/trust/:pubkey", async (c) => {
    const pubkey = c.req.param("pubkey");
    if (!PUBKEY_HEX.test(pubkey))
      throw new HttpError(400, "invalid_request", "provider_pubkey must be 64 lowercase hex characters", { field: "provider_pubkey" });
    return reply(await stub(c.env).trustRevoke(chain, await requireSigner(c, chain, ""), pubkey));
  });

  api.get("/v1/workers/ws", (c) => upgradeToWorker(c));

  api.get("/v1/workers", async (c) => c.json(await stub(c.env).workers(chain)));

  api.get("/v1/models", async (c) => c.json(await stub(c.env).models(chain)));

  api.get("/v1/workers/:pubkey", async (c) => {
    const pubkey = c.req.param("pubkey");
    if (!PUBKEY_HEX.test(pubkey)) {
      throw new HttpError(400, "invalid_request", "provider_pubkey must be 64 lowercase hex characters", { field: "provider_pubkey" });
    }
    return c.json(await stub(c.env).workerAccount(chain, pubkey));
  });

  api.get("/v1/openapi.json", (c) => c.json(openApiDocument(chain)));

  // Foreign dialects, each its own module: OpenAI at /v1 (chat completions), Ollama at /api.
  api.route("/v1", openAiRoutes(chain));
  api.route("/api", ollamaRoutes(chain));
  // The live dashboard: its page at /dashboard, its snapshot and stream at /v1/dashboard.
  api.route("/", dashboardRoutes(chain));

  return api;
}

/** The chain a path addresses: `/solana/...` is Solana, everything else (`/monad`, bare `/v1`) Monad. */
function chainOfPath(path: string): Chain {
  return path === "/solana" || path.startsWith("/solana/") ? "solana" : "monad";
}

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(
    "*",
    cors({
      origin: "*",
      allowHeaders: [
        "content-type",
        "idempotency-key",
        "payment-signature",
        "x-dispatch-user",
        "x-dispatch-timestamp",
        "x-dispatch-nonce",
        "x-dispatch-signature",
        "last-event-id",
        "authorization",
        "x-dispatch-tier",
        "x-dispatch-privacy",
      ],
      exposeHeaders: ["payment-required", "payment-response", "x-dispatch-job-id", "x-dispatch-receipt"],
    }),
  );
  // Configuration is checked before anything else, so a bad value fails the first request with a
  // message naming the variable (the Durable Object would otherwise fail behind an opaque RPC error).
  app.use("*", async (c, next) => {
    readSettings(c.env, chainOfPath(c.req.path));
    await next();
  });
  // The browser worker page (chain chosen on the page: /worker?chain=solana).
  app.route("/", workerPageRoutes());
  app.route("/monad", chainApi("monad"));
  app.route("/solana", chainApi("solana"));
  // Bare /v1 (and the bare root for reference workers) is Monad.
  app.route("/", chainApi("monad"));

  app.notFound((c) => {
    const first = new URL(c.req.url).pathname.split("/")[1] ?? "";
    if (first !== "" && first !== "v1" && first !== "monad" && first !== "solana") {
      return c.json({ error: "unknown_chain", message: `unknown chain "${first}"; use /monad or /solana` }, 404);
    }
    return c.json({ error: "not_found", message: "no such route; see /v1/openapi.json" }, 404);
  });

  app.onError((err, c) => {
    if (err instanceof HttpError) return c.json(err.toJSON(), err.status);
    if (err instanceof SettingsError) {
      console.error("configuration error:", err.message);
      return c.json({ error: "internal_error", message: `coordinator misconfigured: ${err.message}` }, 500);
    }
    console.error("unhandled error", err);
    return c.json({ error: "internal_error", message: "unexpected error; it has been logged" }, 500);
  });
  return app;
}
