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

export interface Settings {
  allowUnverifiedWorkers: boolean;
  payments: PaymentSettings;
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
  return { allowUnverifiedWorkers: flag("ALLOW_UNVERIFIED_WORKERS", env.ALLOW_UNVERIFIED_WORKERS, true), payments };
}
