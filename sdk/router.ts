import {
  CHAINS,
  type Chain,
  HealthResponse,
  isFinishedStatus,
  type JobEvent,
  type JobType,
  type JobView,
  LIMITS,
  LlmPayload,
  ModelsResponse,
  type Policy,
  type PrivacyClass,
  priceMicroUsd,
  QuoteResponse,
  ReceiptResponse,
  resolvePolicy,
  TaskPayload,
} from "../protocol/index.ts";
import { type AnchorCheck, checkAnchor } from "./anchor-check.ts";
import { chatPayload, chatResult, streamChat } from "./chat.ts";
import { CoordinatorClient } from "./coordinator-client.ts";
import { DispatchError, isDispatchError } from "./errors.ts";
import { completeHosted, hostedProviders } from "./hosted.ts";
import { taskOutput, taskPrompt } from "./hosted-tasks.ts";
import { type CommitState, type Committed, commitJob, fetchJob, settle, streamJob, waitForJob } from "./job-calls.ts";
import { type PaymentClient, type PriceLimit, toPaymentClient } from "./payments.ts";
import { checkJobReceipt } from "./receipt-check.ts";
import { TrustApi } from "./trust-api.ts";
import type {
  ChatRequest,
  ChatResult,
  ChatStream,
  ComputeRouterOptions,
  FetchLike,
  HostedConfig,
  HostedRoute,
  Identity,
  JobHandle,
  JobResult,
  LlmResult,
  ProgressEvent,
  RunLLMRequest,
  RunTaskRequest,
  SubmitRequest,
  WaitOptions,
} from "./types.ts";

const DEFAULT_TIMEOUTS: Record<JobType, number> = { TASK: 30_000, LLM_INFER: 60_000 };
/** Seconds past the coordinator's queue deadline we keep waiting for its verdict on an unassigned job. */
const QUEUE_SLACK_SECONDS = 5;

/** Times a dropped event stream is resumed (from the last token seen) before falling back to long-polling. */
const STREAM_RESUMES = 2;

/** Only these failures, and only before any payment, send a job to another chain or a hosted provider. */
const FALLBACK_CODES = new Set(["no_eligible_worker", "network_error"]);

type JobRef = string | (Pick<JobHandle, "job_id" | "chain"> & Partial<Pick<JobHandle, "privacy" | "job_type">>);

/**
 * The seeker client: commits jobs to Dispatch coordinators (paying x402 402s, signing
 * PRIVATE requests), waits for them by long-poll or SSE, verifies every receipt, and falls
 * back to the caller's own hosted LLM key for PUBLIC jobs no worker can take.
 */
export class ComputeRouter {
  readonly trust: TrustApi;
  readonly #clients = new Map<Chain, CoordinatorClient>();
  readonly #chains: Chain[];
  readonly #fetch: FetchLike;
  readonly #payment: PaymentClient | undefined;
  readonly #identity: Identity | undefined;
  readonly #hosted: HostedConfig | undefined;
  readonly #userId: string;
  readonly #timeouts: Record<JobType, number>;
  readonly #configuredTimeouts: Partial<Record<JobType, number>>;
  readonly #maxPrice: ComputeRouterOptions["maxPrice"];
  readonly #expectedPayment: ComputeRouterOptions["expectedPayment"];

