import type { ChainCoordinator } from "./chain-coordinator.ts";

/** Bindings and vars from wrangler.toml (documented there). */
export interface Env {
  CHAIN: DurableObjectNamespace<ChainCoordinator>;
  ALLOW_UNVERIFIED_WORKERS?: string;
  PAYMENTS_MODE?: string;
  PAY_TO_MONAD?: string;
  PAY_TO_SOLANA?: string;
  ASSET_MONAD?: string;
  ASSET_SOLANA?: string;
}
