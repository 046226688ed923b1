import {
  CommitBody,
  CommitResponse,
  commitEndpoint,
  isFinishedStatus,
  JobEvent,
  JobView,
  LIMITS,
  type PrivacyClass,
  resolvePolicy,
} from "../protocol/index.ts";
import { type CoordinatorClient, combineSignals, errorFromResponse, parseJson, readJson } from "./coordinator-client.ts";
import { DispatchError, type DispatchErrorCode } from "./errors.ts";
import { guardPaymentRequired, type PaymentClient, type PriceLimit, payFor } from "./payments.ts";
import { checkJobReceipt } from "./receipt-check.ts";
import { parseSse, type SseMessage } from "./sse.ts";
import type { JobHandle, JobResult, SubmitRequest } from "./types.ts";

/** Commit attempts after the first, on network failures and 5xx answers (same key, same payment). */
const COMMIT_RETRIES = 2;
/** A single commit exchange; the coordinator answers at once, so a long silence means trouble. */
const COMMIT_HTTP_TIMEOUT_MS = 20_000;
/** Consecutive failed long-polls tolerated while waiting on a job that exists. */
const WAIT_RETRIES = 3;

/** Mutable per-attempt facts the router needs for its fallback decision. */
export interface CommitState {
  paid: boolean;
}

export interface CommitContext {
  userId: string;
  payment: PaymentClient | undefined;
  onPaying?: () => void;
  /** What this job may cost on this chain (see `ComputeRouterOptions.maxPrice`). */
  priceLimit?: PriceLimit;
}

/** Answers a paid retry may get while its own first attempt is still admitting the job: ask again. */
const STILL_ADMITTING = new Set(["payment_already_used"]);
const ADMISSION_RETRIES = 5;
/** A committed job, and the job itself when it finished within the commit's `?wait=`. */
export interface Committed {
  handle: JobHandle;
  finished: JobView | null;
}

/**
 * Commits a job: validates the body against the protocol first (a clear local error beats a
 * round trip), then POSTs with an Idempotency-Key. A 402 is paid once; every later attempt
 * (network retry, 5xx retry) resends the same key and the same payment headers. With
 * `waitSeconds` the commit asks `?wait=` so a quick job comes back finished in the same round
 * trip; a coordinator that takes longer (or ignores `wait`) answers with the job id only.
 */
export async function commitJob(
  client: CoordinatorClient,
  req: SubmitRequest & { idempotencyKey: string; waitSeconds?: number | undefined },
  ctx: CommitContext,
  state: CommitState,
): Promise<Committed> {
  const privacy: PrivacyClass = req.privacy ?? "PUBLIC";
  const tier = resolvePolicy(req.policy ?? "AUTO", req.job_type);
  const body = {
    job_type: req.job_type,
    user_id: ctx.userId,
    privacy_class: privacy,
    payload: { ...req.payload, job_type: req.job_type },
  };
  const local = CommitBody.safeParse(body);
  if (!local.success) {
    const issue = local.error.issues[0];
    const field = issue?.path.join(".") ?? "";
    throw new DispatchError("invalid_request", `invalid ${req.job_type} job: ${field ? `${field}: ` : ""}${issue?.message ?? "invalid"}`, {
      field,
    });
  }
  const waitSeconds = req.waitSeconds === undefined ? 0 : Math.min(LIMITS.maxWaitSeconds, Math.max(0, Math.ceil(req.waitSeconds)));
  let paymentHeaders: Record<string, string> | undefined;
  let retries = 0;
  let admissionRetries = 0;
  // One wait for the whole commit, however many attempts it takes: a coordinator that keeps
  // failing cannot stretch the call to (attempts x wait).
  const waitUntil = Date.now() + waitSeconds * 1000;
  while (true) {
    const waitLeft = Math.max(0, Math.ceil((waitUntil - Date.now()) / 1000));
    let res: Response;
    try {
      res = await client.send({
        method: "POST",
        path: commitEndpoint(tier),
        query: { wait: waitLeft > 0 ? waitLeft : undefined },
        body,
        sign: privacy === "PRIVATE",
        headers: { "idempotency-key": req.idempotencyKey, ...paymentHeaders },
        signal: req.signal,
        timeoutMs: COMMIT_HTTP_TIMEOUT_MS + waitLeft * 1000,
      });
    } catch (err) {
      if (retryable(err) && retries < COMMIT_RETRIES) {
        retries++;
        await sleep(250 * 2 ** retries, req.signal);
        continue;
      }
      throw err;
    }
    if (res.status === 402) {
      if (paymentHeaders) {
        const refused = await errorFromResponse(res, client.chain);
        // Our own payment, already admitting this very job on an earlier attempt whose answer we
        // lost: the same key and payment will return that job, so ask again rather than fail.
        if (STILL_ADMITTING.has(refused.code) && admissionRetries < ADMISSION_RETRIES) {
          admissionRetries++;
          await sleep(300 * admissionRetries, req.signal);
          continue;
        }
        throw new DispatchError("payment_failed", `the ${client.chain} coordinator refused the payment: ${refused.message}`, {
          status: 402,
        });
      }
      if (!ctx.payment) {
        await res.body?.cancel();
        throw new DispatchError(
          "payment_required",
          `the ${client.chain} coordinator requires an x402 payment: give ComputeRouter an x402Client`,
          { status: 402 },
        );
      }
      const guarded = ctx.priceLimit ? guardPaymentRequired(res, ctx.priceLimit, client.chain) : res;
      ctx.onPaying?.();
      paymentHeaders = await payFor(ctx.payment, guarded, client.chain);
      // From here the payment may be taken, whatever happens next: nothing may fall back.
      state.paid = true;
      continue;
    }
    if (res.status >= 500 && retries < COMMIT_RETRIES) {
      await res.body?.cancel();
      retries++;
      await sleep(250 * 2 ** retries, req.signal);
      continue;
    }
    if (!res.ok) throw await errorFromResponse(res, client.chain);
    const data = await readJson(res, client.chain);
    // 200 is the finished job (asked for with ?wait=); 201 and 202 are the commit answer.
    const finished = res.status === 200 ? parseJson(JobView, data, "commit?wait", client.chain) : null;
    const jobId = finished?.id ?? parseJson(CommitResponse, data, "commit", client.chain).job_id;
    const handle: JobHandle = {
      job_id: jobId,
      chain: client.chain,
      job_type: req.job_type,
      tier,
      privacy,
      idempotencyKey: req.idempotencyKey,
      paid: state.paid,
    };
    return { handle, finished };
  }
}

