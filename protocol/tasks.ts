import { z } from "zod";
import { LIMITS } from "./limits.ts";

/**
 * Output shapes of the built-in TASK types. The payload is `TaskPayload` (jobs.ts):
 * - summarize:    {task_type: "summarize", input, max_sentences?}
 * - classify:     {task_type: "classify", input, labels?}   (sentiment when labels are absent)
 * - extract_json: {task_type: "extract_json", input, schema?} (JSON Schema, checked with ajv)
 * Every task is deterministic: the same payload yields byte-identical output on every worker.
 * A task that cannot run reports `TaskFailure` as its output (reference convention).
 */

export const SummarySentence = z.object({
  /** Position of the sentence in the input (0-based). */
  index: z.number().int().min(0),
  text: z.string(),
  /** Hybrid score in [0, 1]: similarity to the whole text, importance, position. */
  score: z.number().min(0).max(1),
});
export type SummarySentence = z.infer<typeof SummarySentence>;

export const SummarizeOutput = z.object({
  /** The selected sentences, verbatim, in their original order, joined by a space. */
  summary: z.string(),
  /** The selected sentences in their original order. */
  sentences: z.array(SummarySentence),
  sentence_count: z.number().int().min(0),
  selected_count: z.number().int().min(0),
});
export type SummarizeOutput = z.infer<typeof SummarizeOutput>;

export const ClassifyOutput = z.object({
  label: z.string(),
  /** One score per candidate label, summing to 1 (rounded to 4 decimals). */
  scores: z.record(z.string(), z.number().min(0).max(1)),
  /** The winning label's score. */
  confidence: z.number().min(0).max(1),
  /**
   * `sentiment` (default labels or sentiment-named labels), `semantic` (seeker labels, by
   * word-embedding similarity), or `keywords` (seeker labels on workers older than the semantic engine).
   */
  method: z.enum(["sentiment", "semantic", "keywords"]),
});
export type ClassifyOutput = z.infer<typeof ClassifyOutput>;

export const ExtractJsonError = z.object({
  /** Character offset of the candidate in the input. */
  offset: z.number().int().min(0),
  message: z.string(),
});
export type ExtractJsonError = z.infer<typeof ExtractJsonError>;

export const ExtractJsonOutput = z.object({
  /** Every JSON value found (after repair) that satisfies `payload.schema` when one is given. */
  objects: z.array(z.unknown()),
  /** Indices into `objects` of the values that needed repair. */
  repaired: z.array(z.number().int().min(0)),
  /** Candidates that could not be parsed or failed the schema. */
  errors: z.array(ExtractJsonError),
});
export type ExtractJsonOutput = z.infer<typeof ExtractJsonOutput>;

/**
 * Output of a job the worker could not run: never made-up text. `error_kind` (ours) says whose
 * fault it is: `input` when the job itself cannot be done (any worker would fail it the same way),
 * `worker` when this worker could not do it (a crash, a deadline, a missing model). Reference
 * workers send no kind; the coordinator treats that as `worker` and tries another worker.
 */
export const TaskFailure = z.object({ error: z.string(), error_kind: z.enum(["input", "worker"]).optional() });
export type TaskFailure = z.infer<typeof TaskFailure>;

export type TaskOutput = SummarizeOutput | ClassifyOutput | ExtractJsonOutput;

/** Bounds a worker enforces on top of `LIMITS.maxTaskInputChars`. */
export const TASK_LIMITS = {
  /** Sentences kept by `summarize` when `max_sentences` is absent. */
  defaultSummarySentences: 3,
  /** JSON candidates `extract_json` examines; the rest are reported as one error. */
  maxJsonCandidates: 64,
  /** Serialized size of a JSON Schema accepted by `extract_json` (characters). */
  maxSchemaChars: LIMITS.maxSchemaChars,
} as const;

/**
 * Names everything a TASK output depends on besides the payload: the engine's own revision, the
 * wink-nlp library and English model, and the first 12 hex digits of the SHA-256 of the compact
 * word vectors (worker-node/tasks/assets/word-vectors.bin). Two workers reporting the same
 * `task_engine` at register return byte-identical outputs for the same payload; the worker
 * refuses to load vectors whose hash differs.
 */
export const TASK_ENGINE = {
  revision: 3,
  winkNlp: "2.4.0",
  winkModel: "1.8.1",
  wordVectorsSha256: "34885cbb0d57",
} as const;
export const TASK_ENGINE_VERSION =
  `dispatch-tasks/${TASK_ENGINE.revision} wink-nlp@${TASK_ENGINE.winkNlp} lite@${TASK_ENGINE.winkModel} wv@${TASK_ENGINE.wordVectorsSha256}` as const;

/** Output of an LLM_INFER job (both backends). */
export const LlmOutput = z.object({
  text: z.string(),
  /** Tokens generated (as counted by the backend). */
  tokens: z.number().int().min(0),
  /** Tokens the model read (the rendered conversation), for OpenAI-style `usage`; absent when unknown. */
  prompt_tokens: z.number().int().min(0).optional(),
  /** `stop`: the model ended its answer; `length`: max_tokens reached. */
  finish_reason: z.enum(["stop", "length"]),
  model: z.string(),
  backend: z.enum(["ollama", "embedded"]),
});
export type LlmOutput = z.infer<typeof LlmOutput>;
