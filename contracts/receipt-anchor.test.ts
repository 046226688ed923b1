import { type Address, concat, type Hex, keccak256, parseEventLogs, stringToHex, zeroHash } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { receiptAnchorAbi } from "./artifacts/abis.ts";
import { startTestChain, type TestChain } from "./test-chain.ts";

// OpenZeppelin's MerkleProof convention: parents hash the sorted pair, so proofs need no left/right bits.
function hashPair(a: Hex, b: Hex): Hex {
  return keccak256(a.toLowerCase() < b.toLowerCase() ? concat([a, b]) : concat([b, a]));
}

function receiptLeaf(jobId: string): Hex {
  return keccak256(stringToHex(`receipt:${jobId}`));
}

describe("ReceiptAnchor", () => {
  let chain: TestChain;
  let anchor: { address: Address; abi: typeof receiptAnchorAbi };
  // Account 0 deployed the contract: it owns it and is the only anchorer.
  const anchorer = () => chain.account(0);
  const stranger = () => chain.account(6);

  beforeAll(async () => {
    chain = await startTestChain();
    anchor = { address: chain.deployment.receiptAnchor, abi: receiptAnchorAbi };
  });
  afterAll(() => chain?.stop());

  const write = (account: ReturnType<typeof chain.account>, root: Hex, count: bigint, batchId: string) =>
    chain.write(account, { ...anchor, functionName: "anchor", args: [root, count, batchId] });

  it("records a batch root with its submitter, count, batch id and block time", async () => {
    const root = keccak256(stringToHex("batch-1"));
    const logs = await write(anchorer(), root, 42n, "batch-1");
    const [event] = parseEventLogs({ abi: receiptAnchorAbi, logs, eventName: "Anchored" });
    const block = await chain.publicClient.getBlock({ blockNumber: logs[0]?.blockNumber ?? undefined });
    expect(event?.args).toEqual({
      root,
      submitter: anchorer().address,
      count: 42n,
      batchId: "batch-1",
      timestamp: block.timestamp,
    });
    expect(await chain.read({ ...anchor, functionName: "getAnchor", args: [root] })).toEqual({
      submitter: anchorer().address,
      timestamp: block.timestamp,
      blockNumber: block.number,
      count: 42n,
      batchId: "batch-1",
    });
    expect(await chain.read({ ...anchor, functionName: "isAnchored", args: [root] })).toBe(true);
  });

  it("refuses to anchor the same root twice", async () => {
    const root = keccak256(stringToHex("batch-dup"));
    await write(anchorer(), root, 1n, "batch-dup");
    await expect(write(anchorer(), root, 1n, "batch-dup-retry")).rejects.toThrow(/RootAlreadyAnchored/);
    const stored = await chain.read({ ...anchor, functionName: "getAnchor", args: [root] });
    expect(stored.batchId).toBe("batch-dup");
  });

  it("accepts roots only from configured anchorers, which only the owner can change", async () => {
    const root = keccak256(stringToHex("batch-stranger"));
    await expect(write(stranger(), root, 1n, "x")).rejects.toThrow(/NotAnchorer/);
    await expect(chain.write(stranger(), { ...anchor, functionName: "setAnchorer", args: [stranger().address, true] })).rejects.toThrow(
      /OwnableUnauthorizedAccount/,
    );

    await chain.write(anchorer(), { ...anchor, functionName: "setAnchorer", args: [stranger().address, true] });
    await write(stranger(), root, 1n, "x");
    await chain.write(anchorer(), { ...anchor, functionName: "setAnchorer", args: [stranger().address, false] });
    await expect(write(stranger(), keccak256(root), 1n, "y")).rejects.toThrow(/NotAnchorer/);
  });

  it("rejects an empty root or an empty batch", async () => {
    await expect(write(anchorer(), zeroHash, 1n, "zero")).rejects.toThrow(/EmptyRoot/);
    await expect(write(anchorer(), keccak256(stringToHex("empty")), 0n, "empty")).rejects.toThrow(/EmptyBatch/);
    expect(await chain.read({ ...anchor, functionName: "getAnchor", args: [zeroHash] })).toMatchObject({
      count: 0n,
      timestamp: 0n,
    });
  });

  it("verifies a receipt's Merkle proof against an anchored root", async () => {
    const [a, b, c] = ["job-a", "job-b", "job-c"].map(receiptLeaf) as [Hex, Hex, Hex];
    const ab = hashPair(a, b);
    const root = hashPair(ab, c);
    const verify = (leaf: Hex, proof: Hex[]) => chain.read({ ...anchor, functionName: "verifyLeaf", args: [root, leaf, proof] });

    await expect(verify(a, [b, c])).rejects.toThrow(/NotAnchored/);
    await write(anchorer(), root, 3n, "batch-merkle");
    expect(await verify(a, [b, c])).toBe(true);
    expect(await verify(c, [ab])).toBe(true);
    expect(await verify(receiptLeaf("job-x"), [b, c])).toBe(false);
    expect(await verify(a, [c, b])).toBe(false);
  });
});
