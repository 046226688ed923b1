/**
 * The whole local chain layer in one call: anvil + contracts, LiteSVM + USDC, and the x402 facilitator over both,
 * described by one generated file (`.dispatch/local-network.json`) that the coordinator and the demo read.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { Hex } from "viem";
import { LocalNetwork } from "../protocol/local-network.ts";
import { EVM_ACCOUNT_INDEX, type EvmChain, evmDevAccount, startEvmChain } from "./evm.ts";
import { type Facilitator, startFacilitator } from "./facilitator.ts";
import { type SvmChain, startSvmChain } from "./svm.ts";

/** Where the generated file goes unless told otherwise: `.dispatch/` at the repo root (gitignored). */
export const DEFAULT_LOCAL_NETWORK_FILE = fileURLToPath(new URL("../.dispatch/local-network.json", import.meta.url));

export type LocalNetworkOptions = {
  /** Funded seekers per chain (default 3). */
  seekers?: number;
  /** USDC base units per seeker on each chain (default 1,000 USDC). */
  usdcPerSeeker?: bigint;
  /** Facilitator port (default: a free one). */
  facilitatorPort?: number;
  /** Where to write the description; `false` writes nothing (tests). Default {@link DEFAULT_LOCAL_NETWORK_FILE}. */
  file?: string | false;
  /** Told when each stage is up, for a progress display (`npm start`). */
  onProgress?: (stage: LocalNetworkStage) => void;
};

export type LocalNetworkStage =
  | { stage: "chains"; evm: { rpcUrl: string; chainId: number }; svm: { rpcUrl: string } }
  | { stage: "facilitator"; url: string };

export type RunningLocalNetwork = {
  /** What the generated file holds. */
  network: LocalNetwork;
  /** The file written, if any. */
  file?: string;
  evm: EvmChain;
  svm: SvmChain;
  facilitator: Facilitator;
  /** Stops everything and removes the generated file (its URLs would be dead). Safe to call twice. */
  stop(): Promise<void>;
};

/** Starts both chains and the facilitator, then writes the description file. */
export async function startLocalNetwork(options: LocalNetworkOptions = {}): Promise<RunningLocalNetwork> {
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    // Reverse order: the facilitator goes before the chains it talks to.
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  };
  try {
    const chainOptions = { seekers: options.seekers, usdcPerSeeker: options.usdcPerSeeker };
    const [evmStart, svmStart] = await Promise.allSettled([startEvmChain(chainOptions), startSvmChain(chainOptions)]);
    // Register whichever chain did start before failing on the other, so nothing is left running.
    if (evmStart.status === "fulfilled") stops.push(evmStart.value.stop);
    if (svmStart.status === "fulfilled") stops.push(svmStart.value.stop);
    if (evmStart.status === "rejected") throw evmStart.reason;
    if (svmStart.status === "rejected") throw svmStart.reason;
    const evm = evmStart.value;
    const svm = svmStart.value;
    options.onProgress?.({ stage: "chains", evm: { rpcUrl: evm.rpcUrl, chainId: evm.chainId }, svm: { rpcUrl: svm.rpcUrl } });
    const facilitator = await startFacilitator({
      evm: { rpcUrl: evm.rpcUrl, chainId: evm.chainId, privateKey: evmDevAccount(EVM_ACCOUNT_INDEX.facilitator).privateKey as Hex },
      svm: { rpcUrl: svm.rpcUrl, feePayer: svm.feePayer.signer },
      port: options.facilitatorPort,
    });
    stops.push(facilitator.stop);
    options.onProgress?.({ stage: "facilitator", url: facilitator.url });

    // Parse what we write, so a drift between this code and the protocol schema fails here, not in a reader.
    const network = LocalNetwork.parse({
      version: 1,
      createdAt: new Date().toISOString(),
      facilitatorUrl: facilitator.url,
      chains: { monad: evm.info, solana: svm.info },
    });
    const file = options.file === false ? undefined : (options.file ?? DEFAULT_LOCAL_NETWORK_FILE);
    if (file) {
      await mkdir(dirname(file), { recursive: true });
      // Test keys only, but still a key file: owner-readable.
      await writeFile(file, `${JSON.stringify(network, null, 2)}\n`, { mode: 0o600 });
      stops.unshift(() => rm(file, { force: true }));
    }
    return { network, file, evm, svm, facilitator, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
