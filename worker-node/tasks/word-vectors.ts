import { decodeWordVectors } from "./word-vectors-format.ts";

/**
 * Int8 word vectors in corpus-frequency order, with the arithmetic the TASK engine needs.
 * Dot products of two stored vectors are exact integer sums and norms are correctly rounded
 * square roots, so every JavaScript engine computes the same similarities bit for bit.
 */
export class WordVectors {
  readonly dims: number;
  readonly size: number;
  readonly meta: Readonly<Record<string, unknown>>;
  readonly #index = new Map<string, number>();
  readonly #words: string[];
  readonly #data: Int8Array;
  readonly #norms: Float64Array;

  private constructor(meta: Record<string, unknown>, dims: number, words: string[], data: Int8Array) {
    this.meta = meta;
    this.dims = dims;
    this.size = words.length;
    this.#data = data;
    this.#words = words;
    this.#norms = new Float64Array(words.length);
    words.forEach((w, k) => {
      this.#index.set(w, k);
      let sq = 0;
      for (let i = k * dims; i < (k + 1) * dims; i++) sq += (data[i] ?? 0) * (data[i] ?? 0);
      this.#norms[k] = Math.sqrt(sq);
    });
  }

  static fromBytes(bytes: Uint8Array): WordVectors {
    const d = decodeWordVectors(bytes);
    return new WordVectors(d.meta, d.dims, d.words, d.vectors);
  }

  /** Row of `word`, which is also its frequency rank (0 = most frequent), or undefined. */
  id(word: string): number | undefined {
    return this.#index.get(word);
  }

  word(id: number): string | undefined {
    return this.#words[id];
  }

  /** Cosine similarity of two stored words. */
  similarity(a: number, b: number): number {
    const na = this.#norms[a] ?? 0;
    const nb = this.#norms[b] ?? 0;
    if (na === 0 || nb === 0) return 0;
    const d = this.#data;
    let dot = 0;
    for (let i = 0, ia = a * this.dims, ib = b * this.dims; i < this.dims; i++) dot += (d[ia + i] ?? 0) * (d[ib + i] ?? 0);
    return dot / (na * nb);
  }

  /** Adds `weight` times the unit vector of word `id` to `acc`. */
  addTo(acc: Float64Array, id: number, weight: number): void {
    const n = this.#norms[id] ?? 0;
    if (n === 0) return;
    const scale = weight / n;
    for (let i = 0, at = id * this.dims; i < this.dims; i++) acc[i] = (acc[i] ?? 0) + (this.#data[at + i] ?? 0) * scale;
  }

  /** Cosine similarity of a stored word and an arbitrary vector. */
  cosineTo(id: number, v: Float64Array): number {
    const n = this.#norms[id] ?? 0;
    let dot = 0;
    let sq = 0;
    for (let i = 0, at = id * this.dims; i < this.dims; i++) {
      const x = v[i] ?? 0;
      dot += (this.#data[at + i] ?? 0) * x;
      sq += x * x;
    }
    return n === 0 || sq === 0 ? 0 : dot / (n * Math.sqrt(sq));
  }

  /** The `k` stored words most similar to `id` among the `within` most frequent (ties: more frequent first). */
  nearest(id: number, k: number, within = this.size): number[] {
    const best: { id: number; sim: number }[] = [];
    for (let j = 0; j < Math.min(within, this.size); j++) {
      if (j === id) continue;
      const sim = this.similarity(id, j);
      if (best.length < k || sim > (best[best.length - 1]?.sim ?? -2)) {
        best.push({ id: j, sim });
        best.sort((x, y) => y.sim - x.sim || x.id - y.id);
        if (best.length > k) best.pop();
      }
    }
    return best.map((b) => b.id);
  }
}

export function cosine(a: Float64Array, b: Float64Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
