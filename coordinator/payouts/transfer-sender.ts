/**
 * Sends USDC from the coordinator's treasury account on one chain (worker payouts, refunds).
 * Signing and broadcasting are separate steps so the signed transaction can be stored before it
 * leaves: a retry after a crash rebroadcasts the same transaction, which the chain accepts at most
 * once (EVM: its nonce; SVM: its signature).
 */
export interface SignedTransfer {
  /** The transaction's id on the chain (EVM hash, Solana signature). */
  tx: string;
  /** The signed wire transaction (hex on EVM, base64 on Solana). */
  raw: string;
  /** What `status` needs to tell whether it can still land. */
  meta: Record<string, string | number>;
}

export type TransferStatus =
  | { state: "confirmed" }
  | { state: "pending" }
  /** It can never land (reverted, or its nonce or blockhash is spent): no money moved, sign anew. */
  | { state: "dropped"; reason: string };

export interface TransferSender {
  /** The treasury address on this chain. */
  readonly address: string;
  /** `reference` (the transfer's id) makes the transaction unique where nothing else would (Solana). */
  sign(to: string, amountMicro: number, reference: string): Promise<SignedTransfer>;
  /** Broadcasts; resending an already known transaction is not an error. */
  broadcast(signed: SignedTransfer): Promise<void>;
  status(signed: SignedTransfer): Promise<TransferStatus>;
}
