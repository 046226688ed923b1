import {
  type Chain,
  commitEndpoint,
  LIMITS,
  NETWORKS,
  priceString,
  type QuoteQuery,
  type QuoteResponse,
  resolvePolicy,
} from "../protocol/index.ts";
import { requirementsFor } from "./payments/x402.ts";
import type { Settings } from "./settings.ts";

/** A quote needs no state: price table, AUTO resolution and what the 402 will ask for. */
export function quote(chain: Chain, query: QuoteQuery, settings: Settings, now = Date.now()): QuoteResponse {
  const tier = resolvePolicy(query.policy, query.job_type);
  // The same requirement the commit route's 402 states (minus facilitator extras such as a fee payer).
  const req = requirementsFor(settings.payments, chain, tier, query.job_type);
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
      accepts: [{ scheme: req.scheme, network: req.network, amount: req.amount, asset: req.asset || null, pay_to: req.payTo || null }],
    },
  };
}
