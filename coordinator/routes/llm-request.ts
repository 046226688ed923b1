import type { Context } from "hono";
import { type Chain, CommitBody, sha256Hex, type Tier } from "../../protocol/index.ts";
import { HttpError } from "../errors.ts";
import type { SignedCommit } from "../held-calls.ts";
import { bodyHash, clientAddress, idempotencyKey, requireSigner, validate } from "../request.ts";

/** What a dialect asks for, already translated: the LLM payload and the dialect's own hints. */
export interface LlmAsk {
  payload: Record<string, unknown>;
  /** The dialect's user field (OpenAI `user`); a signed request's user is always its signer. */
  user?: string | null | undefined;
  /** A tier the dialect's own field implies (OpenAI `service_tier: "flex"`); `x-dispatch-tier` wins. */
  tier?: Tier | null | undefined;
}

/**
 * The commit behind a chat call, with everything the edge decides about who is asking:
 * a signed request (`x-dispatch-*` headers over this exact body) runs as a PRIVATE job of its
 * signer, routed to the workers that signer paired with; `x-dispatch-privacy: private` without
 * a signature is refused rather than silently run in public. Unsigned callers without a user
 * get an id of their own derived from their address, so strangers never share a job quota.
 * The tier is FAST unless `x-dispatch-tier: cheap` or the dialect says otherwise.
 */
export async function llmCall(c: Context, chain: Chain, text: string, ask: LlmAsk): Promise<SignedCommit> {
  const privacy = privacyHeader(c.req.header("x-dispatch-privacy"));
  const signed = c.req.header("x-dispatch-signature") !== undefined;
  const auth = privacy === "PRIVATE" || signed ? await requireSigner(c, chain, text) : null;
  if (auth !== null && ask.user != null && ask.user !== auth.userId) {
    throw new HttpError(403, "forbidden", "the request is signed by a different key than `user`; leave `user` out or set it to the signer");
  }
  const addr = clientAddress(c);
  const body = validate(
    {
      job_type: "LLM_INFER",
      user_id: auth?.userId ?? ask.user ?? `anon-${sha256Hex(addr).slice(0, 24)}`,
      privacy_class: privacy ?? (auth ? "PRIVATE" : "PUBLIC"),
      payload: ask.payload,
    },
    CommitBody,
    "invalid_request",
  );
  const tier = tierHeader(c.req.header("x-dispatch-tier")) ?? ask.tier ?? "FAST";
  return {
    chain,
    tier,
    body,
    idempotencyKey: idempotencyKey(c),
    requestHash: bodyHash(`${tier}\n${JSON.stringify(body)}`),
    auth,
    paymentHeader: c.req.header("payment-signature") ?? null,
    resourceUrl: c.req.url,
    addr,
  };
}

function privacyHeader(raw: string | undefined): "PUBLIC" | "PRIVATE" | null {
  if (raw === undefined) return null;
  const value = raw.trim().toUpperCase();
  if (value === "PUBLIC" || value === "PRIVATE") return value;
  throw new HttpError(400, "invalid_request", "x-dispatch-privacy must be public or private", { field: "x-dispatch-privacy" });
}

function tierHeader(raw: string | undefined): Tier | null {
  if (raw === undefined) return null;
  const value = raw.trim().toUpperCase();
  if (value === "FAST" || value === "CHEAP") return value;
  throw new HttpError(400, "invalid_request", "x-dispatch-tier must be fast or cheap", { field: "x-dispatch-tier" });
}
