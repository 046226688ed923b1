import { describe, expect, it } from "vitest";
import type { JobProgressMessage } from "../protocol/index.ts";
import { ProgressStream } from "./progress-stream.ts";

describe("token progress stream", () => {
  it("sends the first piece at once, coalesces the rest into few frames numbered in order, and flushes before completion", async () => {
    const frames: JobProgressMessage[] = [];
    const stream = new ProgressStream("job-1", (m) => frames.push(m), 20);
    for (const t of ["Once", " upon", " a"]) stream.push(t);
    expect(frames).toEqual([{ type: "job_progress", job_id: "job-1", text: "Once", seq: 0 }]);
    await new Promise((r) => setTimeout(r, 40));
    stream.push(" time");
    stream.flush();
    expect(frames).toEqual([
      { type: "job_progress", job_id: "job-1", text: "Once", seq: 0 },
      { type: "job_progress", job_id: "job-1", text: " upon a", seq: 1 },
      { type: "job_progress", job_id: "job-1", text: " time", seq: 2 },
    ]);
  });

  it("splits text larger than a frame allows", () => {
    const frames: JobProgressMessage[] = [];
    const stream = new ProgressStream("job-2", (m) => frames.push(m));
    stream.push("x".repeat(40_000));
    stream.flush();
    expect(frames.map((f) => f.text.length)).toEqual([16_384, 16_384, 40_000 - 2 * 16_384]);
    expect(frames.map((f) => f.seq)).toEqual([0, 1, 2]);
  });

  it("never splits a surrogate pair across frames", () => {
    const frames: JobProgressMessage[] = [];
    const stream = new ProgressStream("job-3", (m) => frames.push(m));
    stream.push(`${"x".repeat(16_383)}😀tail`);
    stream.flush();
    expect(frames.map((f) => f.text.length)).toEqual([16_383, 6]);
    expect(frames.map((f) => f.text).join("")).toBe(`${"x".repeat(16_383)}😀tail`);
  });
});
