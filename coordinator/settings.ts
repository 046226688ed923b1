import type { Chain } from "../protocol/index.ts";
import type { Env } from "./env.ts";

export type PaymentsMode = "disabled" | "x402";

export interface PaymentSettings {
  mode: PaymentsMode;
  facilitatorUrl: string | null;
  payTo: string | null;
  asset: string | null;
  /** Scheme extras for the asset, e.g. the EIP-712 domain `{name, version}` of an EVM token. */
  assetExtra: Record<string, unknown>;
}

/** The EVM trust layer (ERC-8004 registries and the receipt anchor), shared by both chains. */
export interface OnChainSettings {
  rpcUrl: string;
  identityRegistry: `0x${string}`;
  reputationRegistry: `0x${string}`;
  receiptAnchor: `0x${string}` | null;
  /** This chain object's own signing key: one key per object keeps nonces from colliding. */
  coordinatorKey: `0x${string}`;
  /** Whose feedback counts in reputation (ERC-8004 `getSummary` needs a non-empty list). */
  reputationClients: `0x${string}`[];
  anchorBatchSize: number;
  anchorIntervalMs: number;
}

/** Bounds on what clients can hold; each has a var (README, "Limits"). */
export interface AbuseLimits {
  maxSockets: number;
  maxSocketsPerAddress: number;
  holdsPerAddress: number;
  holdsTotal: number;
  streamBufferBytes: number;
  replayBytesTotal: number;
  replayBytesPerJob: number;
  unsignedJobsPerAddress: number;
  /** Finished jobs, their receipts and exclusions are deleted this long after they finish. */
  retentionMs: number;
}

/** Where money moves on this chain beyond x402: resolving lost settlements, worker payouts, refunds. */
export interface MoneySettings {
  /** Share of each settled job's price credited to the worker that delivered it (the rest is the fee). */
  workerSharePercent: number;
  /** A worker is paid once its unpaid earnings reach this (micro-USD)... */
  payoutMinMicro: number;
  /** ...or its oldest unpaid earning is this old. */
  payoutIntervalMs: number;
  /** This chain's RPC: asks whether a payment was used, sends payouts and refunds. Null: those wait. */
  rpcUrl: string | null;
  /** Secret: the treasury account that pays workers and refunds payers on this chain. Null: payouts and refunds wait. */
  treasuryKey: string | null;
  /** Explorer link for a transaction, `{tx}` replaced (shown to workers); null when there is none. */
  explorerTxUrl: string | null;
  /** How long one facilitator call may take before its outcome counts as unknown. */
  facilitatorTimeoutMs: number;
}

export interface Settings {
  allowUnverifiedWorkers: boolean;
  limits: AbuseLimits;
  money: MoneySettings;
  payments: PaymentSettings;
  /** Null when no EVM RPC is configured: identity links, feedback and anchoring are off. */
  onchain: OnChainSettings | null;
}

export class SettingsError extends Error {}

function flag(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === "") return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new SettingsError(`${name} must be "true" or "false", got ${JSON.stringify(raw)}`);
}

function perChain(env: Env, base: string, chain: Chain): string | null {
  const value = (env as unknown as Record<string, string | undefined>)[`${base}_${chain.toUpperCase()}`];
  return value ? value : null;
}

