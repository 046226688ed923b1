import type { LocalNetwork } from "../protocol/index.ts";
import { evmDevAccount } from "./evm.ts";

/**
 * The coordinator's `[vars]` for a local network: x402 payments through its facilitator and,
 * with `trustLayer`, ERC-8004 and receipt anchoring on its anvil. Local test keys only.
 */
export function coordinatorVars(network: LocalNetwork, options: { trustLayer?: boolean } = {}): Record<string, string> {
  const { monad, solana } = network.chains;
  const vars: Record<string, string> = {
    PAYMENTS_MODE: "x402",
    FACILITATOR_URL: network.facilitatorUrl,
    PAY_TO_MONAD: monad.payee,
    ASSET_MONAD: monad.usdc.address,
    ASSET_NAME_MONAD: monad.usdc.name,
    ASSET_VERSION_MONAD: monad.usdc.version,
    PAY_TO_SOLANA: solana.payee,
    ASSET_SOLANA: solana.usdc.mint,
    // Payouts, refunds and resolving settlements whose answer was lost go through each chain's RPC
    // from its treasury (the payee's local test keys).
    RPC_URL_MONAD: monad.rpcUrl,
    RPC_URL_SOLANA: solana.rpcUrl,
    TREASURY_KEY_MONAD: monad.treasury.privateKey,
    TREASURY_KEY_SOLANA: solana.treasury.secretKey,
  };
  if (!options.trustLayer) return vars;
  // One signing key per chain object keeps their nonces apart; the deployer may anchor too.
  const solanaSigner = evmDevAccount(0);
  return {
    ...vars,
    EVM_RPC_URL: monad.rpcUrl,
    IDENTITY_REGISTRY: monad.contracts.identityRegistry,
    REPUTATION_REGISTRY: monad.contracts.reputationRegistry,
    RECEIPT_ANCHOR: monad.contracts.receiptAnchor,
    COORDINATOR_KEY_MONAD: monad.coordinator.privateKey,
    COORDINATOR_KEY_SOLANA: solanaSigner.privateKey,
    REPUTATION_CLIENTS: `${monad.coordinator.address},${solanaSigner.address}`,
  };
}
