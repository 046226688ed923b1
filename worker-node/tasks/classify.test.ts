import { describe, expect, it } from "vitest";
import { ClassifyOutput, LIMITS } from "../../protocol/index.ts";
import { runTask } from "./run-task.ts";

function classify(input: string, labels?: string[]): ClassifyOutput {
  return ClassifyOutput.parse(runTask({ task_type: "classify", input, ...(labels && { labels }) }));
}

function sumOf(scores: Record<string, number>): number {
  return Object.values(scores).reduce((a, b) => a + b, 0);
}

describe("classify", () => {
  it("reads positive, negative and neutral sentiment by default", () => {
    const pos = classify("I absolutely love this phone. The camera is fantastic and the battery lasts for days.");
    const neg = classify("Terrible service. The food was cold, the waiter was rude, and we will never come back.");
    const neu = classify("The meeting is at 3 pm in room 4.");
    expect(pos).toMatchObject({ label: "positive", method: "sentiment" });
    expect(neg).toMatchObject({ label: "negative", method: "sentiment" });
    expect(neu).toMatchObject({ label: "neutral", method: "sentiment" });
    expect(pos.confidence).toBeGreaterThan(0.7);
    expect(neg.confidence).toBeGreaterThan(0.7);
    for (const out of [pos, neg, neu]) {
      expect(Object.keys(out.scores).sort()).toEqual(["negative", "neutral", "positive"]);
      expect(sumOf(out.scores)).toBeCloseTo(1, 3);
      expect(out.confidence).toBe(out.scores[out.label]);
    }
  });

  it("treats seeker labels that name sentiments as sentiment, in the seeker's spelling", () => {
    const out = classify("What a wonderful, delightful day!", ["Positive", "Negative"]);
    expect(out).toMatchObject({ label: "Positive", method: "sentiment" });
    expect(Object.keys(out.scores)).toEqual(["Positive", "Negative"]);
  });

  it("picks the seeker label with the most keyword evidence", () => {
    const text = "The new chip doubles battery life; the software update ships with better technology for developers.";
    const out = classify(text, ["sports", "technology", "politics"]);
    expect(out).toMatchObject({ label: "technology", method: "keywords" });
    expect(out.scores.technology).toBeGreaterThan(out.scores.sports ?? 1);
    expect(sumOf(out.scores)).toBeCloseTo(1, 3);
  });

  it("matches label words by stem (elections ~ election, political ~ politics)", () => {
    const out = classify("Voters went to the polls as the election campaign and political debates ended.", ["weather", "elections"]);
    expect(out.label).toBe("elections");
  });

  it("reports no evidence as an even split rather than inventing confidence", () => {
    const out = classify("Lorem ipsum dolor sit amet.", ["cats", "dogs"]);
    expect(out.scores).toEqual({ cats: 0.5, dogs: 0.5 });
    expect(out.confidence).toBe(0.5);
    expect(out.label).toBe("cats");
  });

  it("refuses malformed labels", () => {
    expect(runTask({ task_type: "classify", input: "x", labels: ["only-one"] })).toMatchObject({ error: expect.stringMatching(/labels/) });
    expect(runTask({ task_type: "classify", input: "x", labels: ["a", "a"] })).toEqual({
      error: "invalid TASK payload: labels must be distinct",
      error_kind: "input",
    });
    expect(runTask({ task_type: "classify", input: "x", labels: "a,b" })).toMatchObject({ error: expect.stringMatching(/labels/) });
    expect(runTask({ task_type: "classify", input: "x", labels: ["a", "b".repeat(65)] })).toMatchObject({
      error: expect.stringMatching(/labels\.1/),
    });
  });

  it("refuses empty and oversized input, and classifies the largest allowed one", () => {
    expect(runTask({ task_type: "classify", input: "" })).toMatchObject({ error: expect.stringMatching(/input must not be empty/) });
    expect(runTask({ task_type: "classify", input: "a".repeat(LIMITS.maxTaskInputChars + 1) })).toMatchObject({
      error: expect.stringMatching(/^invalid TASK payload: input/),
    });
    const big = "Wonderful staff and a great view. ".repeat(Math.floor(LIMITS.maxTaskInputChars / 34));
    expect(classify(big).label).toBe("positive");
  });
});
