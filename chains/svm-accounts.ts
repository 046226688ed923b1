/**
 * Solana accounts for the local chain: deterministic test keypairs, and SPL mint / token accounts written
 * straight into LiteSVM (no mint-authority transactions needed, and the mint can sit at any address).
 */
import { createHash } from "node:crypto";
import {
  type Address,
  createKeyPairSignerFromBytes,
  createKeyPairSignerFromPrivateKeyBytes,
  getAddressEncoder,
  getBase58Decoder,
  getBase58Encoder,
  type KeyPairSigner,
  none,
  some,
} from "@solana/kit";
import { AccountState, findAssociatedTokenPda, getMintEncoder, getTokenEncoder, TOKEN_PROGRAM_ADDRESS } from "@solana-program/token";
import type { LocalSvmAccount } from "../protocol/local-network.ts";

export const MINT_SIZE = 82;
export const TOKEN_ACCOUNT_SIZE = 165;

/**
 * A keypair derived from a label, so a role keeps the same address across runs (handy in logs and docs).
 * Local test keys only: anyone can re-derive them from the label.
 */
export async function testKeypair(label: string): Promise<{ account: LocalSvmAccount; signer: KeyPairSigner }> {
  const seed = Uint8Array.from(createHash("sha256").update(`dispatch-local-svm:${label}`).digest());
  const derived = await createKeyPairSignerFromPrivateKeyBytes(seed);
  // Store the 64-byte secret+public form wallets export, and sign with a signer built from exactly that.
  const keypair = new Uint8Array(64);
  keypair.set(seed, 0);
  keypair.set(getAddressEncoder().encode(derived.address), 32);
  const secretKey = getBase58Decoder().decode(keypair);
  return { account: { address: derived.address, secretKey }, signer: await signerFromSecret(secretKey) };
}

/** A kit signer from the base58 64-byte keypair stored in the local-network file. */
export function signerFromSecret(secretKey: string): Promise<KeyPairSigner> {
  return createKeyPairSignerFromBytes(getBase58Encoder().encode(secretKey));
}

/** Bytes of an initialized SPL Token mint. */
export function mintData(options: { decimals: number; supply: bigint; mintAuthority: Address }): Uint8Array {
  return Uint8Array.from(
    getMintEncoder().encode({
      mintAuthority: some(options.mintAuthority),
      supply: options.supply,
      decimals: options.decimals,
      isInitialized: true,
      freezeAuthority: none(),
    }),
  );
}

/** Bytes of an initialized SPL Token account holding `amount` of `mint` for `owner`. */
export function tokenAccountData(options: { mint: Address; owner: Address; amount: bigint }): Uint8Array {
  return Uint8Array.from(
    getTokenEncoder().encode({
      mint: options.mint,
      owner: options.owner,
      amount: options.amount,
      delegate: none(),
      state: AccountState.Initialized,
      isNative: none(),
      delegatedAmount: 0n,
      closeAuthority: none(),
    }),
  );
}

/** The associated token account of `owner` for `mint` (what the x402 SVM client pays from and to). */
export async function associatedTokenAddress(mint: Address, owner: Address): Promise<Address> {
  const [ata] = await findAssociatedTokenPda({ mint, owner, tokenProgram: TOKEN_PROGRAM_ADDRESS });
  return ata;
}
