import type { ItemToken, ItsFunction, Tokens } from "wink-nlp";
import { nlp } from "./nlp.ts";
import type { WordVectors } from "./word-vectors.ts";

/** A content word of a text, as the semantic tasks see it. */
export interface WordFeature {
  /** Row in the word vectors, or undefined when the word is not in the vocabulary. */
  id: number | undefined;
  /** Lower-case lemma (for lexical matching of words without a vector). */
  lemma: string;
  /** Smooth inverse frequency: rare words say more about a text than common ones. */
  weight: number;
  /** Inside a negation ("not urgent", "don't like"), as wink's negation pass marks it. */
  negated: boolean;
}

/**
 * Smooth-inverse-frequency constant (Arora et al. 2017, "A simple but tough-to-beat baseline
 * for sentence embeddings"): weight = a / (a + p(w)).
 */
const SIF_A = 1e-3;
/** Harmonic number of the vocabulary size (~ln 40,000 + 0.58): turns a Zipf rank into a probability. */
const ZIPF_NORM = 11.2;
/** Words that end what a negation denies. */
const CLAUSE_BREAKS = new Set(["and", "but", "or", "while", "because", "although", "though", "so", "yet"]);
/** Weight of a word without a vector: rarer than anything in the vocabulary. */
export const OOV_WEIGHT = 1;

/** a / (a + p) with p = 1 / ((rank + 1) * H), written without Math.log so every engine agrees. */
export function sifWeight(rank: number): number {
  const x = SIF_A * (rank + 1) * ZIPF_NORM;
  return x / (x + 1);
}

/** Content words (no stop words, punctuation or numbers) of `tokens`, with their vectors and weights. */
export function wordFeatures(tokens: Tokens, vectors: WordVectors): WordFeature[] {
  const { its } = nlp();
  // wink-nlp's typings declare `its.lemma` with a signature its own `out()` does not accept.
  const lemmaOf = its.lemma as unknown as ItsFunction<string>;
  const out: WordFeature[] = [];
  // wink marks everything from a negation cue to the end of the sentence; a conjunction starts a
  // new claim ("will not connect to the wifi and the printer is offline" says nothing against the
  // printer).
  let cut = false;
  tokens.each((t: ItemToken) => {
    const inNegation = Boolean(t.out(its.negationFlag));
    if (!inNegation) cut = false;
    const normal = String(t.out(its.normal)).toLowerCase();
    if (inNegation && CLAUSE_BREAKS.has(normal)) cut = true;
    if (t.out(its.type) !== "word" || t.out(its.stopWordFlag)) return;
    const lemma = String(t.out(lemmaOf)).toLowerCase();
    const id = vectors.id(normal) ?? vectors.id(lemma);
    out.push({ id, lemma, weight: id === undefined ? OOV_WEIGHT : sifWeight(id), negated: inNegation && !cut });
  });
  return out;
}
