import { z } from "zod";
import { LIMITS } from "./limits.ts";

/**
 * Model names as Ollama and Hugging Face spell them (`llama3.2`, `qwen2.5:7b`,
 * `hf.co/org/repo:Q4_K_M`): a charset that is safe in URLs, logs and SQL text.
 */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;

export const ModelName = z
  .string()
  .min(1, "model must not be empty")
  .max(LIMITS.maxModelNameChars, `model must be at most ${LIMITS.maxModelNameChars} characters`)
  .regex(MODEL_NAME, "model may hold letters, digits and . _ : / - and must start with a letter or digit (e.g. llama3.2:3b)");
export type ModelName = z.infer<typeof ModelName>;

/** The models a worker names in `register` and `models_update`. */
export const ModelList = z.array(ModelName).max(LIMITS.maxWorkerModels);

/**
 * The form two model names are compared in: Ollama's rule that a name without a tag means its
 * `:latest` tag, and case-insensitive (Ollama resolves `Llama3.2` to `llama3.2`). Matching a
 * job's `model` to a worker's list must use this on both sides.
 */
export function modelKey(name: string): string {
  const lower = name.toLowerCase();
  const lastSegment = lower.slice(lower.lastIndexOf("/") + 1);
  return lastSegment.includes(":") ? lower : `${lower}:latest`;
}

export function sameModel(a: string, b: string): boolean {
  return modelKey(a) === modelKey(b);
}

/** One entry of `GET /v1/models` (OpenAI's model object, plus our counts). */
export const ModelInfo = z.object({
  id: z.string(),
  object: z.literal("model"),
  /** Unix seconds; OpenAI clients expect the field, we have no real creation time. */
  created: z.number().int().optional(),
  owned_by: z.string(),
  /** Ours: workers online on this chain that serve the model. */
  workers: z.number().int().min(0).optional(),
  /** Ours: of those, how many have it loaded now (answers start sooner). */
  loaded: z.number().int().min(0).optional(),
});
export type ModelInfo = z.infer<typeof ModelInfo>;

/** `GET /v1/models`: OpenAI's list shape. */
export const ModelsResponse = z.object({
  object: z.literal("list"),
  data: z.array(ModelInfo),
});
export type ModelsResponse = z.infer<typeof ModelsResponse>;
