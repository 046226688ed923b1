import { type Chain, type CommitBody, LIMITS, priceMicroUsd, priceString, type Tier } from "../protocol/index.ts";
import { fail, type Outcome, ok } from "./errors.ts";
import { jobRoute, routeModel } from "./job-routes.ts";
import type { Lifecycle } from "./lifecycle.ts";
import { type Admitted, isOutcome, type Payments } from "./payments/service.ts";
import type { AbuseLimits } from "./settings.ts";
import { type JobRow, wireStatus } from "./storage/job-store.ts";

export interface CommitInput {
  chain: Chain;
  tier: Tier;
  body: CommitBody;
  idempotencyKey: string | null;
  requestHash: string;
  /** The `PAYMENT-SIGNATURE` header, when the seeker paid. */
  paymentHeader: string | null;
  resourceUrl: string;
  /** The client address (per-address bounds on unsigned work). */
  addr: string;
}

export type CommitOutcome = Outcome<Record<string, string>>;

/**
 * Commit: idempotency, quotas, payment and the job row. One Idempotency-Key admits one job:
 * a concurrent duplicate waits for the first attempt and gets its answer (never a payment
 * error for a payment that is paying for that very job), and a different body under the same
 * key is a conflict. Quotas are checked again inside the transaction that inserts, so
 * concurrent commits cannot overrun them while a payment is being verified.
 */
export class Admission {
  private readonly life: Lifecycle;
  private readonly payments: Payments;
  private readonly limits: () => AbuseLimits;
  private readonly inflight = new Map<string, { hash: string; outcome: Promise<CommitOutcome> }>();

  constructor(life: Lifecycle, payments: Payments, limits: () => AbuseLimits) {
    this.life = life;
    this.payments = payments;
    this.limits = limits;
  }

  async commit(input: CommitInput, signedUser: string | null): Promise<CommitOutcome> {
    const { body } = input;
    const key = input.idempotencyKey === null ? null : `${body.user_id}\n${input.idempotencyKey}`;
    if (key !== null && input.idempotencyKey !== null) {
      const existing = this.life.jobs.byIdempotencyKey(body.user_id, input.idempotencyKey);
      if (existing) return existing.request_hash === input.requestHash ? commitOutcome(existing) : conflict();
      const running = this.inflight.get(key);
      if (running) return running.hash === input.requestHash ? running.outcome : conflict();
    }
    const outcome = this.admit(input, signedUser);
    if (key !== null) {
      this.inflight.set(key, { hash: input.requestHash, outcome });
      outcome.finally(() => this.inflight.delete(key)).catch(() => {});
    }
    return outcome;
  }

  private async admit(input: CommitInput, signedUser: string | null): Promise<CommitOutcome> {
    const { body } = input;
    if (body.privacy_class === "PRIVATE" && signedUser !== body.user_id) {
      return fail(401, "signature_required", "PRIVATE jobs must be signed by the user_id key");
    }
    const signed = signedUser === body.user_id;
    const overQuota = this.quotaExceeded(body.user_id, signed, input.addr);
    if (overQuota) return overQuota;
    const now = Date.now();
    // Work nobody online can serve fails at once, before any payment: PRIVATE work with no
    // trusted worker online, or a model no worker serves.
    const unservable =
      body.privacy_class === "PRIVATE" && !this.life.workers.trustedOnline(body.user_id)
        ? "no_trusted_worker"
        : routeModel(jobRoute(body)) !== null && !this.life.workers.servesRoute(jobRoute(body))
          ? "model_not_served"
          : null;
    if (unservable) {
      const stored = this.store(input, signed, now, { paymentState: "disabled", paymentRef: null, payer: null }, unservable);
      return "outcome" in stored ? stored.outcome : commitOutcome(stored.job);
    }
    const admitted = await this.payments.admit({
      chain: input.chain,
      tier: input.tier,
      jobType: body.job_type,
      header: input.paymentHeader,
      resourceUrl: input.resourceUrl,
      now,
    });
    if (isOutcome(admitted)) return admitted;
    const stored = this.store(input, signed, Date.now(), admitted, null);
    if ("outcome" in stored) return stored.outcome;
    if (stored.job.status === "pending") this.life.offerJobs([stored.job.id]);
    return commitOutcome(this.life.jobs.get(stored.job.id) ?? stored.job);
  }

