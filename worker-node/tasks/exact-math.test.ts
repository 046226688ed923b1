import { describe, expect, it } from "vitest";
import { exactExp, softmax } from "./exact-math.ts";

describe("exact math", () => {
  it("agrees with Math.exp to within a few units in the last place", () => {
    for (let x = -50; x <= 50; x += 0.37) {
      const want = Math.exp(x);
      expect(Math.abs(exactExp(x) - want) / want, `x = ${x}`).toBeLessThan(1e-15);
    }
    expect(exactExp(0)).toBe(1);
    expect(exactExp(-800)).toBe(0);
  });

  it("turns logits into probabilities that sum to 1 and keep their order", () => {
    const p = softmax([2, 1, 0, -1]);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect([...p].sort((a, b) => b - a)).toEqual(p);
    expect(softmax([3, 3])).toEqual([0.5, 0.5]);
  });
});
