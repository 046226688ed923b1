import { spawnSync } from "node:child_process";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runTask } from "./run-task.ts";
import { TaskPool } from "./task-pool.ts";

const PAYLOADS = [
  { task_type: "classify", input: "The app crashes every time I open the settings page.", labels: ["billing", "bug", "account", "praise"] },
  { task_type: "classify", input: "No rush, this is not urgent at all.", labels: ["urgent", "not urgent"] },
  { task_type: "classify", input: "What a wonderful, generous gift. Thank you!" },
  {
    task_type: "summarize",
    input:
      "The council approved the transport budget. Buses will run every ten minutes. A bakery changed its hours. The budget funds three tram lines. The mayor praised the transport vote.",
    max_sentences: 2,
  },
];

const pools: TaskPool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

describe("TASK determinism", () => {
  it("gives byte-identical outputs in two thread pools and in another process", async () => {
    const here = JSON.stringify(PAYLOADS.map((p) => runTask(p)));
    for (let i = 0; i < 2; i++) {
      const pool = new TaskPool(1);
      pools.push(pool);
      const outs = await Promise.all(PAYLOADS.map((p) => pool.run(p, { timeoutMs: 20_000 })));
      expect(JSON.stringify(outs)).toBe(here);
    }
    // A fresh process: nothing cached, labels and vectors loaded anew.
    const script = `import { runTask } from "./run-task.ts"; process.stdout.write(JSON.stringify(JSON.parse(process.argv[1]).map((p) => runTask(p))));`;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script, JSON.stringify(PAYLOADS)], {
      cwd: path.dirname(new URL(import.meta.url).pathname),
      encoding: "utf8",
    });
    expect(child.stderr).toBe("");
    expect(child.stdout).toBe(here);
  });
});