  /** Unfinished-job quotas: per signed identity, or per unsigned user id and per client address. */
  private quotaExceeded(userId: string, signed: boolean, addr: string): Outcome<never> | null {
    if (this.life.jobs.activeForUser(userId, signed) >= LIMITS.maxPendingJobsPerUser) {
      return fail(
        429,
        "too_many_pending_jobs",
        `at most ${LIMITS.maxPendingJobsPerUser} unfinished jobs per user; wait for some to finish`,
      );
    }
    const perAddress = this.limits().unsignedJobsPerAddress;
    if (!signed && this.life.jobs.activeUnsignedForAddress(addr) >= perAddress) {
      return fail(
        429,
        "too_many_pending_jobs",
        `at most ${perAddress} unfinished unsigned jobs per client address; wait for some to finish, or sign your requests`,
      );
    }
    return null;
  }

  private store(
    input: CommitInput,
    signed: boolean,
    now: number,
    admitted: Admitted,
    failWith: "no_trusted_worker" | "model_not_served" | null,
  ): { job: JobRow } | { outcome: CommitOutcome } {
    const { body } = input;
    const id = crypto.randomUUID();
    return this.life.transaction((): { job: JobRow } | { outcome: CommitOutcome } => {
      const refuse = (outcome: CommitOutcome) => {
        if (admitted.paymentRef) this.life.payments.release(admitted.paymentRef);
        return { outcome };
      };
      if (input.idempotencyKey !== null) {
        const raced = this.life.jobs.byIdempotencyKey(body.user_id, input.idempotencyKey);
        if (raced) return refuse(raced.request_hash === input.requestHash ? commitOutcome(raced) : conflict());
      }
      // Checked again here: other commits may have been admitted while this payment was verified.
      const overQuota = this.quotaExceeded(body.user_id, signed, input.addr);
      if (overQuota) return refuse(overQuota);
      this.life.jobs.insert({
        id,
        jobType: body.job_type,
        tier: input.tier,
        privacyClass: body.privacy_class,
        userId: body.user_id,
        payload: body.payload,
        priceMicro: priceMicroUsd(input.tier, body.job_type),
        paymentState: admitted.paymentState,
        paymentRef: admitted.paymentRef,
        idempotencyKey: input.idempotencyKey,
        requestHash: input.requestHash,
        now,
        queueDeadline: now + LIMITS.queueDeadlineSeconds * 1000,
        route: jobRoute(body),
        signed,
        clientAddr: signed ? null : input.addr,
      });
      if (admitted.paymentRef) this.payments.attach(admitted.paymentRef, id, admitted.payer);
      if (failWith) this.life.jobs.fail(id, failWith, now);
      const job = this.life.jobs.get(id);
      if (!job) throw new Error(`job ${id} vanished right after insert`);
      return { job };
    });
  }
}

function conflict(): Outcome<never> {
  return fail(409, "idempotency_conflict", "this Idempotency-Key was used with a different request; use a new key");
}

export function commitOutcome(job: JobRow): CommitOutcome {
  if (job.reason === "no_trusted_worker") {
    return fail(422, "no_trusted_worker", "none of your trusted workers is online; pair one or try later", { job_id: job.id });
  }
  if (job.reason === "model_not_served") {
    return fail(422, "model_not_served", `no worker online serves model ${routeModel(job.route) ?? "?"}; see /v1/models`, {
      job_id: job.id,
    });
  }
  return ok(
    {
      job_id: job.id,
      status: wireStatus(job.status),
      price: priceString(job.policy, job.job_type),
      tier: job.policy,
    },
    201,
  );
}
