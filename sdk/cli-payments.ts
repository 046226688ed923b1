import { type SpendControlAsset, x402Client } from "@x402/core/client";
import type { Network, PaymentRequirements } from "@x402/core/types";
import { type JobType, NETWORKS, type Policy } from "../protocol/index.ts";
import { UsageError } from "./cli-config.ts";
import type { ComputeRouter } from "./router.ts";

/**
 * The CLI's x402 payer, from keys in the environment only (flags would show in `ps`):
 * DISPATCH_EVM_PRIVATE_KEY (0x hex) pays on monad; DISPATCH_SVM_PRIVATE_KEY (base58 64-byte
 * keypair, as wallets export it) with DISPATCH_SVM_RPC_URL pays on solana. It may pay only what
 * the coordinators quoted for this very job (or up to the caller's `maxAmount`), in the asset
 * they quoted: a 402 asking for more, or for another token or network, is refused before
 * anything is signed.
 */
export async function cliPaymentClient(
  env: NodeJS.ProcessEnv,
  quoteRouter: ComputeRouter,
  job: { job_type: JobType; policy: Policy },
  /** Pay up to this many atomic units per job instead of exactly the quoted amount (a user's cap). */
  opts: { maxAmount?: bigint } = {},
): Promise<{ client: x402Client; payers: string[] } | undefined> {
  const evmKey = env.DISPATCH_EVM_PRIVATE_KEY;
  const svmKey = env.DISPATCH_SVM_PRIVATE_KEY;
  if (!evmKey && !svmKey) return undefined;

  const client = new x402Client();
  const payers: string[] = [];
  // Loaded only when paying: viem and @solana/kit are large, and most runs never need them.
  if (evmKey) {
    if (!/^0x[0-9a-fA-F]{64}$/.test(evmKey)) throw new UsageError("DISPATCH_EVM_PRIVATE_KEY must be 0x followed by 64 hex characters");
    const [{ privateKeyToAccount }, { ExactEvmScheme }] = await Promise.all([import("viem/accounts"), import("@x402/evm/exact/client")]);
    const account = privateKeyToAccount(evmKey as `0x${string}`);
    client.register("eip155:*", new ExactEvmScheme(account));
    payers.push(account.address);
  }
  if (svmKey) {
    const rpcUrl = env.DISPATCH_SVM_RPC_URL;
    if (!rpcUrl)
      throw new UsageError("DISPATCH_SVM_PRIVATE_KEY needs DISPATCH_SVM_RPC_URL (the Solana RPC the payment transaction is built against)");
    const [{ createKeyPairSignerFromBytes, getBase58Encoder }, { ExactSvmScheme }] = await Promise.all([
      import("@solana/kit"),
      import("@x402/svm/exact/client"),
    ]);
    let signer: Awaited<ReturnType<typeof createKeyPairSignerFromBytes>>;
    try {
      signer = await createKeyPairSignerFromBytes(getBase58Encoder().encode(svmKey));
    } catch {
      throw new UsageError("DISPATCH_SVM_PRIVATE_KEY must be a base58 64-byte Solana keypair");
    }
    client.register(NETWORKS.solana as Network, new ExactSvmScheme(signer, { rpcUrl }));
    payers.push(signer.address);
  }

  const allowed: SpendControlAsset[] = [];
  for (const chain of quoteRouter.chains) {
    // A chain we cannot quote is one we will not reach either; the run reports it properly.
    const quote = await quoteRouter.quote({ ...job, chain }).catch(() => undefined);
    for (const option of quote?.payment.accepts ?? []) {
      const max = opts.maxAmount === undefined ? option.amount : String(opts.maxAmount);
      if (option.asset) allowed.push({ network: option.network as Network, asset: option.asset, maxAmountPerPayment: max });
    }
  }
  const quoted = (req: PaymentRequirements) =>
    allowed.some(
      (a) =>
        a.network === req.network &&
        sameAsset(a.asset, req.asset) &&
        /^\d+$/.test(req.amount) &&
        BigInt(req.amount) <= BigInt(a.maxAmountPerPayment ?? "0"),
    );
  // Spend controls cap the quoted assets; the policy also drops every option that is not one
  // of them (spend controls alone would still let a default asset such as mainnet USDC through).
  client.setSpendControls({ allowedAssets: allowed }).registerPolicy((_version, requirements) => requirements.filter(quoted));
  return { client, payers };
}

/** EVM addresses compare case-insensitively (checksums); Solana's base58 addresses do not. */
function sameAsset(a: string, b: string): boolean {
  return a.startsWith("0x") ? a.toLowerCase() === b.toLowerCase() : a === b;
}
