import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const NODE_BUILTINS = new Set(builtinModules);

/** Every local file reachable from `entry` through static imports, with the bare specifiers each names. */
function importGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const visit = (file: string) => {
    if (graph.has(file)) return;
    const source = readFileSync(file, "utf8");
    const specifiers = [...source.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1] ?? "");
    graph.set(
      file,
      specifiers.filter((s) => !s.startsWith(".")),
    );
    for (const spec of specifiers) if (spec.startsWith(".")) visit(resolve(dirname(file), spec));
  };
  visit(entry);
  return graph;
}

describe("the SDK core", () => {
  it("imports no Node built-in anywhere in its graph, so browsers and Workers can load it", () => {
    const graph = importGraph(fileURLToPath(new URL("./index.ts", import.meta.url)));
    expect(graph.size).toBeGreaterThan(5);
    const offenders = [...graph].flatMap(([file, specs]) =>
      specs.filter((s) => s.startsWith("node:") || NODE_BUILTINS.has(s)).map((s) => `${file}: ${s}`),
    );
    expect(offenders).toEqual([]);
  });

  it("keeps the Node-only identity file helper out of the core graph", () => {
    const graph = importGraph(fileURLToPath(new URL("./index.ts", import.meta.url)));
    expect([...graph.keys()].some((f) => f.endsWith("identity-file.ts"))).toBe(false);
  });
});
