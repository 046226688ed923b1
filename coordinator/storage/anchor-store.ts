import type { Hex32, Receipt } from "../../protocol/index.ts";
import type { Sql } from "./sql.ts";

interface BatchRow {
  [key: string]: SqlStorageValue;
  batch_id: string;
  root: string;
  leaves: string;
  count: number;
  tx: string | null;
  anchored_at: number | null;
}

export interface AnchorProof {
  batch_id: string;
  root: string;
  leaf: string;
  proof: string[];
  transaction: string | null;
  anchored_at: string | null;
}

/** Receipt batches: which receipts went into which Merkle root, and the transaction that anchored it. */
export class AnchorStore {
  private readonly sql: Sql;
  constructor(sql: Sql) {
    this.sql = sql;
  }

  unanchored(limit: number): (Receipt & { [key: string]: SqlStorageValue })[] {
    return this.sql.all(
      `SELECT job_id, provider_pubkey, output_hash, completed_at, payment_ref FROM receipts
       WHERE anchor_batch IS NULL ORDER BY created_at, job_id LIMIT ?`,
      limit,
    );
  }

  unanchoredStats(): { count: number; oldest: number | null } {
    const row = this.sql.first<{ n: number; oldest: number | null }>(
      "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM receipts WHERE anchor_batch IS NULL",
    );
    return { count: row?.n ?? 0, oldest: row?.oldest ?? null };
  }

  createBatch(batchId: string, root: Hex32, jobIds: readonly string[], leaves: readonly Hex32[], now: number): void {
    this.sql.run(
      "INSERT INTO anchor_batches (batch_id, root, leaves, count, created_at) VALUES (?, ?, ?, ?, ?)",
      batchId,
      root,
      JSON.stringify(jobIds.map((id, i) => [id, leaves[i]])),
      jobIds.length,
      now,
    );
    // Bounded IN list: batches are capped by the batch size setting.
    for (const id of jobIds) this.sql.run("UPDATE receipts SET anchor_batch = ? WHERE job_id = ?", batchId, id);
  }

  batch(batchId: string): { root: Hex32; entries: [string, Hex32][]; tx: string | null; anchoredAt: number | null } | undefined {
    const row = this.sql.first<BatchRow>("SELECT * FROM anchor_batches WHERE batch_id = ?", batchId);
    if (!row) return undefined;
    return { root: row.root as Hex32, entries: JSON.parse(row.leaves) as [string, Hex32][], tx: row.tx, anchoredAt: row.anchored_at };
  }

  batchOf(jobId: string): string | null {
    return (
      this.sql.first<{ anchor_batch: string | null }>("SELECT anchor_batch FROM receipts WHERE job_id = ?", jobId)?.anchor_batch ?? null
    );
  }

  anchored(batchId: string, tx: string, now: number): void {
    this.sql.run("UPDATE anchor_batches SET tx = ?, anchored_at = ? WHERE batch_id = ?", tx, now, batchId);
  }
}
