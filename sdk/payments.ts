import { type x402Client, x402HTTPClient } from "@x402/core/client";
import { decodePaymentRequiredHeader, encodePaymentRequiredHeader } from "@x402/core/http";
import { readBoundedText } from "./bounded-body.ts";
import { DispatchError } from "./errors.ts";

/**
 * The payment seam: turns one `402` answer into the headers of the paid retry. The router
 * calls it at most once per job and keeps the job's Idempotency-Key on the retry, so a
 * retried commit carries the same payment instead of a second one.
 */
export interface PaymentClient {
  createPaymentHeaders(paymentRequired: Response): Promise<Record<string, string>>;
}

/** What `ComputeRouterOptions.x402Client` accepts. */
export type PaymentClientInput = PaymentClient | x402Client | x402HTTPClient;

export function toPaymentClient(input: PaymentClientInput): PaymentClient {
  if ("createPaymentHeaders" in input) return input;
  // We drive the official client step by step instead of wrapping fetch with @x402/fetch:
  // its wrapper may build a second, fresh payment when the first is "recovered", and a job
  // must never be paid for twice.
  const http = input instanceof x402HTTPClient ? input : new x402HTTPClient(input);
  return {
    async createPaymentHeaders(res) {
      // A 402's body is the coordinator's: read a bounded amount of it (the requirements also come as a header).
      const text = await readBoundedText(res, "the", 64 * 1024).catch(() => "");
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      const required = http.getPaymentRequiredResponse((name) => res.headers.get(name), body);
      const payload = await http.createPaymentPayload(required);
      return http.encodePaymentSignatureHeader(payload);
    },
  };
}

/** Runs the payment client, reporting any failure as `payment_failed` (nothing was sent yet). */
export async function payFor(client: PaymentClient, res: Response, chain: string): Promise<Record<string, string>> {
  try {
    const headers = await client.createPaymentHeaders(res);
    if (Object.keys(headers).length === 0) throw new Error("the payment client returned no headers");
    return headers;
  } catch (err) {
    if (err instanceof DispatchError) throw err;
    throw new DispatchError(
      "payment_failed",
      `could not build an x402 payment for the ${chain} coordinator: ${err instanceof Error ? err.message : String(err)}`,
      { status: 402, cause: err },
    );
  }
}

/** What the caller is willing to pay for one job: at most `maxAmount` atomic units, optionally only this asset or payee. */
export interface PriceLimit {
  /** Atomic units of the asset (USDC: micro-USD). */
  maxAmount: bigint;
  asset?: string;
  payTo?: string;
}

/**
 * Checks a 402 against what the caller will pay before anything is signed: the options that ask
 * more than `maxAmount`, or another asset or payee than expected, are dropped from the answer the
 * payment client sees; when none is left, nothing is paid and `price_too_high` is thrown.
 */
export function guardPaymentRequired(res: Response, limit: PriceLimit, chain: string): Response {
  const header = res.headers.get("payment-required");
  if (!header) {
    throw new DispatchError("payment_failed", `the ${chain} coordinator answered 402 without a PAYMENT-REQUIRED header`, { status: 402 });
  }
  let required: ReturnType<typeof decodePaymentRequiredHeader>;
  try {
    required = decodePaymentRequiredHeader(header);
  } catch (err) {
    throw new DispatchError("payment_failed", `the ${chain} coordinator's PAYMENT-REQUIRED is not x402: ${String(err)}`, { status: 402 });
  }
  const same = (a: string, b: string | undefined) => b === undefined || a.toLowerCase() === b.toLowerCase();
  const acceptable = required.accepts.filter((o) => {
    let amount: bigint;
    try {
      amount = BigInt(o.amount);
    } catch {
      return false;
    }
    return amount <= limit.maxAmount && same(o.asset, limit.asset) && same(o.payTo, limit.payTo);
  });
  if (acceptable.length === 0) {
    const asked = required.accepts.map((o) => `${o.amount} of ${o.asset} to ${o.payTo}`).join("; ");
    throw new DispatchError(
      "price_too_high",
      `the ${chain} coordinator asks ${asked || "nothing payable"}, above this job's limit of ${limit.maxAmount}${limit.asset ? ` of ${limit.asset}` : ""}${limit.payTo ? ` to ${limit.payTo}` : ""}; nothing was paid`,
      { status: 402 },
    );
  }
  const headers = new Headers(res.headers);
  headers.set("payment-required", encodePaymentRequiredHeader({ ...required, accepts: acceptable }));
  return new Response(res.body, { status: res.status, headers });
}
