// The agent-facing surfaces with x402 payments on: the official `openai` client paying through
// the SDK's fetch, the MCP server paying with the CLI's keys, and the SDK's OpenAI example, on a
// local EVM chain with the local facilitator, a coordinator under `wrangler dev` and a real worker.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { x402Client, x402HTTPClient } from "@x402/core/client";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { createPublicClient, erc20Abi, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { coordinatorVars } from "../chains/coordinator-vars.ts";
import { type RunningLocalNetwork, startLocalNetwork } from "../chains/local-network.ts";
import { type AnswerProof, NETWORKS, priceMicroUsd } from "../protocol/index.ts";
import { type DevCoordinator, startCoordinator } from "../scripts/dev-coordinator.ts";
import { cliPaymentClient } from "../sdk/cli-payments.ts";
import { ComputeRouter, checkAnswerProof, dispatchFetch } from "../sdk/index.ts";
import { type OllamaServer, startOllamaServer } from "./support/ollama-server.ts";
import { runScript } from "./support/run-script.ts";
import { startWorker, type WorkerProcess } from "./support/worker-process.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const LLM_PRICE = BigInt(priceMicroUsd("FAST", "LLM_INFER"));
const TASK_PRICE = BigInt(priceMicroUsd("CHEAP", "TASK"));

let net: RunningLocalNetwork;
let coordinator: DevCoordinator;
let ollama: OllamaServer;
let worker: WorkerProcess;
let home: string;

beforeAll(async () => {
  [net, ollama, home] = await Promise.all([
    startLocalNetwork({ seekers: 6, file: false }),
    startOllamaServer({ "alpha:latest": { tokens: ["Paid", " words", "."], delayMs: 5, loaded: true } }),
    mkdtemp(path.join(os.tmpdir(), "dispatch-paid-agent-api-")),
  ]);
  coordinator = await startCoordinator({ vars: coordinatorVars(net.network) });
  worker = await startWorker([
    ...["--coordinator", coordinator.url, "--chain", "monad", "--key", path.join(home, "worker.json")],
    ...["--llm-backend", "ollama", "--ollama-host", ollama.host, "--models", "alpha"],
  ]);
  await worker.waitFor((l) => l.msg === "registered");
}, 120_000);

