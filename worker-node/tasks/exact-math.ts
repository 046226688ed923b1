/**
 * `exp` and `softmax` from IEEE-754 basic operations only (+, -, *, /, rounding). ECMAScript
 * leaves the precision of `Math.exp` to each engine, so V8, JavaScriptCore and SpiderMonkey may
 * differ in the last bit; these do not, which keeps TASK outputs byte-identical on every worker,
 * including a phone's browser.
 */

// ln 2 split in two (as in fdlibm): k * LN2_HI is exact for the k used here, so r keeps full precision.
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;
/** Taylor terms for |r| <= ln2 / 2: the 15th term is below 1e-20 of the sum. */
const TERMS = 15;

export function exactExp(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x < -745) return 0;
  if (x > 709) return Number.POSITIVE_INFINITY;
  const k = Math.round(x / Math.LN2);
  const r = x - k * LN2_HI - k * LN2_LO;
  let term = 1;
  let sum = 1;
  for (let i = 1; i <= TERMS; i++) {
    term = (term * r) / i;
    sum += term;
  }
  // 2^k by repeated exact doubling or halving.
  const factor = k < 0 ? 0.5 : 2;
  for (let i = 0; i < Math.abs(k); i++) sum *= factor;
  return sum;
}

/** Probabilities from logits, summed in index order. */
export function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const weights = logits.map((l) => exactExp(l - max));
  let total = 0;
  for (const w of weights) total += w;
  return weights.map((w) => w / total);
}
