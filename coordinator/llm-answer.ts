import { type AnswerProof, answerProof, encodeAnswerProof, type JobEvent, type JobView, LIMITS, LlmOutput } from "../protocol/index.ts";
import type { ChainCoordinator } from "./chain-coordinator.ts";
import type { Outcome } from "./errors.ts";
import type { SignedCommit } from "./held-calls.ts";
import { JobEventReader } from "./job-event-reader.ts";
import { LiveText } from "./live-text.ts";

/**
 * An LLM job asked for by a foreign dialect (OpenAI, Ollama), committed and followed from the
 * edge: one commit, then either the finished answer or its text live. Nothing here knows a
 * dialect; the adapters shape what this returns.
 */

type Stub = DurableObjectStub<ChainCoordinator>;

/** Why there is no answer, in our terms: an HTTP status, a stable code, what to do next. */
export interface LlmFailure {
  failed: true;
  status: number;
  code: string;
  message: string;
  jobId: string | null;
  /** `payment-required` on a 402, `retry-after` on a 429. */
  headers: Record<string, string>;
}

/** A completed job's answer, with what proves it. */
export interface LlmAnswer {
  failed: false;
  jobId: string;
  text: string;
  /** The worker's output when it has our shape (token counts, finish reason, model). */
  output: LlmOutput | null;
  proof: AnswerProof;
  view: JobView;
  /** `payment-response` once the payment settled. */
  headers: Record<string, string>;
}

export type LiveEvent = { type: "delta"; text: string } | { type: "done"; answer: LlmAnswer } | { type: "error"; failure: LlmFailure };

export interface LiveAnswer {
  failed: false;
  jobId: string;
  events: AsyncGenerator<LiveEvent>;
  /** The client went away: stop reading, which frees the object's stream and the client's hold. */
  cancel(): Promise<void>;
}

/** The first long-poll rides on the commit; later ones follow until the job's lifetime is surely over. */
const FIRST_WAIT_MS = LIMITS.maxWaitSeconds * 1000;
const ANSWER_WAIT_MS = (LIMITS.maxJobLifetimeSeconds + 30) * 1000;

/** Commits and waits for the whole answer. */
export async function answerLlm(stub: Stub, call: SignedCommit): Promise<LlmAnswer | LlmFailure> {
  const first = (await stub.commitAndWait(call, FIRST_WAIT_MS)) as Outcome<unknown>;
  if (!first.ok) return outcomeFailure(first, null);
  if (first.status === 200) return finish(first.body as JobView, first.headers);
  const jobId = String((first.body as { job_id: string }).job_id);
  const deadline = Date.now() + ANSWER_WAIT_MS;
  for (let left = deadline - Date.now(); left > 0; left = deadline - Date.now()) {
    const read = await readJob(stub, call, jobId, Math.min(FIRST_WAIT_MS, left));
    if (!read.ok) return outcomeFailure(read, jobId);
    if (read.body.status === "completed" || read.body.status === "failed") return finish(read.body, read.headers);
  }
  return failure(504, "timeout", `job ${jobId} did not finish in time; it may still: GET /v1/jobs/${jobId}`, jobId);
}

/**
 * Commits and follows the job. Returns once a worker holds the job (or it failed first), so a
 * job that never starts is still an ordinary error status rather than a broken stream.
 */
export async function streamLlm(stub: Stub, call: SignedCommit): Promise<LiveAnswer | LlmFailure> {
  const res = await stub.commitAndFollow(call);
  const jobId = res.headers.get("x-dispatch-job-id");
  if (!res.ok || res.body === null || jobId === null) return responseFailure(res);
  const reader = new JobEventReader(res.body);
  const followId = res.headers.get("x-dispatch-follow-id") ?? "";
  const cancel = async () => {
    // Told first: a cancel of the RPC stream itself may wait for the object's next write.
    await Promise.all([stub.unfollow(call.chain, followId).catch(() => {}), reader.cancel()]);
  };
  let first = await reader.next();
  while (first?.type === "status" && first.stage === "pending") first = await reader.next();
  if (first === null) return failure(502, "stream_interrupted", interrupted(jobId), jobId);
  if (first.type === "status" && first.status === "failed") {
    await cancel();
    const read = await readJob(stub, call, jobId, 0);
    const done = read.ok ? finish(read.body, read.headers) : outcomeFailure(read, jobId);
    return done.failed ? done : failure(502, "stream_interrupted", interrupted(jobId), jobId);
  }
  return { failed: false, jobId, events: live(stub, call, jobId, reader, first), cancel };
}

async function* live(stub: Stub, call: SignedCommit, jobId: string, reader: JobEventReader, first: JobEvent): AsyncGenerator<LiveEvent> {
  const text = new LiveText();
  try {
    for (let event: JobEvent | null = first; event !== null; event = await reader.next()) {
      if (event.type === "token") {
        const delta = text.token(event.text);
        if (delta) yield { type: "delta", text: delta };
        continue;
      }
      if (event.stage === "pending") text.restart();
      if (event.status !== "completed" && event.status !== "failed") continue;
      // A paid job's result is released only once its payment settled: this is that moment.
      const read = await readJob(stub, call, jobId, 0);
      const done = read.ok ? finish(read.body, read.headers) : outcomeFailure(read, jobId);
      if (done.failed) {
        yield { type: "error", failure: done };
        return;
      }
      const tail = text.finish(done.text);
      if (tail === null) {
        const message = `job ${jobId} was re-run on another worker after part of its answer streamed, and the verified answer differs from what was sent; read it at /v1/jobs/${jobId}`;
        yield { type: "error", failure: failure(502, "stream_diverged", message, jobId) };
        return;
      }
      if (tail) yield { type: "delta", text: tail };
      yield { type: "done", answer: done };
      return;
    }
    yield { type: "error", failure: failure(502, "stream_interrupted", interrupted(jobId), jobId) };
  } finally {
    await reader.cancel();
  }
}

