import {
  type Chain,
  commitEndpoint,
  LIMITS,
  NETWORKS,
  priceMicroUsd,
  priceString,
  type QuoteQuery,
  type QuoteResponse,
  resolvePolicy,
  X402_SCHEME,
} from "../protocol/index.ts";
import type { Settings } from "./settings.ts";

/** A quote needs no state: price table, AUTO resolution and what the 402 will ask for. */
export function quote(chain: Chain, query: QuoteQuery, settings: Settings, now = Date.now()): QuoteResponse {
  const tier = resolvePolicy(query.policy, query.job_type);
  const amount = String(priceMicroUsd(tier, query.job_type));
  return {
    price: priceString(tier, query.job_type),
    endpoint: commitEndpoint(tier),
    policy_resolved: tier,
    network: NETWORKS[chain],
    expires_at: new Date(now + LIMITS.quoteTtlSeconds * 1000).toISOString(),
    job_type: query.job_type,
    chain,
    payment: {
      enabled: settings.payments.mode !== "disabled",
      accepts: [
        {
          scheme: X402_SCHEME[chain],
          network: NETWORKS[chain],
          // USDC has 6 decimals, so micro-USD are the asset's atomic units.
          amount,
          asset: settings.payments.asset,
          pay_to: settings.payments.payTo,
        },
      ],
    },
  };
}
