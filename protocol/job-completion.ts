import { utf8 } from "./encoding.ts";
import { LIMITS } from "./limits.ts";
import { buildReceipt, type Receipt } from "./receipts.ts";
import type { JobAssignMessage } from "./ws.ts";

/** Room a `job_complete` frame keeps around the output for the receipt and its own keys. */
const RECEIPT_ROOM_BYTES = 4_096;

/** A `job_complete` frame before its receipt is signed; every worker (Node, browser) builds it here. */
export interface UnsignedCompletion {
  type: "job_complete";
  job_id: string;
  output: object;
  output_hash: string;
  receipt: Receipt;
}

/**
 * The completion for `candidate` and the receipt to sign (`canonicalReceipt`). The coordinator
 * bounds frames in bytes, so an output that would not fit becomes an input error: it is
 * deterministic for the job (the same input gives the same output), not this worker's fault.
 */
export function completionFor(
  assign: Pick<JobAssignMessage, "job_id" | "payment_ref">,
  providerPubkey: string,
  candidate: object,
): UnsignedCompletion {
  const room = LIMITS.maxFrameBytes - RECEIPT_ROOM_BYTES;
  const output =
    utf8(JSON.stringify(candidate)).length > room ? { error: `output_too_large: more than ${room} bytes`, error_kind: "input" } : candidate;
  const receipt = buildReceipt({ jobId: assign.job_id, providerPubkey, output, paymentRef: assign.payment_ref });
  return { type: "job_complete", job_id: assign.job_id, output, output_hash: receipt.output_hash, receipt };
}