export async function fetchJob(
  client: CoordinatorClient,
  jobId: string,
  opts: { waitSeconds?: number; sign: boolean; signal?: AbortSignal | undefined },
): Promise<JobView> {
  const waitSeconds = opts.waitSeconds === undefined ? undefined : Math.min(LIMITS.maxWaitSeconds, Math.max(0, opts.waitSeconds));
  const res = await client.send({
    method: "GET",
    path: `/v1/jobs/${encodeURIComponent(jobId)}`,
    query: { wait: waitSeconds },
    sign: opts.sign,
    signal: opts.signal,
    // The long-poll itself plus slack for a slow network.
    timeoutMs: ((waitSeconds ?? 0) + 15) * 1000,
  });
  if (!res.ok) {
    const err = await errorFromResponse(res, client.chain);
    throw new DispatchError(err.code, err.message, { status: err.status, jobId, field: err.field });
  }
  return parseJson(JobView, await readJson(res, client.chain), `GET /v1/jobs/${jobId}`, client.chain);
}

/** Turns a settled JobView into a verified result, or into the error its failure names. */
export function settle(view: JobView, jobId: string, chain: string): JobResult {
  if (view.status === "failed") {
    const fromResult = (view.result as { error?: unknown } | null)?.error;
    const reason = view.reason ?? (typeof fromResult === "string" ? fromResult : "worker_error");
    const code = (/^[a-z_]+$/.test(reason) ? reason : "worker_error") as DispatchErrorCode;
    // The worker's own words (e.g. "labels must be distinct") say what to change.
    const detail = typeof fromResult === "string" && fromResult !== reason ? `: ${fromResult}` : "";
    throw new DispatchError(code, `job ${jobId} on ${chain} failed: ${reason}${detail}`, { jobId });
  }
  checkJobReceipt(view, jobId);
  return {
    route: `dispatch:${chain}` as JobResult["route"],
    job_id: view.id,
    output: view.result,
    receipt: view.receipt,
    payment: view.payment,
  };
}

/**
 * Long-polls until the job settles or the deadline passes; the result is verified.
 * `queuedUntil` extends the deadline while the job has not been assigned yet: the
 * coordinator fails an unassigned job at its queue deadline, and that verdict
 * (`no_eligible_worker`, which may send the job to a fallback) is worth a few more seconds.
 */
