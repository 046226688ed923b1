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
  EVM_RPC_URL?: string;
  IDENTITY_REGISTRY?: string;
  REPUTATION_REGISTRY?: string;
  RECEIPT_ANCHOR?: string;
  /** Secrets: put them in .dev.vars or `wrangler secret put`, never in wrangler.toml. */
  COORDINATOR_KEY_MONAD?: string;
  COORDINATOR_KEY_SOLANA?: string;
  REPUTATION_CLIENTS?: string;
  ANCHOR_BATCH_SIZE?: string;
  ANCHOR_INTERVAL_SECONDS?: string;
  MAX_SOCKETS?: string;
  MAX_SOCKETS_PER_ADDRESS?: string;
  MAX_WAITS_PER_ADDRESS?: string;
  MAX_WAITS?: string;
  SSE_BUFFER_BYTES?: string;
  REPLAY_CACHE_BYTES?: string;
  UNSIGNED_JOBS_PER_ADDRESS?: string;
  RETENTION_HOURS?: string;
  WORKER_SHARE_PERCENT?: string;
  PAYOUT_MIN_MICRO_USD?: string;
  PAYOUT_INTERVAL_SECONDS?: string;
  RPC_URL_MONAD?: string;
  RPC_URL_SOLANA?: string;
  /** Secrets: the treasury accounts that pay workers and refund payers. */
  TREASURY_KEY_MONAD?: string;
  TREASURY_KEY_SOLANA?: string;
  EXPLORER_TX_URL_MONAD?: string;
  EXPLORER_TX_URL_SOLANA?: string;
  FACILITATOR_TIMEOUT_MS?: string;
}
