import { buildReceipt, type Ed25519KeyPair, generateKeyPair, type JobView, type Receipt, signReceipt } from "../../protocol/index.ts";
import type { FetchLike } from "../types.ts";

/** A worker key shared by tests that do not care which worker ran the job. */
export const workerKey: Ed25519KeyPair = generateKeyPair();

export function pendingJob(id: string, overrides: Partial<JobView> = {}): JobView {
  return {
    id,
    status: "pending",
    stage: "pending",
    job_type: "TASK",
    policy: "CHEAP",
    privacy_class: "PUBLIC",
    result: null,
    receipt: null,
    payment: { state: "disabled", price: "$0.001", amount: "1000", network: "eip155:10143", transaction: null },
    reason: null,
    attempts: 0,
    created_at: new Date().toISOString(),
    assigned_at: null,
    completed_at: null,
    ...overrides,
  };
}

/**
 * A completed job whose receipt is signed by `key` over `receiptOverrides` applied to an
 * honest receipt, so a test can craft exactly one lie at a time.
 */
export function completedJob(
  id: string,
  output: unknown,
  opts: { key?: Ed25519KeyPair; receipt?: Partial<Receipt>; signWith?: string; view?: Partial<JobView> } = {},
): JobView {
  const key = opts.key ?? workerKey;
  const receipt = { ...buildReceipt({ jobId: id, providerPubkey: key.publicKey, output }), ...opts.receipt };
  const signature = signReceipt(receipt, opts.signWith ?? key.secretKey);
  return pendingJob(id, {
    status: "completed",
    stage: "completed",
    result: output,
    receipt: { ...receipt, signature, verified: true },
    completed_at: receipt.completed_at,
    attempts: 1,
    ...opts.view,
  });
}

export function failedJob(id: string, reason: string, overrides: Partial<JobView> = {}): JobView {
  return pendingJob(id, { status: "failed", stage: "failed", result: { error: reason }, reason, ...overrides });
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

export function sse(events: { event: string; data: unknown }[]): Response {
  const text = events.map((e) => `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`).join("");
  return new Response(text, { headers: { "content-type": "text/event-stream" } });
}

export interface RecordedRequest {
  method: string;
  url: URL;
  headers: Headers;
  body: string;
}

/**
 * A fetch that answers from `handler` and records every request, for unit tests of the
 * client against scripted coordinator answers.
 */
export function scriptedFetch(handler: (req: RecordedRequest) => Response | Promise<Response>): {
  fetch: FetchLike;
  requests: RecordedRequest[];
} {
  const requests: RecordedRequest[] = [];
  const fetch: FetchLike = async (input, init) => {
    const req: RecordedRequest = {
      method: init?.method ?? "GET",
      url: new URL(input),
      headers: new Headers(init?.headers),
      body: typeof init?.body === "string" ? init.body : "",
    };
    requests.push(req);
    return handler(req);
  };
  return { fetch, requests };
}

export const MONAD = "http://coordinator.test/monad";

/** A `PAYMENT-REQUIRED` header asking `amount` atomic units (the SDK checks it against its price limit before paying). */
export function paymentRequiredHeader(amount = "1000"): string {
  return btoa(
    JSON.stringify({
      x402Version: 2,
      resource: { url: `${MONAD}/v1/jobs/commit/cheap`, description: "job", mimeType: "application/json" },
      accepts: [
        {
          scheme: "exact",
          network: "eip155:10143",
          amount,
          asset: "0x0000000000000000000000000000000000000dad",
          payTo: "0x00000000000000000000000000000000000000aa",
          maxTimeoutSeconds: 60,
          extra: {},
        },
      ],
    }),
  );
}
export const SOLANA = "http://coordinator.test/solana";
