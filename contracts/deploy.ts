import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import {
  type Abi,
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  type Hex,
  http,
  type PublicClient,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { identityRegistryAbi, localUsdcAbi, receiptAnchorAbi, reputationRegistryAbi } from "./artifacts/abis.ts";
import identityRegistryArtifact from "./artifacts/IdentityRegistry.json" with { type: "json" };
import localUsdcArtifact from "./artifacts/LocalUsdc.json" with { type: "json" };
import receiptAnchorArtifact from "./artifacts/ReceiptAnchor.json" with { type: "json" };
import reputationRegistryArtifact from "./artifacts/ReputationRegistry.json" with { type: "json" };

/** Multicall3's address on every chain; x402's EVM facilitator calls it there for precise errors. */
export const MULTICALL3_ADDRESS: Address = "0xcA11bde05977b3631167028862bE2a173976CA11";

/** USDC has 6 decimals: 1 USDC = 1_000_000 base units. */
export const USDC_DECIMALS = 6;

/** Addresses of one deployment of the Dispatch contracts. */
export type Deployment = {
  chainId: number;
  deployer: Address;
  identityRegistry: Address;
  reputationRegistry: Address;
  receiptAnchor: Address;
  usdc: Address;
  multicall3: Address;
};

export type DeployOptions = {
  /** Accounts minted `usdcPerSeeker` USDC each, so they can pay x402 commits right away. */
  seekers?: Address[];
  /** Base units (6 decimals); default 1,000 USDC. */
  usdcPerSeeker?: bigint;
  /** Accounts allowed to anchor receipt roots; default the deployer alone. */
  anchorers?: Address[];
};

/** Deploys the four contracts, predeploys Multicall3 (anvil only) and funds the seekers with USDC. */
export async function deployAll(rpcUrl: string, deployerKey: Hex, options: DeployOptions = {}): Promise<Deployment> {
  const account = privateKeyToAccount(deployerKey);
  const probe = createPublicClient({ transport: http(rpcUrl) });
  const chain = localChain(await probe.getChainId(), rpcUrl);
  const publicClient = createPublicClient({ chain, transport: http(rpcUrl) });
  const wallet = createWalletClient({ account, chain, transport: http(rpcUrl) });
  const deploy = (abi: Abi, bytecode: Hex, args: readonly unknown[]) => deployContract(publicClient, wallet, abi, bytecode, args);

  const multicall3 = await ensureMulticall3(publicClient);
  const identityRegistry = await deploy(identityRegistryAbi, bytecodeOf(identityRegistryArtifact), []);
  const reputationRegistry = await deploy(reputationRegistryAbi, bytecodeOf(reputationRegistryArtifact), [identityRegistry]);
  const receiptAnchor = await deploy(receiptAnchorAbi, bytecodeOf(receiptAnchorArtifact), [
    account.address,
    options.anchorers ?? [account.address],
  ]);
  const usdc = await deploy(localUsdcAbi, bytecodeOf(localUsdcArtifact), [account.address]);

  const amount = options.usdcPerSeeker ?? 1_000n * 10n ** BigInt(USDC_DECIMALS);
  for (const seeker of options.seekers ?? []) {
    const hash = await wallet.writeContract({
      address: usdc,
      abi: localUsdcAbi,
      functionName: "mint",
      args: [seeker, amount],
      account,
      chain,
    });
    await confirmed(publicClient, hash, `mint USDC to ${seeker}`);
  }

  return {
    chainId: chain.id,
    deployer: account.address,
    identityRegistry,
    reputationRegistry,
    receiptAnchor,
    usdc,
    multicall3,
  };
}

export type AnchorDeployment = { chainId: number; deployer: Address; owner: Address; anchorers: Address[]; address: Address; tx: Hex };

/**
 * Deploys ReceiptAnchor alone (the other contracts exist on public chains): `owner` may later add
 * or remove anchorers; `anchorers` (the coordinator keys' addresses) may write roots.
 */
export async function deployReceiptAnchor(
  rpcUrl: string,
  deployerKey: Hex,
  options: { owner?: Address; anchorers: Address[] },
): Promise<AnchorDeployment> {
  const account = privateKeyToAccount(deployerKey);
  const probe = createPublicClient({ transport: http(rpcUrl) });
  const chain = localChain(await probe.getChainId(), rpcUrl);
  const publicClient = createPublicClient({ chain, transport: http(rpcUrl) });
  const wallet = createWalletClient({ account, chain, transport: http(rpcUrl) });
  const owner = options.owner ?? account.address;
  const hash = await wallet.deployContract({
    abi: receiptAnchorAbi,
    bytecode: bytecodeOf(receiptAnchorArtifact),
    args: [owner, options.anchorers],
    account,
    chain,
  });
  // Public RPCs rate-limit (Monad's: 20 requests/s): poll gently, a block is ~0.4 s there anyway.
  const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 500, timeout: 120_000 });
  if (receipt.status !== "success") throw new Error(`ReceiptAnchor deployment reverted (tx ${hash})`);
  if (!receipt.contractAddress) throw new Error(`deployment ${hash} created no contract`);
  return {
    chainId: chain.id,
    deployer: account.address,
    owner,
    anchorers: options.anchorers,
    address: getAddress(receipt.contractAddress),
    tx: hash,
  };
}

