import { type AnswerProof, decodeAnswerProof, type JobView, verifyAnswer, verifyReceipt } from "../protocol/index.ts";
import { DispatchError } from "./errors.ts";

const WHY: Record<string, string> = {
  bad_signature: "the ed25519 signature does not verify for the worker key it names",
  job_mismatch: "the receipt is for another job",
  provider_mismatch: "the receipt names another worker",
  output_hash_mismatch: "the output does not hash to the receipt's output_hash",
  missing: "the job is completed but carries no receipt",
  text_not_bound: "the worker's output does not carry its text where a receipt can bind it",
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

/**
 * Checks an answer received through the OpenAI or Ollama surface: `proof` is the `dispatch`
 * field of the answer (or its last chunk) or the `x-dispatch-receipt` header, `text` the whole
 * text received (the streamed deltas joined). Returns the proof when the worker's signed receipt
 * binds exactly that text; throws `invalid_receipt` otherwise.
 */
export function checkAnswerProof(proof: AnswerProof | string | null | undefined, text: string, expectedJobId?: string): AnswerProof {
  const parsed = typeof proof === "string" ? decodeAnswerProof(proof) : (proof ?? null);
  if (parsed === null)
    throw new DispatchError("invalid_receipt", "the answer carries no readable Dispatch proof (dispatch field or x-dispatch-receipt)");
  const check = verifyAnswer(parsed, text, expectedJobId ?? parsed.job_id);
  if (!check.ok) {
    throw new DispatchError("invalid_receipt", `job ${parsed.job_id}: answer rejected: ${WHY[check.reason] ?? check.reason}`, {
      jobId: parsed.job_id,
    });
  }
  return parsed;
}
