/**
 * The local Solana chain: an in-process LiteSVM with a 6-decimal SPL USDC mint at the devnet USDC address (so
 * x402's default SVM prices resolve to it), funded seeker token accounts, and a JSON-RPC endpoint over it.
 *
 * Why in-process: `@x402/svm` needs `@solana/kit` 5.x (its `@solana-program/*` deps peer on ^5) while `litesvm`
 * 1.5 depends on kit 8.x. npm resolves this without overrides: kit 5.5.1 sits at the root for x402 and our code,
 * kit 8 is nested under `node_modules/litesvm`. The two only meet here and in svm-rpc.ts, through plain data
 * (branded address strings, bigint lamports, byte arrays, `{messageBytes, signatures}` transactions) whose
 * types are identical in both majors, so no cast or second process is needed.
 */
import { type Address, type KeyPairSigner, lamports } from "@solana/kit";
import { TOKEN_PROGRAM_ADDRESS } from "@solana-program/token";
import { USDC_DEVNET_ADDRESS } from "@x402/svm";
import { LiteSVM } from "litesvm";
import { NETWORKS } from "../protocol/chains.ts";
import type { LocalSvmAccount, LocalSvmChain } from "../protocol/local-network.ts";
import { associatedTokenAddress, MINT_SIZE, mintData, TOKEN_ACCOUNT_SIZE, testKeypair, tokenAccountData } from "./svm-accounts.ts";
import { type SvmRpcServer, startSvmRpcServer } from "./svm-rpc.ts";

export const SVM_USDC_DECIMALS = 6;
const LAMPORTS_PER_SOL = 1_000_000_000n;

export type SvmChainOptions = {
  /** How many seeker keypairs to fund (default 3). */
  seekers?: number;
  /** USDC base units per seeker (6 decimals; default 1,000 USDC). */
  usdcPerSeeker?: bigint;
};

export type SvmChain = {
  rpcUrl: string;
  /** The LiteSVM instance itself, for tests that look at state directly. */
  svm: LiteSVM;
  rpc: SvmRpcServer;
  /** The facilitator's fee payer (local test key). */
  feePayer: { account: LocalSvmAccount; signer: KeyPairSigner };
  /** The chain's entry of the generated local-network file. */
  info: LocalSvmChain;
  /** USDC balance (base units) of `owner`'s associated token account; 0 when it has none. */
  usdcBalance(owner: string): Promise<bigint>;
  stop(): Promise<void>;
};

/** Creates the LiteSVM state and serves JSON-RPC over it. */
export async function startSvmChain(options: SvmChainOptions = {}): Promise<SvmChain> {
  const seekerCount = options.seekers ?? 3;
  const usdcPerSeeker = options.usdcPerSeeker ?? 1_000n * 10n ** BigInt(SVM_USDC_DECIMALS);
  const mint = USDC_DEVNET_ADDRESS as Address;
  const svm = new LiteSVM();

  const [mintAuthority, feePayer, payee] = await Promise.all([
    testKeypair("mint-authority"),
    testKeypair("fee-payer"),
    testKeypair("payee"),
  ]);
  const seekers = await Promise.all(Array.from({ length: seekerCount }, (_, i) => testKeypair(`seeker-${i}`)));

  const rentExempt = (size: number) => svm.minimumBalanceForRentExemption(BigInt(size));
  svm.setAccount({
    address: mint,
    data: mintData({
      decimals: SVM_USDC_DECIMALS,
      supply: usdcPerSeeker * BigInt(seekerCount),
      mintAuthority: mintAuthority.signer.address,
    }),
    executable: false,
    lamports: lamports(rentExempt(MINT_SIZE)),
    programAddress: TOKEN_PROGRAM_ADDRESS,
    space: BigInt(MINT_SIZE),
  });
  const putTokenAccount = async (owner: Address, amount: bigint) => {
    svm.setAccount({
      address: await associatedTokenAddress(mint, owner),
      data: tokenAccountData({ mint, owner, amount }),
      executable: false,
      lamports: lamports(rentExempt(TOKEN_ACCOUNT_SIZE)),
      programAddress: TOKEN_PROGRAM_ADDRESS,
      space: BigInt(TOKEN_ACCOUNT_SIZE),
    });
  };
  // The x402 exact transfer does not create the recipient's token account, so the payee's must exist.
  await putTokenAccount(payee.signer.address, 0n);
  for (const seeker of seekers) await putTokenAccount(seeker.signer.address, usdcPerSeeker);
  // The fee payer pays every settlement's fees; seekers get a little SOL so they can also act on their own.
  svm.airdrop(feePayer.signer.address, lamports(100n * LAMPORTS_PER_SOL));
  // The payee is also the treasury: it pays fees (and token-account rent) for payouts and refunds.
  svm.airdrop(payee.signer.address, lamports(10n * LAMPORTS_PER_SOL));
  for (const seeker of seekers) svm.airdrop(seeker.signer.address, lamports(LAMPORTS_PER_SOL));

  const rpc = await startSvmRpcServer(svm);
  const info: LocalSvmChain = {
    network: NETWORKS.solana,
    rpcUrl: rpc.url,
    usdc: { mint, decimals: SVM_USDC_DECIMALS, tokenProgram: TOKEN_PROGRAM_ADDRESS },
    payee: payee.signer.address,
    treasury: payee.account,
    feePayer: feePayer.signer.address,
    seekers: seekers.map((s) => s.account),
  };
  return {
    rpcUrl: rpc.url,
    svm,
    rpc,
    feePayer,
    info,
    async usdcBalance(owner) {
      const account = svm.getAccount(await associatedTokenAddress(mint, owner as Address));
      if (!account.exists) return 0n;
      const data = account.data as Uint8Array;
      return new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(64, true);
    },
    stop: () => rpc.stop(),
  };
}
