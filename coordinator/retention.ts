import type { Lifecycle } from "./lifecycle.ts";
import type { Sql } from "./storage/sql.ts";

/** Rows deleted per table per pass: pruning never holds the object for long. */
const PRUNE_BATCH = 500;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Retention: finished jobs are deleted `retentionMs` after they finish, with their receipts,
 * exclusions and payment records, so storage cannot grow without bound (failed jobs are free to
 * make). A receipt that still has to go into an anchoring batch keeps its job until it has been
 * anchored; batches go once all their jobs are gone. Finished and dead outbox items, spent
 * nonces and stale pairing codes go too. Runs from the alarm, a bounded batch at a time.
 */
export class Retention {
  private readonly life: Lifecycle;
  private readonly sql: Sql;
  private readonly retentionMs: () => number;
  private readonly anchoring: () => boolean;
  private next: number | null = null;

  constructor(life: Lifecycle, sql: Sql, retentionMs: () => number, anchoring: () => boolean) {
    this.life = life;
    this.sql = sql;
    this.retentionMs = retentionMs;
    this.anchoring = anchoring;
  }

  /** When the next pass is due (the first one an interval after the object first runs). Read once, then kept in step. */
  nextAt(now = Date.now()): number {
    if (this.next !== null) return this.next;
    const stored = this.sql.first<{ value: string }>("SELECT value FROM meta WHERE key = 'prune_at'")?.value;
    if (stored !== undefined) {
      this.next = Number(stored);
      return this.next;
    }
    this.setNext(now + PRUNE_EVERY_MS);
    return now + PRUNE_EVERY_MS;
  }

  /** Forgets the cached time (a test or an operator changed it in storage). */
  forget(): void {
    this.next = null;
  }

  /** Prunes one bounded batch if due; comes back soon when there is more, else in an hour. */
  run(now: number): void {
    if (now < this.nextAt(now)) return;
    const before = now - this.retentionMs();
    const full = this.life.transaction(() => {
      const jobs = this.pruneJobs(before);
      const outbox = this.sql.run(
        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE done_at IS NOT NULL AND done_at < ? LIMIT ?)",
        before,
        PRUNE_BATCH,
      );
      const pairings = this.life.trust.prune(before, PRUNE_BATCH);
      this.sql.run(
        `DELETE FROM anchor_batches WHERE batch_id IN (SELECT b.batch_id FROM anchor_batches b
           WHERE b.anchored_at IS NOT NULL AND b.anchored_at < ?
             AND NOT EXISTS (SELECT 1 FROM receipts r WHERE r.anchor_batch = b.batch_id) LIMIT ?)`,
        before,
        PRUNE_BATCH,
      );
      this.life.nonces.prune(now, PRUNE_BATCH);
      return jobs === PRUNE_BATCH || outbox === PRUNE_BATCH || pairings === PRUNE_BATCH;
    });
    this.setNext(full ? now + 1_000 : now + PRUNE_EVERY_MS);
  }

  private pruneJobs(before: number): number {
    // With anchoring on, a receipt not yet sealed in an anchored batch keeps its job.
    const anchoredOnly = this.anchoring()
      ? `AND NOT EXISTS (SELECT 1 FROM receipts r LEFT JOIN anchor_batches b ON b.batch_id = r.anchor_batch
           WHERE r.job_id = j.id AND (r.anchor_batch IS NULL OR b.anchored_at IS NULL))`
      : "";
    const ids = this.sql
      .all<{ id: string }>(
        `SELECT j.id FROM jobs j WHERE j.completed_at IS NOT NULL AND j.completed_at < ? AND j.status IN ('completed', 'failed')
           AND j.payment_state NOT IN ('verified', 'refund_due') ${anchoredOnly}
         ORDER BY j.completed_at LIMIT ?`,
        before,
        PRUNE_BATCH,
      )
      .map((r) => r.id);
    for (const id of ids) {
      this.sql.run("DELETE FROM job_exclusions WHERE job_id = ?", id);
      this.sql.run("DELETE FROM receipts WHERE job_id = ?", id);
      this.sql.run("DELETE FROM payments WHERE job_id = ?", id);
      this.sql.run("DELETE FROM partial_completions WHERE job_id = ?", id);
      this.life.audits.delete(id);
      this.sql.run("DELETE FROM jobs WHERE id = ?", id);
    }
    return ids.length;
  }

  private setNext(at: number): void {
    this.next = at;
    this.sql.run("INSERT INTO meta (key, value) VALUES ('prune_at', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", String(at));
  }
}
