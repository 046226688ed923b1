import { describe, expect, it } from "vitest";
import { LIMITS, SummarizeOutput } from "../../protocol/index.ts";
import { runTask } from "./run-task.ts";

const ARTICLE = [
  "The city council approved a new budget for public transport on Tuesday after a six-hour debate.",
  "The budget raises spending on buses and trams by 20 percent and funds three new tram lines.",
  "Council members who opposed the budget said the transport plan ignores rising housing costs.",
  "The mayor called the vote a historic step for public transport in the city.",
  "It was raining all afternoon.",
  "Buses on the busiest routes will run every ten minutes from March, and tram fares stay frozen until next year.",
  "Lunch was served at noon.",
].join(" ");

function summarize(input: string, max_sentences?: number): SummarizeOutput {
  const out = runTask({ task_type: "summarize", input, ...(max_sentences !== undefined && { max_sentences }) });
  return SummarizeOutput.parse(out);
}

describe("summarize", () => {
  it("picks the sentences about the topic, verbatim and in order, and leaves out the asides", () => {
    const out = summarize(ARTICLE);
    expect(out.sentence_count).toBe(7);
    expect(out.selected_count).toBe(3);
    for (const s of out.sentences) expect(ARTICLE).toContain(s.text);
    expect(out.summary).toBe(out.sentences.map((s) => s.text).join(" "));
    expect(out.sentences.map((s) => s.index)).toEqual([...out.sentences.map((s) => s.index)].sort((a, b) => a - b));
    expect(out.summary).toContain("The city council approved a new budget for public transport");
    expect(out.summary).not.toContain("raining");
    expect(out.summary).not.toContain("Lunch");
  });

  it("honours max_sentences", () => {
    const out = summarize(ARTICLE, 1);
    expect(out.selected_count).toBe(1);
    expect(out.sentences).toHaveLength(1);
    expect(out.sentences[0]?.index).toBe(0);
  });

  it("keeps one of two near-identical sentences and fills the summary with the next central one", () => {
    const repeated = [
      "The city council approved a new budget for public transport on Tuesday.",
      "The budget raises spending on buses and trams by 20 percent.",
      "On Tuesday the city council approved a new budget for public transport.",
      "The mayor called the vote a historic step for public transport.",
      "Lunch was served at noon.",
    ].join(" ");
    const out = summarize(repeated, 3);
    const approved = out.sentences.filter((s) => s.text.includes("approved a new budget"));
    expect(approved).toHaveLength(1);
    expect(out.selected_count).toBe(3);
    expect(out.summary).not.toContain("Lunch");
  });

  it("ranks a sentence on the text's topic above a longer off-topic one", () => {
    const text = [
      "The hospital opened a new cancer ward with forty beds.",
      "The ward will treat cancer patients from the whole region.",
      "A bakery on Main Street also changed its opening hours and now sells sourdough bread on Sundays.",
      "Doctors say the cancer ward cuts waiting times for treatment by half.",
    ].join(" ");
    const out = summarize(text, 2);
    expect(out.summary).not.toContain("bakery");
    const bakery = out.sentences.find((s) => s.index === 2);
    expect(bakery).toBeUndefined();
  });

  it("returns the whole text when it is shorter than the summary", () => {
    const out = summarize("Only one sentence here about budgets.");
    expect(out).toMatchObject({ sentence_count: 1, selected_count: 1, summary: "Only one sentence here about budgets." });
  });

  it("gives byte-identical output for the same input", () => {
    expect(JSON.stringify(summarize(ARTICLE, 2))).toBe(JSON.stringify(summarize(ARTICLE, 2)));
  });

  it("copes with text without sentence punctuation or words", () => {
    expect(summarize("no punctuation at all just words running on and on").selected_count).toBe(1);
    const symbols = summarize("!!! ??? ... ---");
    expect(symbols.summary.length).toBeGreaterThanOrEqual(0);
    expect(symbols.sentences.every((s) => s.score >= 0 && s.score <= 1)).toBe(true);
  });

  it("refuses empty and oversized input with an error output", () => {
    expect(runTask({ task_type: "summarize", input: "" })).toEqual({
      error: expect.stringMatching(/input must not be empty/),
      error_kind: "input",
    });
    const huge = "word ".repeat(LIMITS.maxTaskInputChars / 5 + 1);
    expect(runTask({ task_type: "summarize", input: huge })).toEqual({
      error: expect.stringMatching(/^invalid TASK payload: input/),
      error_kind: "input",
    });
    expect(runTask({ task_type: "summarize", input: ARTICLE, max_sentences: 0 })).toMatchObject({
      error: expect.stringMatching(/max_sentences/),
    });
  });

  it("handles the largest allowed input in well under the task deadline", () => {
    const big = `${ARTICLE} `.repeat(Math.floor(LIMITS.maxTaskInputChars / (ARTICLE.length + 1)));
    const started = performance.now();
    const out = summarize(big);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(out.selected_count).toBe(3);
  });
});
