import {
  type Address,
  address,
  appendTransactionMessageInstructions,
  type Blockhash,
  createKeyPairSignerFromBytes,
  createSolanaRpc,
  createTransactionMessage,
  getBase58Encoder,
  getBase64EncodedWireTransaction,
  getSignatureFromTransaction,
  type KeyPairSigner,
  pipe,
  type Signature,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
} from "@solana/kit";
import {
  findAssociatedTokenPda,
  getCreateAssociatedTokenIdempotentInstructionAsync,
  getTransferCheckedInstruction,
  TOKEN_PROGRAM_ADDRESS,
} from "@solana-program/token";
import type { SignedTransfer, TransferSender, TransferStatus } from "./transfer-sender.ts";

const USDC_DECIMALS = 6;
/** SPL Memo: the transfer's id in it makes two equal payouts under one blockhash two transactions, not one. */
const MEMO_PROGRAM = address("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");

/**
 * SPL `TransferChecked` of USDC from the treasury's token account to the recipient's (created
 * first if missing, idempotently; the treasury pays fees and rent). A Solana transaction's id is
 * its signature, known before it is sent; once its blockhash has expired unseen it can never land.
 */
export class SvmTransfers implements TransferSender {
  readonly address: string;
  private readonly rpc: ReturnType<typeof createSolanaRpc>;
  private readonly mint: Address;
  private readonly signer: Promise<KeyPairSigner>;

  private constructor(rpcUrl: string, signer: Promise<KeyPairSigner>, treasury: string, mint: string) {
    this.rpc = createSolanaRpc(rpcUrl);
    this.signer = signer;
    this.address = treasury;
    this.mint = address(mint);
  }

  /** `secretKey`: the treasury keypair, base58 of its 64 bytes (as `solana-keygen` and wallets export it). */
  static async create(rpcUrl: string, secretKey: string, mint: string): Promise<SvmTransfers> {
    const signer = createKeyPairSignerFromBytes(getBase58Encoder().encode(secretKey) as Uint8Array);
    return new SvmTransfers(rpcUrl, signer, (await signer).address, mint);
  }

  async sign(to: string, amountMicro: number, reference: string): Promise<SignedTransfer> {
    const signer = await this.signer;
    const owner = address(to);
    const [source] = await findAssociatedTokenPda({ owner: signer.address, mint: this.mint, tokenProgram: TOKEN_PROGRAM_ADDRESS });
    const [destination] = await findAssociatedTokenPda({ owner, mint: this.mint, tokenProgram: TOKEN_PROGRAM_ADDRESS });
    const { value: latest } = await this.rpc.getLatestBlockhash().send();
    const message = pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayerSigner(signer, m),
      (m) => setTransactionMessageLifetimeUsingBlockhash(latest, m),
    );
    const instructions = [
      await getCreateAssociatedTokenIdempotentInstructionAsync({ payer: signer, owner, mint: this.mint }),
      getTransferCheckedInstruction({
        source,
        mint: this.mint,
        destination,
        authority: signer,
        amount: BigInt(amountMicro),
        decimals: USDC_DECIMALS,
      }),
      { programAddress: MEMO_PROGRAM, data: new TextEncoder().encode(`dispatch ${reference}`) },
    ];
    const signed = await signTransactionMessageWithSigners(appendTransactionMessageInstructions(instructions, message));
    return {
      tx: getSignatureFromTransaction(signed),
      raw: getBase64EncodedWireTransaction(signed),
      meta: { blockhash: latest.blockhash },
    };
  }

  async broadcast(signed: SignedTransfer): Promise<void> {
    try {
      await this.rpc
        .sendTransaction(signed.raw as Parameters<typeof this.rpc.sendTransaction>[0], {
          encoding: "base64",
          preflightCommitment: "confirmed",
        })
        .send();
    } catch (err) {
      // Already processed (a resend of a transaction that landed): `status` decides.
      if (/already been processed|AlreadyProcessed/i.test(String(err))) return;
      throw err;
    }
  }

  async status(signed: SignedTransfer): Promise<TransferStatus> {
    const { value } = await this.rpc.getSignatureStatuses([signed.tx as Signature]).send();
    const status = value[0];
    if (status) {
      if (status.err) return { state: "dropped", reason: `transaction ${signed.tx} failed: ${JSON.stringify(status.err)}` };
      return status.confirmationStatus === "processed" ? { state: "pending" } : { state: "confirmed" };
    }
    // Unseen: while its blockhash is valid it may still land; after that it never can.
    const { value: valid } = await this.rpc.isBlockhashValid(String(signed.meta.blockhash) as Blockhash).send();
    return valid ? { state: "pending" } : { state: "dropped", reason: `blockhash of ${signed.tx} expired unseen` };
  }
}
