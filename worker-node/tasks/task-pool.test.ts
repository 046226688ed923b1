import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTask } from "./run-task.ts";
import { TaskPool } from "./task-pool.ts";

const BIG = "The quick brown fox jumps over the lazy dog near the river bank. ".repeat(1_500);
let pool: TaskPool;

beforeAll(async () => {
  pool = new TaskPool(2);
  await pool.ready();
});
afterAll(async () => {
  await pool.close();
});

describe("task pool (worker threads)", () => {
  it("gives the same output as running the task in-process", async () => {
    const payload = { task_type: "classify", input: "What a lovely, generous gift. Thank you!" };
    expect(await pool.run(payload, { timeoutMs: 10_000 })).toEqual(runTask(payload));
  });

  it("runs more jobs than threads by queueing them", async () => {
    const outs = await Promise.all(
      ["great", "awful", "fine", "superb", "bad"].map((w) =>
        pool.run({ task_type: "classify", input: `It was ${w}.` }, { timeoutMs: 10_000 }),
      ),
    );
    expect(outs).toHaveLength(5);
    for (const out of outs) expect(out).toHaveProperty("label");
  });

  it("kills a task that overruns its time limit and keeps serving", async () => {
    const out = await pool.run({ task_type: "summarize", input: BIG }, { timeoutMs: 5 });
    expect(out).toEqual({ error: "task exceeded its 5 ms time limit", error_kind: "input" });
    expect(await pool.run({ task_type: "classify", input: "lovely" }, { timeoutMs: 10_000 })).toHaveProperty("label", "positive");
  });

  it("stops a task when its job is cancelled", async () => {
    const controller = new AbortController();
    const pending = pool.run({ task_type: "summarize", input: BIG }, { timeoutMs: 10_000, signal: controller.signal });
    controller.abort();
    expect(await pending).toEqual({ error: "task cancelled", error_kind: "worker" });
  });

  it("keeps the event loop free while a task runs", async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await pool.run({ task_type: "summarize", input: BIG }, { timeoutMs: 10_000 });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });
});
