import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createPublicClient, getAddress, type Hex, http } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Anvil, startAnvil } from "./anvil.ts";
import { receiptAnchorAbi } from "./artifacts/abis.ts";
import { devAccount, devPrivateKey } from "./test-chain.ts";

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "deploy-anchor.ts");
const run = promisify(execFile);

/** Runs the CLI as a user would; resolves with its exit code and both streams. */
async function deployAnchor(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [SCRIPT, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("contracts:deploy-anchor", () => {
  let anvil: Anvil;
  beforeAll(async () => {
    anvil = await startAnvil();
  });
  afterAll(() => anvil?.stop());

  it("deploys ReceiptAnchor with the given anchorers and prints only its address", async () => {
    const [a, b] = [devAccount(1).address, devAccount(2).address];
    const out = await deployAnchor(["--rpc", anvil.rpcUrl, "--chain-id", String(anvil.chainId), "--anchorer", a, "--anchorer", b], {
      DEPLOYER_KEY: devPrivateKey(0),
    });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^0x[0-9a-fA-F]{40}\n$/);
    const address = getAddress(out.stdout.trim());
    expect(out.stderr).toContain(`RECEIPT_ANCHOR = "${address}"`);

    const client = createPublicClient({ transport: http(anvil.rpcUrl) });
    const read = (functionName: "isAnchorer", who: Hex) =>
      client.readContract({ address, abi: receiptAnchorAbi, functionName, args: [who] });
    expect(await read("isAnchorer", a)).toBe(true);
    expect(await read("isAnchorer", b)).toBe(true);
    expect(await read("isAnchorer", devAccount(0).address)).toBe(false);
    expect(await client.readContract({ address, abi: receiptAnchorAbi, functionName: "owner" })).toBe(devAccount(0).address);
  });

  it("refuses another chain than the one named, a key on the command line, and an unfunded deployer", async () => {
    const anchorer = devAccount(1).address;
    const wrongChain = await deployAnchor(["--rpc", anvil.rpcUrl, "--chain-id", "1", "--anchorer", anchorer], {
      DEPLOYER_KEY: devPrivateKey(0),
    });
    expect(wrongChain.code).toBe(1);
    expect(wrongChain.stderr).toContain(`is chain ${anvil.chainId}, not 1: refusing to deploy`);

    const noKey = await deployAnchor(["--rpc", anvil.rpcUrl, "--key", devPrivateKey(0), "--anchorer", anchorer], { DEPLOYER_KEY: "" });
    expect(noKey.code).toBe(2);
    expect(noKey.stdout).toBe("");

    const unfunded = await deployAnchor(["--rpc", anvil.rpcUrl, "--anchorer", anchorer], { DEPLOYER_KEY: `0x${"42".repeat(32)}` });
    expect(unfunded.code).toBe(1);
    expect(unfunded.stderr).toContain("has no gas");
  });
});
