import type { TaskPayload } from "../protocol/index.ts";
import { DispatchError } from "./errors.ts";
import type { HostedCompletionRequest } from "./hosted.ts";

const SENTIMENT = ["positive", "negative", "neutral"];

/**
 * A TASK expressed as a hosted chat prompt. Only used on the fallback route. Outputs follow
 * the worker's shapes (protocol/tasks.ts) as far as a chat model can honestly fill them:
 * summarize `{summary}`, classify `{label, scores, confidence}`, extract_json
 * `{objects, repaired: [], errors: []}` (the schema is asked for, not checked).
 */
export function taskPrompt(task: TaskPayload): HostedCompletionRequest {
  switch (task.task_type) {
    case "summarize":
      return {
        system: `Summarize the user's text in at most ${task.max_sentences ?? 3} sentences. Reply with the summary only.`,
        prompt: task.input,
        max_tokens: 512,
        temperature: 0,
      };
    case "classify": {
      const labels = task.labels ?? SENTIMENT;
      return {
        system: `Classify the user's text. Candidate labels: ${labels.map((l) => JSON.stringify(l)).join(", ")}. Reply with JSON only: {"scores": {<label>: <probability>, ...}} with one probability per candidate label, summing to 1.`,
        prompt: task.input,
        max_tokens: 256,
        temperature: 0,
      };
    }
    case "extract_json":
      return {
        system: `Extract the JSON data contained in the user's text.${task.schema ? ` It must satisfy this JSON Schema: ${JSON.stringify(task.schema)}.` : ""} Reply with the JSON value only, no prose, no code fences.`,
        prompt: task.input,
        max_tokens: 1024,
        temperature: 0,
      };
  }
}

export function taskOutput(task: TaskPayload, text: string, route: string): unknown {
  switch (task.task_type) {
    case "summarize":
      return { summary: text.trim() };
    case "classify": {
      const labels = task.labels ?? SENTIMENT;
      const parsed = parseJsonText(text, route) as { scores?: Record<string, unknown> } | null;
      // Keep only the candidate labels (matched case-insensitively), then renormalise.
      const raw = labels.map((label) => {
        const entry = Object.entries(parsed?.scores ?? {}).find(([k]) => k.toLowerCase() === label.toLowerCase());
        const value = Number(entry?.[1]);
        return [label, Number.isFinite(value) && value > 0 ? value : 0] as const;
      });
      const total = raw.reduce((sum, [, v]) => sum + v, 0);
      if (total <= 0) throw new DispatchError("hosted_error", `${route}: classify answer scores none of the labels: ${text.slice(0, 200)}`);
      const scores = Object.fromEntries(raw.map(([label, v]) => [label, Math.round((v / total) * 10_000) / 10_000]));
      const [label, confidence] = raw.reduce((best, cur) => (cur[1] > best[1] ? cur : best));
      return { label, scores, confidence: Math.round((confidence / total) * 10_000) / 10_000 };
    }
    case "extract_json": {
      const value = parseJsonText(text, route);
      return { objects: Array.isArray(value) ? value : [value], repaired: [], errors: [] };
    }
  }
}

/** Models like to wrap JSON in code fences even when told not to. */
function parseJsonText(text: string, route: string): unknown {
  const unfenced = text
    .trim()
    .replace(/^```(?:json)?\s*/i, "")
    .replace(/\s*```$/, "");
  try {
    return JSON.parse(unfenced);
  } catch {
    throw new DispatchError("hosted_error", `${route}: expected JSON, got: ${text.slice(0, 200)}`);
  }
}
