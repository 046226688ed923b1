import type { DashboardBucket } from "../../protocol/index.ts";
import type { BucketLine, DashboardStore } from "../storage/dashboard-store.ts";

/**
 * A job's `completed_at` is set when its row is written, at most a few seconds after the clock
 * reading it carries (a settlement answer, a receipt check): a bucket that ended longer ago than
 * this takes no more rows and is kept instead of counted again.
 */
const SETTLE_MS = 10_000;

/**
 * Throughput and latency per time bucket over a sliding window. Closed buckets are remembered,
 * so each snapshot counts only the last few seconds of finished jobs instead of the whole
 * window. The memory is only a cache: after an eviction the first read counts the window again.
 */
export class Series {
  private readonly store: DashboardStore;
  private readonly bucketMs: number;
  private readonly count: number;
  private readonly closed = new Map<number, DashboardBucket>();

  constructor(store: DashboardStore, bucketMs: number, count: number) {
    this.store = store;
    this.bucketMs = bucketMs;
    this.count = count;
  }

  /** The window's buckets, oldest first, the last one being the bucket `now` falls in. */
  read(now: number): DashboardBucket[] {
    const current = Math.floor(now / this.bucketMs);
    const first = current - this.count + 1;
    for (const b of this.closed.keys()) if (b < first || b > current) this.closed.delete(b);
    let from = first;
    while (from <= current && this.closed.has(from)) from++;
    const fresh = new Map(this.store.buckets(from * this.bucketMs, this.bucketMs).map((line) => [line.b, line]));
    const out: DashboardBucket[] = [];
    for (let b = first; b <= current; b++) {
      let bucket = this.closed.get(b);
      if (!bucket) {
        bucket = toBucket(b * this.bucketMs, fresh.get(b));
        if ((b + 1) * this.bucketMs + SETTLE_MS <= now) this.closed.set(b, bucket);
      }
      out.push(bucket);
    }
    return out;
  }
}

function toBucket(t: number, line: BucketLine | undefined): DashboardBucket {
  const completed = line?.completed ?? 0;
  return {
    t,
    completed,
    failed: line?.failed ?? 0,
    latency_avg_ms: completed > 0 && line?.latency_sum != null ? Math.round(line.latency_sum / completed) : null,
    latency_max_ms: line?.latency_max ?? null,
  };
}
