import { z } from "zod";
import { PUBKEY_HEX, sha256Hex, signMessage, verifyMessage, verifyMessageAsync } from "./crypto.ts";

/** The receipt, with exactly these keys in this order (the order is part of the signature). */
export const Receipt = z.object({
  job_id: z.string().min(1).max(128),
  provider_pubkey: z.string().regex(PUBKEY_HEX, "64 lowercase hex characters"),
  output_hash: z.string().regex(/^[0-9a-f]{64}$/, "sha-256, 64 lowercase hex characters"),
  completed_at: z.string().min(1).max(64),
  payment_ref: z.string().max(512).nullable(),
});
export type Receipt = z.infer<typeof Receipt>;

/** SHA-256 hex of the UTF-8 bytes of `JSON.stringify(output)`. */
export function hashOutput(output: unknown): string {
  return sha256Hex(JSON.stringify(output) ?? "null");
}

/** The signed message: `JSON.stringify` with the keys in canonical order, whatever order they arrived in. */
export function canonicalReceipt(receipt: Receipt): string {
  return JSON.stringify({
    job_id: receipt.job_id,
    provider_pubkey: receipt.provider_pubkey,
    output_hash: receipt.output_hash,
    completed_at: receipt.completed_at,
    payment_ref: receipt.payment_ref,
  });
}

export function buildReceipt(input: {
  jobId: string;
  providerPubkey: string;
  output: unknown;
  paymentRef?: string | null;
  completedAt?: Date;
}): Receipt {
  return {
    job_id: input.jobId,
    provider_pubkey: input.providerPubkey,
    output_hash: hashOutput(input.output),
    completed_at: (input.completedAt ?? new Date()).toISOString(),
    payment_ref: input.paymentRef ?? null,
  };
}

export function signReceipt(receipt: Receipt, secretKeyHex: string): string {
  return signMessage(canonicalReceipt(receipt), secretKeyHex);
}

export type ReceiptCheck =
  | { ok: true }
  | { ok: false; reason: "bad_signature" | "job_mismatch" | "provider_mismatch" | "output_hash_mismatch" };

/**
 * Everything a verifier must check: the signature by the expected worker key, the receipt
 * bound to this job and this worker, and the output hash equal to the hash of the output.
 */
export function verifyReceipt(args: ReceiptCheckArgs): ReceiptCheck {
  const bound = checkBinding(args);
  if (!bound.ok) return bound;
  if (!verifyMessage(canonicalReceipt(args.receipt), args.signature, args.receipt.provider_pubkey)) {
    return { ok: false, reason: "bad_signature" };
  }
  return { ok: true };
}

/** `verifyReceipt` using native Ed25519 where available; for hot paths. */
export async function verifyReceiptAsync(args: ReceiptCheckArgs): Promise<ReceiptCheck> {
  const bound = checkBinding(args);
  if (!bound.ok) return bound;
  if (!(await verifyMessageAsync(canonicalReceipt(args.receipt), args.signature, args.receipt.provider_pubkey))) {
    return { ok: false, reason: "bad_signature" };
  }
  return { ok: true };
}

export interface ReceiptCheckArgs {
  receipt: Receipt;
  signature: string;
  output: unknown;
  jobId: string;
  providerPubkey?: string;
}

function checkBinding(args: ReceiptCheckArgs): ReceiptCheck {
  const { receipt } = args;
  if (receipt.job_id !== args.jobId) return { ok: false, reason: "job_mismatch" };
  if (args.providerPubkey !== undefined && receipt.provider_pubkey !== args.providerPubkey) {
    return { ok: false, reason: "provider_mismatch" };
  }
  if (receipt.output_hash !== hashOutput(args.output)) return { ok: false, reason: "output_hash_mismatch" };
  return { ok: true };
}
