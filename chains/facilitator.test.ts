/**
 * The local facilitator against real local chains, driven by the official x402 client packages: payloads are built
 * by `x402Client` with the exact EVM / SVM client schemes and sent through `HTTPFacilitatorClient`, exactly as the
 * coordinator will.
 */
import { address, createSolanaRpc, devnet } from "@solana/kit";
import { x402Client } from "@x402/core/client";
import { HTTPFacilitatorClient } from "@x402/core/http";
import { type PaymentPayload, type PaymentRequirements, VerifyError } from "@x402/core/types";
import { toClientEvmSigner } from "@x402/evm";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { ExactSvmScheme } from "@x402/svm/exact/client";
import { createPublicClient, type Hex, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localUsdcAbi } from "../contracts/artifacts/abis.ts";
import { localChain } from "../contracts/deploy.ts";
import { NETWORKS } from "../protocol/chains.ts";
import { EVM_ACCOUNT_INDEX, evmDevAccount } from "./evm.ts";
import { createLocalFacilitator } from "./facilitator.ts";
import { type RunningLocalNetwork, startLocalNetwork } from "./local-network.ts";
import { associatedTokenAddress, signerFromSecret } from "./svm-accounts.ts";

const PRICE = 12_345n; // 0.012345 USDC: odd on purpose, so a wrong amount cannot pass by coincidence.

let local: RunningLocalNetwork;
let facilitatorClient: HTTPFacilitatorClient;

beforeAll(async () => {
  local = await startLocalNetwork({ seekers: 2, file: false });
  facilitatorClient = new HTTPFacilitatorClient({ url: local.network.facilitatorUrl });
});
afterAll(() => local?.stop());

// --- builders ---------------------------------------------------------------------------------------------

function evmRequirements(overrides: Partial<PaymentRequirements> = {}): PaymentRequirements {
  const monad = local.network.chains.monad;
  return {
    scheme: "exact",
    network: NETWORKS.monad as PaymentRequirements["network"],
    amount: PRICE.toString(),
    asset: monad.usdc.address,
    payTo: monad.payee,
    maxTimeoutSeconds: 60,
    extra: { name: monad.usdc.name, version: monad.usdc.version },
    ...overrides,
  };
}

async function svmRequirements(overrides: Partial<PaymentRequirements> = {}): Promise<PaymentRequirements> {
  const solana = local.network.chains.solana;
  // The fee payer comes from /supported, as a resource server learns it.
  const supported = await facilitatorClient.getSupported();
  const kind = supported.kinds.find((k) => k.network === NETWORKS.solana);
  return {
    scheme: "exact",
    network: NETWORKS.solana as PaymentRequirements["network"],
    amount: PRICE.toString(),
    asset: solana.usdc.mint,
    payTo: solana.payee,
    maxTimeoutSeconds: 60,
    extra: { feePayer: kind?.extra?.feePayer },
    ...overrides,
  };
}

/** A seeker's x402 client for both chains; the local EVM USDC is not a default asset, so it is allowed explicitly. */
async function seekerClient(seeker: number): Promise<x402Client> {
  const { monad, solana } = local.network.chains;
  const evmSeeker = monad.seekers[seeker];
  const svmSeeker = solana.seekers[seeker];
  if (!evmSeeker || !svmSeeker) throw new Error(`no seeker ${seeker}`);
  const publicClient = createPublicClient({ chain: localChain(monad.chainId, monad.rpcUrl), transport: http(monad.rpcUrl) });
  return new x402Client()
    .register(
      NETWORKS.monad as PaymentRequirements["network"],
      new ExactEvmScheme(toClientEvmSigner(privateKeyToAccount(evmSeeker.privateKey as Hex), publicClient)),
    )
    .register(
      NETWORKS.solana as PaymentRequirements["network"],
      new ExactSvmScheme(await signerFromSecret(svmSeeker.secretKey), { rpcUrl: solana.rpcUrl }),
    )
    .setSpendControls({ allowedAssets: [{ network: monad.network as PaymentRequirements["network"], asset: monad.usdc.address }] });
}

