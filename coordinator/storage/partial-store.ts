import type { Receipt } from "../../protocol/index.ts";
import type { Sql } from "./sql.ts";

/**
 * Half of a completion: the reference Android worker sends `job_complete` without a receipt and
 * then `receipt_submit`. Whichever half arrives first waits here (bounded by the job's shortened
 * execution deadline) until the other one completes it.
 */
export interface PartialCompletion {
  socketId: string;
  pubkey: string;
  output?: { value: unknown; hash: string };
  receipt?: { receipt: Receipt; signature: string };
}

interface Row {
  [key: string]: SqlStorageValue;
  job_id: string;
  socket_id: string;
  pubkey: string;
  output: string | null;
  output_hash: string | null;
  receipt: string | null;
  signature: string | null;
}

export class PartialStore {
  private readonly sql: Sql;
  constructor(sql: Sql) {
    this.sql = sql;
  }

  get(jobId: string): PartialCompletion | undefined {
    const row = this.sql.first<Row>("SELECT * FROM partial_completions WHERE job_id = ?", jobId);
    if (!row) return undefined;
    return {
      socketId: row.socket_id,
      pubkey: row.pubkey,
      ...(row.output !== null &&
        row.output_hash !== null && { output: { value: JSON.parse(row.output) as unknown, hash: row.output_hash } }),
      ...(row.receipt !== null &&
        row.signature !== null && { receipt: { receipt: JSON.parse(row.receipt) as Receipt, signature: row.signature } }),
    };
  }

  save(jobId: string, p: PartialCompletion, now: number): void {
    this.sql.run(
      `INSERT OR REPLACE INTO partial_completions (job_id, socket_id, pubkey, output, output_hash, receipt, signature, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      jobId,
      p.socketId,
      p.pubkey,
      p.output ? JSON.stringify(p.output.value) : null,
      p.output?.hash ?? null,
      p.receipt ? JSON.stringify(p.receipt.receipt) : null,
      p.receipt?.signature ?? null,
      now,
    );
  }

  delete(jobId: string): void {
    this.sql.run("DELETE FROM partial_completions WHERE job_id = ?", jobId);
  }

  /** Halves whose job is no longer waiting on them (completed, re-queued or failed meanwhile). */
  pruneOrphans(limit: number): number {
    return this.sql.run(
      `DELETE FROM partial_completions WHERE job_id IN (
         SELECT p.job_id FROM partial_completions p LEFT JOIN jobs j ON j.id = p.job_id
         WHERE j.id IS NULL OR j.status <> 'assigned' OR j.worker_socket IS NOT p.socket_id LIMIT ?)`,
      limit,
    );
  }
}
