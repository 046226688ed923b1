import { verifyReceiptAsync } from "../protocol/index.ts";
import type { AnchorProof } from "./storage/anchor-store.ts";
import type { JobRow, ReceiptRow } from "./storage/job-store.ts";

/**
 * `GET /v1/receipts/{job_id}`: the stored receipt, verified again on every read against the stored
 * output (so storage corruption cannot pass as verified), with its anchoring proof once anchored.
 */
export async function receiptView(job: JobRow, stored: ReceiptRow, anchor: AnchorProof | null): Promise<Record<string, unknown>> {
  const receipt = {
    job_id: stored.job_id,
    provider_pubkey: stored.provider_pubkey,
    output_hash: stored.output_hash,
    completed_at: stored.completed_at,
    payment_ref: stored.payment_ref,
  };
  const output = job.status === "completed" && job.result !== null ? (JSON.parse(job.result) as unknown) : undefined;
  const check =
    output === undefined ? { ok: false } : await verifyReceiptAsync({ receipt, signature: stored.signature, output, jobId: job.id });
  return { job_id: job.id, receipt, signature: stored.signature, verified: check.ok, output_hash: stored.output_hash, anchor };
}