/** Reads and checks the vars; a bad value is a clear configuration error, never a guess. */
export function readSettings(env: Env, chain: Chain): Settings {
  const mode = env.PAYMENTS_MODE || "disabled";
  if (mode !== "disabled" && mode !== "x402") {
    throw new SettingsError(`PAYMENTS_MODE must be "disabled" or "x402", got ${JSON.stringify(mode)}`);
  }
  const payments: PaymentSettings = {
    mode,
    facilitatorUrl: env.FACILITATOR_URL || null,
    payTo: perChain(env, "PAY_TO", chain),
    asset: perChain(env, "ASSET", chain),
    assetExtra: {},
  };
  const name = perChain(env, "ASSET_NAME", chain);
  const version = perChain(env, "ASSET_VERSION", chain);
  if (name) payments.assetExtra.name = name;
  if (version) payments.assetExtra.version = version;
  if (mode === "x402") {
    // Running "paid" routes without a way to verify payments would hand out free work.
    const missing = [
      ["FACILITATOR_URL", payments.facilitatorUrl],
      [`PAY_TO_${chain.toUpperCase()}`, payments.payTo],
      [`ASSET_${chain.toUpperCase()}`, payments.asset],
    ]
      .filter(([, v]) => !v)
      .map(([k]) => k);
    if (missing.length > 0) throw new SettingsError(`PAYMENTS_MODE "x402" needs ${missing.join(", ")}`);
  }
  return {
    allowUnverifiedWorkers: flag("ALLOW_UNVERIFIED_WORKERS", env.ALLOW_UNVERIFIED_WORKERS, true),
    limits: readLimits(env),
    money: readMoney(env, chain),
    payments,
    onchain: readOnChain(env, chain),
  };
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const KEY = /^0x[0-9a-fA-F]{64}$/;

function address(name: string, raw: string | undefined): `0x${string}` {
  if (!raw || !ADDRESS.test(raw)) throw new SettingsError(`${name} must be a 0x-prefixed 20-byte address when EVM_RPC_URL is set`);
  return raw as `0x${string}`;
}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new SettingsError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

function readMoney(env: Env, chain: Chain): MoneySettings {
  const share = positiveInt("WORKER_SHARE_PERCENT", env.WORKER_SHARE_PERCENT, 90);
  if (share > 100) throw new SettingsError(`WORKER_SHARE_PERCENT must be at most 100, got ${share}`);
  const key = perChain(env, "TREASURY_KEY", chain);
  if (key && chain === "monad" && !KEY.test(key)) throw new SettingsError("TREASURY_KEY_MONAD must be a 0x-prefixed 32-byte private key");
  if (key && chain === "solana" && !/^[1-9A-HJ-NP-Za-km-z]{80,90}$/.test(key)) {
    throw new SettingsError("TREASURY_KEY_SOLANA must be the base58 64-byte keypair (as solana-keygen exports it)");
  }
  const explorer = perChain(env, "EXPLORER_TX_URL", chain);
  if (explorer && !explorer.includes("{tx}")) throw new SettingsError(`EXPLORER_TX_URL_${chain.toUpperCase()} must contain {tx}`);
  return {
    workerSharePercent: share,
    payoutMinMicro: positiveInt("PAYOUT_MIN_MICRO_USD", env.PAYOUT_MIN_MICRO_USD, 10_000),
    payoutIntervalMs: positiveInt("PAYOUT_INTERVAL_SECONDS", env.PAYOUT_INTERVAL_SECONDS, 3_600) * 1000,
    rpcUrl: perChain(env, "RPC_URL", chain),
    treasuryKey: key,
    explorerTxUrl: explorer,
    facilitatorTimeoutMs: positiveInt("FACILITATOR_TIMEOUT_MS", env.FACILITATOR_TIMEOUT_MS, 30_000),
  };
}

export function readLimits(env: Env): AbuseLimits {
  return {
    maxSockets: positiveInt("MAX_SOCKETS", env.MAX_SOCKETS, 5_000),
    maxSocketsPerAddress: positiveInt("MAX_SOCKETS_PER_ADDRESS", env.MAX_SOCKETS_PER_ADDRESS, 256),
    holdsPerAddress: positiveInt("MAX_WAITS_PER_ADDRESS", env.MAX_WAITS_PER_ADDRESS, 32),
    holdsTotal: positiveInt("MAX_WAITS", env.MAX_WAITS, 2_000),
    streamBufferBytes: positiveInt("SSE_BUFFER_BYTES", env.SSE_BUFFER_BYTES, 1024 * 1024),
    replayBytesTotal: positiveInt("REPLAY_CACHE_BYTES", env.REPLAY_CACHE_BYTES, 16 * 1024 * 1024),
    replayBytesPerJob: 256 * 1024,
    unsignedJobsPerAddress: positiveInt("UNSIGNED_JOBS_PER_ADDRESS", env.UNSIGNED_JOBS_PER_ADDRESS, 256),
    retentionMs: positiveInt("RETENTION_HOURS", env.RETENTION_HOURS, 168) * 3_600_000,
  };
}

function readOnChain(env: Env, chain: Chain): OnChainSettings | null {
  if (!env.EVM_RPC_URL) return null;
  const keyName = `COORDINATOR_KEY_${chain.toUpperCase()}`;
  const key = perChain(env, "COORDINATOR_KEY", chain);
  if (!key || !KEY.test(key)) throw new SettingsError(`${keyName} must be a 0x-prefixed 32-byte private key when EVM_RPC_URL is set`);
  const clients = (env.REPUTATION_CLIENTS ?? "")
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean)
    .map((a) => address("REPUTATION_CLIENTS", a));
  return {
    rpcUrl: env.EVM_RPC_URL,
    identityRegistry: address("IDENTITY_REGISTRY", env.IDENTITY_REGISTRY),
    reputationRegistry: address("REPUTATION_REGISTRY", env.REPUTATION_REGISTRY),
    receiptAnchor: env.RECEIPT_ANCHOR ? address("RECEIPT_ANCHOR", env.RECEIPT_ANCHOR) : null,
    coordinatorKey: key as `0x${string}`,
    reputationClients: clients,
    anchorBatchSize: positiveInt("ANCHOR_BATCH_SIZE", env.ANCHOR_BATCH_SIZE, 64),
    anchorIntervalMs: positiveInt("ANCHOR_INTERVAL_SECONDS", env.ANCHOR_INTERVAL_SECONDS, 60) * 1000,
  };
}
