// Money that is always right, end to end: anvil and LiteSVM with USDC, the local facilitator
// behind a proxy that can delay or swallow its answers (a settlement that went through but whose
// answer was lost), the coordinator under `wrangler dev` with a treasury on each chain, real
// worker sockets. Each race of the money issue is reproduced here, then payouts and refunds are
// checked against the chains' balances.
import { generateKeyPairSigner } from "@solana/kit";
import { decodePaymentSignatureHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import { createPublicClient, http, parseAbiItem } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimWorker } from "../bench/sim-worker.ts";
import { coordinatorVars } from "../chains/coordinator-vars.ts";
import { type RunningLocalNetwork, startLocalNetwork } from "../chains/local-network.ts";
import type { Chain, WorkerAccount } from "../protocol/index.ts";
import { type DevCoordinator, startCoordinator } from "../scripts/dev-coordinator.ts";
import { type Fault, startFacilitatorProxy } from "./support/facilitator-proxy.ts";
import { commitTask, type PaidNetwork, paidNetwork, until, untilJob } from "./support/paid-network.ts";
import { startRpcProxy } from "./support/rpc-proxy.ts";

const PRICE = 1000n; // TASK at CHEAP, micro-USD
const SHARE = 900n; // the worker's 90 %

let net: RunningLocalNetwork;
let paid: PaidNetwork;
let coordinator: DevCoordinator;
let facilitator: Awaited<ReturnType<typeof startFacilitatorProxy>>;
let evmRpc: Awaited<ReturnType<typeof startRpcProxy>>;
/** The trust layer's own RPC (feedback, receipt anchors), held separately. */
let trustRpc: Awaited<ReturnType<typeof startRpcProxy>>;

beforeAll(async () => {
  net = await startLocalNetwork({ seekers: 4, file: false });
  paid = paidNetwork(net);
  facilitator = await startFacilitatorProxy(net.network.facilitatorUrl);
  evmRpc = await startRpcProxy(net.network.chains.monad.rpcUrl);
  trustRpc = await startRpcProxy(net.network.chains.monad.rpcUrl);
  coordinator = await startCoordinator({
    vars: {
      ...coordinatorVars(net.network, { trustLayer: true }),
      EVM_RPC_URL: trustRpc.url,
      // Every receipt is anchored on its own: a chain write per job, to stand in the way.
      ANCHOR_BATCH_SIZE: "1",
      FACILITATOR_URL: facilitator.url,
      RPC_URL_MONAD: evmRpc.url,
      // A lost answer is noticed in 2 s, not 30.
      FACILITATOR_TIMEOUT_MS: "2000",
      // Pay a worker once it has earned 2 jobs' worth, or 4 s after its oldest unpaid job.
      PAYOUT_MIN_MICRO_USD: "1800",
      PAYOUT_INTERVAL_SECONDS: "4",
    },
  });
}, 120_000);

afterAll(async () => {
  await coordinator?.stop();
  await facilitator?.stop();
  await evmRpc?.stop();
  await trustRpc?.stop();
  await net?.stop();
});

const seekerAddress = async (chain: Chain, seeker: number) => (await paid.payer(chain, seeker)).address;

async function paidCommit(chain: Chain, seeker: number, input: string, extra: Record<string, string> = {}) {
  const headers = await paid.paymentHeaders(chain, seeker, await paid.required(coordinator.url, chain));
  return { headers, res: await commitTask(coordinator.url, chain, { ...headers, ...extra }, input) };
}

async function jobId(res: Response): Promise<string> {
  const body = (await res.json()) as { job_id?: string };
  expect(res.status, JSON.stringify(body)).toBe(201);
  return String(body.job_id);
}

/** Runs `fn` with workers that are closed afterwards, whatever happens. */
async function withWorkers<T>(workers: SimWorker[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    for (const w of workers) w.close();
  }
}

