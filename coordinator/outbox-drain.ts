import type { TrustLayer } from "./chain/trust-layer.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { Payments } from "./payments/service.ts";
import type { OutboxRow } from "./storage/outbox-store.ts";

/** After this many failed attempts (about four minutes of backoff) a settlement is given up. */
const MAX_SETTLE_ATTEMPTS = 8;
/** Chain writes and reads are dead-lettered after this many attempts (about nine minutes of backoff). */
const MAX_CHAIN_ATTEMPTS = 20;
const DRAIN_BATCH = 20;

/**
 * Drains the outbox. Settlements: a job is released only once its payment settled, and a
 * payment is never settled for a job that failed first. Chain writes (feedback, anchors) and
 * reputation reads go to the trust layer. Failures back off and retry; nothing is dropped.
 */
export class OutboxDrain {
  private readonly life: Lifecycle;
  private readonly payments: Payments;
  private readonly trust: TrustLayer;

  constructor(life: Lifecycle, payments: Payments, trust: TrustLayer) {
    this.life = life;
    this.payments = payments;
    this.trust = trust;
  }

  async drain(now = Date.now()): Promise<void> {
    this.trust.maybeBatch(now);
    for (const row of this.life.outbox.due(now, DRAIN_BATCH)) {
      if (!this.life.outbox.begin(row.id, now, row.attempts)) continue;
      try {
        await this.run(row);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        console.error(`outbox: ${row.kind} ${row.ref} failed (attempt ${row.attempts + 1})`, err);
        if (row.attempts + 1 >= MAX_CHAIN_ATTEMPTS) this.life.outbox.dead(row.id, Date.now(), message);
        else this.life.outbox.failed(row.id, message);
      }
    }
  }

  private async run(row: OutboxRow): Promise<void> {
    if (row.kind === "settle") await this.settle(row);
    else await this.trust.handle(row);
  }

  private async settle(row: OutboxRow): Promise<void> {
    const { jobs, outbox } = this.life;
    const job = jobs.get(row.ref);
    if (!job?.payment_ref || job.payment_state !== "verified" || job.status === "failed") {
      // Nothing to charge: no payment, already settled, or the job failed (never charged).
      outbox.done(row.id, Date.now());
      return;
    }
    const result = await this.payments.settle(job.payment_ref);
    const now = Date.now();
    if (result.ok) {
      this.life.transaction(() => {
        jobs.settled(job.id, result.transaction, now);
        outbox.done(row.id, now);
      });
      this.life.announce(jobs.get(job.id));
      return;
    }
    if (result.final || row.attempts + 1 >= MAX_SETTLE_ATTEMPTS) {
      this.life.transaction(() => {
        jobs.fail(job.id, "payment_failed", now, `settlement failed: ${result.reason}`);
        outbox.done(row.id, now);
      });
      this.life.announce(jobs.get(job.id));
      return;
    }
    outbox.failed(row.id, result.reason);
  }
}
