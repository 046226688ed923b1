// `npm run build:worker-page`: bundles the browser worker (worker-browser/) into
// dist/worker-page/worker/, which the coordinator serves as static assets at /worker
// (wrangler.toml `[assets]`). Everything that starts the coordinator runs it first (dev, start,
// the test launcher, the workerd tests, deploy:check), so a clean clone needs no extra step.
//
// Output, all under /worker/: index.html, the page script and stylesheet, the task Web Worker
// script (the TASK engine with wink-nlp and its English model) and the compact word vectors,
// named by content hash so browsers may cache them for good.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { type BuildOptions, build } from "esbuild";
import { TASK_ENGINE } from "../protocol/index.ts";
import { WORD_VECTORS_FILE } from "../worker-node/tasks/word-vectors-format.ts";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** The `[assets]` directory of wrangler.toml. */
export const ASSETS_DIR = path.join(root, "dist", "worker-page");
/** URL path (and folder inside ASSETS_DIR) of everything the page loads. */
export const PAGE_PATH = "/worker";
const SOURCE = path.join(root, "worker-browser");
const OUT = path.join(ASSETS_DIR, PAGE_PATH.slice(1));
/** What the last build read and wrote (outside the assets, so it is never served). */
const STAMP = path.join(root, "dist", "worker-page.inputs.json");

export interface BuiltFile {
  /** URL path, e.g. /worker/page-3F2A.js */
  url: string;
  bytes: number;
  gzip: number;
}

export interface WorkerPageBuild {
  files: BuiltFile[];
  /** Gzip bytes a browser downloads on its first visit: code, page and the word vectors. */
  gzipTotal: number;
  /** The same without the word vectors (the code alone). */
  gzipCode: number;
}

const COMMON = {
  bundle: true,
  minify: true,
  write: false as const,
  platform: "browser",
  // Browsers of the last few years (WebCrypto Ed25519 is the newest thing the page prefers, and it falls back).
  target: ["es2022", "chrome100", "safari16", "firefox110"],
  format: "iife",
  entryNames: "[name]-[hash]",
  outdir: OUT,
  legalComments: "eof",
  logLevel: "silent",
  metafile: true,
  absWorkingDir: root,
} satisfies BuildOptions;

/**
 * Builds the page unless the last build's inputs (every source file esbuild read, the template,
 * the vectors) and outputs are unchanged: the coordinator's launchers call this on every start.
 */
export async function ensureWorkerPage(): Promise<void> {
  if (!isCurrent()) await buildWorkerPage();
}

interface Stamp {
  inputs: Record<string, string>;
  outputs: string[];
}

const fingerprint = (file: string): string => {
  const s = statSync(path.join(root, file));
  return `${s.size}:${s.mtimeMs}`;
};

function isCurrent(): boolean {
  try {
    const stamp = JSON.parse(readFileSync(STAMP, "utf8")) as Stamp;
    return (
      stamp.outputs.every((name) => existsSync(path.join(OUT, name))) &&
      Object.entries(stamp.inputs).every(([file, print]) => fingerprint(file) === print)
    );
  } catch {
    return false;
  }
}

/** Builds the page; writes each file atomically, so concurrent builds (parallel test files) never serve a torn file. */
export async function buildWorkerPage(): Promise<WorkerPageBuild> {
  const outputs = new Map<string, Uint8Array>();

  const vectors = readFileSync(path.join(root, WORD_VECTORS_FILE));
  const sha = createHash("sha256").update(vectors).digest("hex");
  if (!sha.startsWith(TASK_ENGINE.wordVectorsSha256)) {
    throw new Error(`${WORD_VECTORS_FILE} has SHA-256 ${sha.slice(0, 12)}, the engine expects ${TASK_ENGINE.wordVectorsSha256}`);
  }
  const vectorsName = `word-vectors-${TASK_ENGINE.wordVectorsSha256}.bin`;
  outputs.set(vectorsName, vectors);

  const taskWorker = await build({ ...COMMON, entryPoints: { "task-worker": path.join(SOURCE, "task-worker.ts") } });
  const taskWorkerName = single(taskWorker.outputFiles, ".js");
  const page = await build({
    ...COMMON,
    entryPoints: { page: path.join(SOURCE, "page.ts"), style: path.join(SOURCE, "page.css") },
    define: {
      __TASK_WORKER_URL__: JSON.stringify(`${PAGE_PATH}/${taskWorkerName.name}`),
      __WORD_VECTORS_URL__: JSON.stringify(`${PAGE_PATH}/${vectorsName}`),
    },
  });
  for (const f of [...taskWorker.outputFiles, ...page.outputFiles]) outputs.set(path.basename(f.path), f.contents);
  const script = single(page.outputFiles, ".js").name;
  const style = single(page.outputFiles, ".css").name;
  const html = readFileSync(path.join(SOURCE, "index.html"), "utf8")
    .replace("{{PAGE_JS}}", `${PAGE_PATH}/${script}`)
    .replace("{{PAGE_CSS}}", `${PAGE_PATH}/${style}`);
  outputs.set("index.html", new TextEncoder().encode(html));

  mkdirSync(OUT, { recursive: true });
  for (const [name, bytes] of outputs) writeAtomically(path.join(OUT, name), bytes);
  // Hashed names change with every edit: drop the files of earlier builds.
  for (const name of readdirSync(OUT)) if (!outputs.has(name) && !name.includes(".tmp-")) rmSync(path.join(OUT, name), { force: true });

  const read = [
    ...Object.keys(taskWorker.metafile.inputs),
    ...Object.keys(page.metafile.inputs),
    WORD_VECTORS_FILE,
    path.relative(root, path.join(SOURCE, "index.html")),
    path.relative(root, fileURLToPath(import.meta.url)),
  ];
  const stamp: Stamp = { inputs: Object.fromEntries(read.map((f) => [f, fingerprint(f)])), outputs: [...outputs.keys()] };
  writeAtomically(STAMP, new TextEncoder().encode(JSON.stringify(stamp)));

  const files = [...outputs].map(([name, bytes]) => ({ url: `${PAGE_PATH}/${name}`, bytes: bytes.length, gzip: gzipSync(bytes).length }));
  const gzipTotal = files.reduce((n, f) => n + f.gzip, 0);
  const gzipVectors = files.find((f) => f.url.endsWith(vectorsName))?.gzip ?? 0;
  return { files, gzipTotal, gzipCode: gzipTotal - gzipVectors };
}

function single(files: { path: string }[], ext: string): { name: string } {
  const found = files.filter((f) => f.path.endsWith(ext));
  if (found.length !== 1) throw new Error(`expected one ${ext} output, got ${found.length}`);
  return { name: path.basename((found[0] as { path: string }).path) };
}

function writeAtomically(file: string, bytes: Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
}

const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;

/** One line per file and the totals, as `npm run build:worker-page` prints them. */
export function describeBuild(b: WorkerPageBuild): string {
  const rows = b.files.map((f) => `  ${f.url.padEnd(48)} ${kib(f.bytes).padStart(11)} ${kib(f.gzip).padStart(11)} gzip`);
  return [
    `worker page -> ${path.relative(root, ASSETS_DIR)}`,
    ...rows,
    `  first visit: ${kib(b.gzipTotal)} gzip (code ${kib(b.gzipCode)}, word vectors ${kib(b.gzipTotal - b.gzipCode)})`,
  ].join("\n");
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(describeBuild(await buildWorkerPage()));
}