describe("settlement races", () => {
  it("Solana: a job that fails while its settlement is in flight is refunded once the money has moved", async () => {
    const worker = new SimWorker({ behaviour: "input" });
    await worker.connect(coordinator.url, "solana", "SEEKER");
    await withWorkers([worker], async () => {
      const seeker = await seekerAddress("solana", 0);
      const before = await paid.balance("solana", seeker);
      // The settlement (at assignment, on Solana) takes 1.5 s (within the coordinator's 2 s
      // patience); the job fails long before it ends.
      facilitator.next("/settle", { delayMs: 1_500 } satisfies Fault);
      const { res } = await paidCommit("solana", 0, "Settled while it fails.");
      const id = await jobId(res);
      const failed = await untilJob(coordinator.url, "solana", id, (j) => j.status === "failed");
      expect(failed.reason).toBe("invalid_input");
      expect(["settling", "settled", "refund_due", "refunded"]).toContain(failed.payment.state);
      // The late success is recorded (never lost), and owed back: refunded by a transfer.
      const refunded = await untilJob(coordinator.url, "solana", id, (j) => j.payment.state === "refunded", 30_000);
      expect(refunded.payment.transaction).toBeTruthy();
      expect(refunded.payment.refund_transaction).toBeTruthy();
      expect(await paid.balance("solana", seeker)).toBe(before);
    });
  }, 60_000);

  it("EVM: a settlement whose answer is lost is resolved by asking the chain, and charged once", async () => {
    const worker = new SimWorker();
    await worker.connect(coordinator.url, "monad", "SEEKER");
    await withWorkers([worker], async () => {
      const seeker = await seekerAddress("monad", 0);
      const before = await paid.balance("monad", seeker);
      const settles = facilitator.calls["/settle"] ?? 0;
      // The facilitator moves the money, but its answer never comes back.
      facilitator.next("/settle", { swallowAnswer: true });
      const { res } = await paidCommit("monad", 0, "The answer to this settlement is lost.");
      const id = await jobId(res);
      const done = await untilJob(coordinator.url, "monad", id, (j) => j.status === "completed", 30_000);
      expect(done.payment.state).toBe("settled");
      // The transaction is the one the chain recorded using the authorization, found in its logs.
      const client = createPublicClient({ transport: http(net.network.chains.monad.rpcUrl) });
      const logs = await client.getLogs({
        address: net.network.chains.monad.usdc.address as `0x${string}`,
        event: parseAbiItem("event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)"),
        args: { authorizer: seeker as `0x${string}` },
        fromBlock: 0n,
      });
      expect(logs.map((l) => l.transactionHash)).toContain(done.payment.transaction);
      expect(await paid.balance("monad", seeker)).toBe(before - PRICE);
      // Resolved by asking the chain, not by settling again.
      expect((facilitator.calls["/settle"] ?? 0) - settles).toBe(1);
    });
  }, 60_000);

  it("a retried paid commit (same key, same payment) while the first is still verifying returns the same job", async () => {
    const worker = new SimWorker();
    await worker.connect(coordinator.url, "monad", "SEEKER");
    const pay = await paid.paymentHeaders("monad", 1, await paid.required(coordinator.url, "monad"));
    const key = { "idempotency-key": `retry-${Date.now()}` };
    facilitator.next("/verify", { delayMs: 1_500 });
    const [first, retry] = await Promise.all([
      commitTask(coordinator.url, "monad", { ...pay, ...key }, "Verifying slowly."),
      new Promise<Response>((resolve) =>
        setTimeout(() => resolve(commitTask(coordinator.url, "monad", { ...pay, ...key }, "Verifying slowly.")), 300),
      ),
    ]);
    const [a, b] = [await jobId(first), await jobId(retry)];
    expect(b).toBe(a);
    await untilJob(coordinator.url, "monad", a, (j) => j.status === "completed", 20_000);
    worker.close();
  }, 60_000);

  it("one EIP-3009 authorization admits one job, however its payload is spelled", async () => {
    const pay = await paid.paymentHeaders("monad", 2, await paid.required(coordinator.url, "monad"));
    const header = pay["PAYMENT-SIGNATURE"] ?? pay["payment-signature"] ?? Object.values(pay)[0] ?? "";
    const payload = decodePaymentSignatureHeader(header);
    const inner = payload.payload as { authorization: Record<string, string>; signature: string };
    const variants = [
      { ...payload, payload: { ...inner, note: "an extra field" } },
      {
        ...payload,
        payload: {
          ...inner,
          authorization: { ...inner.authorization, nonce: inner.authorization.nonce?.toUpperCase().replace(/^0X/, "0x") ?? "" },
        },
      },
    ];
    const worker = new SimWorker();
    await worker.connect(coordinator.url, "monad", "SEEKER");
    const original = await jobId(await commitTask(coordinator.url, "monad", { "payment-signature": header }, "The original."));
    for (const variant of variants) {
      const res = await commitTask(coordinator.url, "monad", { "payment-signature": encodePaymentSignatureHeader(variant) }, "Again.");
      expect(res.status).toBe(402);
      expect(((await res.json()) as { error: string }).error).toBe("payment_already_used");
    }
    await untilJob(coordinator.url, "monad", original, (j) => j.status === "completed", 20_000);
    worker.close();
  }, 60_000);
});

describe("outbox lanes", () => {
  it("settles and releases a paid result while the trust layer's chain writes hang", async () => {
    const worker = new SimWorker();
    await worker.connect(coordinator.url, "monad", "SEEKER");
    await withWorkers([worker], async () => {
      // A first job leaves an anchor write behind, and that write never hears back.
      trustRpc.hold("eth_sendRawTransaction");
      const first = await jobId((await paidCommit("monad", 1, "Its anchor write hangs.")).res);
      await untilJob(coordinator.url, "monad", first, (j) => j.status === "completed", 20_000);
      await until(async () => trustRpc.count("eth_sendRawTransaction") > 0, 20_000, "an anchor write in flight");
      // The next paid job settles on its own lane, not behind the stuck write.
      const started = Date.now();
      const second = await jobId((await paidCommit("monad", 1, "Settles regardless.")).res);
      const done = await untilJob(coordinator.url, "monad", second, (j) => j.status === "completed", 20_000);
      expect(done.payment.state).toBe("settled");
      expect(Date.now() - started).toBeLessThan(8_000);
      trustRpc.release();
    });
  }, 60_000);
});

