import type { Chain } from "../protocol/index.ts";
import type { Env } from "./env.ts";

export type PaymentsMode = "disabled";

export interface Settings {
  allowUnverifiedWorkers: boolean;
  payments: { mode: PaymentsMode; payTo: string | null; asset: string | null };
}

export class SettingsError extends Error {}

function flag(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === "") return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new SettingsError(`${name} must be "true" or "false", got ${JSON.stringify(raw)}`);
}

/** Reads and checks the vars once; a bad value is a clear configuration error, not a guess. */
export function readSettings(env: Env, chain: Chain): Settings {
  const mode = env.PAYMENTS_MODE || "disabled";
  if (mode !== "disabled") {
    // x402 verification and settlement arrive with the on-chain layer; refusing an unknown
    // mode beats silently running unpaid jobs while the operator believes payments are on.
    throw new SettingsError(`PAYMENTS_MODE ${JSON.stringify(mode)} is not available in this build; use "disabled"`);
  }
  const payTo = (chain === "monad" ? env.PAY_TO_MONAD : env.PAY_TO_SOLANA) || null;
  const asset = (chain === "monad" ? env.ASSET_MONAD : env.ASSET_SOLANA) || null;
  return {
    allowUnverifiedWorkers: flag("ALLOW_UNVERIFIED_WORKERS", env.ALLOW_UNVERIFIED_WORKERS, true),
    payments: { mode, payTo, asset },
  };
}
