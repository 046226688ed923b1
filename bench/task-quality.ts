/**
 * TASK quality on the hand-labelled sets in bench/data/: classify accuracy (overall and per label
 * set, with calibration of `confidence`) on the set the method was tuned on and on a held-out set
 * written afterwards (classify-heldout.json), and summarize ROUGE-1 / ROUGE-L F1 against reference
 * summaries, next to a lead-3 baseline (the first three sentences).
 *
 *   node bench/task-quality.ts [--quick] [--wrong]
 *
 * `--quick` prints only the headline figures; `--wrong` lists every misclassified case.
 * `evaluateTaskQuality()` is what the regression test (worker-node/tasks/task-quality.test.ts) runs.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { l as rougeL, n as rougeN } from "js-rouge";
import type { ItemSentence } from "wink-nlp";
import { ClassifyOutput, SummarizeOutput } from "../protocol/index.ts";
import { nlp } from "../worker-node/tasks/nlp.ts";
import { runTask } from "../worker-node/tasks/run-task.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

interface LabelSet {
  name: string;
  kind: string;
  labels: string[];
  cases: { text: string; label: string }[];
}
interface SummaryCase {
  id: string;
  kind: string;
  text: string;
  reference: string;
}

export interface SetResult {
  name: string;
  kind: string;
  cases: number;
  correct: number;
  accuracy: number;
}

export interface ClassifyQuality {
  cases: number;
  accuracy: number;
  sets: SetResult[];
  /** Mean confidence of the chosen label, to compare with accuracy (calibration). */
  meanConfidence: number;
  /** Expected calibration error over 5 confidence bins. */
  ece: number;
  /** Accuracy of always answering the first label (what the old keyword matcher amounted to). */
  firstLabelAccuracy: number;
  wrong: string[];
}

export interface TaskQuality {
  /** On classify-sets.json, which the method's constants were chosen on. */
  classify: ClassifyQuality;
  /** On classify-heldout.json, written after those choices: the honest figure. */
  classifyHeldout: ClassifyQuality;
  summarize: {
    texts: number;
    rouge1: number;
    rougeL: number;
    lead3Rouge1: number;
    lead3RougeL: number;
  };
}

function loadJson<T>(file: string): T {
  return JSON.parse(readFileSync(path.join(here, "data", file), "utf8")) as T;
}

function mean(xs: number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Expected calibration error: |accuracy - confidence| per confidence bin, weighted by bin size. */
function calibrationError(points: { confidence: number; correct: boolean }[], bins = 5): number {
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    const lo = b / bins;
    const hi = (b + 1) / bins;
    const inBin = points.filter((p) => p.confidence > lo && p.confidence <= hi);
    if (inBin.length === 0) continue;
    const acc = mean(inBin.map((p) => (p.correct ? 1 : 0)));
    ece += (inBin.length / points.length) * Math.abs(acc - mean(inBin.map((p) => p.confidence)));
  }
  return ece;
}

function sentencesOf(text: string): string[] {
  const out: string[] = [];
  nlp()
    .readDoc(text)
    .sentences()
    .each((s: ItemSentence) => {
      out.push(s.out().trim());
    });
  return out;
}

function rouge(candidate: string, reference: string): { r1: number; rl: number } {
  return {
    r1: rougeN(candidate, reference, { n: 1, caseSensitive: false }),
    rl: rougeL(candidate, reference, { caseSensitive: false }),
  };
}

function evaluateClassify(file: string): ClassifyQuality {
  const { sets } = loadJson<{ sets: LabelSet[] }>(file);
  const setResults: SetResult[] = [];
  const points: { confidence: number; correct: boolean }[] = [];
  const wrong: string[] = [];
  let firstLabel = 0;
  for (const set of sets) {
    let correct = 0;
    for (const c of set.cases) {
      const out = ClassifyOutput.parse(runTask({ task_type: "classify", input: c.text, labels: set.labels }));
      const ok = out.label === c.label;
      if (ok) correct++;
      else wrong.push(`[${set.name}] expected ${c.label}, got ${out.label} (${out.confidence}): ${c.text}`);
      if (set.labels[0] === c.label) firstLabel++;
      points.push({ confidence: out.confidence, correct: ok });
    }
    setResults.push({ name: set.name, kind: set.kind, cases: set.cases.length, correct, accuracy: correct / set.cases.length });
  }
  const cases = points.length;
  return {
    cases,
    accuracy: points.filter((p) => p.correct).length / cases,
    sets: setResults,
    meanConfidence: mean(points.map((p) => p.confidence)),
    ece: calibrationError(points),
    firstLabelAccuracy: firstLabel / cases,
    wrong,
  };
}

export function evaluateTaskQuality(): TaskQuality {
  const { texts } = loadJson<{ texts: SummaryCase[] }>("summaries.json");
  const ours: { r1: number; rl: number }[] = [];
  const lead: { r1: number; rl: number }[] = [];
  for (const t of texts) {
    const out = SummarizeOutput.parse(runTask({ task_type: "summarize", input: t.text }));
    ours.push(rouge(out.summary, t.reference));
    lead.push(rouge(sentencesOf(t.text).slice(0, 3).join(" "), t.reference));
  }
  return {
    classify: evaluateClassify("classify-sets.json"),
    classifyHeldout: evaluateClassify("classify-heldout.json"),
    summarize: {
      texts: texts.length,
      rouge1: mean(ours.map((r) => r.r1)),
      rougeL: mean(ours.map((r) => r.rl)),
      lead3Rouge1: mean(lead.map((r) => r.r1)),
      lead3RougeL: mean(lead.map((r) => r.rl)),
    },
  };
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)} %`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes("--quick");
  const started = performance.now();
  const q = evaluateTaskQuality();
  const s = q.summarize;
  for (const [title, c] of [
    ["classify", q.classify],
    ["classify, held out", q.classifyHeldout],
  ] as const) {
    console.log(
      `${title}: ${pct(c.accuracy)} of ${c.cases} cases in ${c.sets.length} label sets (first-label baseline ${pct(c.firstLabelAccuracy)})`,
    );
    console.log(`  confidence: mean ${c.meanConfidence.toFixed(3)} vs accuracy ${c.accuracy.toFixed(3)}, ECE ${c.ece.toFixed(3)}`);
    if (!quick) {
      console.log("\n| label set | kind | cases | accuracy |\n|---|---|---|---|");
      for (const r of c.sets) console.log(`| ${r.name} | ${r.kind} | ${r.cases} | ${pct(r.accuracy)} |`);
      console.log();
    }
  }
  console.log(`summarize: ${s.texts} texts, ROUGE-1 F ${s.rouge1.toFixed(3)} / ROUGE-L F ${s.rougeL.toFixed(3)}`);
  console.log(`  lead-3 baseline: ROUGE-1 F ${s.lead3Rouge1.toFixed(3)} / ROUGE-L F ${s.lead3RougeL.toFixed(3)}`);
  if (process.argv.includes("--wrong")) console.log(`\nmisclassified:\n${[...q.classify.wrong, ...q.classifyHeldout.wrong].join("\n")}`);
  console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
