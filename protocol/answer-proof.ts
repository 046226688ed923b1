import { z } from "zod";
import { fromBase64, toBase64, utf8 } from "./encoding.ts";
import { parseBoundedJson } from "./json-guard.ts";
import { LIMITS } from "./limits.ts";
import { Receipt, type ReceiptCheck, verifyReceipt } from "./receipts.ts";

/**
 * What travels with an LLM answer served in a foreign dialect (OpenAI, Ollama) so the client
 * can check it: the job, the worker's signed receipt, and the worker's output with its `text`
 * emptied. The client already holds the text (it may have arrived as a stream of deltas); it
 * puts it back into the output and checks the receipt's hash over the result, which proves the
 * exact text it received is what the worker signed.
 */
export const AnswerProof = z.object({
  job_id: z.string().min(1).max(128),
  receipt: Receipt.extend({ signature: z.string().max(128) }),
  output: z.unknown(),
});
export type AnswerProof = z.infer<typeof AnswerProof>;

export type AnswerCheck = ReceiptCheck | { ok: false; reason: "text_not_bound" };

type TextSlot = "string" | "field" | null;

/** Where an output keeps its text: the whole output is the text, or its `text` field (our workers). */
function textSlot(output: unknown): TextSlot {
  if (typeof output === "string") return "string";
  if (output && typeof output === "object" && !Array.isArray(output) && typeof (output as { text?: unknown }).text === "string") {
    return "field";
  }
  return null;
}

/** The proof for an answer: `output` as the worker signed it, minus its text. */
export function answerProof(jobId: string, receipt: AnswerProof["receipt"], output: unknown): AnswerProof {
  const slot = textSlot(output);
  const skeleton = slot === "string" ? "" : slot === "field" ? { ...(output as Record<string, unknown>), text: "" } : output;
  return { job_id: jobId, receipt, output: skeleton };
}

/** The worker's output with `text` put back; the spread keeps the key order the hash was taken over. */
export function answerOutput(proof: AnswerProof, text: string): unknown {
  const slot = textSlot(proof.output);
  if (slot === "string") return text;
  if (slot === "field") return { ...(proof.output as Record<string, unknown>), text };
  return proof.output;
}

/**
 * Checks that `text` is exactly the text the worker signed for this job: the receipt's
 * signature, its job id, and its output hash over the output rebuilt with `text`.
 */
export function verifyAnswer(proof: AnswerProof, text: string, jobId: string = proof.job_id): AnswerCheck {
  if (textSlot(proof.output) === null) return { ok: false, reason: "text_not_bound" };
  const { signature, ...receipt } = proof.receipt;
  return verifyReceipt({ receipt, signature, output: answerOutput(proof, text), jobId });
}

/** The `x-dispatch-receipt` header value: base64 of the proof's UTF-8 JSON. */
export function encodeAnswerProof(proof: AnswerProof): string {
  return toBase64(utf8(JSON.stringify(proof)));
}

/** Reads an `x-dispatch-receipt` header; null when it is not a proof. */
export function decodeAnswerProof(header: string): AnswerProof | null {
  try {
    const json = parseBoundedJson(new TextDecoder().decode(fromBase64(header.trim())), LIMITS.maxJsonDepth);
    if (!json.ok) return null;
    const parsed = AnswerProof.safeParse(json.value);
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
