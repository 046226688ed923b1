// x402 on the commit routes of both chains, end to end: anvil and LiteSVM with USDC, the local
// facilitator built from @x402/core, the coordinator under `wrangler dev` in x402 mode, real workers.
import { type Address, lamports } from "@solana/kit";
import { TOKEN_PROGRAM_ADDRESS } from "@solana-program/token";
import type { PaymentRequired } from "@x402/core/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimWorker } from "../bench/sim-worker.ts";
import { coordinatorVars } from "../chains/coordinator-vars.ts";
import { type RunningLocalNetwork, startLocalNetwork } from "../chains/local-network.ts";
import { associatedTokenAddress, MINT_SIZE, mintData, TOKEN_ACCOUNT_SIZE, testKeypair, tokenAccountData } from "../chains/svm-accounts.ts";
import { type Chain, NETWORKS } from "../protocol/index.ts";
import { type DevCoordinator, startCoordinator } from "../scripts/dev-coordinator.ts";
import { commitTask, getJob, type JobJson, type PaidNetwork, paidNetwork, untilJob as untilJobIn } from "./support/paid-network.ts";

let net: RunningLocalNetwork;
let coordinator: DevCoordinator;
const PRICE = 1000n; // TASK at CHEAP, in USDC base units

/** What the official exact schemes answer for each wrong payment (a wrong network is caught as a malformed payload). */
const FACILITATOR_REASONS: Record<Chain, Record<string, RegExp>> = {
  monad: {
    amount: /^invalid_exact_evm_payload_authorization_value_mismatch$/,
    asset: /^invalid_exact_evm_signature$/,
    network: /^invalid_/,
  },
  solana: {
    amount: /^invalid_exact_svm_payload_amount_mismatch$/,
    asset: /^invalid_exact_svm_payload_mint_mismatch$/,
    network: /^invalid_/,
  },
};

beforeAll(async () => {
  net = await startLocalNetwork({ seekers: 4, file: false });
  paid = paidNetwork(net);
  coordinator = await startCoordinator({
    vars: coordinatorVars(net.network),
  });
}, 120_000);

afterAll(async () => {
  await coordinator?.stop();
  await net?.stop();
});

let paid: PaidNetwork;
const payer = (chain: Chain, seeker: number) => paid.payer(chain, seeker);
const balance = (chain: Chain, owner: string) => paid.balance(chain, owner);
const payee = (chain: Chain) => net.network.chains[chain].payee;
const commit = (chain: Chain, headers: Record<string, string> = {}, input?: string) => commitTask(coordinator.url, chain, headers, input);
const required = (chain: Chain) => paid.required(coordinator.url, chain);
const paymentHeaders = (chain: Chain, seeker: number, req: PaymentRequired) => paid.paymentHeaders(chain, seeker, req);
const job = (chain: Chain, id: string, wait = 20) => getJob(coordinator.url, chain, id, wait);
const untilJob = (chain: Chain, id: string, ok: (j: JobJson) => boolean, ms?: number) => untilJobIn(coordinator.url, chain, id, ok, ms);