afterAll(async () => {
  if (worker && worker.proc.exitCode === null) worker.proc.kill("SIGTERM");
  await worker?.exited;
  await Promise.all([coordinator?.stop(), ollama?.close()]);
  await net?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

const seekerKey = (i: number) => net.network.chains.monad.seekers[i]?.privateKey ?? "";
const seekerAddress = (i: number) => privateKeyToAccount(seekerKey(i) as `0x${string}`).address;

async function balance(owner: string): Promise<bigint> {
  const m = net.network.chains.monad;
  return createPublicClient({ transport: http(m.rpcUrl) }).readContract({
    address: m.usdc.address as `0x${string}`,
    abi: erc20Abi,
    functionName: "balanceOf",
    args: [owner as `0x${string}`],
  });
}

/** The official client over the SDK's paying fetch, with the CLI's payer (exactly the quoted LLM price). */
async function payingClient(seeker: number): Promise<OpenAI> {
  const quotes = new ComputeRouter({ coordinators: { monad: `${coordinator.url}/monad` } });
  const payer = await cliPaymentClient({ DISPATCH_EVM_PRIVATE_KEY: seekerKey(seeker) }, quotes, { job_type: "LLM_INFER", policy: "FAST" });
  if (!payer) throw new Error("no payer");
  return new OpenAI({
    baseURL: `${coordinator.url}/monad/v1`,
    apiKey: "unused",
    maxRetries: 0,
    fetch: dispatchFetch({ payment: payer.client }),
  });
}

describe("paid OpenAI-compatible chat", () => {
  it("pays a 402 through the SDK's fetch: exactly the price moves, and the settlement comes back in PAYMENT-RESPONSE", async () => {
    const payee = net.network.chains.monad.payee;
    const [before, payeeBefore] = [await balance(seekerAddress(0)), await balance(payee)];
    const client = await payingClient(0);
    const { data, response } = await client.chat.completions
      .create({ model: "alpha", messages: [{ role: "user", content: "Hi" }] })
      .withResponse();
    const text = data.choices[0]?.message.content ?? "";
    expect(text).toBe("Paid words.");
    const proof = checkAnswerProof(response.headers.get("x-dispatch-receipt"), text);
    expect(proof.receipt.payment_ref).toBeTruthy();
    const settlement = new x402HTTPClient(new x402Client()).getPaymentSettleResponse((n) => response.headers.get(n));
    expect(settlement).toMatchObject({ success: true, network: NETWORKS.monad });
    expect(await balance(seekerAddress(0))).toBe(before - LLM_PRICE);
    expect(await balance(payee)).toBe(payeeBefore + LLM_PRICE);
  });

  it("streams a paid answer: the text live, the proof once the payment settled, the price paid once", async () => {
    const before = await balance(seekerAddress(1));
    const stream = await (await payingClient(1)).chat.completions.create({
      model: "alpha",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
    });
    let text = "";
    let last: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      last = chunk;
    }
    expect(text).toBe("Paid words.");
    const proof = checkAnswerProof((last as { dispatch: AnswerProof }).dispatch, text);
    const view = (await (await fetch(`${coordinator.url}/monad/v1/jobs/${proof.job_id}`)).json()) as { payment: { state: string } };
    expect(view.payment.state).toBe("settled");
    expect(await balance(seekerAddress(1))).toBe(before - LLM_PRICE);
  });

  it("answers a client that cannot pay with 402 and PAYMENT-REQUIRED, and takes nothing", async () => {
    const client = new OpenAI({ baseURL: `${coordinator.url}/monad/v1`, apiKey: "unused", maxRetries: 0 });
    const err = (await client.chat.completions
      .create({ model: "alpha", messages: [{ role: "user", content: "Hi" }] })
      .catch((e) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.status).toBe(402);
    expect(err.headers?.get("payment-required")).toBeTruthy();
    expect(err.type).toBe("payment_required");
  });
});

describe("paid Ollama-compatible chat", () => {
  it("the ollama client pays through the SDK's fetch, exactly the price, and gets the proof on its final line", async () => {
    const before = await balance(seekerAddress(5));
    const quotes = new ComputeRouter({ coordinators: { monad: `${coordinator.url}/monad` } });
    const payer = await cliPaymentClient({ DISPATCH_EVM_PRIVATE_KEY: seekerKey(5) }, quotes, { job_type: "LLM_INFER", policy: "FAST" });
    const client = new Ollama({ host: `${coordinator.url}/monad`, fetch: dispatchFetch({ payment: payer?.client }) });
    let text = "";
    let final: unknown;
    for await (const part of await client.chat({ model: "alpha", messages: [{ role: "user", content: "Hi" }], stream: true })) {
      text += part.message.content;
      if (part.done) final = part;
    }
    expect(text).toBe("Paid words.");
    checkAnswerProof((final as { dispatch: AnswerProof }).dispatch, text);
    expect(await balance(seekerAddress(5))).toBe(before - LLM_PRICE);
  });
});

describe("the paying MCP server", () => {
  async function mcp(seeker: number, extra: string[] = []): Promise<Client> {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [path.join(repoRoot, "sdk", "cli.ts"), "mcp", "--coordinator", coordinator.url, "--chain", "monad", ...extra],
      env: { PATH: process.env.PATH ?? "", HOME: home, XDG_CONFIG_HOME: home, DISPATCH_EVM_PRIVATE_KEY: seekerKey(seeker) },
      stderr: "pipe",
    });
    const client = new Client({ name: "dispatch-e2e", version: "1.0.0" });
    await client.connect(transport);
    return client;
  }

  it("pays exactly the published price for a summary and returns it with its verified receipt", async () => {
    const before = await balance(seekerAddress(2));
    const client = await mcp(2);
    try {
      const result = await client.callTool({ name: "summarize", arguments: { text: "Paid summaries work. They settle on completion." } });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ receipt_verified: true, payment: { state: "settled" } });
    } finally {
      await client.close();
    }
    expect(await balance(seekerAddress(2))).toBe(before - TASK_PRICE);
  });

  it("refuses a call priced above its cap without paying anything", async () => {
    const before = await balance(seekerAddress(3));
    const client = await mcp(3, ["--max-price", "0.0005"]);
    try {
      const result = await client.callTool({ name: "classify", arguments: { text: "Too dear." } });
      expect(result.isError).toBe(true);
      expect((result.content as { text: string }[])[0]?.text).toContain("is $0.001, above this server's cap of $0.0005 per call");
    } finally {
      await client.close();
    }
    expect(await balance(seekerAddress(3))).toBe(before);
  });
});

describe("sdk/examples/openai-client.ts", () => {
  it("runs against a paid coordinator and verifies both answers", async () => {
    const before = await balance(seekerAddress(4));
    const run = await runScript(path.join(repoRoot, "sdk", "examples", "openai-client.ts"), [], {
      env: { PATH: process.env.PATH ?? "", DISPATCH_COORDINATOR: coordinator.url, DISPATCH_EVM_PRIVATE_KEY: seekerKey(4) },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.match(/^verified: job /gm)).toHaveLength(2);
    expect(await balance(seekerAddress(4))).toBe(before - 2n * LLM_PRICE);
  });
});
