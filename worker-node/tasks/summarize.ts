import type { ItemSentence } from "wink-nlp";
import type { SummarizeOutput, SummarySentence, TaskPayload } from "../../protocol/index.ts";
import { TASK_LIMITS } from "../../protocol/index.ts";
import { bagOfWords, contentLemmas, cosine, nlp, round4 } from "./nlp.ts";

// Weights of the hybrid score. Similarity to the whole text carries the topic; wink's
// sentence importance lifts sentences that hold the document's key terms; a small position
// prior favours the lead, where news-like and report-like texts state their point.
const W_SIMILARITY = 0.6;
const W_IMPORTANCE = 0.25;
const W_POSITION = 0.15;
/** Sentences shorter than this many content words rarely stand alone in a summary. */
const MIN_CONTENT_WORDS = 3;

/** Extractive summary: the highest-scoring sentences, verbatim, in their original order. */
export function summarize(payload: TaskPayload): SummarizeOutput {
  const { its } = nlp();
  const doc = nlp().readDoc(payload.input);
  const texts: string[] = [];
  const lemmas: string[][] = [];
  doc.sentences().each((s: ItemSentence) => {
    texts.push(s.out().trim());
    lemmas.push(contentLemmas(s.tokens()));
  });
  const importance = new Map<number, number>();
  for (const { index, importance: value } of doc.out(its.sentenceWiseImportance) as { index: number; importance: number }[]) {
    importance.set(index, value);
  }
  const whole = bagOfWords(lemmas.flat());
  const n = texts.length;
  const scored: SummarySentence[] = texts.map((text, index) => {
    const words = lemmas[index] ?? [];
    const similarity = cosine(bagOfWords(words), whole);
    const position = n <= 1 ? 1 : 1 - index / (n - 1);
    let score = W_SIMILARITY * similarity + W_IMPORTANCE * (importance.get(index) ?? 0) + W_POSITION * position;
    if (words.length < MIN_CONTENT_WORDS) score *= 0.5;
    return { index, text, score: round4(score) };
  });

  const wanted = Math.min(payload.max_sentences ?? TASK_LIMITS.defaultSummarySentences, n);
  // Ties go to the earlier sentence, so the choice never depends on sort stability.
  const chosen = [...scored]
    .filter((s) => s.text.length > 0)
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, wanted)
    .sort((a, b) => a.index - b.index);
  return {
    summary: chosen.map((s) => s.text).join(" "),
    sentences: chosen,
    sentence_count: n,
    selected_count: chosen.length,
  };
}