async function account(chain: Chain, pubkey: string): Promise<WorkerAccount> {
  return (await (await fetch(`${coordinator.url}/${chain}/v1/workers/${pubkey}`)).json()) as WorkerAccount;
}

async function payoutAddress(chain: Chain): Promise<string> {
  if (chain === "monad") return privateKeyToAccount(generatePrivateKey()).address;
  return (await generateKeyPairSigner()).address;
}

describe("worker payouts", () => {
  for (const chain of ["monad", "solana"] as const) {
    it(`${chain}: each worker is paid exactly its share of what settled, in batches; the treasury keeps the fee`, async () => {
      const addresses = [await payoutAddress(chain), await payoutAddress(chain)];
      const workers = [new SimWorker(), new SimWorker()];
      await Promise.all(workers.map((w, i) => w.connect(coordinator.url, chain, "SEEKER", { slots: 2 }, { payoutAddress: addresses[i] })));
      await withWorkers(workers, async () => {
        const treasury = net.network.chains[chain].payee;
        const treasuryBefore = await paid.balance(chain, treasury);
        const ids: string[] = [];
        for (let i = 0; i < 8; i++) ids.push(await jobId((await paidCommit(chain, 3, `Job ${i} for payouts.`)).res));
        const views = await Promise.all(ids.map((id) => untilJob(coordinator.url, chain, id, (j) => j.status === "completed", 30_000)));
        const delivered = workers.map(
          (w) => views.filter((v) => (v.receipt as { provider_pubkey: string }).provider_pubkey === w.key.publicKey).length,
        );
        expect((delivered[0] ?? 0) + (delivered[1] ?? 0)).toBe(8);
        // Every credit is paid out: at 2 jobs' worth, or 4 s after it was earned.
        const accounts = await Promise.all(
          workers.map((w, i) =>
            until(
              async () => {
                const a = await account(chain, w.key.publicKey);
                return a.paid_micro === Number(SHARE) * (delivered[i] ?? 0) && a.pending_micro === 0 ? a : undefined;
              },
              40_000,
              `${chain} worker ${i} fully paid`,
            ),
          ),
        );
        for (const [i, a] of accounts.entries()) {
          expect(await paid.balance(chain, addresses[i] ?? "")).toBe(SHARE * BigInt(delivered[i] ?? 0));
          expect(a.payout_address).toBe(addresses[i]);
          expect(a.payouts.every((p) => p.state === "confirmed" && p.transaction)).toBe(true);
          // Batched: fewer transfers than jobs, each covering what was due.
          if ((delivered[i] ?? 0) >= 2) expect(a.payouts.length).toBeLessThan(delivered[i] ?? 0);
        }
        // The treasury received every price and paid out every share: it kept exactly the fee.
        expect(await paid.balance(chain, treasury)).toBe(treasuryBefore + (PRICE - SHARE) * 8n);
        // Each worker heard of its payouts, as the reference's `payment_posted`.
        for (const [i, w] of workers.entries()) {
          const posted = w.notices.filter((n) => n.type === "payment_posted");
          expect(posted.reduce((sum, n) => sum + Number(n.amount_micro), 0)).toBe(Number(SHARE) * (delivered[i] ?? 0));
        }
      });
    }, 120_000);
  }

  it("a restart between sending a payout and recording it neither loses nor doubles it", async () => {
    const address = await payoutAddress("monad");
    const worker = new SimWorker();
    await worker.connect(coordinator.url, "monad", "SEEKER", { slots: 2 }, { payoutAddress: address });
    await withWorkers([worker], async () => {
      // The payout's transaction reaches the chain (and is mined), but its answer is held.
      evmRpc.hold("eth_sendRawTransaction");
      const sent = evmRpc.count("eth_sendRawTransaction");
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) ids.push(await jobId((await paidCommit("monad", 3, `Restart job ${i}.`)).res));
      for (const id of ids) await untilJob(coordinator.url, "monad", id, (j) => j.status === "completed", 30_000);
      await until(async () => evmRpc.count("eth_sendRawTransaction") > sent, 20_000, "payout broadcast");
      await coordinator.restart();
      evmRpc.release();
      const paidOut = await until(
        async () => {
          const a = await account("monad", worker.key.publicKey);
          return a.pending_micro === 0 && a.paid_micro === Number(SHARE) * 2 ? a : undefined;
        },
        40_000,
        "payout recorded after the restart",
      );
      expect(paidOut.payouts).toHaveLength(1);
      expect(await paid.balance("monad", address)).toBe(SHARE * 2n);
    });
  }, 120_000);
});
