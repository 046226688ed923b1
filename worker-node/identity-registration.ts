import { type Address, createPublicClient, createWalletClient, type Hex, http, parseEventLogs } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { identityRegistryAbi } from "../contracts/artifacts/abis.ts";
import { ED25519_METADATA_KEY, ed25519MetadataValue } from "../protocol/index.ts";

export interface IdentityRegistration {
  agentId: bigint;
  transaction: Hex;
}

/**
 * Registers an ERC-8004 agent owned by `ownerKey` and publishes the worker's ed25519 key as its
 * `dispatch.ed25519` metadata, which is what a coordinator checks when the worker names the agent.
 * With `agentId`, links the key on an agent the owner already has instead.
 */
export async function registerIdentity(args: {
  rpcUrl: string;
  identityRegistry: Address;
  ownerKey: Hex;
  workerPubkey: string;
  agentURI?: string;
  agentId?: bigint;
}): Promise<IdentityRegistration> {
  const account = privateKeyToAccount(args.ownerKey);
  const transport = http(args.rpcUrl);
  const publicClient = createPublicClient({ transport });
  const chainId = await publicClient.getChainId();
  const chain = {
    id: chainId,
    name: `chain-${chainId}`,
    nativeCurrency: { name: "ETH", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [args.rpcUrl] } },
  };
  const wallet = createWalletClient({ account, chain, transport });
  const value = ed25519MetadataValue(args.workerPubkey);
  if (args.agentId !== undefined) {
    const transaction = await wallet.writeContract({
      address: args.identityRegistry,
      abi: identityRegistryAbi,
      functionName: "setMetadata",
      args: [args.agentId, ED25519_METADATA_KEY, value],
    });
    await mustSucceed(publicClient, transaction);
    return { agentId: args.agentId, transaction };
  }
  const transaction = await wallet.writeContract({
    address: args.identityRegistry,
    abi: identityRegistryAbi,
    functionName: "register",
    args: [args.agentURI ?? `dispatch:worker:${args.workerPubkey}`, [{ metadataKey: ED25519_METADATA_KEY, metadataValue: value }]],
  });
  const receipt = await mustSucceed(publicClient, transaction);
  const [registered] = parseEventLogs({ abi: identityRegistryAbi, logs: receipt.logs, eventName: "Registered" });
  if (!registered) throw new Error(`register transaction ${transaction} emitted no Registered event`);
  return { agentId: (registered.args as { agentId: bigint }).agentId, transaction };
}

async function mustSucceed(client: ReturnType<typeof createPublicClient>, hash: Hex) {
  const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  if (receipt.status !== "success") throw new Error(`transaction ${hash} reverted`);
  return receipt;
}
