import { type Chain, type JobType, NETWORKS, type PaymentState, type Tier, X402_SCHEME } from "../../protocol/index.ts";
import { fail, type Outcome } from "../errors.ts";
import type { PaymentSettings } from "../settings.ts";
import type { PaymentStore } from "../storage/payment-store.ts";
import { paymentIdentity } from "./payment-identity.ts";
import { decodePayment, Facilitator, type PaymentRequirements, paymentRequired, paymentRequiredHeaders, requirementsFor } from "./x402.ts";

export interface Admitted {
  paymentState: PaymentState;
  paymentRef: string | null;
  payer: string | null;
}

/**
 * One settlement attempt, as the facilitator answered it. `refused`: definitely nothing moved.
 * `unknown`: it may have moved (no answer in time, or an answer that can mean "already used"):
 * the chain or the facilitator must say before anything is decided.
 */
export type SettleResult =
  | { outcome: "settled"; transaction: string }
  | { outcome: "refused"; reason: string; transaction: string | null }
  | { outcome: "unknown"; reason: string; transaction: string | null };

/** Answers that do not say nothing moved: a nonce already used, a settlement already made or still pending. */
const AMBIGUOUS_REASONS = new Set(["invalid_exact_evm_nonce_already_used", "duplicate_settlement", "settlement_pending"]);

/**
 * x402 for the commit routes: 402 with the quoted price, verify at commit (a payment pays one
 * job), settle later through the outbox. With payments disabled every job is admitted unpaid.
 */
export class Payments {
  private readonly settings: () => PaymentSettings;
  private readonly store: PaymentStore;
  private facilitator: Facilitator | null = null;

  private readonly timeoutMs: () => number;

  constructor(settings: () => PaymentSettings, store: PaymentStore, timeoutMs: () => number) {
    this.settings = settings;
    this.store = store;
    this.timeoutMs = timeoutMs;
  }

  get enabled(): boolean {
    return this.settings().mode === "x402";
  }

  private client(): Facilitator {
    const url = this.settings().facilitatorUrl ?? "";
    this.facilitator ??= new Facilitator(url, this.timeoutMs());
    return this.facilitator;
  }

  async requirements(chain: Chain, tier: Tier, jobType: JobType): Promise<PaymentRequirements> {
    const extra = await this.client().extraFor(X402_SCHEME[chain], NETWORKS[chain]);
    return requirementsFor(this.settings(), chain, tier, jobType, extra);
  }

  /** Verifies the `PAYMENT-SIGNATURE` of a commit, or says what the seeker must pay. */
  async admit(args: {
    chain: Chain;
    tier: Tier;
    jobType: JobType;
    header: string | null;
    resourceUrl: string;
    now: number;
  }): Promise<Admitted | Outcome<never>> {
    if (!this.enabled) return { paymentState: "disabled", paymentRef: null, payer: null };
    let requirements: PaymentRequirements;
    try {
      requirements = await this.requirements(args.chain, args.tier, args.jobType);
    } catch (err) {
      return fail(503, "payment_unavailable", `the payment facilitator is unreachable (${message(err)}); retry shortly`);
    }
    const required = (error: string, message: string, code: "payment_required" | "payment_invalid" | "payment_already_used") => {
      const body = paymentRequired(args.resourceUrl, args.tier, args.jobType, requirements, error);
      return { ...fail(402, code, message, { reason: error }), headers: paymentRequiredHeaders(body) };
    };
    if (args.header === null) {
      return required(
        "payment_required",
        `pay ${requirements.amount} atomic units of ${requirements.asset} on ${requirements.network}`,
        "payment_required",
      );
    }
    const payload = decodePayment(args.header);
    const id = payload ? paymentIdentity(payload, requirements) : null;
    if (!payload || id === null) {
      return required(
        "invalid_payment_header",
        "PAYMENT-SIGNATURE is not a base64 x402 v2 payment payload for this network",
        "payment_invalid",
      );
    }
    if (!this.store.reserve(id, payload, requirements, args.now)) {
      return required("payment_already_used", "this payment already paid for a job; sign a new one", "payment_already_used");
    }
    try {
      // Always verified against our requirements, not the payload's claim of what it pays.
      const verdict = await this.client().verify(payload, requirements);
      if (!verdict.isValid) {
        this.store.release(id);
        const reason = verdict.invalidReason ?? "invalid_payment";
        return required(reason, verdict.invalidMessage ?? `the facilitator refused the payment: ${reason}`, "payment_invalid");
      }
      return { paymentState: "verified", paymentRef: id, payer: verdict.payer ?? null };
    } catch (err) {
      this.store.release(id);
      return fail(503, "payment_unavailable", `the payment could not be verified (${message(err)}); retry with the same payment`);
    }
  }

  attach(paymentRef: string, jobId: string, payer: string | null): void {
    this.store.attach(paymentRef, jobId, payer);
  }

  /** One settlement attempt, classified (see `SettleResult`). */
  async settle(paymentRef: string): Promise<SettleResult> {
    const stored = this.store.get(paymentRef);
    if (!stored) return { outcome: "refused", reason: "payment record missing", transaction: null };
    try {
      const res = await this.client().settle(stored.payload, stored.requirements);
      if (res.success) return { outcome: "settled", transaction: res.transaction };
      const reason = res.errorReason ?? res.errorMessage ?? "settlement refused";
      const transaction = res.transaction ? res.transaction : null;
      return AMBIGUOUS_REASONS.has(reason) ? { outcome: "unknown", reason, transaction } : { outcome: "refused", reason, transaction };
    } catch (err) {
      // No answer: the request may have reached the facilitator and moved the money.
      return { outcome: "unknown", reason: message(err), transaction: null };
    }
  }

  /** The stored payment (payload and requirements) behind a job, for resolving an unknown settlement. */
  payment(paymentRef: string) {
    return this.store.get(paymentRef);
  }
}

export function isOutcome(v: Admitted | Outcome<never>): v is Outcome<never> {
  return "status" in v;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
