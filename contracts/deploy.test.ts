import { createPublicClient, http } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_CHAIN_ID, startAnvil } from "./anvil.ts";
import { identityRegistryAbi, localUsdcAbi, receiptAnchorAbi, reputationRegistryAbi } from "./artifacts/abis.ts";
import { deployAll, localChain, MULTICALL3_ADDRESS } from "./deploy.ts";
import { devAccount, devPrivateKey, startTestChain, type TestChain } from "./test-chain.ts";

describe("deployAll", () => {
  let chain: TestChain;
  const seekers = [devAccount(8).address, devAccount(9).address];

  beforeAll(async () => {
    chain = await startTestChain({ seekers, usdcPerSeeker: 25_000_000n, anchorers: [devAccount(4).address] });
  });
  afterAll(() => chain?.stop());

  it("runs anvil with Monad's chain id", async () => {
    expect(await chain.publicClient.getChainId()).toBe(LOCAL_CHAIN_ID);
  });

  it("wires the reputation registry to the identity registry and the configured anchorers", async () => {
    const { deployment } = chain;
    expect(
      await chain.read({
        address: deployment.reputationRegistry,
        abi: reputationRegistryAbi,
        functionName: "getIdentityRegistry",
        args: [],
      }),
    ).toBe(deployment.identityRegistry);
    const isAnchorer = (who: `0x${string}`) =>
      chain.read({ address: deployment.receiptAnchor, abi: receiptAnchorAbi, functionName: "isAnchorer", args: [who] });
    expect(await isAnchorer(devAccount(4).address)).toBe(true);
    expect(await isAnchorer(deployment.deployer)).toBe(false);
    expect(await chain.read({ address: deployment.identityRegistry, abi: identityRegistryAbi, functionName: "name", args: [] })).toBe(
      "AgentIdentity",
    );
  });

  it("funds every seeker and serves Multicall3 at its canonical address", async () => {
    // viem's multicall goes through Multicall3, so this only passes if the predeploy works.
    const balances = await chain.publicClient.multicall({
      contracts: seekers.map((seeker) => ({
        address: chain.deployment.usdc,
        abi: localUsdcAbi,
        functionName: "balanceOf",
        args: [seeker],
      })),
      allowFailure: false,
    });
    expect(balances).toEqual([25_000_000n, 25_000_000n]);
    expect(chain.deployment.multicall3).toBe(MULTICALL3_ADDRESS);
  });

  it("can deploy a second set on the same chain, reusing Multicall3", async () => {
    const again = await deployAll(chain.anvil.rpcUrl, devPrivateKey(0));
    expect(again.usdc).not.toBe(chain.deployment.usdc);
    expect(again.multicall3).toBe(MULTICALL3_ADDRESS);
  });
});

describe("startAnvil", () => {
  it("gives concurrent chains their own ports and frees them on stop", async () => {
    const [a, b] = await Promise.all([startAnvil(), startAnvil({ chainId: 31337 })]);
    try {
      expect(a.port).not.toBe(b.port);
      const client = createPublicClient({ chain: localChain(b.chainId, b.rpcUrl), transport: http(b.rpcUrl) });
      expect(await client.getChainId()).toBe(31337);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    await expect(fetch(a.rpcUrl, { method: "POST", body: "{}" })).rejects.toThrow();
    await a.stop();
  });
});
