import { glossOf } from "./label-glosses.ts";
import { nlp } from "./nlp.ts";
import { wordFeatures } from "./text-features.ts";
import type { WordVectors } from "./word-vectors.ts";

/** What the classifier knows about one seeker label. */
export interface LabelModel {
  /** "not urgent", "would not recommend", "non-spam": the label asks for the absence of its words. */
  negated: boolean;
  /** wink's sentiment of the label itself in [-1, 1] ("joy" > 0, "anger" < 0, "bug" = 0). */
  polarity: number;
  /** Unit vector of the label's content words together (a phrase: "set alarm", "weather forecast"). */
  vector: Float64Array | undefined;
  /** Mean and spread of the label's cosine with common words: what an unrelated word scores. */
  nullMean: number;
  nullSpread: number;
  /** Lemmas of the label's words, for labels whose words have no vector. */
  lemmas: string[];
}

/** The null model compares a label with this many of the most frequent words. */
const NULL_WORDS = 5000;
const CACHE_SIZE = 512;
const cache = new Map<string, LabelModel>();

/** Builds (or recalls) the model of `label`; seekers resend the same label sets, and the null model costs ~1 ms. */
export function labelModel(label: string, vectors: WordVectors): LabelModel {
  const hit = cache.get(label);
  if (hit !== undefined) return hit;
  const model = build(label, vectors);
  cache.set(label, model);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return model;
}

function build(label: string, vectors: WordVectors): LabelModel {
  const { its } = nlp();
  // "featureRequest", "billing_issue", "IT-support" read as words.
  const spaced = label
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .replace(/[_\-/.]+/g, " ")
    .trim();
  const doc = nlp().readDoc(spaced);
  let words = wordFeatures(doc.tokens(), vectors);
  // A label made only of stop words ("other", "none") still has words to match.
  if (words.length === 0) {
    words = spaced
      .toLowerCase()
      .split(/\s+/)
      .filter(Boolean)
      .map((w) => ({ id: vectors.id(w), lemma: w, weight: 1, negated: false }));
  }
  const negated = words.some((w) => w.negated) || /^non\s/i.test(spaced);
  const sum = new Float64Array(vectors.dims);
  let any = false;
  for (const w of words) {
    if (w.id === undefined) continue;
    vectors.addTo(sum, w.id, 1);
    any = true;
  }
  const vector = withGloss(any ? unit(sum) : undefined, glossOf(spaced), vectors);
  let mean = 0;
  let spread = 1;
  if (vector !== undefined) {
    let s = 0;
    let sq = 0;
    const n = Math.min(NULL_WORDS, vectors.size);
    for (let j = 0; j < n; j++) {
      const x = vectors.cosineTo(j, vector);
      s += x;
      sq += x * x;
    }
    mean = s / n;
    spread = Math.sqrt(Math.max(sq / n - mean * mean, 1e-12));
  }
  return {
    negated,
    polarity: Number(doc.out(its.sentiment)) || 0,
    vector,
    nullMean: mean,
    nullSpread: spread,
    lemmas: words.map((w) => w.lemma),
  };
}

/** Share of a glossed label's direction taken from its gloss (the rest from its own words). */
const GLOSS_SHARE = 0.5;

/** The label's direction moved toward the words that gloss it (label-glosses.ts). */
function withGloss(own: Float64Array | undefined, gloss: readonly string[], vectors: WordVectors): Float64Array | undefined {
  const sum = new Float64Array(vectors.dims);
  let n = 0;
  for (const word of gloss) {
    const id = vectors.id(word);
    if (id === undefined) continue;
    vectors.addTo(sum, id, 1);
    n++;
  }
  if (n === 0) return own;
  const g = unit(sum);
  if (own === undefined) return g;
  return unit(own.map((x, i) => (1 - GLOSS_SHARE) * x + GLOSS_SHARE * (g[i] ?? 0)));
}

function unit(v: Float64Array): Float64Array {
  let sq = 0;
  for (const x of v) sq += x * x;
  const n = Math.sqrt(sq);
  return n === 0 ? v : v.map((x) => x / n);
}
