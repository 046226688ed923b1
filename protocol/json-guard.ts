/**
 * Bounds on untrusted JSON, checked before or right after parsing. A value nested thousands
 * deep parses fine but later overflows the stack of whoever serializes, clones or walks it
 * (JSON.stringify, structured clone across RPC, a schema validator), so depth is refused at
 * the door, where the error can still name the request.
 */

/** Whether a JSON text nests arrays/objects deeper than `maxDepth`. Linear, no allocation, never throws. */
export function jsonTextTooDeep(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > maxDepth) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}

/** Whether an already parsed value nests deeper than `maxDepth`. Iterative, so it cannot overflow itself. */
export function valueTooDeep(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== "object") continue;
    if (d + 1 > maxDepth) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === "object") stack.push([child, d + 1]);
    }
  }
  return false;
}

export type BoundedJson = { ok: true; value: unknown } | { ok: false; code: "invalid_json" | "too_deep"; message: string };

/** `JSON.parse` for untrusted text: refuses nesting deeper than `maxDepth` before parsing. Never throws. */
export function parseBoundedJson(text: string, maxDepth: number): BoundedJson {
  if (jsonTextTooDeep(text, maxDepth)) {
    return { ok: false, code: "too_deep", message: `JSON nested deeper than ${maxDepth} levels is refused` };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, code: "invalid_json", message: "not valid JSON" };
  }
}
