import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodePaymentSignatureHeader, encodePaymentRequiredHeader } from "@x402/core/http";
import { authorizationTypes } from "@x402/evm";
import { verifyTypedData } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runScript } from "../test/support/run-script.ts";
import { completedJob, json, type RecordedRequest } from "./test-support/builders.ts";
import { serveHandler } from "./test-support/http-stub.ts";

const CLI = fileURLToPath(new URL("./cli.ts", import.meta.url));
// A throwaway key (anvil's well-known first account): nothing real is ever signed with it.
const PRIVATE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const account = privateKeyToAccount(PRIVATE_KEY);
const ASSET = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const PAY_TO = "0x70997970C51812dc3A010C7d01b50e0aacc0aCEe";
const NETWORK = "eip155:10143";

/** What the coordinator stub demands in its 402, per test. */
let demanded = "1000";

function coordinator(req: RecordedRequest): Response {
  const path = req.url.pathname;
  if (path === "/monad/v1/quote") {
    return json({
      price: "$0.001",
      endpoint: "/v1/jobs/commit/cheap",
      policy_resolved: "CHEAP",
      network: NETWORK,
      expires_at: new Date(Date.now() + 300_000).toISOString(),
      job_type: "TASK",
      chain: "monad",
      payment: { enabled: true, accepts: [{ scheme: "exact", network: NETWORK, amount: "1000", asset: ASSET, pay_to: PAY_TO }] },
    });
  }
  if (req.method === "POST" && path === "/monad/v1/jobs/commit/cheap") {
    if (req.headers.get("payment-signature")) return json({ job_id: "paid-1" }, 201);
    const header = encodePaymentRequiredHeader({
      x402Version: 2,
      resource: { url: `http://stub${path}`, description: "TASK job", mimeType: "application/json" },
      accepts: [
        {
          scheme: "exact",
          network: NETWORK,
          asset: ASSET,
          amount: demanded,
          payTo: PAY_TO,
          maxTimeoutSeconds: 60,
          extra: { name: "USD Coin", version: "2" },
        },
      ],
    });
    return json({ error: "payment_required", message: "pay first" }, 402, { "PAYMENT-REQUIRED": header });
  }
  if (path === "/monad/v1/jobs/paid-1") return json(completedJob("paid-1", { summary: "Paid." }));
  return json({ error: "not_found", message: path }, 404);
}

let stub: Awaited<ReturnType<typeof serveHandler>>;
let home: string;
beforeAll(async () => {
  stub = await serveHandler(coordinator);
  home = await mkdtemp(join(tmpdir(), "dispatch-cli-pay-"));
});
afterAll(async () => {
  await stub.close();
  await rm(home, { recursive: true, force: true });
});
beforeEach(() => {
  stub.requests.length = 0;
});

function dispatch(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runScript(CLI, args, {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: home,
      XDG_CONFIG_HOME: home,
      DISPATCH_COORDINATOR: stub.url,
      DISPATCH_CHAIN: "monad",
      DISPATCH_EVM_PRIVATE_KEY: PRIVATE_KEY,
    },
  });
}

describe("dispatch CLI x402 payments", () => {
  it("pays the quoted price once with an EIP-3009 authorization signed by the configured key", async () => {
    demanded = "1000";
    const run = await dispatch(["run", "task", "summarize", "Pay for this.", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ job_id: "paid-1", output: { summary: "Paid." } });
    const paid = stub.requests.filter((r) => r.headers.get("payment-signature"));
    expect(paid).toHaveLength(1);
    const payload = decodePaymentSignatureHeader(paid[0]?.headers.get("payment-signature") ?? "");
    const { authorization, signature } = payload.payload as {
      authorization: {
        from: `0x${string}`;
        to: `0x${string}`;
        value: string;
        validAfter: string;
        validBefore: string;
        nonce: `0x${string}`;
      };
      signature: `0x${string}`;
    };
    expect(authorization).toMatchObject({ from: account.address, value: "1000" });
    expect(authorization.to.toLowerCase()).toBe(PAY_TO.toLowerCase());
    const valid = await verifyTypedData({
      address: account.address,
      domain: { name: "USD Coin", version: "2", chainId: 10143, verifyingContract: ASSET },
      types: authorizationTypes,
      primaryType: "TransferWithAuthorization",
      message: {
        ...authorization,
        value: BigInt(authorization.value),
        validAfter: BigInt(authorization.validAfter),
        validBefore: BigInt(authorization.validBefore),
      },
      signature,
    });
    expect(valid).toBe(true);
  });

  it("refuses a 402 that asks for more than the quote, without signing anything", async () => {
    demanded = "5000";
    const run = await dispatch(["run", "task", "summarize", "Overcharge me."]);
    expect(run.code).toBe(6);
    expect(run.stderr).toMatch(/price_too_high|payment_failed/);
    expect(stub.requests.some((r) => r.headers.get("payment-signature"))).toBe(false);
  });
});