  constructor(opts: ComputeRouterOptions) {
    // Bound late so a test or polyfill that replaces globalThis.fetch afterwards is honoured.
    this.#fetch = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#identity = opts.identity;
    for (const chain of CHAINS) {
      const url = opts.coordinators[chain];
      if (url) this.#clients.set(chain, new CoordinatorClient(chain, url, { fetch: this.#fetch, identity: opts.identity }));
    }
    const preference = opts.chainPreference === undefined ? [...this.#clients.keys()] : [opts.chainPreference].flat();
    this.#chains = preference.filter((chain) => this.#clients.has(chain));
    if (this.#chains.length === 0) {
      throw new DispatchError(
        "invalid_request",
        "ComputeRouter needs at least one coordinator URL for a preferred chain (monad or solana)",
      );
    }
    this.#payment = opts.x402Client ? toPaymentClient(opts.x402Client) : undefined;
    this.#hosted = opts.hosted;
    this.#userId = opts.identity?.publicKey ?? opts.userId ?? "anonymous";
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.#configuredTimeouts = { ...opts.timeouts };
    this.#maxPrice = opts.maxPrice;
    this.#expectedPayment = opts.expectedPayment;
    this.trust = new TrustApi((chain) => this.#client(chain), opts.identity);
  }

  /** The chains this router uses, in preference order. */
  get chains(): readonly Chain[] {
    return this.#chains;
  }

  async health(chain?: Chain): Promise<HealthResponse> {
    return this.#client(chain).json(HealthResponse, { method: "GET", path: "/v1/health", timeoutMs: 15_000 });
  }

  async quote(args: { job_type: JobType; policy?: Policy; chain?: Chain }): Promise<QuoteResponse> {
    return this.#client(args.chain).json(QuoteResponse, {
      method: "GET",
      path: "/v1/quote",
      query: { job_type: args.job_type, policy: args.policy ?? "AUTO" },
      timeoutMs: 15_000,
    });
  }

