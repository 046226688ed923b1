import { type Address, keccak256, parseEventLogs, stringToHex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { identityRegistryAbi, reputationRegistryAbi } from "./artifacts/abis.ts";
import { startTestChain, type TestChain } from "./test-chain.ts";

describe("ReputationRegistry", () => {
  let chain: TestChain;
  let reputation: { address: Address; abi: typeof reputationRegistryAbi };
  let identity: { address: Address; abi: typeof identityRegistryAbi };
  // Account 1 owns the worker agents; accounts 2 and 3 are coordinators giving feedback.
  const owner = () => chain.account(1);
  const coordinatorA = () => chain.account(2);
  const coordinatorB = () => chain.account(3);

  beforeAll(async () => {
    chain = await startTestChain();
    reputation = { address: chain.deployment.reputationRegistry, abi: reputationRegistryAbi };
    identity = { address: chain.deployment.identityRegistry, abi: identityRegistryAbi };
  });
  afterAll(() => chain?.stop());

  async function newAgent(): Promise<bigint> {
    const logs = await chain.write(owner(), { ...identity, functionName: "register", args: [] });
    const [registered] = parseEventLogs({ abi: identityRegistryAbi, logs, eventName: "Registered" });
    if (!registered) throw new Error("no Registered event");
    return registered.args.agentId;
  }

  type Feedback = { value: bigint; decimals?: number; tag1?: string; tag2?: string };
  function give(client: ReturnType<typeof chain.account>, agentId: bigint, fb: Feedback) {
    return chain.write(client, {
      ...reputation,
      functionName: "giveFeedback",
      args: [
        agentId,
        fb.value,
        fb.decimals ?? 0,
        fb.tag1 ?? "successRate",
        fb.tag2 ?? "",
        "wss://coordinator.example/monad",
        "",
        keccak256(stringToHex(`feedback ${fb.value}`)),
      ],
    });
  }

  const summary = (agentId: bigint, clients: Address[], tag1 = "", tag2 = "") =>
    chain.read({ ...reputation, functionName: "getSummary", args: [agentId, clients, tag1, tag2] });

  it("stores feedback with a 1-based index per client and lists the client", async () => {
    const agentId = await newAgent();
    const logs = await give(coordinatorA(), agentId, { value: 87n, tag1: "successRate", tag2: "llm" });
    const [event] = parseEventLogs({ abi: reputationRegistryAbi, logs, eventName: "NewFeedback" });
    expect(event?.args).toMatchObject({
      agentId,
      clientAddress: coordinatorA().address,
      feedbackIndex: 1n,
      value: 87n,
      valueDecimals: 0,
      tag1: "successRate",
      tag2: "llm",
      endpoint: "wss://coordinator.example/monad",
    });
    expect(await chain.read({ ...reputation, functionName: "readFeedback", args: [agentId, coordinatorA().address, 1n] })).toEqual([
      87n,
      0,
      "successRate",
      "llm",
      false,
    ]);
    expect(await chain.read({ ...reputation, functionName: "getClients", args: [agentId] })).toEqual([coordinatorA().address]);
    expect(await chain.read({ ...reputation, functionName: "getLastIndex", args: [agentId, coordinatorA().address] })).toBe(1n);
  });

  it("averages over the listed clients only, in the finest decimals given", async () => {
    const agentId = await newAgent();
    await give(coordinatorA(), agentId, { value: 80n });
    await give(coordinatorB(), agentId, { value: 9050n, decimals: 2 }); // 90.50
    expect(await summary(agentId, [coordinatorA().address, coordinatorB().address])).toEqual([2n, 8525n, 2]);
    expect(await summary(agentId, [coordinatorA().address])).toEqual([1n, 80n, 0]);
    // A client that never rated the agent contributes nothing.
    expect(await summary(agentId, [chain.account(7).address])).toEqual([0n, 0n, 0]);
  });

  it("averages negative values and rounds toward zero", async () => {
    const agentId = await newAgent();
    await give(coordinatorA(), agentId, { value: -5n });
    await give(coordinatorA(), agentId, { value: -10n });
    expect(await summary(agentId, [coordinatorA().address])).toEqual([2n, -7n, 0]);
  });

  it("filters by tag1 and tag2, where an empty filter matches any tag", async () => {
    const agentId = await newAgent();
    await give(coordinatorA(), agentId, { value: 100n, tag1: "successRate", tag2: "llm" });
    await give(coordinatorA(), agentId, { value: 0n, tag1: "successRate", tag2: "task" });
    await give(coordinatorA(), agentId, { value: 1200n, tag1: "responseTime", tag2: "llm" });
    const clients = [coordinatorA().address];
    expect(await summary(agentId, clients, "successRate")).toEqual([2n, 50n, 0]);
    expect(await summary(agentId, clients, "successRate", "llm")).toEqual([1n, 100n, 0]);
    expect(await summary(agentId, clients, "", "llm")).toEqual([2n, 650n, 0]);
    expect(await summary(agentId, clients)).toEqual([3n, 433n, 0]);
    expect(await summary(agentId, clients, "uptime")).toEqual([0n, 0n, 0]);
  });

  it("excludes revoked feedback from the summary and keeps it readable as revoked", async () => {
    const agentId = await newAgent();
    await give(coordinatorA(), agentId, { value: 10n });
    await give(coordinatorA(), agentId, { value: 90n });
    const logs = await chain.write(coordinatorA(), { ...reputation, functionName: "revokeFeedback", args: [agentId, 1n] });
    const [revoked] = parseEventLogs({ abi: reputationRegistryAbi, logs, eventName: "FeedbackRevoked" });
    expect(revoked?.args).toEqual({ agentId, clientAddress: coordinatorA().address, feedbackIndex: 1n });
    expect(await summary(agentId, [coordinatorA().address])).toEqual([1n, 90n, 0]);
    const [, , , , isRevoked] = await chain.read({
      ...reputation,
      functionName: "readFeedback",
      args: [agentId, coordinatorA().address, 1n],
    });
    expect(isRevoked).toBe(true);

    const revoke = (client: ReturnType<typeof chain.account>, index: bigint) =>
      chain.write(client, { ...reputation, functionName: "revokeFeedback", args: [agentId, index] });
    await expect(revoke(coordinatorA(), 1n)).rejects.toThrow(/AlreadyRevoked/);
    await expect(revoke(coordinatorA(), 3n)).rejects.toThrow(/FeedbackNotFound/);
    // Another client has no feedback at that index: it cannot revoke A's.
    await expect(revoke(coordinatorB(), 2n)).rejects.toThrow(/FeedbackNotFound/);
  });

  it("refuses feedback from the agent's owner and from anyone the owner approved", async () => {
    const agentId = await newAgent();
    await expect(give(owner(), agentId, { value: 100n })).rejects.toThrow(/SelfFeedback/);

    const tokenOperator = chain.account(4);
    await chain.write(owner(), { ...identity, functionName: "approve", args: [tokenOperator.address, agentId] });
    await expect(give(tokenOperator, agentId, { value: 100n })).rejects.toThrow(/SelfFeedback/);

    const allOperator = chain.account(5);
    await chain.write(owner(), {
      ...identity,
      functionName: "setApprovalForAll",
      args: [allOperator.address, true],
    });
    await expect(give(allOperator, agentId, { value: 100n })).rejects.toThrow(/SelfFeedback/);
    expect(await chain.read({ ...reputation, functionName: "getClients", args: [agentId] })).toEqual([]);
  });

  it("rejects bad input: unknown agent, decimals over 18, out-of-range value, empty client list", async () => {
    const agentId = await newAgent();
    await expect(give(coordinatorA(), 999_999n, { value: 1n })).rejects.toThrow(/AgentNotFound/);
    await expect(give(coordinatorA(), agentId, { value: 1n, decimals: 19 })).rejects.toThrow(/InvalidValueDecimals/);
    await expect(give(coordinatorA(), agentId, { value: 10n ** 38n + 1n })).rejects.toThrow(/ValueOutOfRange/);
    await expect(summary(agentId, [])).rejects.toThrow(/EmptyClientList/);
    // The limits themselves are accepted.
    await give(coordinatorA(), agentId, { value: -(10n ** 38n), decimals: 18 });
    expect(await summary(agentId, [coordinatorA().address])).toEqual([1n, -(10n ** 38n), 18]);
  });

  it("drops decimals instead of overflowing when mixed precisions exceed int128", async () => {
    const agentId = await newAgent();
    await give(coordinatorA(), agentId, { value: 10n ** 38n });
    await give(coordinatorA(), agentId, { value: 10n ** 38n, decimals: 18 });
    // Average is (1e38 + 1e20) / 2 = 5e37 + 5e19 whole units: at 1 decimal or more it exceeds int128.
    expect(await summary(agentId, [coordinatorA().address])).toEqual([2n, 5n * 10n ** 37n + 5n * 10n ** 19n, 0]);
  });
});
