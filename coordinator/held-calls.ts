import type { Chain, JobView, SeekerAuth } from "../protocol/index.ts";
import type { CommitInput, CommitOutcome } from "./admission.ts";
import { type Failure, fail, type Outcome, ok } from "./errors.ts";
import { isTerminal, type Lifecycle, statusEvent } from "./lifecycle.ts";
import type { Listeners } from "./listeners.ts";
import { paymentResponseHeaders } from "./payments/x402.ts";
import { type JobRow, toJobView } from "./storage/job-store.ts";

export type SignedCommit = CommitInput & { auth: SeekerAuth | null };

/** A job the same client request has just committed, read back by the edge. */
export interface CommittedRead {
  chain: Chain;
  jobId: string;
  /** The commit's verified signer (its nonce already spent by that commit), or null when unsigned. */
  owner: string | null;
  addr: string;
  waitMs: number;
}

export interface HeldCallsDeps {
  life: Lifecycle;
  listeners: Listeners;
  network: () => string;
  holdsPerAddress: () => number;
  /** The object's own commit: nonce, admission, outbox and alarm. */
  commit: (input: SignedCommit) => Promise<CommitOutcome>;
}

/**
 * Requests held open while a job runs: `commit?wait=N` and the OpenAI and Ollama answers. The
 * hold (one of the client address's long-poll slots) is taken before the commit, so a client at
 * its bound is refused before anything is committed or paid, and it is given back however the
 * request ends.
 */
export class HeldCalls {
  private readonly deps: HeldCallsDeps;
  /**
   * Streams handed to the edge, by id, so the edge can end one when its client goes away: a
   * cancel does not cross the RPC boundary until the object's next write fails, which for a
   * queued job may be half a minute, and the client's hold would be kept that long. An entry
   * lives as long as its stream, which holds a hold, so the holds bound this map too.
   */
  private readonly follows = new Map<string, { jobId: string; done: () => void }>();

  constructor(deps: HeldCallsDeps) {
    this.deps = deps;
  }

  /** Commits, then waits up to `waitMs`: the finished job as `GET /v1/jobs/{id}` shows it (200), else the commit answer (202). */
  async commitAndWait(input: SignedCommit, waitMs: number): Promise<Outcome<unknown>> {
    const release = this.deps.listeners.hold(input.addr);
    if (!release) return tooManyWaits(this.deps.holdsPerAddress());
    try {
      const committed = await this.deps.commit(input);
      if (!committed.ok) return committed;
      const job = await this.settled(String(committed.body.job_id), waitMs);
      if (job && isTerminal(job)) return jobViewOutcome(job, this.deps.life, this.deps.network());
      return { ...committed, status: 202 };
    } finally {
      release();
    }
  }

  /** A job the edge committed in this same request: its view, after waiting up to `waitMs` for it to finish. */
  async committedJob(read: CommittedRead): Promise<Outcome<JobView>> {
    let job = this.deps.life.jobs.get(read.jobId);
    if (!job) return fail(404, "job_not_found", "Job not found");
    if (job.privacy_class === "PRIVATE" && read.owner !== job.user_id)
      return fail(403, "forbidden", "this PRIVATE job belongs to another user");
    if (read.waitMs > 0 && !isTerminal(job)) {
      const release = this.deps.listeners.hold(read.addr);
      if (!release) {
        const refused = tooManyWaits(this.deps.holdsPerAddress());
        return { ...refused, error: { ...refused.error, job_id: job.id } };
      }
      try {
        job = await this.settled(job.id, read.waitMs);
      } finally {
        release();
      }
      if (!job) return fail(404, "job_not_found", "Job not found");
    }
    return jobViewOutcome(job, this.deps.life, this.deps.network());
  }

  /**
   * Commits, then streams the job's events (the `/v1/jobs/{id}/events` frames) from its state
   * now until it finishes; the hold lasts as long as the stream. A refused commit is its JSON error.
   */
  async commitAndFollow(input: SignedCommit): Promise<Response> {
    const release = this.deps.listeners.hold(input.addr);
    if (!release) return failureResponse(tooManyWaits(this.deps.holdsPerAddress()));
    let committed: CommitOutcome;
    try {
      committed = await this.deps.commit(input);
    } catch (err) {
      release();
      throw err;
    }
    const job = committed.ok ? this.deps.life.jobs.get(String(committed.body.job_id)) : undefined;
    if (!committed.ok || !job) {
      release();
      return committed.ok ? failureResponse(fail(404, "job_not_found", "Job not found")) : failureResponse(committed);
    }
    const id = crypto.randomUUID();
    const done = () => {
      this.follows.delete(id);
      release();
    };
    this.follows.set(id, { jobId: job.id, done });
    const stream = this.deps.listeners.openStream(job.id, statusEvent(job), isTerminal(job), done);
    return new Response(stream, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        "x-dispatch-job-id": job.id,
        "x-dispatch-follow-id": id,
      },
    });
  }

  /** The edge's client went away: end that stream now rather than at the job's next event. */
  unfollow(id: string): void {
    const follow = this.follows.get(id);
    if (follow) this.deps.listeners.closeStream(follow.jobId, follow.done);
  }

  /** The job once it finished, or as it is after `ms`. The check and the wait start in one turn, so no finish is missed. */
  private async settled(jobId: string, ms: number): Promise<JobRow | undefined> {
    const job = this.deps.life.jobs.get(jobId);
    if (!job || isTerminal(job) || ms <= 0) return job;
    await this.deps.listeners.wait(jobId, ms);
    return this.deps.life.jobs.get(jobId);
  }
}

/** The job as `GET /v1/jobs/{id}` answers it, with `PAYMENT-RESPONSE` once its payment settled. */
export function jobViewOutcome(job: JobRow, life: Lifecycle, network: string): Outcome<JobView> {
  const view = ok(toJobView(job, life.jobs.receipt(job.id), network, life.audits.view(job.id)));
  if (job.payment_state === "settled" && job.payment_tx && job.payment_ref) {
    view.headers = paymentResponseHeaders(job.payment_tx, network, life.payments.payer(job.payment_ref));
  }
  return view;
}

export function tooManyWaits(perAddress: number): Failure {
  return {
    ...fail(
      429,
      "too_many_waits",
      `at most ${perAddress} long-polls and event streams per client address at once; close some or poll without ?wait`,
    ),
    headers: { "retry-after": "1" },
  };
}

function failureResponse(outcome: Failure): Response {
  return Response.json(outcome.error, { status: outcome.status, headers: outcome.headers ?? {} });
}
