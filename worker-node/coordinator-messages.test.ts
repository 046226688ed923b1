import { describe, expect, it } from "vitest";
import { LIMITS } from "../protocol/index.ts";
import { MAX_COORDINATOR_FRAME_CHARS, parseCoordinatorMessage } from "./coordinator-messages.ts";

const assign = (payload: unknown) =>
  JSON.stringify({
    type: "job_assign",
    job_id: "j1",
    job_type: "TASK",
    payload,
    policy: "CHEAP",
    privacy_class: "PUBLIC",
    user_id: "u",
    deadline_at: new Date().toISOString(),
    attempt: 1,
    payment_ref: null,
  });

const nested = (depth: number): unknown => {
  let v: unknown = "x";
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

describe("frames from the coordinator", () => {
  it("reads a job whose payload is as deep as the coordinator accepts", () => {
    const parsed = parseCoordinatorMessage(assign({ task_type: "extract_json", input: "{}", schema: nested(LIMITS.maxJsonDepth - 2) }));
    expect(parsed.ok).toBe(true);
  });

  it("refuses a frame nested thousands deep, or larger than any job, without parsing it", () => {
    const deep = assign({ task_type: "summarize", input: "DEEP" }).replace('"DEEP"', `${"[".repeat(5_000)}"x"${"]".repeat(5_000)}`);
    expect(parseCoordinatorMessage(deep)).toMatchObject({ ok: false, ignored: false, reason: expect.stringMatching(/nested deeper/) });
    const big = assign({ task_type: "summarize", input: "a".repeat(MAX_COORDINATOR_FRAME_CHARS) });
    expect(parseCoordinatorMessage(big)).toEqual({ ok: false, ignored: false, reason: "frame too large" });
  });
});
