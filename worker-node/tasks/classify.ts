import type { ClassifyOutput, TaskPayload } from "../../protocol/index.ts";
import { softmax } from "./exact-math.ts";
import { type LabelModel, labelModel } from "./label-model.ts";
import { nlp, round4 } from "./nlp.ts";
import { type WordFeature, wordFeatures } from "./text-features.ts";
import type { WordVectors } from "./word-vectors.ts";
import { cosine } from "./word-vectors.ts";

const SENTIMENT_LABELS = ["positive", "negative", "neutral"] as const;
type Sentiment = (typeof SENTIMENT_LABELS)[number];
/** Sharpness of the sentiment softmax: wink's document sentiment lives in [-1, 1] and is rarely beyond ±0.6. */
const SENTIMENT_GAIN = 4;
/** |sentiment| below this reads as neutral. */
const NEUTRAL_BAND = 0.15;

// Semantic scores are in "null-model z units": how many spreads above an unrelated common word
// a match is. The constants below were chosen on bench/data/classify-sets.json (BENCHMARKS.md).
/** Blend of the whole-text match (the SIF-weighted centroid) and the best single-word match. */
const CENTROID_SHARE = 0.5;
/** "not X" beats "X" when X's evidence is below this. */
const NEGATION_MARGIN = 1;
/** Evidence per unit of (text sentiment x label polarity) when the labels differ in polarity. */
const SENTIMENT_WEIGHT = 3;
/** Labels whose polarities span at least this much are treated as (partly) sentiment-like. */
const POLARITY_SPREAD = 0.3;
/** Evidence of a label word without a vector that appears in the text. */
const LEXICAL_MATCH = 3;
/** Softmax temperature (z units): on the eval set, mean confidence then equals accuracy (BENCHMARKS.md). */
const TEMPERATURE = 0.6;

/** Sentiment by default; zero-shot semantic similarity for the seeker's own labels. */
export function classify(payload: TaskPayload, vectors: WordVectors): ClassifyOutput {
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
  return bySemantics(payload.input, labels, vectors);
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
    labels.map((l) => logits[l]),
    "sentiment",
  );
}

function bySemantics(text: string, labels: readonly string[], vectors: WordVectors): ClassifyOutput {
  const { its } = nlp();
  const doc = nlp().readDoc(text);
  const words = wordFeatures(doc.tokens(), vectors);
  // Negated words ("not urgent", "don't like") count against what they name.
  const centroid = new Float64Array(vectors.dims);
  for (const w of words) if (w.id !== undefined) vectors.addTo(centroid, w.id, w.negated ? -w.weight : w.weight);
  const models = labels.map((l) => labelModel(l, vectors));
  const textSentiment = Number(doc.out(its.sentiment)) || 0;
  const polarities = models.map((m) => m.polarity);
  const sentimentLike = Math.max(...polarities) - Math.min(...polarities) >= POLARITY_SPREAD;
  const logits = models.map((m) => {
    const evidence = labelEvidence(m, words, centroid, vectors);
    let score = m.negated ? NEGATION_MARGIN - evidence : evidence;
    if (sentimentLike) score += SENTIMENT_WEIGHT * textSentiment * m.polarity;
    return score / TEMPERATURE;
  });
  return pick(labels, logits, "semantic");
}

/** How strongly the text speaks of the label's words (the label's negation aside), in z units. */
function labelEvidence(m: LabelModel, words: readonly WordFeature[], centroid: Float64Array, vectors: WordVectors): number {
  const lv = m.vector;
  if (lv === undefined) return m.lemmas.some((l) => words.some((w) => w.lemma === l)) ? LEXICAL_MATCH : 0;
  const z = (cos: number): number => (cos - m.nullMean) / m.nullSpread;
  let best = Number.NEGATIVE_INFINITY;
  for (const w of words) {
    if (w.id === undefined) continue;
    const s = z(vectors.cosineTo(w.id, lv));
    best = Math.max(best, (w.negated ? -s : s) * w.weight);
  }
  if (best === Number.NEGATIVE_INFINITY) return 0;
  return CENTROID_SHARE * z(cosine(centroid, lv)) + (1 - CENTROID_SHARE) * best;
}

/** Softmax over the logits; ties go to the label listed first. */
function pick(labels: readonly string[], logits: readonly number[], method: ClassifyOutput["method"]): ClassifyOutput {
  const probs = softmax(logits);
  const scores: Record<string, number> = {};
  let best = 0;
  labels.forEach((label, i) => {
    scores[label] = round4(probs[i] ?? 0);
    if ((probs[i] ?? 0) > (probs[best] ?? 0)) best = i;
  });
  const label = labels[best] ?? "";
  return { label, scores, confidence: scores[label] ?? 0, method };
}
