import { describe, expect, it } from "vitest";
import { StopFilter } from "./stop-filter.ts";

function run(stops: string[], pieces: string[]): { out: string[]; stoppedAt: number } {
  const out: string[] = [];
  const filter = new StopFilter(stops, (t) => out.push(t));
  let stoppedAt = -1;
  for (const [i, p] of pieces.entries()) {
    if (filter.push(p)) {
      stoppedAt = i;
      break;
    }
  }
  filter.flush();
  return { out, stoppedAt };
}

describe("stop sequences", () => {
  it("ends before a stop sequence split across pieces and leaves it out", () => {
    expect(run([" Lily"], [", there", " was", " a girl named", " L", "ily", ". She"])).toEqual({
      out: [", there", " was", " a girl named"],
      stoppedAt: 4,
    });
  });

  it("holds back a possible start only until the next piece shows it is plain text", () => {
    expect(run(["\n\n"], ["Hi\n", "there", "\n"])).toEqual({ out: ["Hi", "\nthere", "\n"], stoppedAt: -1 });
  });

  it("stops at the earliest of several sequences, even inside one piece", () => {
    expect(run(["END", "."], ["one. two END"])).toEqual({ out: ["one"], stoppedAt: 0 });
  });

  it("passes everything through when no sequence appears", () => {
    const pieces = ["Once", " upon", " a", " time"];
    expect(run(["xyz"], pieces).out.join("")).toBe("Once upon a time");
  });
});
