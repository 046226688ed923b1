import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Abi, Hex } from "viem";

/** One compiled contract as committed under `contracts/artifacts/`. */
export type Artifact = {
  contractName: string;
  sourceName: string;
  compiler: { version: string; settings: typeof SETTINGS };
  abi: Abi;
  bytecode: Hex;
  deployedBytecode: Hex;
};

export const CONTRACTS_DIR = dirname(fileURLToPath(import.meta.url));
export const SOURCES_DIR = join(CONTRACTS_DIR, "src");
export const ARTIFACTS_DIR = join(CONTRACTS_DIR, "artifacts");

/** The exact compiler the committed artifacts were built with; a different one fails the check. */
export const SOLC_VERSION = "0.8.37+commit.f401782d.Emscripten.clang";

// No viaIR: it multiplies compile time and these contracts do not need it. Cancun is the
// newest fork both anvil's default and Monad's testnet execute.
const SETTINGS = {
  evmVersion: "cancun",
  optimizer: { enabled: true, runs: 200 },
} as const;

const require = createRequire(import.meta.url);

type SolcOutput = {
  errors?: { severity: "error" | "warning" | "info"; formattedMessage: string }[];
  contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>>;
};

type Solc = { version(): string; compile(input: string, callbacks: { import(path: string): unknown }): string };

/** Compiles every `contracts/src/*.sol` with the pinned solc-js; throws with solc's messages on any error. */
export function compileContracts(): Artifact[] {
  const solc = require("solc") as Solc;
  if (solc.version() !== SOLC_VERSION) {
    throw new Error(`solc ${solc.version()} is installed but artifacts pin ${SOLC_VERSION}: run npm ci`);
  }
  const files = readdirSync(SOURCES_DIR)
    .filter((f) => f.endsWith(".sol"))
    .sort();
  // Source names are repo-relative so the metadata hash in the bytecode is the same on every machine.
  const sources = Object.fromEntries(files.map((f) => [`contracts/src/${f}`, { content: readFileSync(join(SOURCES_DIR, f), "utf8") }]));
  const input = {
    language: "Solidity",
    sources,
    settings: {
      ...SETTINGS,
      outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: readImport })) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) throw new Error(`solc failed:\n${errors.map((e) => e.formattedMessage).join("\n")}`);

  const artifacts: Artifact[] = [];
  for (const sourceName of Object.keys(sources)) {
    for (const [contractName, out] of Object.entries(output.contracts?.[sourceName] ?? {})) {
      artifacts.push({
        contractName,
        sourceName,
        compiler: { version: SOLC_VERSION, settings: SETTINGS },
        abi: out.abi,
        bytecode: `0x${out.evm.bytecode.object}`,
        deployedBytecode: `0x${out.evm.deployedBytecode.object}`,
      });
    }
  }
  return artifacts;
}

/** Serialized form of an artifact, stable so that the check can compare bytes. */
export function serializeArtifact(artifact: Artifact): string {
  return `${JSON.stringify(artifact, null, 2)}\n`;
}

// Only npm packages are importable (OpenZeppelin); everything else must live in contracts/src.
function readImport(path: string): { contents: string } | { error: string } {
  if (!path.startsWith("@openzeppelin/contracts/")) return { error: `import not allowed: ${path}` };
  try {
    return { contents: readFileSync(require.resolve(path), "utf8") };
  } catch (err) {
    return { error: `cannot read ${path}: ${(err as Error).message}` };
  }
}
