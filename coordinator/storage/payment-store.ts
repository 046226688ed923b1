import type { PaymentPayload, PaymentRequirements } from "../payments/x402.ts";
import type { Sql } from "./sql.ts";

interface PaymentRow {
  [key: string]: SqlStorageValue;
  payment_id: string;
  job_id: string | null;
  payload: string;
  requirements: string;
}

/** Payments seen at commit. The primary key is the payment's identity: one payment, one job. */
export class PaymentStore {
  private readonly sql: Sql;
  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** Claims a payment before verifying it, so two concurrent commits cannot both spend it. */
  reserve(id: string, payload: PaymentPayload, requirements: PaymentRequirements, now: number): boolean {
    return (
      this.sql.run(
        `INSERT INTO payments (payment_id, network, amount, requirements, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(payment_id) DO NOTHING`,
        id,
        requirements.network,
        requirements.amount,
        JSON.stringify(requirements),
        JSON.stringify(payload),
        now,
      ) === 1
    );
  }

  /** Releases a reservation whose verification failed, so the payer may fix and retry it. */
  release(id: string): void {
    this.sql.run("DELETE FROM payments WHERE payment_id = ? AND job_id IS NULL", id);
  }

  attach(id: string, jobId: string, payer: string | null): void {
    this.sql.run("UPDATE payments SET job_id = ?, payer = ? WHERE payment_id = ?", jobId, payer, id);
  }

  payer(id: string): string | null {
    return this.sql.first<{ payer: string | null }>("SELECT payer FROM payments WHERE payment_id = ?", id)?.payer ?? null;
  }

  get(id: string): { payload: PaymentPayload; requirements: PaymentRequirements } | undefined {
    const row = this.sql.first<PaymentRow>("SELECT * FROM payments WHERE payment_id = ?", id);
    if (!row) return undefined;
    return { payload: JSON.parse(row.payload) as PaymentPayload, requirements: JSON.parse(row.requirements) as PaymentRequirements };
  }
}
