import {
  decodePaymentSignatureHeader,
  encodePaymentRequiredHeader,
  encodePaymentResponseHeader,
  HTTPFacilitatorClient,
} from "@x402/core/http";
import type { PaymentPayload, PaymentRequired, PaymentRequirements, SettleResponse, VerifyResponse } from "@x402/core/types";
import { type Chain, type JobType, NETWORKS, priceMicroUsd, priceString, type Tier, X402_SCHEME } from "../../protocol/index.ts";
import type { PaymentSettings } from "../settings.ts";

export type { PaymentPayload, PaymentRequirements };

/**
 * How long a payment authorization must stay valid: queue deadline + execution deadline of the
 * longest job + settlement, with margin, since EVM jobs settle only when they complete.
 */
export const MAX_TIMEOUT_SECONDS = 300;

/** The x402 v2 requirement for one (tier, job type) on this chain: the quoted price, exactly. */
export function requirementsFor(
  settings: PaymentSettings,
  chain: Chain,
  tier: Tier,
  jobType: JobType,
  facilitatorExtra: Record<string, unknown> = {},
): PaymentRequirements {
  return {
    scheme: X402_SCHEME[chain],
    network: NETWORKS[chain] as PaymentRequirements["network"],
    // USDC has 6 decimals: micro-USD are its atomic units.
    amount: String(priceMicroUsd(tier, jobType)),
    asset: settings.asset ?? "",
    payTo: settings.payTo ?? "",
    maxTimeoutSeconds: MAX_TIMEOUT_SECONDS,
    extra: { ...facilitatorExtra, ...settings.assetExtra },
  };
}

export function paymentRequired(
  resourceUrl: string,
  tier: Tier,
  jobType: JobType,
  accepts: PaymentRequirements,
  error?: string,
): PaymentRequired {
  return {
    x402Version: 2,
    ...(error === undefined ? {} : { error }),
    resource: {
      url: resourceUrl,
      description: `Dispatch ${jobType} job, ${tier} tier (${priceString(tier, jobType)})`,
      mimeType: "application/json",
    },
    accepts: [accepts],
  };
}

export function paymentRequiredHeaders(body: PaymentRequired): Record<string, string> {
  return { "payment-required": encodePaymentRequiredHeader(body), "cache-control": "private, no-store" };
}

/** `PAYMENT-RESPONSE` for a settled job, so x402 clients see the settlement the standard way. */
export function paymentResponseHeaders(transaction: string, network: string, payer: string | null): Record<string, string> {
  return {
    "payment-response": encodePaymentResponseHeader({
      success: true,
      transaction,
      network: network as PaymentRequirements["network"],
      ...(payer === null ? {} : { payer }),
    }),
  };
}

/** Decodes `PAYMENT-SIGNATURE`; null when it is not a v2 payment payload. */
export function decodePayment(header: string): PaymentPayload | null {
  try {
    const payload = decodePaymentSignatureHeader(header);
    if (payload?.x402Version !== 2 || typeof payload.payload !== "object" || payload.payload === null) return null;
    return payload;
  } catch {
    return null;
  }
}

/** The facilitator, through the official HTTP client. Created per object, never at module scope. */
export class Facilitator {
  private readonly client: HTTPFacilitatorClient;
  private supported: Promise<Map<string, Record<string, unknown>>> | null = null;

  constructor(url: string, timeoutMs: number) {
    this.client = new HTTPFacilitatorClient({ url, timeoutMs });
  }

  /** Scheme extras the facilitator announces (e.g. the Solana fee payer), cached per object. */
  async extraFor(scheme: string, network: string): Promise<Record<string, unknown>> {
    this.supported ??= this.client.getSupported().then((s) => new Map(s.kinds.map((k) => [`${k.scheme}|${k.network}`, k.extra ?? {}])));
    try {
      return (await this.supported).get(`${scheme}|${network}`) ?? {};
    } catch (err) {
      this.supported = null;
      throw err;
    }
  }

  /** The facilitator's verdict; throws only when it could not give one (unreachable, malformed). */
  async verify(payload: PaymentPayload, requirements: PaymentRequirements): Promise<VerifyResponse> {
    try {
      return await this.client.verify(payload, requirements);
    } catch (err) {
      // The client throws a VerifyError for a non-200 verdict; it is still a verdict.
      const reason = (err as { invalidReason?: string }).invalidReason;
      if (reason) return { isValid: false, invalidReason: reason, invalidMessage: (err as { invalidMessage?: string }).invalidMessage };
      throw err;
    }
  }

  async settle(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResponse> {
    try {
      return await this.client.settle(payload, requirements);
    } catch (err) {
      const reason = (err as { errorReason?: string }).errorReason;
      if (reason) {
        return {
          success: false,
          errorReason: reason,
          errorMessage: (err as { errorMessage?: string }).errorMessage,
          transaction: "",
          network: requirements.network,
        };
      }
      throw err;
    }
  }
}
