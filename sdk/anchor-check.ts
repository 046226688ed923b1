import { createPublicClient, http } from "viem";
import { receiptAnchorAbi } from "../contracts/artifacts/abis.ts";
import { type Hex32, type ReceiptResponse, receiptLeaf, verifyMerkleProof } from "../protocol/index.ts";
import { DispatchError } from "./errors.ts";
import type { FetchLike } from "./types.ts";

export interface AnchorCheck {
  root: Hex32;
  batchId: string;
  transaction: string | null;
  /** Block in which the root was anchored, as the contract recorded it. */
  blockNumber: bigint;
}

/**
 * Proves a receipt was anchored: its leaf is the hash of the receipt itself, the Merkle proof
 * leads from that leaf to the root, and the ReceiptAnchor contract holds that root.
 */
export async function checkAnchor(
  view: ReceiptResponse,
  chain: { rpcUrl: string; receiptAnchor: `0x${string}`; fetch?: FetchLike },
): Promise<AnchorCheck> {
  const anchor = view.anchor;
  if (!anchor)
    throw new DispatchError("not_anchored", `the receipt of job ${view.job_id} is not in an anchored batch yet; try again later`);
  const leaf = receiptLeaf(view.receipt);
  if (leaf !== anchor.leaf) throw new DispatchError("invalid_anchor", "the anchor's leaf is not the hash of this receipt");
  if (!verifyMerkleProof(anchor.root, leaf, anchor.proof as Hex32[])) {
    throw new DispatchError("invalid_anchor", "the Merkle proof does not lead from this receipt to the anchored root");
  }
  const client = createPublicClient({ transport: http(chain.rpcUrl, chain.fetch ? { fetchFn: chain.fetch as typeof fetch } : {}) });
  const stored = await client.readContract({
    address: chain.receiptAnchor,
    abi: receiptAnchorAbi,
    functionName: "getAnchor",
    args: [anchor.root as Hex32],
  });
  const record = stored as { submitter: string; count: bigint; blockNumber: bigint };
  if (/^0x0{40}$/i.test(record.submitter) || record.count === 0n) {
    throw new DispatchError("invalid_anchor", `root ${anchor.root} is not anchored on-chain at ${chain.receiptAnchor}`);
  }
  return { root: anchor.root as Hex32, batchId: anchor.batch_id, transaction: anchor.transaction, blockNumber: BigInt(record.blockNumber) };
}
