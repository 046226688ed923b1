import type { z } from "zod";
import { type Chain, ErrorBody, signSeekerRequest } from "../protocol/index.ts";
import { readBoundedText } from "./bounded-body.ts";
import { DispatchError, type DispatchErrorCode } from "./errors.ts";
import type { FetchLike, Identity } from "./types.ts";

export interface CoordinatorRequest {
  method: "GET" | "POST" | "DELETE";
  /** Path under the chain's base URL, starting with `/v1`. */
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** Sign as the identity (PRIVATE jobs, trust pairings). */
  sign?: boolean;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Abort this one HTTP exchange after this long (ms). */
  timeoutMs?: number;
}

/**
 * One chain's coordinator over HTTP: builds URLs under the chain prefix, signs requests with
 * the seeker key, and turns every failure into a DispatchError with a stable code.
 */
export class CoordinatorClient {
  readonly chain: Chain;
  readonly baseUrl: string;
  readonly #fetch: FetchLike;
  readonly #identity: Identity | undefined;

  constructor(chain: Chain, baseUrl: string, opts: { fetch: FetchLike; identity?: Identity | undefined }) {
    this.chain = chain;
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.#fetch = opts.fetch;
    this.#identity = opts.identity;
  }

  url(path: string, query?: CoordinatorRequest["query"]): URL {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  /** Sends the request; network failures and aborts become DispatchErrors, HTTP errors do not. */
  async send(req: CoordinatorRequest): Promise<Response> {
    const url = this.url(req.path, req.query);
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const headers: Record<string, string> = { accept: "application/json", ...req.headers };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (req.sign) {
      const identity = this.#identity;
      if (!identity) {
        throw new DispatchError(
          "identity_required",
          "this request must be signed: give ComputeRouter an identity ({publicKey, secretKey}; see loadOrCreateIdentity)",
        );
      }
      // Signed anew on every attempt: the timestamp must be fresh, the path is exactly what the server sees.
      Object.assign(
        headers,
        signSeekerRequest({
          chain: this.chain,
          method: req.method,
          url,
          body: body ?? "",
          secretKey: identity.secretKey,
          publicKey: identity.publicKey,
        }),
      );
    }
    const { signal, dispose } = combineSignals(req.signal, req.timeoutMs);
    try {
      return await this.#fetch(url.toString(), { method: req.method, headers, body, signal });
    } catch (err) {
      if (req.signal?.aborted) throw new DispatchError("aborted", "the call was aborted by the caller", { cause: err });
      if (signal?.aborted) {
        throw new DispatchError("timeout", `${this.chain} coordinator did not answer ${req.method} ${url.pathname} in time`, {
          cause: err,
        });
      }
      throw new DispatchError(
        "network_error",
        `cannot reach the ${this.chain} coordinator at ${this.baseUrl} (${errorText(err)}); check the URL and that it is running`,
        { cause: err },
      );
    } finally {
      dispose();
    }
  }

  /** Sends, throws on non-2xx, and parses the JSON answer with `schema`. */
  async json<S extends z.ZodType>(schema: S, req: CoordinatorRequest): Promise<z.output<S>> {
    const res = await this.send(req);
    if (!res.ok) throw await errorFromResponse(res, this.chain);
    return parseJson(schema, await readJson(res, this.chain), `${req.method} ${req.path}`, this.chain);
  }
}

export async function readJson(res: Response, chain: string): Promise<unknown> {
  const text = await readBoundedText(res, chain);
  try {
    return JSON.parse(text);
  } catch {
    throw new DispatchError("invalid_response", `${chain} coordinator answered ${res.status} with non-JSON: ${text.slice(0, 200)}`, {
      status: res.status,
    });
  }
}

export function parseJson<S extends z.ZodType>(schema: S, data: unknown, what: string, chain: string): z.output<S> {
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "unknown";
    throw new DispatchError("invalid_response", `${chain} coordinator's answer to ${what} has the wrong shape (${where})`);
  }
  return parsed.data;
}

/** Maps an error answer to a DispatchError, keeping the coordinator's code, field and job id. */
export async function errorFromResponse(res: Response, chain: string): Promise<DispatchError> {
  const text = await readBoundedText(res, chain, 64 * 1024).catch(() => "");
  let body: ErrorBody | undefined;
  try {
    const parsed = ErrorBody.partial({ message: true }).safeParse(JSON.parse(text));
    if (parsed.success) body = { message: "", ...parsed.data };
  } catch {
    // Not JSON (a proxy's HTML page, say): the status alone says what happened.
  }
  const code = (body?.error && /^[a-z_]+$/.test(body.error) ? body.error : fallbackCode(res.status)) as DispatchErrorCode;
  const message = body?.message || body?.error || text.slice(0, 200) || res.statusText || "no details";
  return new DispatchError(code, `${chain} coordinator: ${res.status} ${code}: ${message}`, {
    status: res.status,
    jobId: body?.job_id,
    field: body?.field,
  });
}

function fallbackCode(status: number): DispatchErrorCode {
  if (status === 402) return "payment_required";
  if (status === 404) return "not_found";
  if (status === 413) return "payload_too_large";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "internal_error";
  return "http_error";
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
    return `${err.message}${cause}`;
  }
  return String(err);
}

/** The caller's signal plus an optional timeout, as one signal (AbortSignal.any exists in every target runtime). */
export function combineSignals(
  outer: AbortSignal | undefined,
  timeoutMs: number | undefined,
): { signal: AbortSignal | undefined; dispose: () => void } {
  if (timeoutMs === undefined) return { signal: outer, dispose: () => {} };
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException("timed out", "TimeoutError")), Math.max(0, timeoutMs));
  const signal = outer ? AbortSignal.any([outer, controller.signal]) : controller.signal;
  return { signal, dispose: () => clearTimeout(timer) };
}
