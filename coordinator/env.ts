import type { ChainCoordinator } from "./chain-coordinator.ts";

/** Bindings and vars from wrangler.toml (documented there and in the README). */
export interface Env {
  CHAIN: DurableObjectNamespace<ChainCoordinator>;
  ALLOW_UNVERIFIED_WORKERS?: string;
  PAYMENTS_MODE?: string;
  FACILITATOR_URL?: string;
  PAY_TO_MONAD?: string;
  PAY_TO_SOLANA?: string;
  ASSET_MONAD?: string;
  ASSET_SOLANA?: string;
  ASSET_NAME_MONAD?: string;
  ASSET_VERSION_MONAD?: string;
  ASSET_NAME_SOLANA?: string;
  ASSET_VERSION_SOLANA?: string;
}
