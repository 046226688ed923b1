import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { address, createSolanaRpc, devnet } from "@solana/kit";
import { fetchMint } from "@solana-program/token";
import { createPublicClient, type Hex, http } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { identityRegistryAbi, localUsdcAbi } from "../contracts/artifacts/abis.ts";
import { NETWORKS } from "../protocol/chains.ts";
import { LocalNetwork } from "../protocol/local-network.ts";
import { EVM_ACCOUNT_INDEX, evmDevAccount } from "./evm.ts";
import { type RunningLocalNetwork, startLocalNetwork } from "./local-network.ts";

const USDC_PER_SEEKER = 250_000_000n;

let dir: string;
let file: string;
let local: RunningLocalNetwork;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "dispatch-local-network-"));
  file = join(dir, "nested", "local-network.json");
  local = await startLocalNetwork({ seekers: 2, usdcPerSeeker: USDC_PER_SEEKER, file });
});
afterAll(async () => {
  await local?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("startLocalNetwork", () => {
  it("writes one file that parses with the protocol schema and matches what is running", async () => {
    const written = LocalNetwork.parse(JSON.parse(await readFile(file, "utf8")));
    expect(written).toEqual(local.network);
    expect(written.chains.monad).toMatchObject({ network: NETWORKS.monad, chainId: 10143 });
    expect(written.chains.solana).toMatchObject({
      network: NETWORKS.solana,
      usdc: { mint: "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU", decimals: 6 },
    });
    expect(written.chains.monad.seekers).toHaveLength(2);
    expect(written.chains.solana.seekers).toHaveLength(2);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it("uses the documented anvil accounts for each role", () => {
    const monad = local.network.chains.monad;
    expect(monad.payee).toBe(evmDevAccount(EVM_ACCOUNT_INDEX.payee).address);
    expect(monad.coordinator).toEqual(evmDevAccount(EVM_ACCOUNT_INDEX.coordinator));
    expect(monad.facilitator).toBe(evmDevAccount(EVM_ACCOUNT_INDEX.facilitator).address);
    expect(monad.seekers[1]).toEqual(evmDevAccount(EVM_ACCOUNT_INDEX.firstSeeker + 1));
  });

  it("deploys the contracts on anvil and funds the EVM seekers, not the payee", async () => {
    const monad = local.network.chains.monad;
    const client = createPublicClient({ transport: http(monad.rpcUrl) });
    const usdc = monad.usdc.address as Hex;
    const read = (owner: string) =>
      client.readContract({ address: usdc, abi: localUsdcAbi, functionName: "balanceOf", args: [owner as Hex] });
    expect(await client.readContract({ address: usdc, abi: localUsdcAbi, functionName: "name" })).toBe(monad.usdc.name);
    expect(await client.readContract({ address: usdc, abi: localUsdcAbi, functionName: "decimals" })).toBe(6);
    for (const seeker of monad.seekers) expect(await read(seeker.address)).toBe(USDC_PER_SEEKER);
    expect(await read(monad.payee)).toBe(0n);
    // The registry answers (a view on a fresh registry), so the address is a live contract.
    expect(await client.getCode({ address: monad.contracts.identityRegistry as Hex })).not.toBe("0x");
    expect(identityRegistryAbi.length).toBeGreaterThan(0);
  });

  it("serves LiteSVM over JSON-RPC: the devnet USDC mint, seeker balances and a blockhash", async () => {
    const solana = local.network.chains.solana;
    const rpc = createSolanaRpc(devnet(solana.rpcUrl));
    const mint = await fetchMint(rpc, address(solana.usdc.mint));
    expect(mint.data.decimals).toBe(6);
    expect(mint.programAddress).toBe(solana.usdc.tokenProgram);
    for (const seeker of solana.seekers) expect(await local.svm.usdcBalance(seeker.address)).toBe(USDC_PER_SEEKER);
    expect(await local.svm.usdcBalance(solana.payee)).toBe(0n);
    const { value } = await rpc.getLatestBlockhash().send();
    expect(value.blockhash).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
    const feePayer = await rpc.getBalance(address(solana.feePayer)).send();
    expect(feePayer.value).toBeGreaterThan(0n);
  });

  it("answers unknown RPC methods with a JSON-RPC error instead of failing the connection", async () => {
    const res = await fetch(local.network.chains.solana.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 7, method: "getStakeActivation", params: [] }),
    });
    expect(await res.json()).toMatchObject({ id: 7, error: { code: -32601 } });
  });
});

describe("stopping the local network", () => {
  it("stops every service and removes the file, and can be called twice", async () => {
    const other = await startLocalNetwork({ seekers: 0, file: join(dir, "other.json") });
    const urls = [other.network.facilitatorUrl, other.network.chains.monad.rpcUrl, other.network.chains.solana.rpcUrl];
    await other.stop();
    await other.stop();
    await expect(stat(join(dir, "other.json"))).rejects.toThrow(/ENOENT/);
    for (const url of urls) await expect(fetch(url, { method: "POST", body: "{}" })).rejects.toThrow();
  });
});
