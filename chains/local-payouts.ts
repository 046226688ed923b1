import { createHash } from "node:crypto";
import { privateKeyToAccount } from "viem/accounts";
import type { Chain } from "../protocol/index.ts";
import { testKeypair } from "./svm-accounts.ts";

/**
 * Where a local worker's earnings go: a deterministic address per chain and label (an EVM account
 * derived from `sha256("dispatch-local-payout:<label>")`, a Solana keypair from the same kind of
 * seed), so `npm start` and the demo can show payouts landing. Public test derivations only.
 */
export async function localPayoutAddress(chain: Chain, label: string): Promise<string> {
  if (chain === "solana") return (await testKeypair(`payout-${label}`)).signer.address;
  const key = `0x${createHash("sha256").update(`dispatch-local-payout:${label}`).digest("hex")}` as `0x${string}`;
  return privateKeyToAccount(key).address;
}
