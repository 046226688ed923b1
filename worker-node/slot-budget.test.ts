import { describe, expect, it } from "vitest";
import { SlotBudget } from "./slot-budget.ts";

describe("slot budget", () => {
  it("hands a released slot to the longest waiter, in order", async () => {
    const budget = new SlotBudget(1);
    expect(budget.take()).toBe(true);
    const order: string[] = [];
    const signal = new AbortController().signal;
    const first = budget.acquire(Date.now() + 5_000, signal).then((ok) => order.push(`first ${ok}`));
    const second = budget.acquire(Date.now() + 5_000, signal).then((ok) => order.push(`second ${ok}`));
    budget.release();
    await first;
    expect(order).toEqual(["first true"]);
    expect(budget.used).toBe(1);
    budget.release();
    await second;
    expect(order).toEqual(["first true", "second true"]);
    budget.release();
    expect(budget.used).toBe(0);
  });

  it("gives up at its time limit or when aborted, and a slot freed later is not lost", async () => {
    const budget = new SlotBudget(1);
    budget.take();
    expect(await budget.acquire(Date.now() + 50, new AbortController().signal)).toBe(false);
    const controller = new AbortController();
    const aborted = budget.acquire(Date.now() + 5_000, controller.signal);
    controller.abort();
    expect(await aborted).toBe(false);
    budget.release();
    expect(budget.used).toBe(0);
    expect(budget.take()).toBe(true);
  });
});
