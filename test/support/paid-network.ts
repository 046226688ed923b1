// Paying seekers against the local chains: the official x402 clients (EVM exact, SVM exact),
// balances read from the chains, and commits against a coordinator. Shared by the e2e tests.
import { createKeyPairSignerFromBytes, getBase58Encoder } from "@solana/kit";
import { x402Client, x402HTTPClient } from "@x402/core/client";
import type { Network, PaymentRequired } from "@x402/core/types";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { ExactSvmScheme } from "@x402/svm/exact/client";
import { createPublicClient, erc20Abi, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import type { RunningLocalNetwork } from "../../chains/local-network.ts";
import { type Chain, NETWORKS } from "../../protocol/index.ts";

export interface PaidNetwork {
  payer(chain: Chain, seeker: number): Promise<{ http: x402HTTPClient; address: string }>;
  balance(chain: Chain, owner: string): Promise<bigint>;
  /** The 402's requirements for a TASK commit, decoded with the official client. */
  required(base: string, chain: Chain): Promise<PaymentRequired>;
  paymentHeaders(chain: Chain, seeker: number, req: PaymentRequired): Promise<Record<string, string>>;
}

export function paidNetwork(net: RunningLocalNetwork): PaidNetwork {
  const payer = async (chain: Chain, seeker: number) => {
    // Spend controls off: tests deliberately sign payments for tampered requirements.
    const client = new x402Client().setSpendControls(false);
    if (chain === "monad") {
      const account = privateKeyToAccount(net.network.chains.monad.seekers[seeker]?.privateKey as `0x${string}`);
      client.register("eip155:*", new ExactEvmScheme(account));
      return { http: new x402HTTPClient(client), address: account.address };
    }
    const s = net.network.chains.solana;
    const signer = await createKeyPairSignerFromBytes(getBase58Encoder().encode(s.seekers[seeker]?.secretKey ?? ""));
    client.register(NETWORKS.solana as Network, new ExactSvmScheme(signer, { rpcUrl: s.rpcUrl }));
    return { http: new x402HTTPClient(client), address: signer.address };
  };
  return {
    payer,
    async balance(chain, owner) {
      if (chain === "solana") return net.svm.usdcBalance(owner);
      const m = net.network.chains.monad;
      const client = createPublicClient({ transport: http(m.rpcUrl) });
      return client.readContract({
        address: m.usdc.address as `0x${string}`,
        abi: erc20Abi,
        functionName: "balanceOf",
        args: [owner as `0x${string}`],
      });
    },
    async required(base, chain) {
      const res = await commitTask(base, chain, {}, "What does it cost?");
      if (res.status !== 402) throw new Error(`expected 402, got ${res.status}`);
      const p = await payer(chain, 0);
      return p.http.getPaymentRequiredResponse((n) => res.headers.get(n), await res.json());
    },
    async paymentHeaders(chain, seeker, req) {
      const p = await payer(chain, seeker);
      return p.http.encodePaymentSignatureHeader(await p.http.createPaymentPayload(req));
    },
  };
}

/** A CHEAP summarize commit on `chain`. */
export function commitTask(
  base: string,
  chain: Chain,
  headers: Record<string, string> = {},
  input = "Paid work. Settled on completion.",
  user = `payer-${chain}`,
) {
  return fetch(`${base}/${chain}/v1/jobs/commit/cheap`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ job_type: "TASK", user_id: user, payload: { task_type: "summarize", input } }),
  });
}

export type JobJson = Record<string, unknown> & {
  status: string;
  reason: string | null;
  payment: { state: string; transaction: string | null; refund_transaction?: string | null };
};

export async function getJob(base: string, chain: Chain, id: string, wait = 20): Promise<JobJson> {
  return (await (await fetch(`${base}/${chain}/v1/jobs/${id}?wait=${wait}`)).json()) as JobJson;
}

/** Polls a job until `ok` holds (or throws with its last state). */
export async function untilJob(base: string, chain: Chain, id: string, ok: (j: JobJson) => boolean, ms = 15_000): Promise<JobJson> {
  const deadline = Date.now() + ms;
  for (;;) {
    const j = await getJob(base, chain, id, 0);
    if (ok(j)) return j;
    if (Date.now() > deadline) throw new Error(`job ${id} never reached the expected state: ${JSON.stringify(j)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls until `read` returns something truthy. */
export async function until<T>(read: () => Promise<T | undefined | false | null>, ms = 20_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what} not met in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
