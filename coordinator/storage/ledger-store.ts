import type { Sql } from "./sql.ts";

export type TransferKind = "payout" | "refund";
/** `earning`: a worker's share of a settled job. `audit`: the coordinator pays a spot-check run (from its fee). */
export type CreditKind = "earning" | "audit";
/**
 * `created`: decided, nothing signed. `signed`: the signed transaction is stored before it is
 * broadcast, so every retry sends that very transaction and never a second one; only once the
 * chain shows it can no longer land (reverted, or its nonce or blockhash passed) does the
 * transfer go back to `created` to be signed anew. `confirmed`: done.
 */
export type TransferState = "created" | "signed" | "confirmed";

export interface TransferRow {
  [key: string]: SqlStorageValue;
  transfer_id: string;
  kind: TransferKind;
  pubkey: string | null;
  job_id: string | null;
  to_address: string;
  amount_micro: number;
  job_count: number;
  state: TransferState;
  tx: string | null;
  raw_tx: string | null;
  /** What tells whether the signed transaction can still land (EVM: its nonce; SVM: its blockhash), JSON. */
  meta: string | null;
  attempts: number;
  last_error: string | null;
  created_at: number;
  confirmed_at: number | null;
}

export interface Balance {
  earned: number;
  paid: number;
  /** Credited, not yet in any payout. */
  unpaid: number;
  /** In a payout that is not confirmed yet. */
  in_flight: number;
}

/** What each worker earned (one ledger row per settled job) and the transfers that pay it or refund payers. */
export class LedgerStore {
  private readonly sql: Sql;
  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** Credits a worker for one job; a job is credited once per kind, whatever calls this again. */
  credit(pubkey: string, jobId: string, amountMicro: number, now: number, kind: CreditKind = "earning"): boolean {
    return (
      this.sql.run(
        `INSERT INTO ledger (pubkey, job_id, kind, amount_micro, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(job_id, kind) DO NOTHING`,
        pubkey,
        jobId,
        kind,
        amountMicro,
        now,
      ) === 1
    );
  }

  /** What a worker was credited for audit runs. */
  auditCredits(pubkey: string): number {
    return (
      this.sql.first<{ n: number | null }>("SELECT SUM(amount_micro) AS n FROM ledger WHERE pubkey = ? AND kind = 'audit'", pubkey)?.n ?? 0
    );
  }

  balance(pubkey: string): Balance {
    const row = this.sql.first<{ earned: number | null; paid: number | null; unpaid: number | null; in_flight: number | null }>(
      `SELECT SUM(l.amount_micro) AS earned,
              SUM(CASE WHEN t.state = 'confirmed' THEN l.amount_micro END) AS paid,
              SUM(CASE WHEN l.transfer_id IS NULL THEN l.amount_micro END) AS unpaid,
              SUM(CASE WHEN t.state IN ('created', 'signed') THEN l.amount_micro END) AS in_flight
       FROM ledger l LEFT JOIN transfers t ON t.transfer_id = l.transfer_id WHERE l.pubkey = ?`,
      pubkey,
    );
    return { earned: row?.earned ?? 0, paid: row?.paid ?? 0, unpaid: row?.unpaid ?? 0, in_flight: row?.in_flight ?? 0 };
  }

  /** Workers whose unpaid earnings reach `minMicro`, with their payout address. */
  payable(minMicro: number, limit: number): { pubkey: string; address: string; unpaid: number }[] {
    return this.sql.all<{ pubkey: string; address: string; unpaid: number }>(
      `SELECT l.pubkey, w.payout_address AS address, SUM(l.amount_micro) AS unpaid
       FROM ledger l JOIN workers w ON w.pubkey = l.pubkey
       WHERE l.transfer_id IS NULL AND w.payout_address IS NOT NULL
       GROUP BY l.pubkey HAVING SUM(l.amount_micro) >= ? LIMIT ?`,
      minMicro,
      limit,
    );
  }

  /** Workers (with a payout address) whose oldest unpaid earning is older than `before`. */
  stale(before: number, limit: number): { pubkey: string; address: string; unpaid: number }[] {
    return this.sql.all<{ pubkey: string; address: string; unpaid: number }>(
      `SELECT l.pubkey, w.payout_address AS address, SUM(l.amount_micro) AS unpaid
       FROM ledger l JOIN workers w ON w.pubkey = l.pubkey
       WHERE l.transfer_id IS NULL AND w.payout_address IS NOT NULL
       GROUP BY l.pubkey HAVING MIN(l.created_at) <= ? LIMIT ?`,
      before,
      limit,
    );
  }

  /** The oldest unpaid earning of a worker that can be paid (has an address). */
  oldestUnpaid(): number | null {
    return (
      this.sql.first<{ t: number | null }>(
        `SELECT MIN(l.created_at) AS t FROM ledger l JOIN workers w ON w.pubkey = l.pubkey
         WHERE l.transfer_id IS NULL AND w.payout_address IS NOT NULL`,
      )?.t ?? null
    );
  }

