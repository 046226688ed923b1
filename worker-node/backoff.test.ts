import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.ts";

describe("reconnect backoff", () => {
  it("grows exponentially up to the cap, with jitter in the upper half of each window", () => {
    const low = new Backoff({ baseMs: 100, capMs: 1_000, random: () => 0 });
    expect([1, 2, 3, 4, 5, 6].map(() => low.next())).toEqual([50, 100, 200, 400, 500, 500]);
    const high = new Backoff({ baseMs: 100, capMs: 1_000, random: () => 1 });
    expect([1, 2, 3, 4, 5].map(() => high.next())).toEqual([100, 200, 400, 800, 1_000]);
  });

  it("starts over after a successful connection", () => {
    const b = new Backoff({ baseMs: 100, capMs: 10_000, random: () => 1 });
    b.next();
    b.next();
    b.reset();
    expect(b.next()).toBe(100);
  });

  it("spreads workers that lost the same coordinator", () => {
    const delays = new Set(Array.from({ length: 20 }, () => new Backoff({ baseMs: 1_000, capMs: 30_000 }).next()));
    expect(delays.size).toBeGreaterThan(10);
  });
});
