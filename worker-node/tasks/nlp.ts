import model from "wink-eng-lite-web-model";
import type { WinkMethods } from "wink-nlp";
import winkNLP from "wink-nlp";

let instance: WinkMethods | undefined;

/** One wink-nlp pipeline per thread: loading the model takes ~100 ms, reading a document far less. */
export function nlp(): WinkMethods {
  instance ??= winkNLP(model, ["sbd", "pos", "negation", "sentiment"]);
  return instance;
}

/** Cosine of two sparse vectors, summed in the first map's insertion (text) order. */
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
