/** The local EVM chain: anvil (chain id 10143, standing in for Monad testnet) with the Dispatch contracts deployed. */
import { type Hex, toHex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { ANVIL_MNEMONIC, LOCAL_CHAIN_ID, startAnvil } from "../contracts/anvil.ts";
import { type Deployment, deployAll, USDC_DECIMALS } from "../contracts/deploy.ts";
import { NETWORKS } from "../protocol/chains.ts";
import type { LocalEvmAccount, LocalEvmChain } from "../protocol/local-network.ts";

/**
 * Which anvil dev account (default mnemonic) plays which role. Fixed so that logs, docs and the generated
 * file agree run after run; seekers take the indexes from `firstSeeker` on.
 */
export const EVM_ACCOUNT_INDEX = {
  /** Deploys and owns the contracts (IdentityRegistry, ReputationRegistry, ReceiptAnchor, LocalUsdc). */
  deployer: 0,
  /** The coordinator's on-chain account: ERC-8004 feedback and receipt anchoring (an anchorer). */
  coordinator: 1,
  /** The x402 facilitator's settlement account (submits `transferWithAuthorization`, pays gas). */
  facilitator: 2,
  /** Receives job payments (x402 `payTo`). */
  payee: 3,
  firstSeeker: 4,
} as const;

/** anvil's default mnemonic derives 10 funded accounts unless told otherwise; we ask for enough. */
const MAX_SEEKERS = 16;

/** EIP-712 domain of LocalUsdc, which x402 exact-EVM prices must name on a custom chain. */
export const LOCAL_USDC_DOMAIN = { name: "USD Coin", version: "2" } as const;

export type EvmChainOptions = {
  /** How many seeker accounts to fund with USDC (default 3). */
  seekers?: number;
  /** USDC base units per seeker (6 decimals; default 1,000 USDC). */
  usdcPerSeeker?: bigint;
};

export type EvmChain = {
  rpcUrl: string;
  chainId: number;
  deployment: Deployment;
  /** The chain's entry of the generated local-network file. */
  info: LocalEvmChain;
  stop(): Promise<void>;
};

/** A dev account of anvil's default mnemonic, with its private key (local test keys only). */
export function evmDevAccount(index: number): LocalEvmAccount {
  const account = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
  const key = account.getHdKey().privateKey;
  if (!key) throw new Error(`no private key for anvil dev account ${index}`);
  return { address: account.address, privateKey: toHex(key) };
}

/** Starts anvil with chain id 10143, deploys everything and funds the seekers with USDC. */
export async function startEvmChain(options: EvmChainOptions = {}): Promise<EvmChain> {
  const seekerCount = options.seekers ?? 3;
  if (!Number.isInteger(seekerCount) || seekerCount < 0 || seekerCount > MAX_SEEKERS) {
    throw new Error(`seekers must be an integer from 0 to ${MAX_SEEKERS}, got ${seekerCount}`);
  }
  const accountCount = EVM_ACCOUNT_INDEX.firstSeeker + seekerCount;
  const anvil = await startAnvil({ chainId: LOCAL_CHAIN_ID, args: ["--accounts", String(Math.max(10, accountCount))] });
  try {
    const deployer = evmDevAccount(EVM_ACCOUNT_INDEX.deployer);
    const coordinator = evmDevAccount(EVM_ACCOUNT_INDEX.coordinator);
    const seekers = Array.from({ length: seekerCount }, (_, i) => evmDevAccount(EVM_ACCOUNT_INDEX.firstSeeker + i));
    const deployment = await deployAll(anvil.rpcUrl, deployer.privateKey as Hex, {
      seekers: seekers.map((s) => s.address as Hex),
      usdcPerSeeker: options.usdcPerSeeker,
      anchorers: [deployer.address as Hex, coordinator.address as Hex],
    });
    const info: LocalEvmChain = {
      network: NETWORKS.monad,
      chainId: anvil.chainId,
      rpcUrl: anvil.rpcUrl,
      contracts: {
        identityRegistry: deployment.identityRegistry,
        reputationRegistry: deployment.reputationRegistry,
        receiptAnchor: deployment.receiptAnchor,
        multicall3: deployment.multicall3,
      },
      usdc: { address: deployment.usdc, ...LOCAL_USDC_DOMAIN, decimals: USDC_DECIMALS },
      payee: evmDevAccount(EVM_ACCOUNT_INDEX.payee).address,
      treasury: evmDevAccount(EVM_ACCOUNT_INDEX.payee),
      coordinator,
      facilitator: evmDevAccount(EVM_ACCOUNT_INDEX.facilitator).address,
      seekers,
    };
    return { rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, deployment, info, stop: () => anvil.stop() };
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}
