import { createPublicClient, createWalletClient, defineChain, http, type PublicClient, type WalletClient } from "viem";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { identityRegistryAbi, receiptAnchorAbi, reputationRegistryAbi } from "../../contracts/artifacts/abis.ts";
import { ED25519_METADATA_KEY, ed25519MetadataValue, type Hex32 } from "../../protocol/index.ts";
import type { OnChainSettings } from "../settings.ts";

/** Reputation is kept on a 0..100 scale in matching; ERC-8004 summaries are rescaled to it. */
const REPUTATION_TAG = "successRate";

/**
 * The coordinator's view of the EVM trust layer: ERC-8004 identity links and reputation, and
 * the receipt anchor. Writes are serialized per object so nonces never collide.
 */
export class Evm {
  readonly account: PrivateKeyAccount;
  private readonly settings: OnChainSettings;
  private readonly publicClient: PublicClient;
  private readonly wallet: WalletClient;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(settings: OnChainSettings) {
    this.settings = settings;
    this.account = privateKeyToAccount(settings.coordinatorKey);
    // The chain id is read from the RPC at first use; a local anvil and Monad testnet both work.
    const chain = defineChain({
      id: 10143,
      name: "monad",
      nativeCurrency: { name: "MON", symbol: "MON", decimals: 18 },
      rpcUrls: { default: { http: [settings.rpcUrl] } },
    });
    this.publicClient = createPublicClient({ chain, transport: http(settings.rpcUrl, { timeout: 10_000, retryCount: 0 }) });
    this.wallet = createWalletClient({
      chain,
      account: this.account,
      transport: http(settings.rpcUrl, { timeout: 10_000, retryCount: 0 }),
    });
  }

  /** Does agent `agentId` publish `pubkey` as its ed25519 key? (Set by the agent's owner, so it cannot be forged.) */
  async identityLinked(agentId: bigint, pubkeyHex: string): Promise<boolean> {
    const value = await this.publicClient.readContract({
      address: this.settings.identityRegistry,
      abi: identityRegistryAbi,
      functionName: "getMetadata",
      args: [agentId, ED25519_METADATA_KEY],
    });
    return typeof value === "string" && value.toLowerCase() === ed25519MetadataValue(pubkeyHex);
  }

  /** The agent's success-rate summary over the configured coordinators, on 0..100. */
  async reputation(agentId: bigint): Promise<number> {
    const clients = this.settings.reputationClients.length > 0 ? this.settings.reputationClients : [this.account.address];
    const [count, value, decimals] = (await this.publicClient.readContract({
      address: this.settings.reputationRegistry,
      abi: reputationRegistryAbi,
      functionName: "getSummary",
      args: [agentId, clients, REPUTATION_TAG, ""],
    })) as readonly [bigint, bigint, number];
    if (count === 0n) return 0;
    return Math.max(0, Math.min(100, Number(value) / 10 ** decimals));
  }

  /**
   * Feedback for several jobs at once: every transaction is signed with consecutive nonces and
   * sent before any receipt is awaited, so N jobs cost about one block, not 2N. Each job gets
   * two tagged entries: success (100 or 0) and the response time (none when `responseMs` is null:
   * an audit verdict says nothing about speed). Returns the first transaction of each job's
   * feedback, in order.
   */
  /**
   * Feedback for each item, pipelined. Per item: its first transaction once every transaction of
   * the item succeeded, or an Error when it did not. Items already sent and mined are never
   * reported as failed because another item failed, so a retry cannot post them twice. After a
   * send fails, later items are not sent (their nonces would be off) and fail too.
   */
  giveFeedbackBatch(
    items: readonly { agentId: bigint; success: boolean; responseMs: number | null; hash: Hex32 }[],
  ): Promise<(string | Error)[]> {
    return this.serialize(async () => {
      let nonce = await this.publicClient.getTransactionCount({ address: this.account.address, blockTag: "pending" });
      const send = (agentId: bigint, value: bigint, tag1: string, hash: Hex32) =>
        this.wallet.writeContract({
          address: this.settings.reputationRegistry,
          abi: reputationRegistryAbi,
          functionName: "giveFeedback",
          args: [agentId, value, 0, tag1, "dispatch", "", "", hash],
          account: this.account,
          chain: this.wallet.chain,
          nonce: nonce++,
        });
      const sent: (string[] | Error)[] = [];
      let stopped: Error | null = null;
      for (const item of items) {
        if (stopped) {
          sent.push(stopped);
          continue;
        }
        const hashes: string[] = [];
        try {
          hashes.push(await send(item.agentId, item.success ? 100n : 0n, REPUTATION_TAG, item.hash));
          if (item.responseMs !== null)
            hashes.push(await send(item.agentId, BigInt(Math.max(0, Math.round(item.responseMs))), "responseTime", item.hash));
          sent.push(hashes);
        } catch (err) {
          stopped = err instanceof Error ? err : new Error(String(err));
          // An item whose first transaction went out is done as far as a retry is concerned.
          sent.push(hashes.length > 0 ? hashes : stopped);
        }
      }
      return Promise.all(
        sent.map(async (hashes) => {
          if (hashes instanceof Error) return hashes;
          const receipts = await Promise.all(
            hashes.map((hash) => this.publicClient.waitForTransactionReceipt({ hash: hash as `0x${string}`, timeout: 30_000 })),
          );
          const reverted = receipts.find((r) => r.status !== "success");
          return reverted ? new Error(`feedback transaction ${reverted.transactionHash} reverted`) : (hashes[0] as string);
        }),
      );
    });
  }

  anchor(root: Hex32, count: number, batchId: string): Promise<string> {
    const anchorAddress = this.settings.receiptAnchor;
    if (!anchorAddress) return Promise.reject(new Error("RECEIPT_ANCHOR is not configured"));
    return this.serialize(async () => {
      const hash = await this.wallet.writeContract({
        address: anchorAddress,
        abi: receiptAnchorAbi,
        functionName: "anchor",
        args: [root, BigInt(count), batchId],
        account: this.account,
        chain: this.wallet.chain,
      });
      const receipt = await this.publicClient.waitForTransactionReceipt({ hash, timeout: 30_000 });
      if (receipt.status !== "success") throw new Error(`anchor transaction ${hash} reverted`);
      return hash;
    });
  }

  /** One write at a time: each waits for the previous one's receipt, so the next nonce is always right. */
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
