import type { Sql } from "./sql.ts";

export type OutboxKind = "settle" | "transfers" | "feedback" | "reputation" | "anchor";

export interface OutboxRow {
  [key: string]: SqlStorageValue;
  id: number;
  kind: OutboxKind;
  ref: string;
  body: string;
  attempts: number;
  next_attempt_at: number;
}

/** Backoff between attempts: 1 s, 2 s, 4 s ... capped at 30 s, so a recovered chain is used again soon. */
export function backoffMs(attempts: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, attempts - 1));
}

/**
 * External writes (settlements now; chain writes later) are recorded here in the same
 * transaction as the state change that needs them, then drained, retried with backoff, and
 * never lost on a restart: the alarm picks up whatever is due.
 */
export class OutboxStore {
  private readonly sql: Sql;
  /** Something was queued since the last drain (in memory only: the alarm drains whatever is due anyway). */
  private queued = false;
  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** Asks for a drain without queueing anything (a receipt that may complete an anchoring batch). */
  nudge(): void {
    this.queued = true;
  }

  /** Whether anything was queued since the last call: most frames queue nothing, and need no drain. */
  takeQueued(): boolean {
    const was = this.queued;
    this.queued = false;
    return was;
  }

  enqueue(kind: OutboxKind, ref: string, now: number, body: unknown = {}): void {
    this.queued = true;
    this.sql.run(
      "INSERT INTO outbox (kind, ref, body, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(kind, ref) DO NOTHING",
      kind,
      ref,
      JSON.stringify(body),
      now,
      now,
    );
  }

  /** For recurring work (reputation refreshes): re-arms a finished item instead of ignoring it. */
  schedule(kind: OutboxKind, ref: string, at: number, body: unknown = {}): void {
    this.queued = true;
    this.sql.run(
      `INSERT INTO outbox (kind, ref, body, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(kind, ref) DO UPDATE SET done_at = NULL, attempts = 0, body = excluded.body,
         next_attempt_at = CASE WHEN outbox.done_at IS NULL THEN MIN(outbox.next_attempt_at, excluded.next_attempt_at) ELSE excluded.next_attempt_at END`,
      kind,
      ref,
      JSON.stringify(body),
      at,
      at,
    );
  }

  due(now: number, kinds: readonly OutboxKind[], limit: number): OutboxRow[] {
    // Bounded IN list: the kinds are this module's own constants.
    return this.sql.all<OutboxRow>(
      `SELECT * FROM outbox WHERE done_at IS NULL AND next_attempt_at <= ? AND kind IN (${kinds.map(() => "?").join(", ")})
       ORDER BY next_attempt_at, id LIMIT ?`,
      now,
      ...kinds,
      limit,
    );
  }

  /**
   * Takes an item for one attempt: pushes its next try out first, so a crash mid-call retries
   * later rather than in a loop, and the attempt count guard lets only one drain take it.
   */
  begin(id: number, now: number, attempts: number): boolean {
    return (
      this.sql.run(
        "UPDATE outbox SET attempts = ?, next_attempt_at = ? WHERE id = ? AND attempts = ? AND done_at IS NULL",
        attempts + 1,
        now + backoffMs(attempts + 1),
        id,
        attempts,
      ) === 1
    );
  }

  done(id: number, now: number): void {
    this.sql.run("UPDATE outbox SET done_at = ?, last_error = NULL WHERE id = ?", now, id);
  }

  failed(id: number, error: string): void {
    this.sql.run("UPDATE outbox SET last_error = ? WHERE id = ?", error.slice(0, 500), id);
  }

  /** Gives an item up after bounded retries: kept (with its last error) for the operator, never retried. */
  dead(id: number, now: number, error: string): void {
    this.sql.run("UPDATE outbox SET done_at = ?, dead_at = ?, last_error = ? WHERE id = ?", now, now, error.slice(0, 500), id);
  }

  deadCount(): number {
    return this.sql.first<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE dead_at IS NOT NULL")?.n ?? 0;
  }

  pendingCount(): number {
    return this.sql.first<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE done_at IS NULL")?.n ?? 0;
  }
}
