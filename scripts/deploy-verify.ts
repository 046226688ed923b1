// `npm run deploy:verify [-- --env testnet] [--solana-rpc URL]`: checks a profile's public
// addresses against the chains themselves before you rely on them: the EVM RPC is Monad's chain,
// the USDC token's EIP-712 domain is what the profile says, the ERC-8004 registries and the
// receipt anchor are contracts (and the reputation registry points at the identity registry), each
// facilitator settles `exact` on its chain, the Solana mint is a 6-decimal mint, and the Solana
// payee can receive it. Needs network access to the chains (not available in CI).
import { createSolanaRpc, address as svmAddress } from "@solana/kit";
import { fetchMaybeMint, fetchMaybeToken, findAssociatedTokenPda, TOKEN_PROGRAM_ADDRESS } from "@solana-program/token";
import { createPublicClient, getAddress, http, isAddressEqual, parseAbi } from "viem";
import { NETWORKS } from "../protocol/index.ts";

export interface Check {
  what: string;
  ok: boolean;
  detail: string;
}

const erc20 = parseAbi([
  "function name() view returns (string)",
  "function version() view returns (string)",
  "function decimals() view returns (uint8)",
]);
const reputation = parseAbi(["function getIdentityRegistry() view returns (address)"]);
const MONAD_CHAIN_ID = Number(NETWORKS.monad.split(":")[1]);

