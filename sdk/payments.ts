import { type x402Client, x402HTTPClient } from "@x402/core/client";
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
      const text = await res.text();
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
