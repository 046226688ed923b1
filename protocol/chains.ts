import type { Chain } from "./enums.ts";

/** CAIP-2 network id of each chain, as x402 v2 names it. */
export const NETWORKS: Record<Chain, string> = {
  monad: "eip155:10143",
  solana: "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
};

export const X402_SCHEME: Record<Chain, string> = {
  monad: "exact",
  solana: "exact",
};

/** An address of the chain's own shape: an EVM address on Monad, a base58 32-byte key on Solana. */
export const ADDRESS_FORMAT: Record<Chain, { re: RegExp; what: string }> = {
  monad: { re: /^0x[0-9a-fA-F]{40}$/, what: "an EVM address (0x and 40 hex digits)" },
  solana: { re: /^[1-9A-HJ-NP-Za-km-z]{32,44}$/, what: "a base58 Solana address" },
};

/** Whether `address` can receive payouts on `chain` (any string: unknown chains have none). */
export function isPayoutAddress(chain: string, address: string): boolean {
  return Object.hasOwn(ADDRESS_FORMAT, chain) && ADDRESS_FORMAT[chain as Chain].re.test(address);
}