/** Runs every check the vars allow; never throws (a failing look-up is a failed check). */
export async function verifyChainSettings(vars: Record<string, string>, options: { solanaRpc?: string } = {}): Promise<Check[]> {
  const checks: Check[] = [];
  const check = async (what: string, run: () => Promise<string>): Promise<void> => {
    try {
      checks.push({ what, ok: true, detail: await run() });
    } catch (err) {
      checks.push({ what, ok: false, detail: (err as Error).message.split("\n")[0] ?? "" });
    }
  };
  const expect = (ok: boolean, message: string): void => {
    if (!ok) throw new Error(message);
  };

  if (vars.EVM_RPC_URL) {
    const client = createPublicClient({ transport: http(vars.EVM_RPC_URL, { retryCount: 1, timeout: 15_000 }) });
    const contract = async (name: string, address: string | undefined): Promise<`0x${string}`> => {
      expect(!!address, `${name} is not set`);
      const code = await client.getCode({ address: getAddress(address ?? "") });
      expect(!!code && code !== "0x", `no contract at ${address} (${name})`);
      return getAddress(address ?? "");
    };
    await check(`EVM_RPC_URL ${vars.EVM_RPC_URL}`, async () => {
      const id = await client.getChainId();
      expect(id === MONAD_CHAIN_ID, `chain id ${id}, expected ${MONAD_CHAIN_ID} (${NETWORKS.monad})`);
      return `chain ${id}`;
    });
    if (vars.ASSET_MONAD) {
      await check(`ASSET_MONAD ${vars.ASSET_MONAD}`, async () => {
        const address = await contract("ASSET_MONAD", vars.ASSET_MONAD);
        const [name, version, decimals] = await Promise.all(
          (["name", "version", "decimals"] as const).map((functionName) => client.readContract({ address, abi: erc20, functionName })),
        );
        expect(
          name === vars.ASSET_NAME_MONAD,
          `name() is ${JSON.stringify(name)}, ASSET_NAME_MONAD says ${JSON.stringify(vars.ASSET_NAME_MONAD)}`,
        );
        expect(
          version === vars.ASSET_VERSION_MONAD,
          `version() is ${JSON.stringify(version)}, ASSET_VERSION_MONAD says ${JSON.stringify(vars.ASSET_VERSION_MONAD)}`,
        );
        expect(decimals === 6, `decimals() is ${decimals}, prices assume 6`);
        return `EIP-712 "${name}" v${version}, ${decimals} decimals`;
      });
    }
    await check(`IDENTITY_REGISTRY ${vars.IDENTITY_REGISTRY ?? ""}`, async () => {
      await contract("IDENTITY_REGISTRY", vars.IDENTITY_REGISTRY);
      return "contract";
    });
    await check(`REPUTATION_REGISTRY ${vars.REPUTATION_REGISTRY ?? ""}`, async () => {
      const address = await contract("REPUTATION_REGISTRY", vars.REPUTATION_REGISTRY);
      const identity = await client.readContract({ address, abi: reputation, functionName: "getIdentityRegistry" });
      expect(
        isAddressEqual(identity, getAddress(vars.IDENTITY_REGISTRY ?? "")),
        `it points at identity registry ${identity}, not IDENTITY_REGISTRY`,
      );
      return "contract, bound to IDENTITY_REGISTRY";
    });
    if (vars.RECEIPT_ANCHOR) {
      await check(`RECEIPT_ANCHOR ${vars.RECEIPT_ANCHOR}`, async () => {
        await contract("RECEIPT_ANCHOR", vars.RECEIPT_ANCHOR);
        return "contract";
      });
    }
  }

  for (const [chain, network] of Object.entries(NETWORKS)) {
    const url = vars[`FACILITATOR_URL_${chain.toUpperCase()}`] || vars.FACILITATOR_URL;
    if (!url) continue;
    await check(`facilitator for ${chain} ${url}`, async () => {
      const res = await fetch(`${url.replace(/\/+$/, "")}/supported`, { signal: AbortSignal.timeout(15_000) });
      expect(res.ok, `GET /supported answered ${res.status}`);
      const body = (await res.json()) as { kinds?: { scheme?: string; network?: string; x402Version?: number }[] };
      const kind = body.kinds?.find((k) => k.scheme === "exact" && k.network === network && k.x402Version === 2);
      expect(!!kind, `it does not list x402 v2 "exact" on ${network}`);
      return `x402 v2 exact on ${network}`;
    });
  }

  if (vars.ASSET_SOLANA && options.solanaRpc) {
    const rpc = createSolanaRpc(options.solanaRpc);
    await check(`ASSET_SOLANA ${vars.ASSET_SOLANA}`, async () => {
      const mint = await fetchMaybeMint(rpc, svmAddress(vars.ASSET_SOLANA ?? ""));
      expect(mint.exists, `no mint at ${vars.ASSET_SOLANA} on ${options.solanaRpc}`);
      expect(mint.exists && mint.data.decimals === 6, "the mint does not have 6 decimals");
      return "6-decimal mint";
    });
    if (vars.PAY_TO_SOLANA) {
      await check(`PAY_TO_SOLANA ${vars.PAY_TO_SOLANA}`, async () => {
        const [ata] = await findAssociatedTokenPda({
          mint: svmAddress(vars.ASSET_SOLANA ?? ""),
          owner: svmAddress(vars.PAY_TO_SOLANA ?? ""),
          tokenProgram: TOKEN_PROGRAM_ADDRESS,
        });
        const account = await fetchMaybeToken(rpc, ata);
        // x402's SVM transfer pays into the payee's associated token account; it must already exist.
        expect(account.exists, `its USDC token account ${ata} does not exist: create it (e.g. receive any USDC once)`);
        return `USDC token account ${ata}`;
      });
    }
  }
  return checks;
}

if (import.meta.main) {
  const { parseArgs } = await import("node:util");
  const { readProfile } = await import("./deploy-profiles.ts");
  const { values } = parseArgs({ options: { env: { type: "string", default: "testnet" }, "solana-rpc": { type: "string" } } });
  const env = values.env === "local" || values.env === "testnet" ? values.env : "default";
  const solanaRpc = values["solana-rpc"] ?? (env === "testnet" ? "https://api.devnet.solana.com" : undefined);
  const checks = await verifyChainSettings(readProfile(env).vars, { solanaRpc });
  for (const c of checks) console.log(`  ${c.ok ? "✓" : "✗"} ${c.what}: ${c.detail}`);
  if (checks.length === 0) console.log(`  nothing to verify in the ${env} profile`);
  process.exit(checks.every((c) => c.ok) ? 0 : 1);
}