for (const chain of ["monad", "solana"] as const) {
  describe(`x402 on ${chain}`, () => {
    it("answers an unpaid commit with 402 and the quoted price in PAYMENT-REQUIRED", async () => {
      const req = await required(chain);
      expect(req.x402Version).toBe(2);
      expect(req.accepts[0]).toMatchObject({ scheme: "exact", network: NETWORKS[chain], amount: String(PRICE), payTo: payee(chain) });
      const quote = (await (await fetch(`${coordinator.url}/${chain}/v1/quote?job_type=TASK&policy=CHEAP`)).json()) as {
        payment: { enabled: boolean; accepts: { amount: string }[] };
      };
      expect(quote.payment.enabled).toBe(true);
      expect(quote.payment.accepts[0]?.amount).toBe(String(PRICE));
    });

    it("settles exactly the price once the paid job completes, and releases the result only then", async () => {
      const worker = new SimWorker();
      await worker.connect(coordinator.url, chain, "SEEKER");
      try {
        const seeker = (await payer(chain, 1)).address;
        const [seekerBefore, payeeBefore] = [await balance(chain, seeker), await balance(chain, payee(chain))];
        const res = await commit(chain, await paymentHeaders(chain, 1, await required(chain)));
        expect(res.status).toBe(201);
        const { job_id } = (await res.json()) as { job_id: string };
        const done = await job(chain, job_id);
        expect(done).toMatchObject({ status: "completed", payment: { state: "settled" } });
        expect(done.payment.transaction).toBeTruthy();
        expect((done.receipt as { payment_ref: string | null }).payment_ref).toBeTruthy();
        // The settlement is also announced the x402 way, in PAYMENT-RESPONSE.
        const view = await fetch(`${coordinator.url}/${chain}/v1/jobs/${job_id}`);
        const settlement = (await payer(chain, 1)).http.getPaymentSettleResponse((n) => view.headers.get(n));
        expect(settlement).toMatchObject({ success: true, transaction: done.payment.transaction, network: NETWORKS[chain] });
        expect(await balance(chain, seeker)).toBe(seekerBefore - PRICE);
        expect(await balance(chain, payee(chain))).toBe(payeeBefore + PRICE);
      } finally {
        worker.close();
      }
    });

    it("never settles a job that fails for want of a worker", async () => {
      const seeker = (await payer(chain, 2)).address;
      const before = await balance(chain, seeker);
      const res = await commit(chain, await paymentHeaders(chain, 2, await required(chain)), "Nobody will take this.");
      expect(res.status).toBe(201);
      const { job_id } = (await res.json()) as { job_id: string };
      // The queue deadline is 30 s; the test waits it out rather than bending the clock.
      const failed = await job(chain, job_id, 40);
      expect(failed).toMatchObject({ status: "failed", reason: "no_eligible_worker", payment: { state: "voided", transaction: null } });
      expect(await balance(chain, seeker)).toBe(before);
    }, 60_000);

    it("refuses a replayed payment, even before it has settled", async () => {
      const headers = await paymentHeaders(chain, 0, await required(chain));
      const first = await commit(chain, headers, "First use of a payment.");
      expect(first.status).toBe(201);
      const replay = await commit(chain, headers, "Second use of the same payment.");
      expect(replay.status).toBe(402);
      expect(await replay.json()).toMatchObject({ error: "payment_already_used" });
    });

    it("refuses a payment for the wrong amount, asset or network with the facilitator's reason", async () => {
      const req = await required(chain);
      const base = req.accepts[0];
      if (!base) throw new Error("no payment option");
      const other: Chain = chain === "monad" ? "solana" : "monad";
      const otherReq = await required(other);
      const cases: [string, PaymentRequired, Chain][] = [
        ["amount", { ...req, accepts: [{ ...base, amount: "1" }] }, chain],
        [
          "asset",
          {
            ...req,
            accepts: [
              {
                ...base,
                asset: chain === "monad" ? net.network.chains.monad.contracts.identityRegistry : await otherSvmMint(),
              },
            ],
          },
          chain,
        ],
        ["network", otherReq, other],
      ];
      for (const [what, tampered, signer] of cases) {
        const res = await commit(chain, await paymentHeaders(signer, 0, tampered), `Wrong ${what}.`);
        expect(res.status, what).toBe(402);
        const body = (await res.json()) as { error: string; reason: string };
        expect(body.error, what).toBe("payment_invalid");
        // The facilitator's own reason code, passed through.
        expect(body.reason, what).toMatch(FACILITATOR_REASONS[chain][what] ?? /^invalid_/);
      }
    });
  });
}

describe("Solana settles at assignment", () => {
  it("settles when the job is assigned and refunds the payer when it then fails", async () => {
    // A worker that takes jobs and never answers, with room for any job earlier tests left queued.
    const silent = new SimWorker();
    silent.answer = false;
    await silent.connect(coordinator.url, "solana", "SEEKER", { slots: 8 });
    try {
      // Its own seeker: earlier tests leave paid jobs queued that this worker may also take (and settle).
      const seeker = (await payer("solana", 3)).address;
      const before = await balance("solana", seeker);
      const res = await commit("solana", await paymentHeaders("solana", 3, await required("solana")), "Settled early.");
      const { job_id } = (await res.json()) as { job_id: string };
      const settled = await untilJob("solana", job_id, (j) => j.payment.state === "settled");
      expect(settled.status).toBe("assigned");
      expect(await balance("solana", seeker)).toBe(before - PRICE);
      silent.close();
      const failed = await untilJob("solana", job_id, (j) => j.status === "failed", 40_000);
      // Its worker vanished and nobody else could take it before the queue deadline: the money
      // that moved at assignment goes back to the payer, by a transfer from the treasury.
      expect(failed.reason).toBe("no_eligible_worker");
      const refunded = await untilJob("solana", job_id, (j) => j.payment.state === "refunded", 20_000);
      expect(refunded.payment.refund_transaction).toBeTruthy();
      expect(await balance("solana", seeker)).toBe(before);
    } finally {
      silent.close();
    }
  }, 60_000);
});

/** A second, real SPL mint (with funded token accounts) for paying in the wrong asset on Solana. */
async function otherSvmMint(): Promise<string> {
  const { svm } = net.svm;
  const mint = (await testKeypair("other-mint")).signer.address;
  const rent = (size: number) => lamports(svm.minimumBalanceForRentExemption(BigInt(size)));
  const owner = (await testKeypair("other-mint-authority")).signer.address;
  svm.setAccount({
    address: mint,
    data: mintData({ decimals: 6, supply: 10_000_000n, mintAuthority: owner }),
    executable: false,
    lamports: rent(MINT_SIZE),
    programAddress: TOKEN_PROGRAM_ADDRESS,
    space: BigInt(MINT_SIZE),
  });
  const s = net.network.chains.solana;
  for (const holder of [(await payer("solana", 0)).address, s.payee]) {
    svm.setAccount({
      address: await associatedTokenAddress(mint, holder as Address),
      data: tokenAccountData({ mint, owner: holder as Address, amount: 5_000_000n }),
      executable: false,
      lamports: rent(TOKEN_ACCOUNT_SIZE),
      programAddress: TOKEN_PROGRAM_ADDRESS,
      space: BigInt(TOKEN_ACCOUNT_SIZE),
    });
  }
  return mint;
}
