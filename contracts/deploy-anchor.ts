/**
 * `npm run contracts:deploy-anchor -- --rpc URL --anchorer 0x.. [--anchorer 0x..] [--owner 0x..] [--chain-id N]`
 * deploys our ReceiptAnchor to any EVM chain (Monad testnet for the testnet profile) and prints its
 * address on stdout, alone, for `RECEIPT_ANCHOR`. The deployer key comes from `DEPLOYER_KEY`, never
 * from the command line (shell history, `ps`). Progress goes to stderr.
 */
import { parseArgs } from "node:util";
import { createPublicClient, formatEther, getAddress, type Hex, http, isAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { deployReceiptAnchor } from "./deploy.ts";

const USAGE = `usage: DEPLOYER_KEY=0x<key> npm run contracts:deploy-anchor -- --rpc URL --anchorer 0x<coordinator address> [--anchorer ...]
         [--owner 0x<address> (default: the deployer)] [--chain-id N (refuse any other chain)]
Anchorers are the addresses of COORDINATOR_KEY_MONAD and COORDINATOR_KEY_SOLANA: they write receipt roots.`;

function usage(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values: { rpc?: string; anchorer?: string[]; owner?: string; "chain-id"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        rpc: { type: "string" },
        anchorer: { type: "string", multiple: true },
        owner: { type: "string" },
        "chain-id": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    usage((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const key = process.env.DEPLOYER_KEY ?? "";
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) usage("DEPLOYER_KEY must hold the deployer's 0x-prefixed private key");
  if (!values.rpc) usage("--rpc is required");
  const anchorers = values.anchorer ?? [];
  if (anchorers.length === 0) usage("name at least one --anchorer");
  for (const a of [...anchorers, ...(values.owner ? [values.owner] : [])]) if (!isAddress(a)) usage(`not an address: ${a}`);

  const deployer = privateKeyToAccount(key as Hex);
  const client = createPublicClient({ transport: http(values.rpc) });
  const chainId = await client.getChainId();
  if (values["chain-id"] !== undefined && Number(values["chain-id"]) !== chainId) {
    console.error(`${values.rpc} is chain ${chainId}, not ${values["chain-id"]}: refusing to deploy`);
    process.exit(1);
  }
  const balance = await client.getBalance({ address: deployer.address });
  if (balance === 0n) {
    console.error(
      `the deployer ${deployer.address} has no gas on chain ${chainId}; fund it first (Monad testnet: https://faucet.monad.xyz)`,
    );
    process.exit(1);
  }
  console.error(`deploying ReceiptAnchor on chain ${chainId} from ${deployer.address} (balance ${formatEther(balance)})`);
  const result = await deployReceiptAnchor(values.rpc, key as Hex, {
    owner: values.owner ? getAddress(values.owner) : undefined,
    anchorers: anchorers.map((a) => getAddress(a)),
  });
  console.error(`  tx ${result.tx}`);
  console.error(`  owner ${result.owner}; anchorers ${result.anchorers.join(", ")}`);
  console.error(`  set RECEIPT_ANCHOR = "${result.address}" in [env.testnet.vars] of wrangler.toml, then deploy again`);
  console.log(result.address);
}

await main();
