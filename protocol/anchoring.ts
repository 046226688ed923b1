import { keccak_256 } from "@noble/hashes/sha3.js";
import { fromHex, toHex, utf8 } from "./encoding.ts";
import { canonicalReceipt, type Receipt } from "./receipts.ts";

/**
 * Receipt anchoring: receipts are batched into a Merkle tree whose root is stored on-chain by
 * the ReceiptAnchor contract. Pairs are hashed sorted (the OpenZeppelin convention the
 * contract's `verifyLeaf` uses), so a proof is just the list of siblings.
 */

/** ERC-8004 metadata key under which an agent publishes its ed25519 worker key (32 bytes). */
export const ED25519_METADATA_KEY = "dispatch.ed25519";

export type Hex32 = `0x${string}`;

const hex = (b: Uint8Array): Hex32 => `0x${toHex(b)}`;
const bytes = (h: string): Uint8Array => fromHex(h.startsWith("0x") ? h.slice(2) : h);

/** The leaf of a receipt: keccak-256 of its canonical JSON, the same bytes its signature covers. */
export function receiptLeaf(receipt: Receipt): Hex32 {
  return hex(keccak_256(utf8(canonicalReceipt(receipt))));
}

function hashPair(a: Hex32, b: Hex32): Hex32 {
  const [x, y] = a.toLowerCase() < b.toLowerCase() ? [a, b] : [b, a];
  const joined = new Uint8Array(64);
  joined.set(bytes(x), 0);
  joined.set(bytes(y), 32);
  return hex(keccak_256(joined));
}

/** Builds the tree bottom-up; an odd node is carried up unchanged. Returns the root and each leaf's proof. */
export function merkleTree(leaves: readonly Hex32[]): { root: Hex32; proofs: Hex32[][] } {
  if (leaves.length === 0) throw new Error("a Merkle tree needs at least one leaf");
  const proofs: Hex32[][] = leaves.map(() => []);
  // positions[i] = index of leaf i's ancestor in the current level.
  let positions = leaves.map((_, i) => i);
  let level = [...leaves];
  while (level.length > 1) {
    const next: Hex32[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i] as Hex32;
      const right = level[i + 1];
      next.push(right === undefined ? left : hashPair(left, right));
    }
    positions = positions.map((pos, leaf) => {
      const sibling = pos % 2 === 0 ? level[pos + 1] : level[pos - 1];
      if (sibling !== undefined) proofs[leaf]?.push(sibling);
      return Math.floor(pos / 2);
    });
    level = next;
  }
  return { root: level[0] as Hex32, proofs };
}

export function verifyMerkleProof(root: string, leaf: Hex32, proof: readonly Hex32[]): boolean {
  let node = leaf;
  for (const sibling of proof) node = hashPair(node, sibling);
  return node.toLowerCase() === root.toLowerCase();
}

/** The 32-byte ed25519 key as the bytes value stored in ERC-8004 metadata. */
export function ed25519MetadataValue(publicKeyHex: string): Hex32 {
  return `0x${publicKeyHex.toLowerCase()}`;
}
