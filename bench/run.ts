// `npm run bench [-- --quick]`: every benchmark, figures printed to stdout.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { coordinatorBench } from "./coordinator-load.ts";

const quick = process.argv.includes("--quick");
const only = process.argv.find((a) => a.startsWith("--only="))?.slice(7);
const here = path.dirname(fileURLToPath(import.meta.url));

console.log(`# Dispatch benchmarks (${new Date().toISOString()}, node ${process.version}, ${quick ? "quick" : "full"})`);
if (!only || only === "coordinator") {
  console.log("\n## Coordinator: commit -> assign -> complete -> long-poll result");
  await coordinatorBench(quick);
}
// Worker-side benchmarks live beside the worker code's own bench file.
const workerBench = path.join(here, "worker-tasks.ts");
if ((!only || only === "worker") && existsSync(workerBench)) {
  console.log("\n## Worker node");
  const mod = (await import(workerBench)) as { workerBench?: (quick: boolean) => Promise<void> };
  if (mod.workerBench) await mod.workerBench(quick);
}
process.exit(0);
