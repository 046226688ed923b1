import { address, type Base64EncodedWireTransaction, createSolanaRpc, devnet, signature } from "@solana/kit";
import type { PaymentRequirements } from "@x402/core/types";
import { ExactSvmScheme } from "@x402/svm/exact/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SvmChain, startSvmChain } from "./svm.ts";
import { signerFromSecret } from "./svm-accounts.ts";

const USDC_PER_SEEKER = 5_000_000n;

let chain: SvmChain;
beforeAll(async () => {
  chain = await startSvmChain({ seekers: 1, usdcPerSeeker: USDC_PER_SEEKER });
});
afterAll(() => chain?.stop());

/** A real x402 exact-SVM payment transaction (seeker-signed, fee payer slot empty), as base64. */
async function paymentTransaction(amount: bigint): Promise<Base64EncodedWireTransaction> {
  const seeker = chain.info.seekers[0];
  if (!seeker) throw new Error("no seeker");
  const scheme = new ExactSvmScheme(await signerFromSecret(seeker.secretKey), { rpcUrl: chain.rpcUrl });
  const requirements: PaymentRequirements = {
    scheme: "exact",
    network: chain.info.network as PaymentRequirements["network"],
    amount: amount.toString(),
    asset: chain.info.usdc.mint,
    payTo: chain.info.payee,
    maxTimeoutSeconds: 60,
    extra: { feePayer: chain.info.feePayer },
  };
  const { payload } = await scheme.createPaymentPayload(2, requirements);
  return (payload as { transaction: Base64EncodedWireTransaction }).transaction;
}

async function call(method: string, params: unknown[]): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
  const res = await fetch(chain.rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return res.json() as Promise<{ result?: unknown; error?: { code: number; message: string } }>;
}

describe("LiteSVM JSON-RPC", () => {
  it("simulates an unsigned-fee-payer payment with sigVerify off, reporting the token program's error like a validator", async () => {
    const rpc = createSolanaRpc(devnet(chain.rpcUrl));
    const ok = await rpc.simulateTransaction(await paymentTransaction(1_000n), { encoding: "base64", sigVerify: false }).send();
    expect(ok.value.err).toBeNull();
    expect(ok.value.logs).toContain("Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA success");
    expect(await chain.usdcBalance(chain.info.seekers[0]?.address ?? "")).toBe(USDC_PER_SEEKER); // simulation only

    // More than the seeker holds: SPL Token's InsufficientFunds is custom error 1 on the transfer (instruction 2).
    const overdrawn = await rpc.simulateTransaction(await paymentTransaction(USDC_PER_SEEKER + 1n), { encoding: "base64" }).send();
    expect(overdrawn.value.err).toEqual({ InstructionError: [2n, { Custom: 1n }] });
  });

  it("refuses to send a transaction missing the fee payer's signature at preflight, and nothing lands", async () => {
    const before = await chain.usdcBalance(chain.info.seekers[0]?.address ?? "");
    const answer = await call("sendTransaction", [await paymentTransaction(1_000n), { encoding: "base64" }]);
    expect(answer.error).toMatchObject({ code: -32003, message: "Transaction signature verification failure" });
    expect(await chain.usdcBalance(chain.info.seekers[0]?.address ?? "")).toBe(before);
  });

  it("reports unknown signatures as null and unknown methods as JSON-RPC errors", async () => {
    const rpc = createSolanaRpc(devnet(chain.rpcUrl));
    const unknown = signature("1".repeat(64));
    const { value } = await rpc.getSignatureStatuses([unknown]).send();
    expect(value).toEqual([null]);
    expect(await call("getStakeActivation", [])).toMatchObject({ error: { code: -32601 } });
    expect(await call("getBalance", [42])).toMatchObject({ error: { code: -32602 } });
    const missing = await rpc.getAccountInfo(address("11111111111111111111111111111112")).send();
    expect(missing.value).toBeNull();
  });
});
