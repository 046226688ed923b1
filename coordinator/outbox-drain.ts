import type { TrustLayer } from "./chain/trust-layer.ts";
import type { Lifecycle } from "./lifecycle.ts";
import { MAX_SETTLE_ATTEMPTS, type Settlement } from "./payments/settlement.ts";
import type { TransferLane } from "./payouts/transfer-lane.ts";
import type { OutboxKind, OutboxRow } from "./storage/outbox-store.ts";

/** Chain writes and reads are dead-lettered after this many attempts (about nine minutes of backoff). */
const MAX_CHAIN_ATTEMPTS = 20;
const DRAIN_BATCH = 20;

interface Lane {
  name: string;
  kinds: readonly OutboxKind[];
  /** Runs what is due; returns the rows it finished (the rest back off and retry). */
  run(rows: OutboxRow[]): Promise<void>;
}

/**
 * Drains the outbox in independent lanes, so a slow chain write never holds up a settlement
 * (which holds up a seeker's result): settlements; transfers (worker payouts, refunds), one at
 * a time for nonce safety; chain writes (feedback in batches, reputation reads, anchors). Each
 * lane runs at most once at a time; failures back off and retry; nothing is dropped silently.
 */
export class OutboxDrain {
  private readonly life: Lifecycle;
  private readonly trust: TrustLayer;
  private readonly lanes: Lane[];
  private readonly running = new Set<string>();

  constructor(life: Lifecycle, settlement: Settlement, transfers: TransferLane, trust: TrustLayer) {
    this.life = life;
    this.trust = trust;
    this.lanes = [
      { name: "settle", kinds: ["settle"], run: (rows) => this.each(rows, MAX_SETTLE_ATTEMPTS, (row) => settlement.run(row)) },
      {
        name: "transfers",
        kinds: ["transfers"],
        run: (rows) =>
          this.each(rows, Number.POSITIVE_INFINITY, async (row) => {
            const next = await transfers.run();
            // The lane is one recurring item: finish this run, then re-arm it for when it is next due.
            this.life.outbox.done(row.id, Date.now());
            if (next !== null) this.life.outbox.schedule("transfers", "lane", next);
            return "rearmed";
          }),
      },
      { name: "chain", kinds: ["feedback", "reputation", "anchor"], run: (rows) => this.chainWrites(rows) },
    ];
  }

  async drain(now = Date.now()): Promise<void> {
    this.trust.maybeBatch(now);
    await Promise.all(this.lanes.map((lane) => this.drainLane(lane)));
  }

  private async drainLane(lane: Lane): Promise<void> {
    if (this.running.has(lane.name)) return;
    this.running.add(lane.name);
    try {
      // Until nothing is due: work finished in one pass may make more due at once.
      for (let pass = 0; pass < 10; pass++) {
        const now = Date.now();
        const rows = this.life.outbox.due(now, lane.kinds, DRAIN_BATCH).filter((row) => this.life.outbox.begin(row.id, now, row.attempts));
        if (rows.length === 0) return;
        await lane.run(rows);
      }
    } finally {
      this.running.delete(lane.name);
    }
  }

  /** Runs rows one by one: "done" finishes a row, "retry" leaves it to its backoff, a throw too (dead-lettered past `maxAttempts`). */
  private async each(
    rows: OutboxRow[],
    maxAttempts: number,
    step: (row: OutboxRow) => Promise<"done" | "retry" | "rearmed">,
  ): Promise<void> {
    for (const row of rows) {
      try {
        const outcome = await step(row);
        if (outcome === "rearmed") continue;
        if (outcome === "done") this.life.outbox.done(row.id, Date.now());
        else if (row.attempts + 1 >= maxAttempts) this.life.outbox.dead(row.id, Date.now(), "gave up after bounded retries");
      } catch (err) {
        this.failed(row, err, maxAttempts);
      }
    }
  }

  private async chainWrites(rows: OutboxRow[]): Promise<void> {
    const feedback = rows.filter((r) => r.kind === "feedback");
    if (feedback.length > 0) {
      try {
        for (const { row, error } of await this.trust.feedbackBatch(feedback)) this.failed(row, error, MAX_CHAIN_ATTEMPTS);
      } catch (err) {
        for (const row of feedback) this.failed(row, err, MAX_CHAIN_ATTEMPTS);
      }
    }
    await this.each(
      rows.filter((r) => r.kind !== "feedback"),
      MAX_CHAIN_ATTEMPTS,
      async (row) => {
        // The trust layer finishes its own rows (a reputation refresh re-arms itself in the same
        // transaction): marking it done here again would cancel the re-arm.
        await this.trust.handle(row);
        return "rearmed";
      },
    );
  }

  private failed(row: OutboxRow, err: unknown, maxAttempts: number): void {
    const message = err instanceof Error ? err.message : String(err);
    console.error(`outbox: ${row.kind} ${row.ref} failed (attempt ${row.attempts + 1})`, err);
    if (row.attempts + 1 >= maxAttempts) this.life.outbox.dead(row.id, Date.now(), message);
    else this.life.outbox.failed(row.id, message);
  }
}
