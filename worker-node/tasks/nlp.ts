import model from "wink-eng-lite-web-model";
import type { ItemToken, ItsFunction, Tokens, WinkMethods } from "wink-nlp";
import winkNLP from "wink-nlp";

let instance: WinkMethods | undefined;

/** One wink-nlp pipeline per thread: loading the model takes ~100 ms, reading a document far less. */
export function nlp(): WinkMethods {
  instance ??= winkNLP(model, ["sbd", "pos", "negation", "sentiment"]);
  return instance;
}

/** Lower-case lemmas of the content words (no stop words, punctuation, numbers or symbols). */
export function contentLemmas(tokens: Tokens): string[] {
  const { its } = nlp();
  // wink-nlp's typings declare `its.lemma` with a signature its own `out()` does not accept.
  const lemma = its.lemma as unknown as ItsFunction<string>;
  const out: string[] = [];
  tokens.each((t: ItemToken) => {
    if (t.out(its.type) !== "word" || t.out(its.stopWordFlag)) return;
    out.push(String(t.out(lemma)).toLowerCase());
  });
  return out;
}

export function bagOfWords(words: readonly string[]): Map<string, number> {
  const bow = new Map<string, number>();
  for (const w of words) bow.set(w, (bow.get(w) ?? 0) + 1);
  return bow;
}

export function cosine(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const [w, x] of a) {
    na += x * x;
    const y = b.get(w);
    if (y !== undefined) dot += x * y;
  }
  for (const y of b.values()) nb += y * y;
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Scores go on the wire: round them so the output reads well and compares exactly. */
export function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
