import { signSeekerRequest } from "../protocol/index.ts";
import { DispatchError } from "./errors.ts";
import { type PaymentClientInput, payFor, toPaymentClient } from "./payments.ts";
import type { FetchLike, Identity } from "./types.ts";

/** The `fetch` signature OpenAI, Ollama and AI SDK clients accept as an option. */
export type ClientFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface DispatchFetchOptions {
  /** Pays a `402` once per request (x402 v2): an `x402Client`, `x402HTTPClient` or any PaymentClient. Its spend controls cap what it pays. */
  payment?: PaymentClientInput;
  /** Signs every request as this seeker: chat calls then run as the seeker's PRIVATE jobs, on the workers it paired with. */
  identity?: Identity;
  /** The fetch underneath (default: the global one). */
  fetch?: FetchLike;
}

/**
 * A `fetch` for foreign clients pointed at Dispatch (the official `openai` client, the AI SDK,
 * the `ollama` client): a `402` is paid with the SDK's payer and the request sent once more,
 * with the same body and the `PAYMENT-SIGNATURE`; nothing is paid twice, since a second 402 is
 * returned to the client as it is. With an identity, each attempt is signed afresh.
 */
export function dispatchFetch(opts: DispatchFetchOptions): ClientFetch {
  const base: FetchLike = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const payer = opts.payment === undefined ? undefined : toPaymentClient(opts.payment);
  return async (input, init) => {
    const request = new Request(input, init);
    // Read once: the paid retry must send the very same bytes (and signatures cover them).
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.text();
    const send = (extra: Record<string, string>): Promise<Response> => {
      const headers = new Headers(request.headers);
      for (const [name, value] of Object.entries({ ...signature(request, body, opts.identity), ...extra })) headers.set(name, value);
      return base(request.url, { method: request.method, headers, body, signal: request.signal });
    };
    const first = await send({});
    if (first.status !== 402 || payer === undefined) return first;
    const chain = chainOf(request.url);
    let paid: Record<string, string>;
    try {
      paid = await payFor(payer, first, chain);
    } catch (err) {
      if (err instanceof DispatchError) throw err;
      throw new DispatchError("payment_failed", String(err), { status: 402, cause: err });
    }
    return send(paid);
  };
}

/** The chain a coordinator URL addresses: `/solana/...`, else Monad (bare paths are Monad). */
function chainOf(url: string): "monad" | "solana" {
  return new URL(url).pathname.startsWith("/solana") ? "solana" : "monad";
}

function signature(request: Request, body: string | undefined, identity: Identity | undefined): Record<string, string> {
  if (identity === undefined) return {};
  return signSeekerRequest({
    chain: chainOf(request.url),
    method: request.method,
    url: request.url,
    body: body ?? "",
    secretKey: identity.secretKey,
    publicKey: identity.publicKey,
  });
}
