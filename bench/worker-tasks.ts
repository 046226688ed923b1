/**
 * Worker throughput: TASK executions per second on one core (the tasks run synchronously, so
 * one thread = one core), and embedded-LLM tokens per second through EmbeddedBackend versus
 * node-llama-cpp called directly on the same GGUF file with the same settings.
 *
 *   node bench/worker-tasks.ts [--seconds 2] [--gguf path/to/model.gguf]
 */
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { getLlama, LlamaCompletion, LlamaLogLevel } from "node-llama-cpp";
import { EmbeddedBackend } from "../worker-node/llm/embedded-backend.ts";
import { runTask } from "../worker-node/tasks/run-task.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({ options: { seconds: { type: "string" }, gguf: { type: "string" } } });
const SECONDS = Number(values.seconds ?? "2");
const GGUF = path.resolve(values.gguf ?? path.resolve(repoRoot, "../shared/models/stories260K-f16.gguf"));

const ARTICLE = [
  "The city council approved a new budget for public transport on Tuesday after a six-hour debate.",
  "The budget raises spending on buses and trams by 20 percent and funds three new tram lines.",
  "Council members who opposed the budget said the transport plan ignores rising housing costs.",
  "The mayor called the vote a historic step for public transport in the city.",
  "Buses on the busiest routes will run every ten minutes from March, and tram fares stay frozen until next year.",
  "Engineers expect construction of the first new line to begin in the autumn, pending an environmental review.",
  "Residents near the planned depot have asked for noise barriers and limits on night work.",
  "The transport authority said ridership had recovered to 95 percent of its pre-pandemic level.",
  "Opposition parties promised to revisit the plan after the next election.",
  "A public consultation on the new routes opens next month and runs for six weeks.",
].join(" ");
const REVIEW =
  "I bought this blender last month. It is powerful and easy to clean, but the lid leaks a little when it is full. Overall I am happy with it and would recommend it to friends.";
const LLM_TEXT = `Sure! Here are the records you asked for:
\`\`\`json
[{"name": "Ada Lovelace", "born": 1815, "fields": ["mathematics", "computing"],}, {"name": "Alan Turing", "born": 1912, "fields": ["logic", "cryptanalysis"]}]
\`\`\`
I also found {'name': 'Grace Hopper', born: 1906, fields: ['compilers'], active: True} in the notes, and a truncated one: {"name": "Edsger Dijkstra", "born": 1930`;

const TASKS: [string, Record<string, unknown>][] = [
  ["summarize (1.1 kB article, 10 sentences)", { task_type: "summarize", input: ARTICLE }],
  ["classify sentiment (180 B review)", { task_type: "classify", input: REVIEW }],
  ["classify with 4 labels (1.1 kB)", { task_type: "classify", input: ARTICLE, labels: ["transport", "sports", "housing", "technology"] }],
  ["extract_json (420 B, 3 repairs)", { task_type: "extract_json", input: LLM_TEXT }],
  [
    "extract_json + schema",
    {
      task_type: "extract_json",
      input: LLM_TEXT,
      schema: { type: "object", required: ["name", "born"], properties: { born: { type: "integer" } } },
    },
  ],
];

function perSecond(fn: () => void): number {
  for (let i = 0; i < 20; i++) fn(); // warm up the JIT and the NLP model
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    fn();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

console.log(`# worker benchmark — ${os.cpus()[0]?.model ?? "cpu"}, ${os.availableParallelism()} cores, node ${process.version}\n`);
console.log("TASK executions per second, one core:");
const taskRows: string[] = [];
for (const [name, payload] of TASKS) {
  const out = runTask(payload);
  if ("error" in out) throw new Error(`${name}: ${out.error}`);
  const rate = perSecond(() => runTask(payload));
  taskRows.push(`| ${name} | ${rate.toFixed(0)} |`);
  console.log(`  ${name.padEnd(44)} ${rate.toFixed(0).padStart(7)} /s`);
}

// ---- embedded LLM: EmbeddedBackend vs node-llama-cpp directly ----
// The machine is shared, so the two are measured in alternating rounds on the same file and
// compared by the median of per-round ratios, which cancels most background noise.
const PROMPT = "Once upon a time";
const MAX_TOKENS = 400;
const ROUNDS = 15;
const CONTEXT = 512;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, progressLogs: false });
const model = await llama.loadModel({ modelPath: GGUF });
const context = await model.createContext({ contextSize: Math.min(CONTEXT, model.trainContextSize), threads: 1, sequences: 1 });
const sequence = context.getSequence();
const backend = await EmbeddedBackend.load({ modelPath: GGUF, threads: 1, contextSize: CONTEXT, slots: 1 });

/** node-llama-cpp on its own, streaming text the way any streaming caller must. */
async function direct(): Promise<number> {
  const completion = new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false });
  let tokens = 0;
  let text = "";
  const start = performance.now();
  await completion.generateCompletionWithMeta(PROMPT, {
    maxTokens: MAX_TOKENS,
    temperature: 0,
    onToken: (t) => (tokens += t.length),
    onTextChunk: (c) => (text += c),
  });
  const rate = tokens / ((performance.now() - start) / 1000);
  completion.dispose({ disposeSequence: false });
  await sequence.clearHistory();
  return rate;
}

async function ours(): Promise<number> {
  const start = performance.now();
  const out = await backend.generate({
    model: backend.defaultModel,
    messages: [{ role: "user", content: PROMPT }],
    maxTokens: MAX_TOKENS,
    temperature: 0,
    signal: AbortSignal.timeout(60_000),
    onToken: () => {},
  });
  return out.tokens / ((performance.now() - start) / 1000);
}

const directRates: number[] = [];
const ourRates: number[] = [];
const ratios: number[] = [];
await direct();
await ours();
for (let i = 0; i < ROUNDS; i++) {
  const d = await direct();
  const o = await ours();
  directRates.push(d);
  ourRates.push(o);
  ratios.push(o / d);
}
await backend.close();
await llama.dispose();
const directMedian = median(directRates);
const ourMedian = median(ourRates);
const ratio = median(ratios);

console.log(`\nEmbedded LLM (${path.basename(GGUF)}, 1 thread, temperature 0, ${MAX_TOKENS} tokens max, ${ROUNDS} alternating rounds):`);
console.log(`  node-llama-cpp directly (streaming text)     ${directMedian.toFixed(0).padStart(7)} tokens/s (median)`);
console.log(`  EmbeddedBackend (streaming, per-job reset)   ${ourMedian.toFixed(0).padStart(7)} tokens/s (median)`);
console.log(`  ratio, median of rounds                      ${(ratio * 100).toFixed(1).padStart(6)} %`);
console.log("\nMarkdown rows:");
for (const row of taskRows) console.log(row);
console.log(
  `| embedded: direct / EmbeddedBackend / ratio | ${directMedian.toFixed(0)} / ${ourMedian.toFixed(0)} tok/s / ${(ratio * 100).toFixed(1)} % |`,
);
