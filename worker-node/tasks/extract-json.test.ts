import { describe, expect, it } from "vitest";
import { ExtractJsonOutput, LIMITS, TASK_LIMITS } from "../../protocol/index.ts";
import { runTask } from "./run-task.ts";

function extract(input: string, schema?: Record<string, unknown>): ExtractJsonOutput {
  return ExtractJsonOutput.parse(runTask({ task_type: "extract_json", input, ...(schema && { schema }) }));
}

describe("extract_json", () => {
  it("finds clean JSON in prose and leaves it untouched", () => {
    const out = extract('The result is {"name": "Ada", "langs": ["en", "fr"], "nested": {"ok": true}} as requested.');
    expect(out).toEqual({ objects: [{ name: "Ada", langs: ["en", "fr"], nested: { ok: true } }], repaired: [], errors: [] });
  });

  it("repairs LLM-style JSON: code fences, trailing commas, single quotes, Python constants, truncation", () => {
    const text = [
      "Sure! Here is the data:",
      "```json",
      '{"name": "Ada", "age": 36,}',
      "```",
      "and also {'city': 'London', active: True, spouse: None}",
      'and a cut-off one: {"items": [1, 2',
    ].join("\n");
    const out = extract(text);
    expect(out.objects).toEqual([{ name: "Ada", age: 36 }, { city: "London", active: true, spouse: null }, { items: [1, 2] }]);
    expect(out.repaired).toEqual([0, 1, 2]);
    expect(out.errors).toEqual([]);
  });

  it("keeps arrays of objects but not bracketed prose", () => {
    const out = extract('Rows: [{"id": 1}, {"id": 2},] (see [the appendix] for more)');
    expect(out.objects).toEqual([[{ id: 1 }, { id: 2 }]]);
    expect(out.errors).toEqual([{ offset: expect.any(Number), message: "bracketed text is not JSON" }]);
  });

  it("ignores braces inside JSON strings when finding where an object ends", () => {
    const out = extract('x {"template": "a } b { c", "n": 1} y');
    expect(out.objects).toEqual([{ template: "a } b { c", n: 1 }]);
  });

  it("validates against the seeker's schema and reports the failures", () => {
    const schema = { type: "object", required: ["name", "age"], properties: { name: { type: "string" }, age: { type: "integer" } } };
    const out = extract('first {"name": "Ada", "age": "old"} then {"name": "Bob", "age": 4} then {"name": "Cy"}', schema);
    expect(out.objects).toEqual([{ name: "Bob", age: 4 }]);
    expect(out.errors.map((e) => e.message)).toEqual(["schema: /age must be integer", "schema: (root) must have required property 'age'"]);
    expect(out.errors[0]?.offset).toBe(6);
  });

  it("returns empty lists for text without JSON", () => {
    expect(extract("No structured data in this sentence.")).toEqual({ objects: [], repaired: [], errors: [] });
  });

  it("refuses an invalid or oversized schema with an error output", () => {
    expect(runTask({ task_type: "extract_json", input: "{}", schema: { type: "nonsense" } })).toEqual({
      error: expect.stringMatching(/^invalid schema/),
      error_kind: "input",
    });
    const big = { type: "object", description: "x".repeat(TASK_LIMITS.maxSchemaChars) };
    expect(runTask({ task_type: "extract_json", input: "{}", schema: big })).toEqual({
      error: expect.stringMatching(/schema must be at most|schema is larger than/),
      error_kind: "input",
    });
  });

  it("stops after the candidate limit and says where", () => {
    const input = "{} ".repeat(TASK_LIMITS.maxJsonCandidates + 10);
    const out = extract(input);
    expect(out.objects).toHaveLength(TASK_LIMITS.maxJsonCandidates);
    expect(out.errors).toEqual([{ offset: TASK_LIMITS.maxJsonCandidates * 3, message: expect.stringMatching(/more than 64 candidates/) }]);
  });

  it("refuses oversized input and a schema that is not an object", () => {
    expect(runTask({ task_type: "extract_json", input: "{}".repeat(LIMITS.maxTaskInputChars) })).toMatchObject({
      error: expect.stringMatching(/^invalid TASK payload: input/),
    });
    expect(runTask({ task_type: "extract_json", input: "{}", schema: [] })).toMatchObject({ error: expect.stringMatching(/schema/) });
  });

  it("handles deeply nested and unbalanced input without blowing the stack", () => {
    const deep = `${"[".repeat(20_000)}${"]".repeat(20_000)}`;
    expect(() => runTask({ task_type: "extract_json", input: deep })).not.toThrow();
    const open = "{".repeat(50_000);
    const out = runTask({ task_type: "extract_json", input: open });
    expect(out).toBeTypeOf("object");
  });
});
