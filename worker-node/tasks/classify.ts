import type { ClassifyOutput, TaskPayload } from "../../protocol/index.ts";
import { contentLemmas, nlp, round4 } from "./nlp.ts";

const SENTIMENT_LABELS = ["positive", "negative", "neutral"] as const;
type Sentiment = (typeof SENTIMENT_LABELS)[number];
/** Sharpness of the sentiment softmax: wink's document sentiment lives in [-1, 1] and is rarely beyond ±0.6. */
const SENTIMENT_GAIN = 4;
/** |sentiment| below this reads as neutral. */
const NEUTRAL_BAND = 0.15;
/** Shared prefix length that counts as the same word ("technology" ~ "technological"). */
const STEM_PREFIX = 5;
/** Additive smoothing so one stray keyword does not claim certainty. */
const SMOOTHING = 0.5;

/** Sentiment by default; keyword evidence for the seeker's own labels. */
export function classify(payload: TaskPayload): ClassifyOutput {
  const labels = payload.labels;
  if (labels === undefined) return bySentiment(payload.input, SENTIMENT_LABELS);
  const lower = labels.map((l) => l.trim().toLowerCase());
  const sentiments = lower.filter((l): l is Sentiment => (SENTIMENT_LABELS as readonly string[]).includes(l));
  if (sentiments.length === lower.length) {
    const result = bySentiment(payload.input, sentiments);
    // Answer in the seeker's spelling of the labels.
    const spelled = (l: string): string => labels[lower.indexOf(l)] ?? l;
    return {
      ...result,
      label: spelled(result.label),
      scores: Object.fromEntries(Object.entries(result.scores).map(([l, s]) => [spelled(l), s])),
    };
  }
  return byKeywords(payload.input, labels);
}

function bySentiment(text: string, labels: readonly Sentiment[]): ClassifyOutput {
  const { its } = nlp();
  const s = Number(nlp().readDoc(text).out(its.sentiment)) || 0;
  const logits: Record<Sentiment, number> = {
    positive: SENTIMENT_GAIN * s,
    negative: -SENTIMENT_GAIN * s,
    neutral: SENTIMENT_GAIN * (NEUTRAL_BAND - Math.abs(s)),
  };
  return pick(
    labels,
    labels.map((l) => Math.exp(logits[l])),
    "sentiment",
  );
}

function byKeywords(text: string, labels: readonly string[]): ClassifyOutput {
  const counts = new Map<string, number>();
  for (const w of contentLemmas(nlp().readDoc(text).tokens())) counts.set(w, (counts.get(w) ?? 0) + 1);
  const evidence = labels.map((label) => {
    const terms = labelTerms(label);
    let hits = 0;
    for (const [word, count] of counts) {
      if (terms.some((t) => sameWord(t, word))) hits += count;
    }
    return hits;
  });
  return pick(
    labels,
    evidence.map((e) => e + SMOOTHING),
    "keywords",
  );
}

function labelTerms(label: string): string[] {
  const doc = nlp().readDoc(label.replace(/[_-]+/g, " "));
  const lemmas = contentLemmas(doc.tokens());
  // A label made only of stop words ("other", "none") still deserves exact matching.
  return lemmas.length > 0 ? lemmas : label.toLowerCase().split(/\W+/).filter(Boolean);
}

function sameWord(term: string, word: string): boolean {
  if (term === word) return true;
  return term.length >= STEM_PREFIX && word.length >= STEM_PREFIX && term.slice(0, STEM_PREFIX) === word.slice(0, STEM_PREFIX);
}

/** Normalizes weights to scores; ties go to the label listed first. */
function pick(labels: readonly string[], weights: readonly number[], method: ClassifyOutput["method"]): ClassifyOutput {
  const total = weights.reduce((a, b) => a + b, 0);
  const scores: Record<string, number> = {};
  let best = 0;
  labels.forEach((label, i) => {
    scores[label] = round4((weights[i] ?? 0) / total);
    if ((weights[i] ?? 0) > (weights[best] ?? 0)) best = i;
  });
  const label = labels[best] ?? "";
  return { label, scores, confidence: scores[label] ?? 0, method };
}
