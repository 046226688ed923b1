/**
 * `npm run chains [-- --seekers N --out FILE --facilitator-port P]`: runs anvil, LiteSVM and the x402 facilitator
 * until Ctrl-C, and writes `.dispatch/local-network.json` for the coordinator and the demo.
 */
import { relative } from "node:path";
import { parseArgs } from "node:util";
import type { LocalNetwork } from "../protocol/local-network.ts";
import { EVM_ACCOUNT_INDEX } from "./evm.ts";
import { startLocalNetwork } from "./local-network.ts";

const USAGE = "usage: node chains/cli.ts [--seekers N (default 3)] [--out FILE] [--facilitator-port PORT (default 4022, 0 = any)]";

async function main(): Promise<void> {
  let values: { seekers?: string; out?: string; "facilitator-port"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        seekers: { type: "string" },
        out: { type: "string" },
        "facilitator-port": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const seekers = Number(values.seekers ?? 3);
  const facilitatorPort = Number(values["facilitator-port"] ?? 4022);
  if (!Number.isInteger(seekers) || !Number.isInteger(facilitatorPort)) {
    console.error(`--seekers and --facilitator-port take integers\n${USAGE}`);
    process.exit(2);
  }

  const started = Date.now();
  let running: Awaited<ReturnType<typeof startLocalNetwork>>;
  try {
    running = await startLocalNetwork({ seekers, facilitatorPort, file: values.out });
  } catch (err) {
    const message = (err as Error).message;
    const hint = /EADDRINUSE/.test(message) ? ` (is another \`npm run chains\` running? or pass --facilitator-port 0)` : "";
    console.error(`could not start the local chains: ${message}${hint}`);
    process.exit(1);
  }
  console.log(summary(running.network, running.file, Date.now() - started));

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the facilitator, LiteSVM and anvil...`);
    await running.stop();
    console.log("stopped; removed the local-network file.");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

function summary(network: LocalNetwork, file: string | undefined, elapsedMs: number): string {
  const { monad, solana } = network.chains;
  const lines = [
    `Dispatch local chains are up (${elapsedMs} ms). Ctrl-C stops everything.`,
    "",
    `x402 facilitator   ${network.facilitatorUrl}  (GET /supported, POST /verify, POST /settle)`,
    "",
    `monad   ${monad.network}  anvil ${monad.rpcUrl}`,
    `  USDC (EIP-3009)     ${monad.usdc.address}  EIP-712 "${monad.usdc.name}" v${monad.usdc.version}, ${monad.usdc.decimals} decimals`,
    `  IdentityRegistry    ${monad.contracts.identityRegistry}`,
    `  ReputationRegistry  ${monad.contracts.reputationRegistry}`,
    `  ReceiptAnchor       ${monad.contracts.receiptAnchor}`,
    `  payee (#${EVM_ACCOUNT_INDEX.payee})          ${monad.payee}`,
    `  coordinator (#${EVM_ACCOUNT_INDEX.coordinator})    ${monad.coordinator.address}`,
    `  facilitator (#${EVM_ACCOUNT_INDEX.facilitator})    ${monad.facilitator}`,
    ...monad.seekers.map((s, i) => `  seeker ${i} (#${EVM_ACCOUNT_INDEX.firstSeeker + i})     ${s.address}`),
    "",
    `solana  ${solana.network}  LiteSVM ${solana.rpcUrl}`,
    `  USDC mint           ${solana.usdc.mint}  ${solana.usdc.decimals} decimals (devnet USDC address)`,
    `  payee               ${solana.payee}`,
    `  fee payer           ${solana.feePayer}`,
    ...solana.seekers.map((s, i) => `  seeker ${i}            ${s.address}`),
    "",
    file
      ? `Wrote ${relative(process.cwd(), file) || file} (addresses, RPC URLs and the local test keys of the seekers).`
      : "No file written.",
  ];
  return lines.join("\n");
}

await main();
