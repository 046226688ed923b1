import type { ItemSentence } from "wink-nlp";
import type { SummarizeOutput, SummarySentence, TaskPayload } from "../../protocol/index.ts";
import { TASK_LIMITS } from "../../protocol/index.ts";
import { cosine, nlp, round4 } from "./nlp.ts";
import { wordFeatures } from "./text-features.ts";
import type { WordVectors } from "./word-vectors.ts";

// Centrality carries the score: the cosine between a sentence's weighted content lemmas and the
// whole text's, each lemma weighted by its inverse corpus frequency (the word vectors' rank), so a
// sentence on the text's recurring, specific topic beats an aside. A small position prior breaks
// near-ties toward the lead, where news- and report-like texts state their point. Measured on
// bench/data/summaries.json (BENCHMARKS.md): centrality from word embeddings, wink's sentence
// importance and a redundancy penalty each scored lower against the reference summaries.
const W_POSITION = 0.1;
/** Sentences shorter than this many content words rarely stand alone in a summary. */
const MIN_CONTENT_WORDS = 3;
/** A candidate this similar to a chosen sentence repeats it and is skipped. */
const NEAR_DUPLICATE = 0.8;

/** Extractive summary: the most central sentences, verbatim, in their original order. */
export function summarize(payload: TaskPayload, vectors: WordVectors): SummarizeOutput {
  const doc = nlp().readDoc(payload.input);
  const texts: string[] = [];
  const bags: Map<string, number>[] = [];
  doc.sentences().each((s: ItemSentence) => {
    texts.push(s.out().trim());
    const bag = new Map<string, number>();
    for (const w of wordFeatures(s.tokens(), vectors)) bag.set(w.lemma, (bag.get(w.lemma) ?? 0) + w.weight);
    bags.push(bag);
  });
  const whole = new Map<string, number>();
  for (const bag of bags) for (const [w, x] of bag) whole.set(w, (whole.get(w) ?? 0) + x);

  const n = texts.length;
  const scored: SummarySentence[] = texts.map((text, index) => {
    const bag = bags[index] ?? new Map<string, number>();
    const position = n <= 1 ? 1 : 1 - index / (n - 1);
    let score = (cosine(bag, whole) + W_POSITION * position) / (1 + W_POSITION);
    if (bag.size < MIN_CONTENT_WORDS) score *= 0.5;
    return { index, text, score: round4(score) };
  });

  const wanted = Math.min(payload.max_sentences ?? TASK_LIMITS.defaultSummarySentences, n);
  // Best first; ties go to the earlier sentence, so the choice never depends on sort stability.
  const ranked = scored.filter((s) => s.text.length > 0).sort((a, b) => b.score - a.score || a.index - b.index);
  const chosen: SummarySentence[] = [];
  for (const s of ranked) {
    if (chosen.length === wanted) break;
    const bag = bags[s.index] ?? new Map<string, number>();
    if (chosen.some((c) => cosine(bag, bags[c.index] ?? new Map<string, number>()) >= NEAR_DUPLICATE)) continue;
    chosen.push(s);
  }
  chosen.sort((a, b) => a.index - b.index);
  return {
    summary: chosen.map((s) => s.text).join(" "),
    sentences: chosen,
    sentence_count: n,
    selected_count: chosen.length,
  };
}
