/**
 * The binary layout of the compact word vectors (built by scripts/build-embeddings.ts). No
 * runtime APIs: a browser reads the same bytes it fetched.
 *
 *   "DWV1" | u32 dims | u32 count | u32 metaBytes | meta JSON | u32 wordBytes | words joined by "\n"
 *   | count * dims int8 (row k is the vector of word k; words are in corpus-frequency order)
 *
 * Integers are little-endian.
 */

/** Where the compact vectors live, relative to the repository root. */
export const WORD_VECTORS_FILE = "worker-node/tasks/assets/word-vectors.bin";

const MAGIC = "DWV1";

export interface WordVectorsData {
  meta: Record<string, unknown>;
  dims: number;
  words: string[];
  /** `words.length * dims` components, row-major. */
  vectors: Int8Array;
}

export function encodeWordVectors(data: WordVectorsData): Uint8Array {
  const enc = new TextEncoder();
  const meta = enc.encode(JSON.stringify(data.meta));
  const words = enc.encode(data.words.join("\n"));
  if (data.vectors.length !== data.words.length * data.dims) throw new Error("vector count does not match words * dims");
  const out = new Uint8Array(4 + 12 + meta.length + 4 + words.length + data.vectors.length);
  const view = new DataView(out.buffer);
  out.set(enc.encode(MAGIC), 0);
  view.setUint32(4, data.dims, true);
  view.setUint32(8, data.words.length, true);
  view.setUint32(12, meta.length, true);
  out.set(meta, 16);
  let at = 16 + meta.length;
  view.setUint32(at, words.length, true);
  out.set(words, at + 4);
  at += 4 + words.length;
  out.set(new Uint8Array(data.vectors.buffer, data.vectors.byteOffset, data.vectors.length), at);
  return out;
}

export function decodeWordVectors(bytes: Uint8Array): WordVectorsData {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder();
  if (bytes.length < 20 || dec.decode(bytes.subarray(0, 4)) !== MAGIC) throw new Error("not a word-vectors file (bad magic)");
  const dims = view.getUint32(4, true);
  const count = view.getUint32(8, true);
  const metaBytes = view.getUint32(12, true);
  const meta = JSON.parse(dec.decode(bytes.subarray(16, 16 + metaBytes))) as Record<string, unknown>;
  let at = 16 + metaBytes;
  const wordBytes = view.getUint32(at, true);
  const words = dec.decode(bytes.subarray(at + 4, at + 4 + wordBytes)).split("\n");
  at += 4 + wordBytes;
  if (words.length !== count || bytes.length - at !== count * dims) throw new Error("word-vectors file is truncated or inconsistent");
  return { meta, dims, words, vectors: new Int8Array(bytes.buffer, bytes.byteOffset + at, count * dims) };
}
