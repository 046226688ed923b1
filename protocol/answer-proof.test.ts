import { describe, expect, it } from "vitest";
import { answerOutput, answerProof, decodeAnswerProof, encodeAnswerProof, verifyAnswer } from "./answer-proof.ts";
import { generateKeyPair } from "./crypto.ts";
import { buildReceipt, signReceipt } from "./receipts.ts";

const worker = generateKeyPair();

function signed(jobId: string, output: unknown) {
  const receipt = buildReceipt({ jobId, providerPubkey: worker.publicKey, output });
  return { ...receipt, signature: signReceipt(receipt, worker.secretKey) };
}

describe("answer proofs", () => {
  it("carries the output without its text, and verifies only the exact text the worker signed", () => {
    const output = {
      text: "Bonjour, ça va ? 🌊",
      tokens: 5,
      prompt_tokens: 3,
      finish_reason: "stop",
      model: "m:latest",
      backend: "ollama",
    };
    const proof = answerProof("job-1", signed("job-1", output), output);
    expect(proof.output).toEqual({ ...output, text: "" });
    expect(answerOutput(proof, output.text)).toEqual(output);
    expect(verifyAnswer(proof, output.text)).toEqual({ ok: true });
    expect(verifyAnswer(proof, "Bonjour, ça va ?")).toEqual({ ok: false, reason: "output_hash_mismatch" });
    expect(verifyAnswer(proof, output.text, "job-2")).toEqual({ ok: false, reason: "job_mismatch" });
  });

  it("keeps the key order the hash was taken over, whatever order the text key had", () => {
    const output = { model: "m", text: "late key", tokens: 2 };
    const proof = answerProof("job-3", signed("job-3", output), output);
    expect(JSON.stringify(answerOutput(proof, "late key"))).toBe(JSON.stringify(output));
    expect(verifyAnswer(proof, "late key")).toEqual({ ok: true });
  });

  it("binds a plain-string output, and says when an output carries no text to bind", () => {
    const proof = answerProof("job-4", signed("job-4", "just text"), "just text");
    expect(proof.output).toBe("");
    expect(verifyAnswer(proof, "just text")).toEqual({ ok: true });
    const opaque = { response: "elsewhere" };
    expect(verifyAnswer(answerProof("job-5", signed("job-5", opaque), opaque), "elsewhere")).toEqual({
      ok: false,
      reason: "text_not_bound",
    });
  });

  it("travels in a header as base64 JSON and refuses anything else", () => {
    const output = { text: "é", tokens: 1 };
    const proof = answerProof("job-6", signed("job-6", output), output);
    const header = encodeAnswerProof(proof);
    expect(header).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(decodeAnswerProof(header)).toEqual(proof);
    for (const bad of ["", "not base64!", btoa("{}"), btoa("[".repeat(100))]) expect(decodeAnswerProof(bad)).toBeNull();
  });
});
