import { type JobView, verifyReceipt } from "../protocol/index.ts";
import { DispatchError } from "./errors.ts";

const WHY: Record<string, string> = {
  bad_signature: "the ed25519 signature does not verify for the worker key it names",
  job_mismatch: "the receipt is for another job",
  provider_mismatch: "the receipt names another worker",
  output_hash_mismatch: "the output does not hash to the receipt's output_hash",
  missing: "the job is completed but carries no receipt",
};

/**
 * Checks a completed job's receipt ourselves, whatever the coordinator's `verified` flag
 * says: the coordinator is a party we pay, not a party we trust with the proof.
 */
export function checkJobReceipt(view: JobView, expectedJobId: string = view.id): void {
  const receipt = view.receipt;
  if (!receipt) {
    throw new DispatchError("invalid_receipt", `job ${view.id}: ${WHY.missing}`, { jobId: view.id });
  }
  const check = verifyReceipt({
    receipt,
    signature: receipt.signature,
    output: view.result,
    jobId: expectedJobId,
  });
  if (!check.ok) {
    throw new DispatchError("invalid_receipt", `job ${view.id}: receipt rejected: ${WHY[check.reason] ?? check.reason}`, {
      jobId: view.id,
    });
  }
}