/** Reads back the job this call committed (its owner is the commit's signer). */
async function readJob(stub: Stub, call: SignedCommit, jobId: string, waitMs: number): Promise<Outcome<JobView>> {
  return (await stub.committedJob({
    chain: call.chain,
    jobId,
    owner: call.auth?.userId ?? null,
    addr: call.addr,
    waitMs,
  })) as Outcome<JobView>;
}

function interrupted(jobId: string): string {
  return `the job's event stream ended early (a reader too slow, or a coordinator restart); the job goes on: GET /v1/jobs/${jobId}`;
}

/** What a failed job's reason means to an HTTP client. */
const FAILED: Record<string, { status: number; message: string }> = {
  no_eligible_worker: { status: 503, message: "no worker took the job in time; retry shortly, or name another model (see /v1/models)" },
  no_trusted_worker: { status: 503, message: "none of your trusted workers is online; pair one or try later" },
  model_not_served: { status: 404, message: "no worker online serves this model; see /v1/models" },
  invalid_input: { status: 400, message: "the workers refused the input" },
  payment_failed: { status: 402, message: "the payment could not be settled, so the answer is withheld; pay again" },
  worker_timeout: { status: 504, message: "the workers did not finish in time; retry, perhaps with fewer max_tokens" },
  worker_disconnected: { status: 502, message: "the workers dropped the job; retry" },
  worker_error: { status: 502, message: "the workers failed on the job; retry" },
  invalid_receipt: { status: 502, message: "the workers' answers could not be verified; retry" },
};

/** The answer of a finished job, or why there is none. */
function finish(view: JobView, headers: Record<string, string> | undefined): LlmAnswer | LlmFailure {
  if (view.status === "failed") {
    const reason = view.reason ?? "worker_error";
    const known = FAILED[reason] ?? { status: 502, message: "the job failed" };
    // The worker's own words (or the coordinator's note) say what to change.
    const result = view.result as { message?: unknown; error?: unknown } | null;
    const detail = typeof result?.message === "string" ? result.message : result?.error !== reason ? result?.error : undefined;
    const message = typeof detail === "string" && detail.length > 0 ? `${known.message} (${detail.slice(0, 300)})` : known.message;
    return failure(known.status, reason, `job ${view.id} failed: ${message}`, view.id);
  }
  if (view.status !== "completed" || view.receipt === null) {
    return failure(502, "not_finished", `job ${view.id} has no verified answer yet; GET /v1/jobs/${view.id}`, view.id);
  }
  const { verified: _verified, ...receipt } = view.receipt;
  const parsed = LlmOutput.safeParse(view.result);
  return {
    failed: false,
    jobId: view.id,
    text: answerText(view.result),
    output: parsed.success ? parsed.data : null,
    proof: answerProof(view.id, receipt, view.result),
    view,
    headers: headers ?? {},
  };
}

/**
 * A proof header stays small whatever a worker stuffs into its output (a frame may hold 1 MiB,
 * far past what proxies and clients accept in headers); a larger one is only in the body.
 */
const MAX_PROOF_HEADER_CHARS = 8 * 1024;

/** Headers of an unstreamed answer: its payment settlement, the job id and, when it fits, the proof. */
export function proofHeaders(answer: LlmAnswer): Record<string, string> {
  const proof = encodeAnswerProof(answer.proof);
  return {
    ...answer.headers,
    "x-dispatch-job-id": answer.jobId,
    ...(proof.length <= MAX_PROOF_HEADER_CHARS ? { "x-dispatch-receipt": proof } : {}),
  };
}

/** The answer's text: our workers' `text`; a reference worker's plain string or its usual keys. */
export function answerText(output: unknown): string {
  if (typeof output === "string") return output;
  if (output && typeof output === "object") {
    for (const key of ["text", "response", "completion", "content", "output"]) {
      const value = (output as Record<string, unknown>)[key];
      if (typeof value === "string") return value;
    }
  }
  return JSON.stringify(output) ?? "";
}

function failure(status: number, code: string, message: string, jobId: string | null, headers: Record<string, string> = {}): LlmFailure {
  return { failed: true, status, code, message, jobId, headers };
}

/**
 * A refused commit or read. `model_not_served` and `no_trusted_worker` are 422 on our commit
 * route; to a chat client they are an unknown model (404) and no worker (503).
 */
function outcomeFailure(outcome: Outcome<unknown> & { ok: false }, jobId: string | null): LlmFailure {
  const code = outcome.error.error ?? "internal_error";
  const status = code === "model_not_served" ? 404 : code === "no_trusted_worker" ? 503 : outcome.status;
  return failure(status, code, outcome.error.message ?? code, outcome.error.job_id ?? jobId, outcome.headers ?? {});
}

async function responseFailure(res: Response): Promise<LlmFailure> {
  const error = (await res.json().catch(() => ({}))) as Record<string, string>;
  const headers: Record<string, string> = {};
  for (const name of ["payment-required", "retry-after"]) {
    const value = res.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  return outcomeFailure({ ok: false, status: res.status, error, headers }, null);
}