/** A viem chain for a local RPC (anvil), named after its id. */
export function localChain(chainId: number, rpcUrl: string): Chain {
  return defineChain({
    id: chainId,
    name: `local-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
    contracts: { multicall3: { address: MULTICALL3_ADDRESS } },
  });
}

async function deployContract(
  publicClient: PublicClient,
  wallet: WalletClient,
  abi: Abi,
  bytecode: Hex,
  args: readonly unknown[],
): Promise<Address> {
  if (!wallet.account) throw new Error("wallet has no account");
  const hash = await wallet.deployContract({ abi, bytecode, args, account: wallet.account, chain: wallet.chain });
  const receipt = await confirmed(publicClient, hash, "contract deployment");
  if (!receipt.contractAddress) throw new Error(`deployment ${hash} created no contract`);
  return getAddress(receipt.contractAddress);
}

// Real chains already carry Multicall3; on anvil we plant its runtime code with anvil_setCode.
async function ensureMulticall3(publicClient: PublicClient): Promise<Address> {
  const existing = await publicClient.getCode({ address: MULTICALL3_ADDRESS });
  if (existing && existing !== "0x") return MULTICALL3_ADDRESS;
  // Calling creation code without a target runs the constructor and returns the runtime code.
  const { data: runtime } = await publicClient.call({ data: await multicall3CreationCode() });
  if (!runtime) throw new Error("could not derive Multicall3 runtime code");
  try {
    await publicClient.request({
      method: "anvil_setCode" as never,
      params: [MULTICALL3_ADDRESS, runtime] as never,
    });
  } catch (err) {
    throw new Error(`Multicall3 is missing and anvil_setCode failed (is this anvil?): ${(err as Error).message}`);
  }
  return MULTICALL3_ADDRESS;
}

// viem ships Multicall3's creation code (for its deployless calls) but does not export it from a
// public entry point; viem is pinned exactly, so reading its constants module is stable.
async function multicall3CreationCode(): Promise<Hex> {
  const viemDir = dirname(createRequire(import.meta.url).resolve("viem/package.json"));
  const url = pathToFileURL(join(viemDir, "_esm", "constants", "contracts.js")).href;
  const constants = (await import(url)) as { multicall3Bytecode?: Hex };
  if (!constants.multicall3Bytecode) throw new Error(`viem no longer ships multicall3Bytecode at ${url}`);
  return constants.multicall3Bytecode;
}

async function confirmed(publicClient: PublicClient, hash: Hex, what: string) {
  const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  if (receipt.status !== "success") throw new Error(`${what} reverted (tx ${hash})`);
  return receipt;
}

function bytecodeOf(artifact: { bytecode: string }): Hex {
  return artifact.bytecode as Hex;
}

/** CLI: `node contracts/deploy.ts --rpc URL --key 0x.. [--seeker 0x..]...` prints the deployment as JSON. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rpc: { type: "string" },
      key: { type: "string" },
      seeker: { type: "string", multiple: true },
      anchorer: { type: "string", multiple: true },
    },
  });
  if (!values.rpc || !values.key?.startsWith("0x")) {
    console.error("usage: node contracts/deploy.ts --rpc http://127.0.0.1:8545 --key 0x<deployer key> [--seeker 0x..] [--anchorer 0x..]");
    process.exit(2);
  }
  const deployment = await deployAll(values.rpc, values.key as Hex, {
    seekers: values.seeker?.map((a) => getAddress(a)),
    anchorers: values.anchorer?.map((a) => getAddress(a)),
  });
  console.log(JSON.stringify(deployment, null, 2));
}

if (import.meta.main) await main();
