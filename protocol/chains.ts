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
