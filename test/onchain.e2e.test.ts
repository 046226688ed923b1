// ERC-8004 identity links, feedback, reputation-weighted matching and receipt anchoring, end to
// end: a real anvil with our contracts, the coordinator under `wrangler dev`, workers over real sockets.

import type { Address, Hex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimWorker } from "../bench/sim-worker.ts";
import { receiptAnchorAbi, reputationRegistryAbi } from "../contracts/artifacts/abis.ts";
import { devAccount, devPrivateKey, startTestChain, type TestChain } from "../contracts/test-chain.ts";
import { type Hex32, ReceiptResponse, verifyMerkleProof, type WorkersResponse } from "../protocol/index.ts";
import { type DevCoordinator, startCoordinator } from "../scripts/dev-coordinator.ts";
import { ComputeRouter, checkAnchor } from "../sdk/index.ts";
import { registerIdentity } from "../worker-node/identity-registration.ts";
import { startRpcGate } from "./rpc-gate.ts";

let chain: TestChain;
let coordinator: DevCoordinator;
let gate: Awaited<ReturnType<typeof startRpcGate>>;
const COORDINATOR = 1; // dev account of the monad chain object (an anchorer)
const RATER = 5; // an independent client whose feedback counts in reputation
const workers: SimWorker[] = [];

beforeAll(async () => {
  chain = await startTestChain({ anchorers: [chain0(COORDINATOR), chain0(2)] });
  gate = await startRpcGate(chain.anvil.rpcUrl);
  const d = chain.deployment;
  coordinator = await startCoordinator({
    vars: {
      EVM_RPC_URL: gate.url,
      IDENTITY_REGISTRY: d.identityRegistry,
      REPUTATION_REGISTRY: d.reputationRegistry,
      RECEIPT_ANCHOR: d.receiptAnchor,
      COORDINATOR_KEY_MONAD: devPrivateKey(COORDINATOR),
      COORDINATOR_KEY_SOLANA: devPrivateKey(2),
      REPUTATION_CLIENTS: [chain0(COORDINATOR), chain0(2), chain0(RATER)].join(","),
      ANCHOR_BATCH_SIZE: "2",
      ANCHOR_INTERVAL_SECONDS: "2",
    },
  });
}, 90_000);

afterAll(async () => {
  for (const w of workers) w.close();
  await coordinator?.stop();
  await gate?.stop();
  await chain?.stop();
});

function chain0(index: number): Address {
  return devAccount(index).address;
}

async function linkedWorker(owner: number): Promise<{ worker: SimWorker; agentId: bigint }> {
  const worker = new SimWorker();
  const { agentId } = await registerIdentity({
    rpcUrl: chain.anvil.rpcUrl,
    identityRegistry: chain.deployment.identityRegistry,
    ownerKey: devPrivateKey(owner),
    workerPubkey: worker.key.publicKey,
  });
  return { worker, agentId };
}

