import { z } from "zod";
import { NETWORKS } from "./chains.ts";

/**
 * Shape of `.dispatch/local-network.json`, written by `npm run chains` (chains/local-network.ts) and read by
 * the coordinator, the demo and tests. Every key in it is a well-known local test key: never put a real one here.
 */

const EvmAddress = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "expected a 0x-prefixed 20-byte address");
const EvmPrivateKey = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "expected a 0x-prefixed 32-byte private key");
const SvmAddress = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, "expected a base58 Solana address");
/** A Solana keypair as base58 of its 64 bytes (secret seed then public key), the format wallets export. */
const SvmSecretKey = z.string().regex(/^[1-9A-HJ-NP-Za-km-z]{80,90}$/, "expected a base58 64-byte keypair");
const HttpUrl = z.string().url();

export const LocalEvmAccount = z.object({ address: EvmAddress, privateKey: EvmPrivateKey });
export type LocalEvmAccount = z.infer<typeof LocalEvmAccount>;

export const LocalSvmAccount = z.object({ address: SvmAddress, secretKey: SvmSecretKey });
export type LocalSvmAccount = z.infer<typeof LocalSvmAccount>;

export const LocalEvmChain = z.object({
  network: z.literal(NETWORKS.monad),
  chainId: z.number().int().positive(),
  rpcUrl: HttpUrl,
  contracts: z.object({
    identityRegistry: EvmAddress,
    reputationRegistry: EvmAddress,
    receiptAnchor: EvmAddress,
    multicall3: EvmAddress,
  }),
  /** x402 exact-EVM prices on a custom chain need the token and its EIP-712 domain (`extra: {name, version}`). */
  usdc: z.object({ address: EvmAddress, name: z.string(), version: z.string(), decimals: z.number().int() }),
  /** Receives job payments (x402 `payTo`). */
  payee: EvmAddress,
  /** The payee's keys: the treasury that pays workers and refunds payers (`TREASURY_KEY_MONAD`). */
  treasury: LocalEvmAccount,
  /** Signs ERC-8004 feedback and receipt anchors; allowed to anchor. */
  coordinator: LocalEvmAccount,
  /** The facilitator's settlement account (pays gas for `transferWithAuthorization`). */
  facilitator: EvmAddress,
  seekers: z.array(LocalEvmAccount),
});
export type LocalEvmChain = z.infer<typeof LocalEvmChain>;

export const LocalSvmChain = z.object({
  network: z.literal(NETWORKS.solana),
  rpcUrl: HttpUrl,
  /** The mint sits at the devnet USDC address, so x402's default SVM prices resolve to it. */
  usdc: z.object({ mint: SvmAddress, decimals: z.number().int(), tokenProgram: SvmAddress }),
  /** Receives job payments (x402 `payTo`, the owner; its USDC token account already exists). */
  payee: SvmAddress,
  /** The payee's keys: the treasury that pays workers and refunds payers (`TREASURY_KEY_SOLANA`). */
  treasury: LocalSvmAccount,
  /** The facilitator's fee payer (x402 `extra.feePayer`). */
  feePayer: SvmAddress,
  seekers: z.array(LocalSvmAccount),
});
export type LocalSvmChain = z.infer<typeof LocalSvmChain>;

export const LocalNetwork = z.object({
  version: z.literal(1),
  createdAt: z.string(),
  /** Base URL of the local x402 facilitator (`POST /verify`, `POST /settle`, `GET /supported`). */
  facilitatorUrl: HttpUrl,
  chains: z.object({ monad: LocalEvmChain, solana: LocalSvmChain }),
});
export type LocalNetwork = z.infer<typeof LocalNetwork>;