export async function waitForJob(
  client: CoordinatorClient,
  jobId: string,
  opts: {
    deadline: number;
    queuedUntil?: number | undefined;
    sign: boolean;
    signal?: AbortSignal | undefined;
    onStage?: (stage: string) => void;
  },
): Promise<JobResult> {
  let failures = 0;
  let lastStage = "";
  let queued = true;
  while (true) {
    const limit = queued ? Math.max(opts.deadline, opts.queuedUntil ?? 0) : opts.deadline;
    const remaining = limit - Date.now();
    if (remaining <= 0) {
      throw new DispatchError("timeout", `job ${jobId} on ${client.chain} did not settle in time; it may still finish: wait on it again`, {
        jobId,
      });
    }
    const started = Date.now();
    let view: JobView;
    try {
      view = await fetchJob(client, jobId, { waitSeconds: Math.ceil(remaining / 1000), sign: opts.sign, signal: opts.signal });
      failures = 0;
    } catch (err) {
      const transient = retryable(err) || (err instanceof DispatchError && err.status >= 500);
      if (transient && failures < WAIT_RETRIES && limit - Date.now() > 500) {
        failures++;
        await sleep(500 * failures, opts.signal);
        continue;
      }
      throw err;
    }
    queued = view.stage === "pending";
    if (view.stage !== lastStage) {
      lastStage = view.stage;
      opts.onStage?.(view.stage);
    }
    if (isFinishedStatus(view.status)) return settle(view, jobId, client.chain);
    // A coordinator that ignores `wait` would otherwise be hammered in a tight loop.
    if (Date.now() - started < 250) await sleep(250, opts.signal);
  }
}

/** The job's Server-Sent Events, parsed; ends after the terminal status event. */
export async function* streamJob(
  client: CoordinatorClient,
  jobId: string,
  opts: { sign: boolean; signal?: AbortSignal | undefined; timeoutMs?: number | undefined; lastEventId?: number | undefined },
): AsyncGenerator<JobEvent> {
  // The timeout must span the whole body, not just the headers, so it is owned here.
  const { signal, dispose } = combineSignals(opts.signal, opts.timeoutMs);
  try {
    const res = await client.send({
      method: "GET",
      path: `/v1/jobs/${encodeURIComponent(jobId)}/events`,
      // Resuming after a dropped stream: the coordinator replays only the tokens after this one.
      headers: { accept: "text/event-stream", ...(opts.lastEventId !== undefined && { "last-event-id": String(opts.lastEventId) }) },
      sign: opts.sign,
      signal,
    });
    if (!res.ok) throw await errorFromResponse(res, client.chain);
    if (!res.body) throw new DispatchError("invalid_response", `${client.chain} coordinator sent an empty event stream`);
    const messages = parseSse(res.body);
    while (true) {
      let next: IteratorResult<SseMessage>;
      try {
        next = await messages.next();
      } catch (err) {
        if (opts.signal?.aborted) throw new DispatchError("aborted", "the call was aborted by the caller", { cause: err });
        if (signal?.aborted) throw new DispatchError("timeout", `job ${jobId}: event stream timed out`, { jobId, cause: err });
        throw new DispatchError("network_error", `job ${jobId}: event stream broke: ${String(err)}`, { jobId, cause: err });
      }
      if (next.done) return;
      const event = parseEvent(next.value);
      if (!event) continue;
      yield event;
      if (event.type === "status" && isFinishedStatus(event.status)) {
        await messages.return(undefined);
        return;
      }
    }
  } catch (err) {
    if (err instanceof DispatchError && err.code === "aborted" && !opts.signal?.aborted) {
      // send() saw our own timeout signal as the caller's.
      throw new DispatchError("timeout", `job ${jobId}: event stream timed out`, { jobId, cause: err });
    }
    throw err;
  } finally {
    dispose();
  }
}

function parseEvent(msg: SseMessage): JobEvent | undefined {
  let data: unknown;
  try {
    data = JSON.parse(msg.data);
  } catch {
    return undefined; // keep-alives and comments that are not JSON carry nothing for us
  }
  if (!data || typeof data !== "object") return undefined;
  const parsed = JobEvent.safeParse({ type: msg.event, ...data });
  // Event kinds newer than this SDK are skipped, not fatal.
  return parsed.success ? parsed.data : undefined;
}

export function retryable(err: unknown): boolean {
  return err instanceof DispatchError && (err.code === "network_error" || err.code === "timeout");
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DispatchError("aborted", "the call was aborted by the caller"));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new DispatchError("aborted", "the call was aborted by the caller"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