async function commitAndWait(): Promise<Record<string, unknown>> {
  const res = await fetch(`${coordinator.url}/monad/v1/jobs/commit/fast`, {
    method: "POST",
    body: JSON.stringify({
      job_type: "TASK",
      user_id: "onchain-seeker",
      payload: { task_type: "summarize", input: "Reputation matters. Receipts are anchored." },
    }),
  });
  const { job_id } = (await res.json()) as { job_id: string };
  return (await (await fetch(`${coordinator.url}/monad/v1/jobs/${job_id}?wait=20`)).json()) as Record<string, unknown>;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function directory(): Promise<WorkersResponse["workers"]> {
  return ((await (await fetch(`${coordinator.url}/monad/v1/workers`)).json()) as WorkersResponse).workers;
}

async function feedbackCount(agentId: bigint, client: number): Promise<bigint> {
  const [count] = (await chain.publicClient.readContract({
    address: chain.deployment.reputationRegistry,
    abi: reputationRegistryAbi,
    functionName: "getSummary",
    args: [agentId, [chain.account(client).address], "successRate", ""],
  })) as readonly [bigint, bigint, number];
  return count;
}

describe("ERC-8004 and receipt anchoring on a local chain", () => {
  it("refuses a worker that names an agent which does not publish its key", async () => {
    const { agentId } = await linkedWorker(3);
    const impostor = new SimWorker();
    await expect(impostor.connect(coordinator.url, "monad", "DESKTOP", { agent_id: String(agentId) })).rejects.toThrow(/AUTH_FAILED/);
  });

  it("links a verified identity, gives feedback after each job, and reads the reputation back", async () => {
    const { worker, agentId } = await linkedWorker(3);
    workers.push(worker);
    await worker.connect(coordinator.url, "monad", "DESKTOP", { agent_id: String(agentId) });
    const listed = (await directory()).find((w) => w.provider_pubkey === worker.key.publicKey);
    expect(listed).toMatchObject({ agent_id: String(agentId), verified: true });
    const job = await commitAndWait();
    expect(job.status).toBe("completed");
    await until("feedback on-chain", async () => (await feedbackCount(agentId, COORDINATOR)) >= 1n);
    await until(
      "reputation refreshed",
      async () => (await directory()).find((w) => w.provider_pubkey === worker.key.publicKey)?.reputation === 100,
    );
    worker.close();
  });

  it("gives the job to the worker with the better reputation when all else ties", async () => {
    const good = await linkedWorker(3);
    const poor = await linkedWorker(4);
    const rate = (agentId: bigint, value: bigint) =>
      chain.write(chain.account(RATER), {
        address: chain.deployment.reputationRegistry,
        abi: reputationRegistryAbi,
        functionName: "giveFeedback",
        args: [agentId, value, 0, "successRate", "", "", "", `0x${"00".repeat(32)}` as Hex],
      });
    await rate(good.agentId, 95n);
    await rate(poor.agentId, 20n);
    // The poorer worker connects first, so arrival order would favour it.
    for (const w of [poor, good]) {
      workers.push(w.worker);
      await w.worker.connect(coordinator.url, "monad", "DESKTOP", { agent_id: String(w.agentId) });
    }
    await until("reputations loaded", async () => {
      const dir = await directory();
      const rep = (w: SimWorker) => dir.find((x) => x.provider_pubkey === w.key.publicKey)?.reputation ?? 0;
      return rep(good.worker) >= 95 && rep(poor.worker) > 0 && rep(poor.worker) <= 20;
    });
    for (let i = 0; i < 3; i++) {
      const job = await commitAndWait();
      expect((job.receipt as { provider_pubkey: string }).provider_pubkey).toBe(good.worker.key.publicKey);
    }
    expect(poor.worker.completed).toBe(0);
  });

  it("anchors receipts in batches whose proofs verify against the on-chain root", async () => {
    const a = await commitAndWait();
    const b = await commitAndWait();
    for (const job of [a, b]) {
      const proof = await until("anchored", async () => {
        const body = (await (await fetch(`${coordinator.url}/monad/v1/receipts/${job.id}`)).json()) as {
          anchor: { root: Hex32; leaf: Hex32; proof: Hex32[]; transaction: string | null } | null;
        };
        return body.anchor?.transaction ? body.anchor : undefined;
      });
      expect(verifyMerkleProof(proof.root, proof.leaf, proof.proof)).toBe(true);
      const onchain = await chain.publicClient.readContract({
        address: chain.deployment.receiptAnchor,
        abi: receiptAnchorAbi,
        functionName: "verifyLeaf",
        args: [proof.root, proof.leaf, proof.proof],
      });
      expect(onchain).toBe(true);
      // The SDK proves the same thing for a seeker, and refuses a proof for another receipt.
      const router = new ComputeRouter({ coordinators: { monad: `${coordinator.url}/monad` } });
      const anchorInfo = { rpcUrl: chain.anvil.rpcUrl, receiptAnchor: chain.deployment.receiptAnchor };
      expect(await router.verifyAnchor(String(job.id), anchorInfo)).toMatchObject({ root: proof.root, transaction: proof.transaction });
      const view = ReceiptResponse.parse(await (await fetch(`${coordinator.url}/monad/v1/receipts/${job.id}`)).json());
      const forged = { ...view, receipt: { ...view.receipt, output_hash: "0".repeat(64) } };
      await expect(checkAnchor(forged, anchorInfo)).rejects.toMatchObject({ code: "invalid_anchor" });
    }
  });

  it("loses no chain write when the chain is unreachable across a coordinator restart", { timeout: 120_000 }, async () => {
    // Only this worker may take the job, so the feedback we wait for is its own.
    for (const w of workers.splice(0)) w.close();
    await until("earlier workers gone", async () => (await directory()).length === 0);
    const { worker, agentId } = await linkedWorker(6);
    workers.push(worker);
    await worker.connect(coordinator.url, "monad", "DESKTOP", { agent_id: String(agentId) });
    const before = await feedbackCount(agentId, COORDINATOR);
    gate.open = false;
    expect((await commitAndWait()).status).toBe("completed");
    const health = (await (await fetch(`${coordinator.url}/monad/v1/health`)).json()) as { outbox_pending: number };
    expect(health.outbox_pending).toBeGreaterThan(0);
    worker.close();
    await coordinator.restart();
    gate.open = true;
    // Retries back off (capped at 30 s), so allow for one full backoff after the chain returns.
    await until("feedback after restart", async () => (await feedbackCount(agentId, COORDINATOR)) > before, 75_000);
  });
});