  /** Commits one job on one chain (no fallback); pays a 402 once when an x402 client is configured. */
  async submit(req: SubmitRequest, onProgress?: (event: ProgressEvent) => void): Promise<JobHandle> {
    return (await this.#commit(req, { paid: false }, onProgress)).handle;
  }

  /** The job as the coordinator reports it now (or after up to `waitSeconds` of long-poll), unverified. */
  async status(job: JobRef, opts: { chain?: Chain; waitSeconds?: number; signal?: AbortSignal } = {}): Promise<JobView> {
    const ref = this.#ref(job, opts.chain);
    return fetchJob(this.#client(ref.chain), ref.job_id, { waitSeconds: opts.waitSeconds, sign: ref.sign, signal: opts.signal });
  }

  /**
   * Proves the job's receipt is anchored on-chain: its Merkle proof leads to a root that the
   * ReceiptAnchor contract at `receiptAnchor` (on the EVM trust layer at `rpcUrl`) holds.
   */
  async verifyAnchor(job: JobRef, chainInfo: { rpcUrl: string; receiptAnchor: `0x${string}`; chain?: Chain }): Promise<AnchorCheck> {
    const ref = this.#ref(job, chainInfo.chain);
    const view = await this.#client(ref.chain).json(ReceiptResponse, {
      method: "GET",
      path: `/v1/receipts/${encodeURIComponent(ref.job_id)}`,
      sign: ref.sign,
      timeoutMs: 15_000,
    });
    return checkAnchor(view, { rpcUrl: chainInfo.rpcUrl, receiptAnchor: chainInfo.receiptAnchor, fetch: this.#fetch });
  }

  /** Long-polls until the job settles; returns it only with a verified receipt, else throws. */
  async wait(job: JobRef, opts: WaitOptions = {}): Promise<JobResult> {
    const ref = this.#ref(job, opts.chain);
    const timeoutMs = opts.timeoutMs ?? (ref.job_type ? this.#timeouts[ref.job_type] : DEFAULT_TIMEOUTS.LLM_INFER);
    return waitForJob(this.#client(ref.chain), ref.job_id, { deadline: Date.now() + timeoutMs, sign: ref.sign, signal: opts.signal });
  }

  /** The job's events (status changes, streamed LLM tokens) as they happen; ends after the terminal status. */
  stream(job: JobRef, opts: WaitOptions = {}): AsyncGenerator<JobEvent> {
    const ref = this.#ref(job, opts.chain);
    const timeoutMs = opts.timeoutMs ?? (ref.job_type ? this.#timeouts[ref.job_type] : DEFAULT_TIMEOUTS.LLM_INFER);
    return streamJob(this.#client(ref.chain), ref.job_id, { sign: ref.sign, signal: opts.signal, timeoutMs });
  }

  /** Verifies a job's receipt (signature by the worker key, output hash, job id); throws `invalid_receipt`. */
  verify(view: JobView, expectedJobId?: string): void {
    checkJobReceipt(view, expectedJobId);
  }

  async runLLM(req: RunLLMRequest): Promise<LlmResult> {
    const payload = {
      prompt: req.prompt,
      max_tokens: req.max_tokens ?? LIMITS.defaultMaxTokens,
      ...(req.system === undefined ? {} : { system: req.system }),
      ...(req.temperature === undefined ? {} : { temperature: req.temperature }),
    };
    return this.#llm(payload, req);
  }

  /**
   * OpenAI-style chat as an LLM_INFER job: OpenAI-shaped messages in, a verified answer out
   * (assistant message, model, finish reason, usage). With `stream: true` it returns a
   * ChatStream of text deltas at once; the receipt is verified before the stream ends.
   */
  chat(req: ChatRequest & { stream: true }): ChatStream;
  chat(req: ChatRequest & { stream?: false | undefined }): Promise<ChatResult>;
  chat(req: ChatRequest): ChatStream | Promise<ChatResult>;
  chat(req: ChatRequest): ChatStream | Promise<ChatResult> {
    const run = async (onToken?: (text: string) => void): Promise<ChatResult> =>
      chatResult(await this.#llm(chatPayload(req), { ...req, ...(onToken && { onToken }) }));
    return req.stream === true ? streamChat(run) : run();
  }

  /** The models this chain's workers serve (`GET /v1/models`, OpenAI's list shape). */
  async models(opts: { chain?: Chain; signal?: AbortSignal } = {}): Promise<ModelsResponse> {
    return this.#client(opts.chain).json(ModelsResponse, { method: "GET", path: "/v1/models", timeoutMs: 15_000, signal: opts.signal });
  }

  async #llm(
    payload: Record<string, unknown>,
    req: RunLLMRequest | (ChatRequest & { onToken?: (text: string) => void }),
  ): Promise<LlmResult> {
    const result = await this.#run("LLM_INFER", payload, req, async (route) => {
      // Hosted providers get the conversation; the Dispatch model name means nothing to them.
      const out = await completeHosted(route, this.#hosted ?? {}, LlmPayload.parse(payload), this.#fetch, req.signal);
      req.onToken?.(out.text);
      return { text: out.text, model: out.model };
    });
    return { ...result, text: outputText(result.output) };
  }

  async runTask(req: RunTaskRequest): Promise<JobResult> {
    const payload = {
      task_type: req.task_type,
      input: req.input,
      ...(req.labels === undefined ? {} : { labels: req.labels }),
      ...(req.schema === undefined ? {} : { schema: req.schema }),
      ...(req.max_sentences === undefined ? {} : { max_sentences: req.max_sentences }),
    };
    return this.#run("TASK", payload, req, async (route) => {
      const task = TaskPayload.parse(payload);
      const out = await completeHosted(route, this.#hosted ?? {}, taskPrompt(task), this.#fetch, req.signal);
      return taskOutput(task, out.text, route);
    });
  }

  /**
   * Tries each preferred chain, then each hosted provider. A route is abandoned only for
   * FALLBACK_CODES and only while nothing has been paid; PRIVATE jobs never leave Dispatch.
   */
  async #run(
    jobType: JobType,
    payload: Record<string, unknown>,
    req: (RunLLMRequest | RunTaskRequest | ChatRequest) & { onToken?: (text: string) => void },
    hosted: (route: HostedRoute) => Promise<unknown>,
  ): Promise<JobResult> {
    const privacy: PrivacyClass = req.privacy ?? "PUBLIC";
    const chains = req.chain ? [req.chain] : this.#chains;
    const timeoutMs = req.timeoutMs ?? this.#timeouts[jobType];
    // With the default patience, a job still queued at our deadline gets until the
    // coordinator's queue deadline (plus slack) to be failed `no_eligible_worker`, so that
    // verdict, not a vague timeout, decides about fallback. An explicit timeout is honoured as given.
    const defaultPatience = req.timeoutMs === undefined && this.#configuredTimeouts[jobType] === undefined;
    const queueGraceMs = defaultPatience ? (LIMITS.queueDeadlineSeconds + QUEUE_SLACK_SECONDS) * 1000 : 0;
    let lastError: DispatchError | undefined;
    for (const chain of chains) {
      const state: CommitState = { paid: false };
      try {
        const started = Date.now();
        // Without a token stream to show, the commit itself waits for the answer (one round trip).
        const waitSeconds = req.onToken ? undefined : Math.ceil(timeoutMs / 1000);
        const { handle, finished } = await this.#commit(
          {
            job_type: jobType,
            payload,
            policy: req.policy,
            privacy,
            chain,
            idempotencyKey: req.idempotencyKey,
            signal: req.signal,
            waitSeconds,
          },
          state,
          req.onProgress,
        );
        if (finished) {
          req.onProgress?.({ type: "stage", chain, job_id: handle.job_id, stage: finished.stage });
          return settle(finished, handle.job_id, chain);
        }
        return await this.#settle(handle, { deadline: started + timeoutMs, queuedUntil: started + queueGraceMs }, req);
      } catch (err) {
        if (!isDispatchError(err) || !FALLBACK_CODES.has(err.code) || state.paid) throw err;
        lastError = err;
        req.onProgress?.({ type: "route_failed", route: `dispatch:${chain}`, code: err.code, message: err.message });
      }
    }
    if (privacy === "PRIVATE" || !lastError) throw lastError ?? new DispatchError("no_route", "no chain configured");
    const reason = lastError.code;
    for (const route of hostedProviders(this.#hosted)) {
      req.onProgress?.({ type: "fallback", route, reason });
      try {
        const output = await hosted(route);
        return { route, job_id: null, output, receipt: null, payment: null, fallback_reason: reason };
      } catch (err) {
        if (isDispatchError(err, "aborted")) throw err;
        lastError = isDispatchError(err) ? err : new DispatchError("hosted_error", String(err));
        req.onProgress?.({ type: "route_failed", route, code: lastError.code, message: lastError.message });
      }
    }
    throw lastError;
  }

  async #commit(
    req: SubmitRequest & { waitSeconds?: number | undefined },
    state: CommitState,
    onProgress?: (event: ProgressEvent) => void,
  ): Promise<Committed> {
    const chain = req.chain ?? this.#chains[0] ?? "monad";
    const client = this.#client(chain);
    if (req.privacy === "PRIVATE" && !this.#identity) {
      throw new DispatchError("identity_required", "PRIVATE jobs are signed by the seeker: give ComputeRouter an identity key");
    }
    const committed = await commitJob(
      client,
      { ...req, idempotencyKey: req.idempotencyKey ?? newIdempotencyKey() },
      {
        userId: this.#userId,
        payment: this.#payment,
        onPaying: () => onProgress?.({ type: "paying", chain }),
        priceLimit: this.#priceLimit(req, chain),
      },
      state,
    );
    onProgress?.({ type: "committed", chain, job_id: committed.handle.job_id, paid: committed.handle.paid });
    return committed;
  }

  /** The most this job may cost: its own limit, else the router's, else the published price of its tier and type. */
  #priceLimit(req: SubmitRequest, chain: Chain): PriceLimit {
    const tier = resolvePolicy(req.policy ?? "AUTO", req.job_type);
    const configured = typeof this.#maxPrice === "function" ? this.#maxPrice(tier, req.job_type) : this.#maxPrice;
    const max = req.maxPrice ?? configured ?? priceMicroUsd(tier, req.job_type);
    return { maxAmount: BigInt(Math.max(0, Math.floor(max))), ...this.#expectedPayment?.[chain] };
  }

  /** Streams when the caller wants tokens, long-polls otherwise; either way the result is verified. */
  async #settle(
    handle: JobHandle,
    { deadline, queuedUntil }: { deadline: number; queuedUntil: number },
    req: (RunLLMRequest | RunTaskRequest | ChatRequest) & { onToken?: (text: string) => void },
  ): Promise<JobResult> {
    const client = this.#client(handle.chain);
    const sign = handle.privacy === "PRIVATE";
    const onStage = (stage: string) => req.onProgress?.({ type: "stage", chain: handle.chain, job_id: handle.job_id, stage });
    const onToken = req.onToken;
    if (onToken) {
      // A coordinator drops a stream whose reader falls behind; resume after the last token seen.
      let lastSeq: number | undefined;
      for (let attempt = 0; attempt <= STREAM_RESUMES; attempt++) {
        try {
          for await (const event of streamJob(client, handle.job_id, {
            sign,
            signal: req.signal,
            timeoutMs: Math.max(deadline, queuedUntil) - Date.now(),
            lastEventId: lastSeq,
          })) {
            if (event.type === "token") {
              if (lastSeq !== undefined && event.seq <= lastSeq) continue;
              lastSeq = event.seq;
              onToken(event.text);
            } else if (isFinishedStatus(event.status)) {
              onStage(event.stage);
              return settle(
                await fetchJob(client, handle.job_id, { waitSeconds: 5, sign, signal: req.signal }),
                handle.job_id,
                handle.chain,
              );
            } else {
              // Re-queued: another worker starts the text again, with its own sequence numbers.
              if (event.stage === "pending") lastSeq = undefined;
              onStage(event.stage);
            }
          }
          break;
        } catch (err) {
          // Job failures and bad receipts are answers; anything else (no SSE support, a dropped
          // stream) only means we lost the live view: resume it, then fall back to long-polling.
          if (!isDispatchError(err) || !["network_error", "timeout", "not_found", "http_error", "invalid_response"].includes(err.code)) {
            throw err;
          }
          if (!isDispatchError(err, "network_error")) break;
        }
      }
    }
    try {
      return await waitForJob(client, handle.job_id, { deadline, queuedUntil, sign, signal: req.signal, onStage });
    } catch (err) {
      if (isDispatchError(err, "timeout")) throw timeoutError(handle);
      throw err;
    }
  }

  #client(chain?: Chain): CoordinatorClient {
    const resolved = chain ?? this.#chains[0];
    const client = resolved ? this.#clients.get(resolved) : undefined;
    if (!client) throw new DispatchError("unknown_chain", `no coordinator URL configured for chain ${String(resolved)}`);
    return client;
  }

