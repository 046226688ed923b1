import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { x402Client } from "@x402/core/client";
import type { Network } from "@x402/core/types";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { createPublicClient, erc20Abi, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { coordinatorVars } from "../chains/coordinator-vars.ts";
import type { RunningLocalNetwork } from "../chains/local-network.ts";
import { type DevCoordinator, startCoordinator } from "../scripts/dev-coordinator.ts";
import { runScript } from "../test/support/run-script.ts";
import { ComputeRouter } from "./router.ts";
import { type ScriptedWorker, startScriptedWorker } from "./test-support/scripted-worker.ts";

let net: RunningLocalNetwork;
let coordinator: DevCoordinator;
let worker: ScriptedWorker;
let solanaWorker: ScriptedWorker;

function monad() {
  return net.network.chains.monad;
}

async function payeeBalance(): Promise<bigint> {
  const client = createPublicClient({ transport: http(monad().rpcUrl) });
  return client.readContract({
    address: monad().usdc.address as `0x${string}`,
    abi: erc20Abi,
    functionName: "balanceOf",
    args: [monad().payee as `0x${string}`],
  });
}

function payingRouter(seeker: number): ComputeRouter {
  const key = monad().seekers[seeker]?.privateKey as `0x${string}`;
  const client = new x402Client().register("eip155:*", new ExactEvmScheme(privateKeyToAccount(key))).setSpendControls({
    allowedAssets: [{ network: monad().network as Network, asset: monad().usdc.address, maxAmountPerPayment: "10000" }],
  });
  return new ComputeRouter({ coordinators: { monad: `${coordinator.url}/monad` }, x402Client: client });
}

// Real money flow on local chains: anvil and LiteSVM with USDC, the x402 facilitator, the coordinator in x402 mode.
describe("paying with x402 on the local chains", () => {
  beforeAll(async () => {
    const { startLocalNetwork } = await import("../chains/local-network.ts");
    net = await startLocalNetwork({ seekers: 2, file: false });
    coordinator = await startCoordinator({
      vars: coordinatorVars(net.network),
    });
    worker = await startScriptedWorker(`${coordinator.url}/monad`);
    solanaWorker = await startScriptedWorker(`${coordinator.url}/solana`);
  }, 120_000);
  afterAll(async () => {
    await worker?.close();
    await solanaWorker?.close();
    await coordinator?.stop();
    await net?.stop();
  });

  it("pays a job once, gets it settled on chain, and a retried submit with the same key is not charged again", async () => {
    const before = await payeeBalance();
    const router = payingRouter(0);
    const result = await router.runTask({ task_type: "summarize", input: "Paid sentence. Another.", idempotencyKey: "paid-once-1" });
    expect(result.payment).toMatchObject({ state: "settled", amount: "1000", transaction: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
    expect(result.receipt?.payment_ref).toEqual(expect.any(String));
    expect(await payeeBalance()).toBe(before + 1000n);

    const again = await router.submit({
      job_type: "TASK",
      payload: { task_type: "summarize", input: "Paid sentence. Another." },
      idempotencyKey: "paid-once-1",
    });
    expect(again.job_id).toBe(result.job_id);
    expect(await payeeBalance()).toBe(before + 1000n);
  });

  it("without an x402 client the commit is payment_required, and nothing is charged", async () => {
    const before = await payeeBalance();
    const router = new ComputeRouter({ coordinators: { monad: `${coordinator.url}/monad` } });
    await expect(router.runTask({ task_type: "summarize", input: "Free? No." })).rejects.toMatchObject({
      code: "payment_required",
      status: 402,
    });
    expect(await payeeBalance()).toBe(before);
  });

  it("pays from the CLI with DISPATCH_EVM_PRIVATE_KEY", async () => {
    const run = await cli(["run", "task", "classify", "I love it", "--json", "--chain", "monad"], {
      DISPATCH_EVM_PRIVATE_KEY: monad().seekers[1]?.privateKey ?? "",
    });
    expect(JSON.parse(run.stdout).payment).toMatchObject({ state: "settled", amount: "1000" });
    expect(run.stderr).toMatch(new RegExp(`paying with x402 from ${monad().seekers[1]?.address}`, "i"));
  });

  it("pays on solana from the CLI with DISPATCH_SVM_PRIVATE_KEY", async () => {
    const solana = net.network.chains.solana;
    const run = await cli(["run", "task", "summarize", "Solana pays. Too.", "--json", "--chain", "solana"], {
      DISPATCH_SVM_PRIVATE_KEY: solana.seekers[0]?.secretKey ?? "",
      DISPATCH_SVM_RPC_URL: solana.rpcUrl,
    });
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ route: "dispatch:solana", output: { summary: "Solana pays." } });
    expect(result.payment).toMatchObject({ state: "settled", amount: "1000", network: solana.network });
  });
});

/** Runs the CLI as a process against the paid coordinator; fails with both logs unless it exits 0. */
async function cli(args: string[], env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  const home = await mkdtemp(join(tmpdir(), "dispatch-cli-paid-"));
  try {
    const run = await runScript(fileURLToPath(new URL("./cli.ts", import.meta.url)), args, {
      env: { PATH: process.env.PATH ?? "", HOME: home, XDG_CONFIG_HOME: home, DISPATCH_COORDINATOR: coordinator.url, ...env },
    });
    // On failure, show the coordinator's log too: a job stuck unassigned was seen once here.
    expect(run.code, `${run.stderr}\n--- coordinator ---\n${coordinator.output().slice(-3_000)}`).toBe(0);
    return run;
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
