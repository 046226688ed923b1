import { x402Client, x402HTTPClient } from "@x402/core/client";
import { decodePaymentSignatureHeader, encodePaymentRequiredHeader } from "@x402/core/http";
import type { PaymentRequired, PaymentRequirements, SchemeNetworkClient } from "@x402/core/types";
import { describe, expect, it } from "vitest";
import { NETWORKS } from "../protocol/index.ts";
import { toPaymentClient } from "./payments.ts";
import { ComputeRouter } from "./router.ts";
import { completedJob, json, MONAD, scriptedFetch } from "./test-support/builders.ts";

const requirements: PaymentRequirements = {
  scheme: "exact",
  network: NETWORKS.monad as PaymentRequirements["network"],
  asset: "0x0000000000000000000000000000000000000dad",
  amount: "1000",
  payTo: "0x00000000000000000000000000000000000000aa",
  maxTimeoutSeconds: 60,
  extra: { name: "USDC", version: "2" },
};

const paymentRequired: PaymentRequired = {
  x402Version: 2,
  resource: { url: `${MONAD}/v1/jobs/commit/cheap`, description: "TASK job", mimeType: "application/json" },
  accepts: [requirements],
};

/** A scheme that "signs" by echoing what it was asked to pay, so the test can see the requirement reached it. */
function echoScheme(calls: PaymentRequirements[]): SchemeNetworkClient {
  return {
    scheme: "exact",
    async createPaymentPayload(x402Version, req) {
      calls.push(req);
      return { x402Version, payload: { paid: req.amount, to: req.payTo } };
    },
  };
}

function officialClient(calls: PaymentRequirements[]) {
  // Our test asset is unknown to x402's default asset table, so spend controls must allow it explicitly.
  return new x402Client()
    .register(requirements.network, echoScheme(calls))
    .setSpendControls({ allowedAssets: [{ network: requirements.network, asset: requirements.asset }] });
}

const answer402 = () =>
  json({ error: "payment_required", message: "pay" }, 402, { "PAYMENT-REQUIRED": encodePaymentRequiredHeader(paymentRequired) });

describe("x402 payment seam", () => {
  for (const [name, make] of [
    ["x402Client", (calls: PaymentRequirements[]) => officialClient(calls)],
    ["x402HTTPClient", (calls: PaymentRequirements[]) => new x402HTTPClient(officialClient(calls))],
  ] as const) {
    it(`turns a PAYMENT-REQUIRED header into a PAYMENT-SIGNATURE through the official ${name}`, async () => {
      const calls: PaymentRequirements[] = [];
      const headers = await toPaymentClient(make(calls)).createPaymentHeaders(answer402());
      expect(calls).toEqual([requirements]);
      const signature = headers["PAYMENT-SIGNATURE"];
      expect(signature).toBeTruthy();
      const payload = decodePaymentSignatureHeader(signature ?? "");
      expect(payload.accepted).toMatchObject({ amount: "1000", network: requirements.network });
      expect(payload.payload).toEqual({ paid: "1000", to: requirements.payTo });
    });
  }

  it("pays a commit through the router with the official client, exactly once", async () => {
    const calls: PaymentRequirements[] = [];
    const { fetch, requests } = scriptedFetch((req) => {
      if (req.method === "POST") return req.headers.get("payment-signature") ? json({ job_id: "j" }, 201) : answer402();
      return json(completedJob("j", { label: "positive", confidence: 0.9 }));
    });
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch, x402Client: officialClient(calls) });
    const result = await router.runTask({ task_type: "classify", input: "great" });
    expect(result.output).toEqual({ label: "positive", confidence: 0.9 });
    expect(calls).toHaveLength(1);
    const paid = requests.filter((r) => r.headers.get("payment-signature"));
    expect(paid).toHaveLength(1);
  });

  it("reports a payment the client cannot make as payment_failed without retrying the commit", async () => {
    const { fetch, requests } = scriptedFetch(() => answer402());
    // Nothing registered for the monad network: the official client refuses.
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch, x402Client: new x402Client() });
    await expect(router.runTask({ task_type: "classify", input: "great" })).rejects.toMatchObject({ code: "payment_failed" });
    expect(requests).toHaveLength(1);
  });

  it("refuses to pay a 402 that asks more than the published price, and signs nothing", async () => {
    const calls: PaymentRequirements[] = [];
    const greedy = { ...paymentRequired, accepts: [{ ...requirements, amount: "1000000" }] };
    const { fetch, requests } = scriptedFetch(() =>
      json({ error: "payment_required", message: "pay" }, 402, { "PAYMENT-REQUIRED": encodePaymentRequiredHeader(greedy) }),
    );
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch, x402Client: officialClient(calls) });
    await expect(router.runTask({ task_type: "classify", input: "great" })).rejects.toMatchObject({ code: "price_too_high" });
    expect(calls).toHaveLength(0);
    expect(requests).toHaveLength(1);
  });

  it("pays only the options within the caller's limit, asset and payee", async () => {
    const calls: PaymentRequirements[] = [];
    const wrongPayee = { ...requirements, payTo: "0x00000000000000000000000000000000000000bb" };
    const offered = { ...paymentRequired, accepts: [wrongPayee, requirements] };
    const { fetch } = scriptedFetch((req) => {
      if (req.method === "POST") {
        return req.headers.get("payment-signature")
          ? json({ job_id: "j" }, 201)
          : json({ error: "payment_required", message: "pay" }, 402, { "PAYMENT-REQUIRED": encodePaymentRequiredHeader(offered) });
      }
      return json(completedJob("j", { label: "positive", confidence: 0.9 }));
    });
    const router = new ComputeRouter({
      coordinators: { monad: MONAD },
      fetch,
      x402Client: officialClient(calls),
      maxPrice: 1000,
      expectedPayment: { monad: { payTo: requirements.payTo } },
    });
    await router.runTask({ task_type: "classify", input: "great" });
    expect(calls).toEqual([requirements]);
  });

  it("asks again, with the same key and payment, when its own payment is still admitting the job", async () => {
    let paidPosts = 0;
    const { fetch, requests } = scriptedFetch((req) => {
      if (req.method === "POST") {
        if (!req.headers.get("payment-signature")) return answer402();
        paidPosts++;
        // The first paid attempt's answer is lost (a 5xx); its retry collides with it once.
        if (paidPosts === 1) return json({ error: "internal_error", message: "lost" }, 502);
        if (paidPosts === 2)
          return json({ error: "payment_already_used", message: "in use" }, 402, {
            "PAYMENT-REQUIRED": encodePaymentRequiredHeader(paymentRequired),
          });
        return json({ job_id: "j" }, 201);
      }
      return json(completedJob("j", { label: "positive", confidence: 0.9 }));
    });
    const calls: PaymentRequirements[] = [];
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch, x402Client: officialClient(calls) });
    const result = await router.runTask({ task_type: "classify", input: "great" });
    expect(result.job_id).toBe("j");
    expect(calls).toHaveLength(1);
    const keys = new Set(requests.filter((r) => r.method === "POST").map((r) => r.headers.get("idempotency-key")));
    expect(keys.size).toBe(1);
  });
});