  #ref(job: JobRef, chain?: Chain): { job_id: string; chain: Chain; sign: boolean; job_type?: JobType | undefined } {
    if (typeof job === "string") {
      // Privacy unknown: sign when we can, so PRIVATE jobs stay readable by their owner.
      return { job_id: job, chain: chain ?? this.#chains[0] ?? "monad", sign: this.#identity !== undefined };
    }
    return {
      job_id: job.job_id,
      chain: job.chain,
      sign: job.privacy === undefined ? this.#identity !== undefined : job.privacy === "PRIVATE",
      job_type: job.job_type,
    };
  }
}

/** 128 random bits; crypto.randomUUID is missing in browser pages not served over https. */
function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function timeoutError(handle: JobHandle): DispatchError {
  return new DispatchError(
    "timeout",
    `job ${handle.job_id} on ${handle.chain} did not settle in time${handle.paid ? " (it was paid for; it is settled only if it completes)" : ""}; call wait() on it to keep waiting`,
    { jobId: handle.job_id },
  );
}

/** LLM workers answer a string or an object carrying the text; hosted routes answer `{text}`. */
export function outputText(output: unknown): string {
  if (typeof output === "string") return output;
  if (output && typeof output === "object") {
    for (const key of ["text", "response", "completion", "content", "output"]) {
      const value = (output as Record<string, unknown>)[key];
      if (typeof value === "string") return value;
    }
  }
  return JSON.stringify(output);
}
