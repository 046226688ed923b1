// deploy:verify against the local stand-ins of the testnet: anvil with our contracts, LiteSVM
// with USDC at the devnet address, and the local facilitator.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { coordinatorVars } from "../chains/coordinator-vars.ts";
import { type RunningLocalNetwork, startLocalNetwork } from "../chains/local-network.ts";
import { verifyChainSettings } from "../scripts/deploy-verify.ts";

describe("deploy:verify", () => {
  let net: RunningLocalNetwork;
  let vars: Record<string, string>;
  beforeAll(async () => {
    net = await startLocalNetwork({ file: false, seekers: 1 });
    vars = coordinatorVars(net.network, { trustLayer: true });
  }, 60_000);
  afterAll(() => net?.stop());

  it("confirms every address and facilitator of a correct profile", async () => {
    const checks = await verifyChainSettings(vars, { solanaRpc: net.network.chains.solana.rpcUrl });
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.map((c) => c.what.split(" ")[0])).toEqual([
      "EVM_RPC_URL",
      "ASSET_MONAD",
      "IDENTITY_REGISTRY",
      "REPUTATION_REGISTRY",
      "RECEIPT_ANCHOR",
      "facilitator",
      "facilitator",
      "ASSET_SOLANA",
      "PAY_TO_SOLANA",
    ]);
  });

  it("says what is wrong with a wrong EIP-712 domain, a swapped registry and an address without a contract", async () => {
    const checks = await verifyChainSettings({
      ...vars,
      ASSET_NAME_MONAD: "USDC",
      REPUTATION_REGISTRY: vars.IDENTITY_REGISTRY ?? "",
      RECEIPT_ANCHOR: "0x000000000000000000000000000000000000dEaD",
    });
    const failed = Object.fromEntries(checks.filter((c) => !c.ok).map((c) => [c.what.split(" ")[0], c.detail]));
    expect(failed.ASSET_MONAD).toBe('name() is "USD Coin", ASSET_NAME_MONAD says "USDC"');
    expect(failed.REPUTATION_REGISTRY).toBeTruthy();
    expect(failed.RECEIPT_ANCHOR).toBe("no contract at 0x000000000000000000000000000000000000dEaD (RECEIPT_ANCHOR)");
  });
});
