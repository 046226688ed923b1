import { Ajv } from "ajv";
import { jsonrepair } from "jsonrepair";
import type { ExtractJsonError, ExtractJsonOutput, TaskPayload } from "../../protocol/index.ts";
import { jsonTextTooDeep, LIMITS, TASK_LIMITS } from "../../protocol/index.ts";
import { TaskInputError } from "./task-input-error.ts";

interface Candidate {
  offset: number;
  text: string;
}

/**
 * Finds the JSON values in free text (LLM answers, logs, markdown), repairs the broken ones
 * with jsonrepair, and keeps those that satisfy `payload.schema` when one is given.
 */
export function extractJson(payload: TaskPayload): ExtractJsonOutput {
  const validate = payload.schema === undefined ? undefined : compileSchema(payload.schema);
  const objects: unknown[] = [];
  const repaired: number[] = [];
  const errors: ExtractJsonError[] = [];
  const { candidates, truncated } = findCandidates(payload.input);
  for (const c of candidates) {
    const parsed = parseCandidate(c.text);
    if (!parsed.ok) {
      errors.push({ offset: c.offset, message: parsed.message });
      continue;
    }
    if (validate !== undefined && !validate(parsed.value)) {
      errors.push({ offset: c.offset, message: `schema: ${describeAjvErrors(validate.errors)}` });
      continue;
    }
    if (parsed.repaired) repaired.push(objects.length);
    objects.push(parsed.value);
  }
  if (truncated !== undefined) {
    errors.push({
      offset: truncated,
      message: `more than ${TASK_LIMITS.maxJsonCandidates} candidates; the rest of the input was not examined`,
    });
  }
  return { objects, repaired, errors };
}

type ValidateFn = ((value: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };

/** Compiling a schema costs ~100x validating with it, and agents resend the same schema. */
const compiled = new Map<string, ValidateFn>();
const COMPILED_CACHE_SIZE = 32;

function compileSchema(schema: Record<string, unknown>): ValidateFn {
  const key = JSON.stringify(schema);
  if (key.length > TASK_LIMITS.maxSchemaChars) {
    throw new TaskInputError(`schema is larger than ${TASK_LIMITS.maxSchemaChars} characters`);
  }
  const hit = compiled.get(key);
  if (hit !== undefined) {
    compiled.delete(key); // re-insert: the Map's order is the LRU order
    compiled.set(key, hit);
    return hit;
  }
  // A fresh Ajv per schema: schemas with the same $id must not collide. strict: false because
  // seekers write schemas by hand, with annotations ajv does not know.
  const ajv = new Ajv({ strict: false, allErrors: false });
  let validate: ValidateFn;
  try {
    validate = ajv.compile(schema) as ValidateFn;
  } catch (err) {
    throw new TaskInputError(`invalid schema: ${err instanceof Error ? err.message : String(err)}`);
  }
  compiled.set(key, validate);
  if (compiled.size > COMPILED_CACHE_SIZE) compiled.delete(compiled.keys().next().value as string);
  return validate;
}

function describeAjvErrors(errors: ValidateFn["errors"]): string {
  const first = errors?.[0];
  if (first === undefined) return "does not match";
  return `${first.instancePath || "(root)"} ${first.message ?? "does not match"}`;
}

type Parsed = { ok: true; value: unknown; repaired: boolean } | { ok: false; message: string };

/**
 * Deepest value kept: the coordinator refuses frames nested past `LIMITS.maxJsonDepth`, and the
 * output wraps each value in a few levels of its own. Deeper candidates are refused before any
 * parsing or repair, which on pathological nesting could take seconds.
 */
const MAX_VALUE_DEPTH = LIMITS.maxJsonDepth - 8;

function parseCandidate(text: string): Parsed {
  if (jsonTextTooDeep(text, MAX_VALUE_DEPTH)) return { ok: false, message: `nested deeper than ${MAX_VALUE_DEPTH} levels` };
  try {
    return { ok: true, value: JSON.parse(text), repaired: false };
  } catch {
    // fall through to repair
  }
  try {
    const value: unknown = JSON.parse(jsonrepair(text));
    // A repaired bracket of prose ("[see above]") is not data: keep repaired arrays only when they hold structure.
    if (Array.isArray(value) && !value.some((v) => typeof v === "object" && v !== null)) {
      return { ok: false, message: "bracketed text is not JSON" };
    }
    if (typeof value !== "object" || value === null) return { ok: false, message: "not a JSON object or array" };
    return { ok: true, value, repaired: true };
  } catch (err) {
    return { ok: false, message: `unrepairable JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/**
 * Top-level `{...}` and `[...]` spans, string-aware, in order. An unclosed span runs to the
 * end of the input (truncated LLM output), which jsonrepair can usually close.
 */
function findCandidates(text: string): { candidates: Candidate[]; truncated: number | undefined } {
  const candidates: Candidate[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch !== "{" && ch !== "[") {
      i++;
      continue;
    }
    if (candidates.length === TASK_LIMITS.maxJsonCandidates) return { candidates, truncated: i };
    const end = matchingClose(text, i);
    candidates.push({ offset: i, text: text.slice(i, end) });
    i = end;
  }
  return { candidates, truncated: undefined };
}

/** Index just past the bracket that closes the one at `start`, or the end of the text. */
function matchingClose(text: string, start: number): number {
  const stack: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === "{") stack.push("}");
    else if (ch === "[") stack.push("]");
    else if (ch === "}" || ch === "]") {
      // A mismatched closer ends the span here; jsonrepair decides what it meant.
      if (stack.pop() !== ch || stack.length === 0) return i + 1;
    }
  }
  return text.length;
}
