import { LIMITS, type TaskPayload } from "../../protocol/index.ts";
import { auditRoute } from "../job-routes.ts";
import type { Lifecycle } from "../lifecycle.ts";
import type { AuditRow } from "../storage/audit-store.ts";
import type { JobRow } from "../storage/job-store.ts";

/** Audit runs waiting or running at once, per chain object; a sample drawn past it is skipped. */
export const MAX_AUDITS_IN_FLIGHT = 16;

export interface SpotCheckDeps {
  life: Lifecycle;
  samplePercent: () => number;
  /** Inside the transaction: pays a run whose output the verdict agrees with (from the coordinator's fee). */
  credit: (pubkey: string, runJobId: string, now: number) => void;
  /** Inside the transaction: negative on-chain feedback for a worker outvoted on `jobId`. */
  blame: (pubkey: string, jobId: string, outputHash: string, now: number) => void;
  /** A uniform draw in [0, 1): which completed jobs are checked. */
  random?: () => number;
}

/**
 * Verification beyond signatures. A receipt proves who produced an output, not that the output
 * is right; TASK engines are deterministic, so a sample of completed PUBLIC TASK jobs is re-run
 * on a second verified worker running the same engine (never the original key) and the output
 * hashes compared. A mismatch makes the job `disputed` and a third worker with the engine
 * decides: the worker it outvotes gets a failure (benched, counted) and negative ERC-8004
 * feedback. Runs are internal jobs: unpaid by the seeker, invisible to it, outside its quotas,
 * taking only slots no seeker's job wants, bounded in number; each run the verdict agrees with
 * earns its worker an `audit` credit paid from the coordinator's fee.
 */
export class SpotChecks {
  private readonly deps: SpotCheckDeps;
  private readonly random: () => number;

  constructor(deps: SpotCheckDeps) {
    this.deps = deps;
    this.random = deps.random ?? (() => (crypto.getRandomValues(new Uint32Array(1))[0] ?? 0) / 2 ** 32);
  }

  /** Inside the job's transaction (the lifecycle's `jobFinished`): samples a seeker's job, or takes a run's answer. */
  onJobFinished(job: JobRow, success: boolean, outputHash: string | null, now: number): void {
    if (!success || outputHash === null || job.worker_pubkey === null) return;
    if (job.audit_of === null) this.maybeAudit(job, job.worker_pubkey, outputHash, now);
    else this.runAnswered(job, job.audit_of, job.worker_pubkey, outputHash, now);
  }

  private maybeAudit(job: JobRow, pubkey: string, outputHash: string, now: number): void {
    const percent = this.deps.samplePercent();
    if (job.job_type !== "TASK" || job.privacy_class !== "PUBLIC" || percent <= 0 || this.random() * 100 >= percent) return;
    const { life } = this.deps;
    // The engine the output was made with: the one its key runs now (a key has one connection).
    const engine = life.workers.connectionByPubkey(pubkey)?.task_engine;
    if (!engine) return;
    const route = auditRoute(engine);
    if (!life.workers.servesRouteExcept(route, [pubkey])) return;
    if (life.jobs.auditRunsInFlight() >= MAX_AUDITS_IN_FLIGHT) return;
    const run = this.startRun(job, job.id, route, [pubkey], now);
    life.audits.insert({ jobId: job.id, engine, originalPubkey: pubkey, originalHash: outputHash, auditorJob: run, now });
  }

  private runAnswered(run: JobRow, jobId: string, pubkey: string, hash: string, now: number): void {
    const { life } = this.deps;
    const audit = life.audits.get(jobId);
    if (audit?.state === "auditing" && audit.auditor_job === run.id) {
      if (hash === audit.original_hash) {
        life.audits.auditorAnswered(jobId, { pubkey, hash, state: "agreed", refereeJob: null }, now);
        this.deps.credit(pubkey, run.id, now);
        return;
      }
      // Two workers, two answers: a third one with the engine decides, if there is one.
      const route = auditRoute(audit.engine);
      const exclude = [audit.original_pubkey, pubkey];
      const referee = life.workers.servesRouteExcept(route, exclude) ? this.startRun(run, jobId, route, exclude, now) : null;
      life.audits.auditorAnswered(jobId, { pubkey, hash, state: referee ? "refereeing" : "unresolved", refereeJob: referee }, now);
      return;
    }
    if (audit?.state === "refereeing" && audit.referee_job === run.id) this.decide(audit, pubkey, hash, now);
  }

  /** The third run is the majority's deciding vote; with three different outputs nobody is blamed or paid. */
  private decide(audit: AuditRow, referee: string, hash: string, now: number): void {
    const { life } = this.deps;
    const auditor = audit.auditor_pubkey ?? "";
    let culprit: { pubkey: string; jobId: string; hash: string } | null = null;
    if (hash === audit.original_hash) {
      culprit = { pubkey: auditor, jobId: audit.auditor_job, hash: audit.auditor_hash ?? "" };
    } else if (hash === audit.auditor_hash) {
      culprit = { pubkey: audit.original_pubkey, jobId: audit.job_id, hash: audit.original_hash };
      this.deps.credit(auditor, audit.auditor_job, now);
    }
    life.audits.refereeAnswered(audit.job_id, referee, hash, culprit?.pubkey ?? null, now);
    if (!culprit) return;
    this.deps.credit(referee, audit.referee_job ?? "", now);
    life.workers.noteFailure(culprit.pubkey, now);
    this.deps.blame(culprit.pubkey, culprit.jobId, culprit.hash, now);
  }

  /** Creates one audit run of `source`'s payload, which the excluded keys never get, offered once the transaction commits. */
  private startRun(source: JobRow, jobId: string, route: string, exclude: readonly string[], now: number): string {
    const { life } = this.deps;
    const id = crypto.randomUUID();
    life.jobs.insert({
      id,
      jobType: "TASK",
      tier: source.policy,
      privacyClass: "PUBLIC",
      userId: source.user_id,
      payload: JSON.parse(source.payload) as TaskPayload,
      priceMicro: 0,
      paymentState: "disabled",
      paymentRef: null,
      idempotencyKey: null,
      requestHash: "audit",
      now,
      queueDeadline: now + LIMITS.queueDeadlineSeconds * 1000,
      route,
      signed: false,
      clientAddr: null,
      auditOf: jobId,
    });
    for (const pubkey of exclude) life.jobs.exclude(id, pubkey, "audited");
    life.offerLater(id);
    return id;
  }
}
