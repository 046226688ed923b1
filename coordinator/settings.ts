import type { Chain } from "../protocol/index.ts";
import {
  chainSetting,
  SETTINGS,
  type SettingSpec,
  SettingsError,
  type SettingValue,
  type SettingVars,
  setting,
  settingsOf,
} from "./settings-registry.ts";

export { SettingsError };

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

/** Bounds on what clients can hold; each has a var (README, "Settings"). */
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
  /** Percent of completed PUBLIC TASK jobs that are spot-checked on a second worker. */
  auditSamplePercent: number;
  /** Publish PUBLIC job ids (and receipt links) on the dashboard; ids are read capabilities. */
  dashboardJobIds: boolean;
  limits: AbuseLimits;
  money: MoneySettings;
  payments: PaymentSettings;
  /** Null when no EVM RPC is configured: identity links, feedback and anchoring are off. */
  onchain: OnChainSettings | null;
}

/**
 * Reads and checks every variable `chain`'s object uses; a bad value is a configuration error that
 * names the variable, never a guess. Every one is checked, even one the current mode leaves unused,
 * so a typo surfaces the first time the coordinator is asked anything rather than when a mode flips.
 */
export function readSettings(env: SettingVars, chain: Chain): Settings {
  // The vars of a deployment never change while an isolate lives: parse them once per env and chain.
  const cached = checked.get(env)?.get(chain);
  if (cached) return cached;
  const settings = parseSettings(env, chain);
  const byChain = checked.get(env) ?? new Map<Chain, Settings>();
  byChain.set(chain, settings);
  checked.set(env, byChain);
  return settings;
}

const checked = new WeakMap<SettingVars, Map<Chain, Settings>>();

function parseSettings(env: SettingVars, chain: Chain): Settings {
  for (const name of settingsOf(chain)) setting(env, name);
  return {
    allowUnverifiedWorkers: setting(env, "ALLOW_UNVERIFIED_WORKERS"),
    auditSamplePercent: setting(env, "AUDIT_SAMPLE_PERCENT"),
    dashboardJobIds: setting(env, "DASHBOARD_JOB_IDS"),
    limits: readLimits(env),
    money: readMoney(env, chain),
    payments: readPayments(env, chain),
    onchain: readOnChain(env, chain),
  };
}

/** The non-secret settings of `chain`'s object with their effective values, for `/v1/health`. */
export function publicSettings(env: SettingVars, chain: Chain): Record<string, SettingValue> {
  const shown: Record<string, SettingValue> = {};
  for (const name of settingsOf(chain)) {
    const spec: SettingSpec = SETTINGS[name];
    if (!spec.secret) shown[name] = setting(env, name);
  }
  return shown;
}

function readPayments(env: SettingVars, chain: Chain): PaymentSettings {
  const mode = setting(env, "PAYMENTS_MODE");
  const facilitator = chainSetting("FACILITATOR_URL", chain);
  const payments: PaymentSettings = {
    mode,
    facilitatorUrl: setting(env, facilitator) ?? setting(env, "FACILITATOR_URL"),
    payTo: setting(env, chainSetting("PAY_TO", chain)),
    asset: setting(env, chainSetting("ASSET", chain)),
    assetExtra: {},
  };
  const name = setting(env, chainSetting("ASSET_NAME", chain));
  const version = setting(env, chainSetting("ASSET_VERSION", chain));
  if (name) payments.assetExtra.name = name;
  if (version) payments.assetExtra.version = version;
  if (mode === "x402") {
    // Running "paid" routes without a way to verify payments would hand out free work; an EVM
    // price without the token's EIP-712 domain cannot be signed by any client.
    const required: [string, unknown][] = [
      [`FACILITATOR_URL (or ${facilitator})`, payments.facilitatorUrl],
      [chainSetting("PAY_TO", chain), payments.payTo],
      [chainSetting("ASSET", chain), payments.asset],
    ];
    if (chain === "monad") required.push([chainSetting("ASSET_NAME", chain), name], [chainSetting("ASSET_VERSION", chain), version]);
    const missing = required.filter(([, v]) => !v).map(([k]) => k);
    if (missing.length > 0) throw new SettingsError(`PAYMENTS_MODE "x402" needs ${missing.join(", ")}`);
  }
  return payments;
}

export function readLimits(env: SettingVars): AbuseLimits {
  return {
    maxSockets: setting(env, "MAX_SOCKETS"),
    maxSocketsPerAddress: setting(env, "MAX_SOCKETS_PER_ADDRESS"),
    holdsPerAddress: setting(env, "MAX_WAITS_PER_ADDRESS"),
    holdsTotal: setting(env, "MAX_WAITS"),
    streamBufferBytes: setting(env, "SSE_BUFFER_BYTES"),
    replayBytesTotal: setting(env, "REPLAY_CACHE_BYTES"),
    replayBytesPerJob: 256 * 1024,
    unsignedJobsPerAddress: setting(env, "UNSIGNED_JOBS_PER_ADDRESS"),
    retentionMs: setting(env, "RETENTION_HOURS") * 3_600_000,
  };
}

function readMoney(env: SettingVars, chain: Chain): MoneySettings {
  return {
    workerSharePercent: setting(env, "WORKER_SHARE_PERCENT"),
    payoutMinMicro: setting(env, "PAYOUT_MIN_MICRO_USD"),
    payoutIntervalMs: setting(env, "PAYOUT_INTERVAL_SECONDS") * 1000,
    rpcUrl: setting(env, chainSetting("RPC_URL", chain)),
    treasuryKey: setting(env, chainSetting("TREASURY_KEY", chain)),
    explorerTxUrl: setting(env, chainSetting("EXPLORER_TX_URL", chain)),
    facilitatorTimeoutMs: setting(env, "FACILITATOR_TIMEOUT_MS"),
  };
}

function readOnChain(env: SettingVars, chain: Chain): OnChainSettings | null {
  const rpcUrl = setting(env, "EVM_RPC_URL");
  if (!rpcUrl) return null;
  const keyName = chainSetting("COORDINATOR_KEY", chain);
  const required = <T>(name: string, value: T | null): T => {
    if (value === null) throw new SettingsError(`${name} must be set when EVM_RPC_URL is set`);
    return value;
  };
  return {
    rpcUrl,
    identityRegistry: required("IDENTITY_REGISTRY", setting(env, "IDENTITY_REGISTRY")),
    reputationRegistry: required("REPUTATION_REGISTRY", setting(env, "REPUTATION_REGISTRY")),
    receiptAnchor: setting(env, "RECEIPT_ANCHOR"),
    coordinatorKey: required(keyName, setting(env, keyName)),
    reputationClients: setting(env, "REPUTATION_CLIENTS"),
    anchorBatchSize: setting(env, "ANCHOR_BATCH_SIZE"),
    anchorIntervalMs: setting(env, "ANCHOR_INTERVAL_SECONDS") * 1000,
  };
}
