import { type Address, type Hex, parseEventLogs, stringToHex, zeroAddress } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { identityRegistryAbi } from "./artifacts/abis.ts";
import { startTestChain, type TestChain } from "./test-chain.ts";

const ED25519_KEY = "dispatch.ed25519";
const workerPubkey: Hex = `0x${"ab".repeat(32)}`;

describe("IdentityRegistry", () => {
  let chain: TestChain;
  let registry: { address: Address; abi: typeof identityRegistryAbi };
  const worker = () => chain.account(1);
  const stranger = () => chain.account(2);

  beforeAll(async () => {
    chain = await startTestChain();
    registry = { address: chain.deployment.identityRegistry, abi: identityRegistryAbi };
  });
  afterAll(() => chain?.stop());

  async function registerAgent(uri: string, metadata: { metadataKey: string; metadataValue: Hex }[]) {
    const logs = await chain.write(worker(), { ...registry, functionName: "register", args: [uri, metadata] });
    const [registered] = parseEventLogs({ abi: identityRegistryAbi, logs, eventName: "Registered" });
    if (!registered) throw new Error("no Registered event");
    return { agentId: registered.args.agentId, logs, registered };
  }

  it("registers an agent as an ERC-721 owned by the caller, with URI and metadata", async () => {
    const { agentId, logs, registered } = await registerAgent("ipfs://agent-card", [
      { metadataKey: ED25519_KEY, metadataValue: workerPubkey },
    ]);
    expect(agentId).toBeGreaterThan(0n);
    expect(registered.args.owner).toBe(worker().address);
    expect(registered.args.agentURI).toBe("ipfs://agent-card");
    expect(await chain.read({ ...registry, functionName: "ownerOf", args: [agentId] })).toBe(worker().address);
    expect(await chain.read({ ...registry, functionName: "tokenURI", args: [agentId] })).toBe("ipfs://agent-card");
    expect(await chain.read({ ...registry, functionName: "getMetadata", args: [agentId, ED25519_KEY] })).toBe(workerPubkey);
    const metadataSet = parseEventLogs({ abi: identityRegistryAbi, logs, eventName: "MetadataSet" });
    expect(metadataSet.map((e) => e.args.metadataKey)).toContain(ED25519_KEY);
    // The registering account is the agent's wallet until it proves another one.
    expect(await chain.read({ ...registry, functionName: "getAgentWallet", args: [agentId] })).toBe(worker().address);
  });

  it("gives each registration overload a fresh, increasing agent id", async () => {
    const first = await chain.write(worker(), { ...registry, functionName: "register", args: [] });
    const second = await chain.write(worker(), { ...registry, functionName: "register", args: ["https://a.example"] });
    const [a] = parseEventLogs({ abi: identityRegistryAbi, logs: first, eventName: "Registered" });
    const [b] = parseEventLogs({ abi: identityRegistryAbi, logs: second, eventName: "Registered" });
    expect(b?.args.agentId).toBe((a?.args.agentId ?? 0n) + 1n);
    expect(await chain.read({ ...registry, functionName: "balanceOf", args: [worker().address] })).toBeGreaterThanOrEqual(2n);
  });

  it("lets only the owner or an approved operator change metadata and URI", async () => {
    const { agentId } = await registerAgent("ipfs://v1", []);
    const setKey = { ...registry, functionName: "setMetadata", args: [agentId, ED25519_KEY, workerPubkey] } as const;
    await expect(chain.write(stranger(), setKey)).rejects.toThrow(/NotAgentOperator/);
    await expect(chain.write(stranger(), { ...registry, functionName: "setAgentURI", args: [agentId, "ipfs://evil"] })).rejects.toThrow(
      /NotAgentOperator/,
    );

    await chain.write(worker(), { ...registry, functionName: "approve", args: [stranger().address, agentId] });
    await chain.write(stranger(), setKey);
    expect(await chain.read({ ...registry, functionName: "getMetadata", args: [agentId, ED25519_KEY] })).toBe(workerPubkey);

    const logs = await chain.write(worker(), { ...registry, functionName: "setAgentURI", args: [agentId, "ipfs://v2"] });
    const [updated] = parseEventLogs({ abi: identityRegistryAbi, logs, eventName: "URIUpdated" });
    expect(updated?.args).toMatchObject({ agentId, newURI: "ipfs://v2", updatedBy: worker().address });
    expect(await chain.read({ ...registry, functionName: "tokenURI", args: [agentId] })).toBe("ipfs://v2");
  });

  it("reserves the agentWallet key for wallets that prove control with an EIP-712 signature", async () => {
    const { agentId } = await registerAgent("", []);
    const newWallet = chain.account(5);
    await expect(
      chain.write(worker(), {
        ...registry,
        functionName: "setMetadata",
        args: [agentId, "agentWallet", stringToHex("forged")],
      }),
    ).rejects.toThrow(/ReservedMetadataKey/);

    const deadline = chain.now() + 60n;
    const message = { agentId, newWallet: newWallet.address, owner: worker().address, deadline };
    const sign = (signer: typeof newWallet) =>
      signer.signTypedData({
        domain: {
          name: "ERC8004IdentityRegistry",
          version: "1",
          chainId: chain.anvil.chainId,
          verifyingContract: registry.address,
        },
        types: {
          AgentWalletSet: [
            { name: "agentId", type: "uint256" },
            { name: "newWallet", type: "address" },
            { name: "owner", type: "address" },
            { name: "deadline", type: "uint256" },
          ],
        },
        primaryType: "AgentWalletSet",
        message,
      });
    const setWallet = (signature: Hex) =>
      chain.write(worker(), {
        ...registry,
        functionName: "setAgentWallet",
        args: [agentId, newWallet.address, deadline, signature],
      });

    await expect(setWallet(await sign(stranger()))).rejects.toThrow(/InvalidWalletSignature/);
    await setWallet(await sign(newWallet));
    expect(await chain.read({ ...registry, functionName: "getAgentWallet", args: [agentId] })).toBe(newWallet.address);
    expect(await chain.read({ ...registry, functionName: "getMetadata", args: [agentId, "agentWallet"] })).toBe(
      newWallet.address.toLowerCase(),
    );

    // A transfer must not hand the verified wallet to the new owner.
    await chain.write(worker(), {
      ...registry,
      functionName: "transferFrom",
      args: [worker().address, stranger().address, agentId],
    });
    expect(await chain.read({ ...registry, functionName: "getAgentWallet", args: [agentId] })).toBe(zeroAddress);
  });
});
