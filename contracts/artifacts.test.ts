import { beforeAll, describe, expect, it } from "vitest";
import { expectedArtifactFiles, staleArtifacts } from "./compile.ts";

describe("contracts/artifacts", () => {
  // One solc-js run (a few seconds) serves both tests.
  let expected: Map<string, string>;
  beforeAll(() => {
    expected = expectedArtifactFiles();
  });

  it("match what the pinned solc produces from contracts/src", () => {
    expect(staleArtifacts(expected)).toEqual([]);
    expect([...expected.keys()].sort()).toEqual([
      "IdentityRegistry.json",
      "LocalUsdc.json",
      "ReceiptAnchor.json",
      "ReputationRegistry.json",
      "abis.ts",
    ]);
  });

  it("flags an artifact whose bytecode no longer matches", () => {
    const tampered = new Map(expected);
    const usdc = JSON.parse(tampered.get("LocalUsdc.json") ?? "{}") as { deployedBytecode: string };
    usdc.deployedBytecode = `${usdc.deployedBytecode}00`;
    tampered.set("LocalUsdc.json", `${JSON.stringify(usdc, null, 2)}\n`);
    expect(staleArtifacts(tampered)).toEqual(["LocalUsdc.json"]);
  });
});
