import type { JobType, Policy, Tier } from "./enums.ts";

/** Prices in micro-USD (USDC has 6 decimals), so arithmetic stays exact. */
const PRICE_MICRO_USD: Record<Tier, Record<JobType, number>> = {
  FAST: { LLM_INFER: 10_000, TASK: 3_000 },
  CHEAP: { LLM_INFER: 5_000, TASK: 1_000 },
};

/** AUTO resolves to FAST for LLM_INFER and CHEAP for TASK. */
export function resolvePolicy(policy: Policy, jobType: JobType): Tier {
  if (policy !== "AUTO") return policy;
  return jobType === "LLM_INFER" ? "FAST" : "CHEAP";
}

export function priceMicroUsd(tier: Tier, jobType: JobType): number {
  return PRICE_MICRO_USD[tier][jobType];
}

/** The reference price string: a dollar sign and three decimals, e.g. "$0.010". */
export function formatPrice(microUsd: number): string {
  return `$${(microUsd / 1_000_000).toFixed(3)}`;
}

export function priceString(tier: Tier, jobType: JobType): string {
  return formatPrice(priceMicroUsd(tier, jobType));
}

export function commitEndpoint(tier: Tier): string {
  return `/v1/jobs/commit/${tier.toLowerCase()}`;
}

export function tierFromPath(segment: string): Tier | undefined {
  if (segment === "fast") return "FAST";
  if (segment === "cheap") return "CHEAP";
  return undefined;
}
