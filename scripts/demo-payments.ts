import { existsSync, readFileSync } from "node:fs";
import { createKeyPairSignerFromBytes, getBase58Encoder } from "@solana/kit";
import { x402Client } from "@x402/core/client";
import type { Network } from "@x402/core/types";
import { ExactEvmScheme } from "@x402/evm/exact/client";
import { ExactSvmScheme } from "@x402/svm/exact/client";
import { privateKeyToAccount } from "viem/accounts";
import { LocalNetwork, priceMicroUsd } from "../protocol/index.ts";

/** The most the demo will pay for one job: the dearest price in the table (LLM at FAST). */
const MAX_PER_JOB = String(priceMicroUsd("FAST", "LLM_INFER"));

/**
 * An x402 payer for the local network `npm start` brings up: the first funded seeker on each
 * chain (local test keys from the generated file), allowed to pay only the local USDC assets
 * and never more than one job's price.
 */
export async function localPaymentClient(file: string): Promise<{ client: x402Client; payers: string[] } | null> {
  if (!existsSync(file)) return null;
  const net = LocalNetwork.parse(JSON.parse(readFileSync(file, "utf8")));
  const { monad, solana } = net.chains;
  const evmSeeker = monad.seekers[0];
  const svmSeeker = solana.seekers[0];
  if (!evmSeeker || !svmSeeker) throw new Error(`${file} lists no funded seekers`);
  const client = new x402Client();
  const account = privateKeyToAccount(evmSeeker.privateKey as `0x${string}`);
  client.register("eip155:*", new ExactEvmScheme(account));
  const signer = await createKeyPairSignerFromBytes(getBase58Encoder().encode(svmSeeker.secretKey));
  client.register(solana.network as Network, new ExactSvmScheme(signer, { rpcUrl: solana.rpcUrl }));
  client.setSpendControls({
    allowedAssets: [
      { network: monad.network as Network, asset: monad.usdc.address, maxAmountPerPayment: MAX_PER_JOB },
      { network: solana.network as Network, asset: solana.usdc.mint, maxAmountPerPayment: MAX_PER_JOB },
    ],
  });
  return { client, payers: [account.address, signer.address] };
}
