// The settings registry (coordinator/settings-registry.ts) is the one list of variables: these
// tests fail when wrangler.toml, the generated Env, the README or the coordinator's code disagree with it.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { coordinatorVars } from "../chains/coordinator-vars.ts";
import { SETTING_NAMES, SETTINGS, type SettingName, type SettingSpec } from "../coordinator/settings-registry.ts";
import type { LocalNetwork } from "../protocol/index.ts";
import { checkProfile, PROFILE_NAMES, readProfile } from "../scripts/deploy-profiles.ts";
import { README, readmeWithTable } from "../scripts/settings-docs.ts";
import { runWrangler, TYPES_ARGS } from "../scripts/wrangler-env.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BINDINGS = ["CHAIN", "ASSETS"];
const registered = (name: string): boolean => Object.hasOwn(SETTINGS, name);

describe("the settings registry", () => {
  it("is what the README's settings table says, row for row", () => {
    const readme = readFileSync(README, "utf8");
    expect(readme, "run `npm run settings:docs`").toBe(readmeWithTable(readme));
    for (const name of SETTING_NAMES) expect(readme).toContain(`| \`${name}\``);
  });

  it("knows every var and secret of every wrangler.toml profile, and each profile is complete", () => {
    for (const name of PROFILE_NAMES) {
      const profile = readProfile(name);
      for (const v of [...Object.keys(profile.vars), ...profile.secrets]) expect(registered(v), `${name}: ${v}`).toBe(true);
      expect(checkProfile(profile).errors, name).toEqual([]);
    }
  });

  it("has a generated Env that is current with wrangler.toml (`npm run types`)", () => {
    const check = runWrangler([...TYPES_ARGS, "--check"]);
    expect(check.status, check.output).toBe(0);
  });

  it("knows every var in the generated Env", () => {
    const generated = readFileSync(path.join(root, "coordinator", "worker-configuration.d.ts"), "utf8");
    const names = [...generated.matchAll(/^\t+([A-Z][A-Z0-9_]*)\??: /gm)].map((m) => m[1] ?? "");
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(registered(name) || BINDINGS.includes(name), name).toBe(true);
  });

  it("knows every variable the coordinator's code reads", () => {
    const reads = new Set<string>();
    for (const file of sourceFiles(path.join(root, "coordinator"))) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/\benv\??\.([A-Z][A-Z0-9_]*)\b|\benv\[\s*["'`]([A-Z][A-Z0-9_]*)["'`]\s*\]/g))
        reads.add(m[1] ?? m[2] ?? "");
    }
    expect(reads.has("CHAIN")).toBe(true);
    for (const name of reads) expect(registered(name) || BINDINGS.includes(name), name).toBe(true);
  });

  it("gets from `npm start` every setting the local profile needs", () => {
    const vars = { ...readProfile("local").vars, ...coordinatorVars(sampleNetwork(), { trustLayer: true }) };
    for (const name of SETTING_NAMES) {
      const spec: SettingSpec = SETTINGS[name];
      if (spec.needs.includes("local")) expect(vars[name], name).toBeTruthy();
      if (vars[name]) expect(() => spec.parse(name, vars[name] ?? ""), name).not.toThrow();
    }
  });

  it("tells the README's deploy walkthrough to put every testnet secret", () => {
    const readme = readFileSync(README, "utf8");
    const secrets = SETTING_NAMES.filter((n: SettingName) => (SETTINGS[n] as SettingSpec).secret && SETTINGS[n].needs.includes("testnet"));
    expect(secrets.length).toBeGreaterThan(0);
    for (const name of secrets) expect(readme).toContain(`wrangler secret put ${name} --env testnet`);
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((f) => f.isFile() && f.name.endsWith(".ts") && !f.name.endsWith(".d.ts") && !f.name.endsWith(".test.ts"))
    .map((f) => path.join(f.parentPath, f.name))
    .filter((f) => !f.includes(`${path.sep}test${path.sep}`));
}

/** A local network description as `npm start` writes it (addresses only matter for their format). */
function sampleNetwork(): LocalNetwork {
  const evm = (n: number): string => `0x${n.toString(16).padStart(40, "0")}`;
  const key = `0x${"11".repeat(32)}`;
  const svm = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU";
  return {
    version: 1,
    createdAt: new Date(0).toISOString(),
    facilitatorUrl: "http://127.0.0.1:4022",
    chains: {
      monad: {
        network: "eip155:10143",
        chainId: 10143,
        rpcUrl: "http://127.0.0.1:8545",
        contracts: { identityRegistry: evm(1), reputationRegistry: evm(2), receiptAnchor: evm(3), multicall3: evm(4) },
        usdc: { address: evm(5), name: "USD Coin", version: "2", decimals: 6 },
        payee: evm(6),
        treasury: { address: evm(6), privateKey: key },
        coordinator: { address: evm(7), privateKey: key },
        facilitator: evm(8),
        seekers: [],
      },
      solana: {
        network: "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
        rpcUrl: "http://127.0.0.1:8899",
        usdc: { mint: svm, decimals: 6, tokenProgram: svm },
        payee: svm,
        treasury: { address: svm, secretKey: "3".repeat(87) },
        feePayer: svm,
        seekers: [],
      },
    },
  };
}
