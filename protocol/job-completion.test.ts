import { describe, expect, it } from "vitest";
import { generateKeyPair } from "./crypto.ts";
import { completionFor } from "./job-completion.ts";
import { LIMITS } from "./limits.ts";
import { signReceipt, verifyReceipt } from "./receipts.ts";
import { JobCompleteMessage } from "./ws.ts";

const worker = generateKeyPair();
const assign = { job_id: "job-1", payment_ref: "pay-1" };

function signedFrame(output: object): JobCompleteMessage {
  const completion = completionFor(assign, worker.publicKey, output);
  return { ...completion, receipt_signature: signReceipt(completion.receipt, worker.secretKey) };
}

describe("job completion frames", () => {
  it("carries the output with a receipt bound to the job, the worker, the payment and the output", () => {
    const frame = signedFrame({ summary: "Short.", sentences: 1 });
    expect(frame.output).toEqual({ summary: "Short.", sentences: 1 });
    expect(frame.receipt).toMatchObject({ job_id: "job-1", provider_pubkey: worker.publicKey, payment_ref: "pay-1" });
    expect(JobCompleteMessage.safeParse(frame).success).toBe(true);
    const check = verifyReceipt({
      receipt: frame.receipt as NonNullable<typeof frame.receipt>,
      signature: frame.receipt_signature as string,
      output: frame.output,
      jobId: "job-1",
      providerPubkey: worker.publicKey,
    });
    expect(check).toEqual({ ok: true });
  });

  it("turns an output too big for a frame into an input error, and the frame with its receipt fits", () => {
    // Multi-byte text: the bound is in UTF-8 bytes, not characters.
    const big = { text: "é".repeat(LIMITS.maxFrameBytes / 2) };
    const frame = signedFrame(big);
    expect(frame.output).toEqual({ error: expect.stringMatching(/^output_too_large/), error_kind: "input" });
    expect(new TextEncoder().encode(JSON.stringify(frame)).length).toBeLessThan(LIMITS.maxFrameBytes);
    // The receipt signs what is sent, not what was computed.
    expect(
      verifyReceipt({
        receipt: frame.receipt as NonNullable<typeof frame.receipt>,
        signature: frame.receipt_signature as string,
        output: big,
        jobId: "job-1",
        providerPubkey: worker.publicKey,
      }),
    ).toEqual({ ok: false, reason: "output_hash_mismatch" });
  });
});
