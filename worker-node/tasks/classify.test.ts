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

  it("picks the seeker label that means what the text is about, with no word in common", () => {
    const cases: [string, string[], string][] = [
      ["The striker scored in the last minute and the football fans invaded the pitch.", ["sports", "politics", "cooking"], "sports"],
      ["Simmer the onions in butter, then add the garlic and a pinch of salt.", ["sports", "politics", "cooking"], "cooking"],
      [
        "I was charged twice on my credit card for the same order.",
        ["payment problem", "delivery delay", "product quality"],
        "payment problem",
      ],
      ["The telescope captured images of a distant galaxy.", ["astronomy", "cooking"], "astronomy"],
      ["I'm so scared of the dark forest at night.", ["joy", "anger", "fear"], "fear"],
    ];
    for (const [text, labels, expected] of cases) {
      const out = classify(text, labels);
      expect(out, text).toMatchObject({ label: expected, method: "semantic" });
      expect(sumOf(out.scores)).toBeCloseTo(1, 3);
      expect(out.confidence).toBe(out.scores[expected]);
    }
  });

  it("takes short desk labels in their desk sense, not their news sense ('bug', 'IT support')", () => {
    const desk = ["billing", "bug", "account", "praise"];
    expect(classify("The app crashes every time I open the settings page.", desk).label).toBe("bug");
    expect(
      classify("My laptop will not connect to the office wifi and the printer is offline.", ["sales", "legal", "IT support", "finance"])
        .label,
    ).toBe("IT support");
    expect(
      classify("Please send me a quote for 40 licences and any volume discount.", ["sales", "legal", "IT support", "finance"]).label,
    ).toBe("sales");
  });

  it("reads negated labels and negated words: 'not urgent', 'would not recommend'", () => {
    const labels = ["urgent", "not urgent"];
    expect(classify("This can wait until next month, it is not urgent.", labels).label).toBe("not urgent");
    expect(classify("The main server is down and customers cannot pay, fix it immediately!", labels).label).toBe("urgent");
    const verdict = ["would recommend", "would not recommend"];
    expect(classify("The hotel was lovely and the staff were kind; we will come back.", verdict).label).toBe("would recommend");
    expect(classify("The hotel was dirty and the staff were rude; never again.", verdict).label).toBe("would not recommend");
  });

  it("understands multi-word, snake_case and camelCase labels", () => {
    expect(classify("Put on my favourite playlist of jazz songs.", ["set alarm", "play music", "send message"]).label).toBe("play music");
    expect(classify("The package arrived two weeks late and the courier never called.", ["billing_issue", "shippingDelay"]).label).toBe(
      "shippingDelay",
    );
  });

  it("scores 32 labels as one distribution and still finds the topic", () => {
    const labels = [
      "finance",
      "sports",
      "music",
      "weather",
      "health",
      "travel",
      "education",
      "crime",
      "religion",
      "science",
      "fashion",
      "food",
      "politics",
      "technology",
      "art",
      "history",
      "law",
      "environment",
      "military",
      "entertainment",
      "literature",
      "cars",
      "real estate",
      "agriculture",
      "energy",
      "space",
      "gaming",
      "parenting",
      "pets",
      "gardening",
      "fitness",
      "insurance",
    ];
    const out = classify("The rocket carried two astronauts to the orbiting station.", labels);
    expect(out.label).toBe("space");
    expect(Object.keys(out.scores)).toEqual(labels);
    expect(sumOf(out.scores)).toBeCloseTo(1, 2);
  });

  it("answers a label without a vector by its spelling, and splits evenly when nothing matches", () => {
    expect(classify("Our zxqwidget build failed again on the zxqwidget server.", ["zxqwidget", "qqplorp"]).label).toBe("zxqwidget");
    const out = classify("Lorem ipsum dolor sit amet.", ["zxqwidget", "qqplorp"]);
    expect(out.scores).toEqual({ zxqwidget: 0.5, qqplorp: 0.5 });
    expect(out.label).toBe("zxqwidget");
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
