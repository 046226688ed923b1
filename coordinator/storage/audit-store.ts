import type { AuditView } from "../../protocol/index.ts";
import type { Sql } from "./sql.ts";

/**
 * `auditing`: the auditor's run is under way. `agreed`: equal output hashes. `refereeing`: they
 * differed and a third run is under way. `unresolved`: they differed and no third worker with the
 * engine was online. `decided`: the third run answered (`culprit` is the key it outvoted, or null
 * when all three differ). A run that fails for good leaves its state as it was: whether the
 * audit was abandoned is read from the run's job, so no failure path needs to know about audits.
 */
export type AuditState = "auditing" | "agreed" | "refereeing" | "unresolved" | "decided";

export interface AuditRow {
  [key: string]: SqlStorageValue;
  /** The checked (seeker's) job. */
  job_id: string;
  engine: string;
  original_pubkey: string;
  original_hash: string;
  auditor_job: string;
  auditor_pubkey: string | null;
  auditor_hash: string | null;
  referee_job: string | null;
  referee_pubkey: string | null;
  referee_hash: string | null;
  state: AuditState;
  culprit: string | null;
  created_at: number;
  decided_at: number | null;
}

export interface AuditStats {
  run: number;
  pending: number;
  agreed: number;
  disputed: number;
  overturned: number;
  abandoned: number;
}

/** One spot-check audit per checked job, with the keys and output hashes of its runs. */
export class AuditStore {
  private readonly sql: Sql;
  constructor(sql: Sql) {
    this.sql = sql;
  }

  insert(a: { jobId: string; engine: string; originalPubkey: string; originalHash: string; auditorJob: string; now: number }): void {
    this.sql.run(
      `INSERT INTO audits (job_id, engine, original_pubkey, original_hash, auditor_job, state, created_at)
       VALUES (?, ?, ?, ?, ?, 'auditing', ?) ON CONFLICT(job_id) DO NOTHING`,
      a.jobId,
      a.engine,
      a.originalPubkey,
      a.originalHash,
      a.auditorJob,
      a.now,
    );
  }

  get(jobId: string): AuditRow | undefined {
    return this.sql.first<AuditRow>("SELECT * FROM audits WHERE job_id = ?", jobId);
  }

  /** The auditor answered: `agreed`, or a dispute with a third run under way (`refereeJob`) or none to be had. */
  auditorAnswered(
    jobId: string,
    answer: { pubkey: string; hash: string; state: "agreed" | "refereeing" | "unresolved"; refereeJob: string | null },
    now: number,
  ): void {
    const { pubkey, hash, state, refereeJob } = answer;
    this.sql.run(
      `UPDATE audits SET auditor_pubkey = ?, auditor_hash = ?, referee_job = ?, state = ?,
         decided_at = CASE WHEN ? = 'agreed' THEN ? ELSE NULL END
       WHERE job_id = ? AND state = 'auditing'`,
      pubkey,
      hash,
      refereeJob,
      state,
      state,
      now,
      jobId,
    );
  }

  refereeAnswered(jobId: string, pubkey: string, hash: string, culprit: string | null, now: number): void {
    this.sql.run(
      `UPDATE audits SET referee_pubkey = ?, referee_hash = ?, culprit = ?, state = 'decided', decided_at = ?
       WHERE job_id = ? AND state = 'refereeing'`,
      pubkey,
      hash,
      culprit,
      now,
      jobId,
    );
  }

  /** How `GET /v1/jobs/{id}` shows the job's audit. */
  view(jobId: string): AuditView {
    const row = this.sql.first<AuditRow & { run_status: string | null; run_worker: string | null }>(
      `SELECT a.*, j.status AS run_status, j.worker_pubkey AS run_worker FROM audits a
       LEFT JOIN jobs j ON j.id = CASE WHEN a.state = 'refereeing' THEN a.referee_job ELSE a.auditor_job END
       WHERE a.job_id = ?`,
      jobId,
    );
    if (!row) return { state: "none", auditor: null, match: null };
    const runFailed = row.run_status === null || row.run_status === "failed";
    switch (row.state) {
      case "auditing":
        // A run nobody could finish leaves no verdict.
        return runFailed ? { state: "none", auditor: null, match: null } : { state: "pending", auditor: row.run_worker, match: null };
      case "agreed":
        return { state: "agreed", auditor: row.auditor_pubkey, match: true };
      default: {
        const referee = row.state === "refereeing" ? (runFailed ? null : row.run_worker) : row.referee_pubkey;
        const upheld = row.state === "decided" && row.culprit !== null ? row.culprit !== row.original_pubkey : null;
        return { state: "disputed", auditor: row.auditor_pubkey, match: false, referee, upheld };
      }
    }
  }

  /** Counts over the audits still kept (they go with their job at the retention horizon). */
  stats(): AuditStats {
    const rows = this.sql.all<{ state: AuditState; stalled: number; overturned: number; n: number }>(
      `SELECT a.state, COALESCE(j.status, 'failed') = 'failed' AS stalled,
              (a.culprit IS NOT NULL AND a.culprit = a.original_pubkey) AS overturned, COUNT(*) AS n
       FROM audits a LEFT JOIN jobs j ON j.id = a.auditor_job
       GROUP BY 1, 2, 3`,
    );
    const stats: AuditStats = { run: 0, pending: 0, agreed: 0, disputed: 0, overturned: 0, abandoned: 0 };
    for (const r of rows) {
      stats.run += r.n;
      if (r.state === "agreed") stats.agreed += r.n;
      else if (r.state === "auditing") {
        if (r.stalled) stats.abandoned += r.n;
        else stats.pending += r.n;
      } else stats.disputed += r.n;
      if (r.overturned) stats.overturned += r.n;
    }
    return stats;
  }

  delete(jobId: string): void {
    this.sql.run("DELETE FROM audits WHERE job_id = ?", jobId);
  }
}