  /** Seals a worker's unpaid earnings into one payout transfer. Call inside a transaction. */
  createPayout(transferId: string, pubkey: string, address: string, now: number): TransferRow | undefined {
    const rows = this.sql.all<{ id: number; amount_micro: number }>(
      "SELECT id, amount_micro FROM ledger WHERE pubkey = ? AND transfer_id IS NULL ORDER BY id LIMIT 10000",
      pubkey,
    );
    const amount = rows.reduce((sum, r) => sum + r.amount_micro, 0);
    if (rows.length === 0 || amount <= 0) return undefined;
    const last = rows.at(-1)?.id ?? 0;
    this.sql.run(
      `INSERT INTO transfers (transfer_id, kind, pubkey, to_address, amount_micro, job_count, state, created_at)
       VALUES (?, 'payout', ?, ?, ?, ?, 'created', ?)`,
      transferId,
      pubkey,
      address,
      amount,
      rows.length,
      now,
    );
    this.sql.run("UPDATE ledger SET transfer_id = ? WHERE pubkey = ? AND transfer_id IS NULL AND id <= ?", transferId, pubkey, last);
    return this.transfer(transferId);
  }

  /** A refund of one job's price to its payer. Call inside a transaction. */
  createRefund(transferId: string, jobId: string, payer: string, amountMicro: number, now: number): void {
    this.sql.run(
      `INSERT INTO transfers (transfer_id, kind, job_id, to_address, amount_micro, job_count, state, created_at)
       VALUES (?, 'refund', ?, ?, ?, 1, 'created', ?) ON CONFLICT DO NOTHING`,
      transferId,
      jobId,
      payer,
      amountMicro,
      now,
    );
  }

  transfer(id: string): TransferRow | undefined {
    return this.sql.first<TransferRow>("SELECT * FROM transfers WHERE transfer_id = ?", id);
  }

  /** Open transfers, oldest first: the transfer lane sends them one at a time. */
  open(limit: number): TransferRow[] {
    return this.sql.all<TransferRow>(
      "SELECT * FROM transfers WHERE state IN ('created', 'signed') ORDER BY created_at, transfer_id LIMIT ?",
      limit,
    );
  }

  /** Stores the signed transaction before it is broadcast: from here on, retries resend exactly it. */
  signed(id: string, tx: string, rawTx: string, meta: unknown): void {
    this.sql.run(
      "UPDATE transfers SET state = 'signed', tx = ?, raw_tx = ?, meta = ?, attempts = attempts + 1 WHERE transfer_id = ? AND state = 'created'",
      tx,
      rawTx,
      JSON.stringify(meta),
      id,
    );
  }

  confirmed(id: string, now: number): void {
    this.sql.run("UPDATE transfers SET state = 'confirmed', confirmed_at = ?, last_error = NULL WHERE transfer_id = ?", now, id);
  }

  /** The signed transaction can no longer land (it reverted, or its nonce or blockhash passed): sign a new one later. */
  resign(id: string, error: string): void {
    this.sql.run(
      "UPDATE transfers SET state = 'created', tx = NULL, raw_tx = NULL, meta = NULL, last_error = ? WHERE transfer_id = ? AND state = 'signed'",
      error.slice(0, 500),
      id,
    );
  }

  noteError(id: string, error: string): void {
    this.sql.run("UPDATE transfers SET last_error = ? WHERE transfer_id = ?", error.slice(0, 500), id);
  }

  /** A worker's recent transfers, newest first. */
  transfersOf(pubkey: string, limit: number): TransferRow[] {
    return this.sql.all<TransferRow>("SELECT * FROM transfers WHERE pubkey = ? ORDER BY created_at DESC LIMIT ?", pubkey, limit);
  }

  /** The jobs a payout covers (for the worker's `payment_posted`). */
  jobsOf(transferId: string, limit: number): string[] {
    return this.sql
      .all<{ job_id: string }>("SELECT job_id FROM ledger WHERE transfer_id = ? ORDER BY id LIMIT ?", transferId, limit)
      .map((r) => r.job_id);
  }

  totals(): { earned: number; paid: number; refunded: number } {
    // Running totals kept by triggers (schema v8): the ledger is never pruned, so no scan.
    const row = this.sql.first<{ earned: number | null; paid: number | null; refunded: number | null }>(
      `SELECT (SELECT micro FROM totals WHERE name = 'earned') AS earned,
              (SELECT micro FROM totals WHERE name = 'transfer:payout') AS paid,
              (SELECT micro FROM totals WHERE name = 'transfer:refund') AS refunded`,
    );
    return { earned: row?.earned ?? 0, paid: row?.paid ?? 0, refunded: row?.refunded ?? 0 };
  }
}