async function pay(seeker: number, requirements: PaymentRequirements): Promise<PaymentPayload> {
  const client = await seekerClient(seeker);
  return client.createPaymentPayload({
    x402Version: 2,
    resource: { url: "http://dispatch.local/monad/v1/jobs/commit/fast", description: "test job", mimeType: "application/json" },
    accepts: [requirements],
  });
}

async function evmUsdcBalance(owner: string): Promise<bigint> {
  const monad = local.network.chains.monad;
  const publicClient = createPublicClient({ chain: localChain(monad.chainId, monad.rpcUrl), transport: http(monad.rpcUrl) });
  return publicClient.readContract({
    address: monad.usdc.address as Hex,
    abi: localUsdcAbi,
    functionName: "balanceOf",
    args: [owner as Hex],
  });
}

/** Read through the JSON-RPC endpoint, as any Solana client would. */
async function svmUsdcBalance(owner: string): Promise<bigint> {
  const solana = local.network.chains.solana;
  const rpc = createSolanaRpc(devnet(solana.rpcUrl));
  const ata = await associatedTokenAddress(address(solana.usdc.mint), address(owner));
  const { value } = await rpc.getTokenAccountBalance(ata).send();
  return BigInt(value.amount);
}

// --- tests ------------------------------------------------------------------------------------------------

