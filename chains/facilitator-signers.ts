/** The facilitator's chain signers: the shapes `@x402/evm` and `@x402/svm` ask for, over the local RPCs. */
import type { KeyPairSigner } from "@solana/kit";
import { type FacilitatorEvmSigner, toFacilitatorEvmSigner } from "@x402/evm";
import { type FacilitatorSvmSigner, toFacilitatorSvmSigner } from "@x402/svm";
import { createPublicClient, createWalletClient, type Hex, http } from "viem";
import { nonceManager, privateKeyToAccount } from "viem/accounts";
import { localChain } from "../contracts/deploy.ts";

/** anvil mines on receipt of each transaction; viem's default 4 s polling would dominate every settle. */
const LOCAL_POLLING_MS = 50;

/**
 * An exact-EVM facilitator signer backed by viem on `rpcUrl`. The nonce manager keeps concurrent settlements
 * from the one account from reusing a nonce.
 */
export function evmFacilitatorSigner(options: { rpcUrl: string; chainId: number; privateKey: Hex }): FacilitatorEvmSigner {
  const account = privateKeyToAccount(options.privateKey, { nonceManager });
  const chain = localChain(options.chainId, options.rpcUrl);
  const transport = http(options.rpcUrl);
  const publicClient = createPublicClient({ chain, transport, pollingInterval: LOCAL_POLLING_MS });
  const wallet = createWalletClient({ account, chain, transport, pollingInterval: LOCAL_POLLING_MS });
  // x402's signer interface is looser than viem's overloads (abi as unknown[]); the casts bridge exactly that.
  return toFacilitatorEvmSigner({
    address: account.address,
    readContract: (args) => publicClient.readContract(args as never),
    verifyTypedData: (args) => publicClient.verifyTypedData(args as never),
    writeContract: (args) => wallet.writeContract({ ...args, account, chain } as never),
    sendTransaction: (args) => wallet.sendTransaction({ ...args, account, chain }),
    waitForTransactionReceipt: (args) =>
      publicClient.waitForTransactionReceipt({ hash: args.hash, timeout: args.timeout, pollingInterval: LOCAL_POLLING_MS }),
    getCode: (args) => publicClient.getCode(args),
  });
}

/**
 * An exact-SVM facilitator signer: x402's own RPC-backed implementation, pointed at our LiteSVM endpoint, so the
 * facilitator simulates, signs as fee payer, sends and confirms exactly as it would against devnet.
 */
export function svmFacilitatorSigner(options: { rpcUrl: string; feePayer: KeyPairSigner }): FacilitatorSvmSigner {
  return toFacilitatorSvmSigner(options.feePayer, { defaultRpcUrl: options.rpcUrl });
}
