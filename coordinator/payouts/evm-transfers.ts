import {
  createPublicClient,
  defineChain,
  encodeFunctionData,
  erc20Abi,
  http,
  keccak256,
  type PublicClient,
  TransactionReceiptNotFoundError,
} from "viem";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import type { SignedTransfer, TransferSender, TransferStatus } from "./transfer-sender.ts";

/** ERC-20 `transfer` of USDC (6 decimals: micro-USD are its atomic units) from the treasury key. */
export class EvmTransfers implements TransferSender {
  readonly address: string;
  private readonly account: PrivateKeyAccount;
  private readonly client: PublicClient;
  private readonly token: `0x${string}`;

  constructor(rpcUrl: string, treasuryKey: `0x${string}`, token: `0x${string}`) {
    this.account = privateKeyToAccount(treasuryKey);
    this.address = this.account.address;
    this.token = token;
    const chain = defineChain({
      id: 10143,
      name: "monad",
      nativeCurrency: { name: "MON", symbol: "MON", decimals: 18 },
      rpcUrls: { default: { http: [rpcUrl] } },
    });
    this.client = createPublicClient({ chain, transport: http(rpcUrl, { timeout: 10_000, retryCount: 0 }) });
  }

  /** The nonce makes each EVM transfer unique; `_reference` is not needed. */
  async sign(to: string, amountMicro: number, _reference: string): Promise<SignedTransfer> {
    // "pending" counts our own transactions still in the pool: the lane signs one transfer at a
    // time and waits for it, so the nonce it gets is the next free one.
    const nonce = await this.client.getTransactionCount({ address: this.account.address, blockTag: "pending" });
    const request = await this.client.prepareTransactionRequest({
      account: this.account,
      chain: this.client.chain,
      to: this.token,
      data: encodeFunctionData({ abi: erc20Abi, functionName: "transfer", args: [to as `0x${string}`, BigInt(amountMicro)] }),
      nonce,
    });
    const raw = await this.account.signTransaction(request as Parameters<PrivateKeyAccount["signTransaction"]>[0]);
    return { tx: keccak256(raw), raw, meta: { nonce } };
  }

  async broadcast(signed: SignedTransfer): Promise<void> {
    try {
      await this.client.sendRawTransaction({ serializedTransaction: signed.raw as `0x${string}` });
    } catch (err) {
      // Already in the pool or already mined: `status` is what decides.
      if (/already known|nonce too low|already imported|replacement/i.test(String(err))) return;
      throw err;
    }
  }

  async status(signed: SignedTransfer): Promise<TransferStatus> {
    // Only "not found" may read as not mined: any other failure must stop us (a transient error
    // read as "dropped" would sign a second transfer for money already sent).
    const receipt = await this.client.getTransactionReceipt({ hash: signed.tx as `0x${string}` }).catch((err: unknown) => {
      if (err instanceof TransactionReceiptNotFoundError) return null;
      throw err;
    });
    if (receipt) {
      return receipt.status === "success" ? { state: "confirmed" } : { state: "dropped", reason: `transaction ${signed.tx} reverted` };
    }
    // Not mined: if its nonce has been used by something else, it never will be.
    const mined = await this.client.getTransactionCount({ address: this.account.address, blockTag: "latest" });
    return mined > Number(signed.meta.nonce)
      ? { state: "dropped", reason: `nonce ${signed.meta.nonce} used by another transaction` }
      : { state: "pending" };
  }
}