describe("local x402 facilitator", () => {
  it("lists both local networks (and only those) in /supported, with the SVM fee payer", async () => {
    const supported = await facilitatorClient.getSupported();
    expect(supported.kinds.map((k) => `${k.x402Version}:${k.scheme}:${k.network}`).sort()).toEqual([
      `2:exact:${NETWORKS.monad}`,
      `2:exact:${NETWORKS.solana}`,
    ]);
    const svmKind = supported.kinds.find((k) => k.network === NETWORKS.solana);
    expect(svmKind?.extra?.feePayer).toBe(local.network.chains.solana.feePayer);
  });

  describe.each([
    {
      chain: "monad (EVM, EIP-3009)",
      seeker: 0,
      requirements: async () => evmRequirements(),
      payer: () => local.network.chains.monad.seekers[0]?.address ?? "",
      payee: () => local.network.chains.monad.payee,
      balance: evmUsdcBalance,
      reasons: {
        // The authorization's nonce is spent on chain; the facilitator's gas estimate sees the revert.
        replaySettle: "invalid_exact_evm_transaction_failed",
        replayVerify: /nonce_already_used/,
        amount: "invalid_exact_evm_payload_authorization_value_mismatch",
        // The EIP-712 domain names the token contract, so another asset breaks the signature.
        asset: "invalid_exact_evm_signature",
      },
    },
    {
      chain: "solana (SVM, SPL)",
      seeker: 0,
      requirements: () => svmRequirements(),
      payer: () => local.network.chains.solana.seekers[0]?.address ?? "",
      payee: () => local.network.chains.solana.payee,
      balance: svmUsdcBalance,
      reasons: {
        replaySettle: "duplicate_settlement",
        // Simulation cannot tell a replay (the payload lacks the fee payer's signature, and validators do not
        // consult the status cache when simulating): an SVM replay is caught at settle, never at verify.
        replayVerify: undefined,
        amount: "invalid_exact_svm_payload_amount_mismatch",
        asset: "invalid_exact_svm_payload_mint_mismatch",
      },
    },
  ])("$chain", ({ seeker, requirements, payer, payee, balance, reasons }) => {
    it("verifies a good payload, settles exactly the price on chain, and refuses the replay", async () => {
      const accepted = await requirements();
      const payload = await pay(seeker, accepted);

      const verified = await facilitatorClient.verify(payload, accepted);
      expect(verified).toMatchObject({ isValid: true, payer: payer() });

      const [payerBefore, payeeBefore] = await Promise.all([balance(payer()), balance(payee())]);
      const settled = await facilitatorClient.settle(payload, accepted);
      expect(settled).toMatchObject({ success: true, network: accepted.network, payer: payer() });
      expect(settled.transaction).not.toBe("");
      const [payerAfter, payeeAfter] = await Promise.all([balance(payer()), balance(payee())]);
      expect(payerBefore - payerAfter).toBe(PRICE);
      expect(payeeAfter - payeeBefore).toBe(PRICE);

      const replay = await facilitatorClient.settle(payload, accepted);
      expect(replay.success).toBe(false);
      expect(replay.errorReason).toBe(reasons.replaySettle);
      const reverify = await facilitatorClient.verify(payload, accepted);
      if (reasons.replayVerify) expect(reverify.invalidReason).toMatch(reasons.replayVerify);
      else expect(reverify.isValid).toBe(true);

      // A facilitator with empty caches (a restart, another instance) is stopped by the chain itself.
      const fresh = createLocalFacilitator({
        evm: {
          rpcUrl: local.evm.rpcUrl,
          chainId: local.evm.chainId,
          privateKey: evmDevAccount(EVM_ACCOUNT_INDEX.facilitator).privateKey as Hex,
        },
        svm: { rpcUrl: local.svm.rpcUrl, feePayer: local.svm.feePayer.signer },
      });
      const again = await fresh.settle(payload, accepted);
      expect(again.success).toBe(false);
      expect(again.errorReason).toMatch(/transaction_failed/);
      expect(await balance(payer())).toBe(payerAfter);
      expect(await balance(payee())).toBe(payeeAfter);
    });

    it("refuses a payload checked against a different amount", async () => {
      const accepted = await requirements();
      const payload = await pay(seeker, accepted);
      const verified = await facilitatorClient.verify(payload, { ...accepted, amount: (PRICE * 2n).toString() });
      expect(verified.isValid).toBe(false);
      expect(verified.invalidReason).toBe(reasons.amount);
    });

    it("refuses a payload checked against a different asset", async () => {
      const accepted = await requirements();
      const payload = await pay(seeker, accepted);
      const otherAsset =
        accepted.network === NETWORKS.monad ? local.network.chains.monad.contracts.identityRegistry : local.network.chains.solana.payee;
      const verified = await facilitatorClient.verify(payload, { ...accepted, asset: otherAsset });
      expect(verified.isValid).toBe(false);
      expect(verified.invalidReason).toBe(reasons.asset);
      // Settling it must not move money either.
      const before = await balance(payer());
      const settled = await facilitatorClient.settle(payload, { ...accepted, asset: otherAsset });
      expect(settled.success).toBe(false);
      expect(await balance(payer())).toBe(before);
    });
  });

  it("refuses a payload made for another network", async () => {
    const evmPayload = await pay(1, evmRequirements());
    const svmAccepted = await svmRequirements();
    const verified = await facilitatorClient.verify(evmPayload, svmAccepted);
    expect(verified).toMatchObject({ isValid: false, invalidReason: "invalid_exact_svm_network_mismatch" });

    // @x402/evm throws on a payload without an authorization, so the facilitator refuses that shape itself.
    const svmPayload = await pay(1, svmAccepted);
    const reverse = await facilitatorClient.verify(svmPayload, evmRequirements());
    expect(reverse).toMatchObject({ isValid: false, invalidReason: "invalid_payload" });
    expect(reverse.invalidMessage).toMatch(/exact EVM payment needs payload.signature/);

    // Same family, other network: the EVM scheme's own reason.
    const otherChain = { ...evmPayload, accepted: { ...evmPayload.accepted, network: "eip155:1" as PaymentRequirements["network"] } };
    const mismatch = await facilitatorClient.verify(otherChain, evmRequirements());
    expect(mismatch).toMatchObject({ isValid: false, invalidReason: "invalid_exact_evm_network_mismatch" });
  });

  it("answers 400 for a network it does not serve and for a malformed body", async () => {
    const accepted = evmRequirements();
    const payload = await pay(1, accepted);
    const foreign = { ...accepted, network: "eip155:1" as PaymentRequirements["network"] };
    const error = await facilitatorClient.verify(payload, foreign).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(VerifyError);
    expect(error).toMatchObject({ statusCode: 400, invalidReason: "unsupported_scheme" });

    const res = await fetch(`${local.network.facilitatorUrl}/settle`, { method: "POST", body: "{not json" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ success: false, errorReason: "invalid_payload" });
  });
});
