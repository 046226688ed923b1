import { describe, expect, it } from "vitest";
import { merkleTree, receiptLeaf, verifyMerkleProof } from "./anchoring.ts";
import { generateKeyPair } from "./crypto.ts";
import { buildReceipt } from "./receipts.ts";

const key = generateKeyPair().publicKey;
const leaves = (n: number) =>
  Array.from({ length: n }, (_, i) => receiptLeaf(buildReceipt({ jobId: `job-${i}`, providerPubkey: key, output: { i } })));

describe("receipt Merkle trees", () => {
  it("proves every leaf of trees of many shapes, and nothing else", () => {
    for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 16, 33]) {
      const ls = leaves(n);
      const { root, proofs } = merkleTree(ls);
      for (const [i, leaf] of ls.entries()) expect(verifyMerkleProof(root, leaf, proofs[i] ?? []), `n=${n} i=${i}`).toBe(true);
      const stranger = receiptLeaf(buildReceipt({ jobId: "not-in-tree", providerPubkey: key, output: {} }));
      expect(verifyMerkleProof(root, stranger, proofs[0] ?? [])).toBe(false);
      if (n > 1) expect(verifyMerkleProof(root, ls[0] as `0x${string}`, proofs[1] ?? [])).toBe(false);
    }
  });

  it("changes the leaf when any receipt field changes", () => {
    const r = buildReceipt({ jobId: "j", providerPubkey: key, output: { a: 1 } });
    expect(receiptLeaf(r)).not.toBe(receiptLeaf({ ...r, payment_ref: "p" }));
    expect(receiptLeaf(r)).toBe(receiptLeaf({ ...r }));
  });

  it("refuses an empty batch", () => {
    expect(() => merkleTree([])).toThrow();
  });
});
