import { describe, expect, it } from "vitest";
import { MAX_ANSWER_BYTES, readBoundedText } from "./bounded-body.ts";
import { parseSse } from "./sse.ts";

/** A body that never ends: 64 KiB chunks for as long as it is read, counting what was pulled. */
function endless(chunk: string): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  const bytes = new TextEncoder().encode(chunk);
  let n = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      n++;
      controller.enqueue(bytes);
    },
  });
  return { stream, pulled: () => n * bytes.byteLength };
}

describe("bounded reads of a coordinator's answers", () => {
  it("reads a normal body whole", async () => {
    expect(await readBoundedText(new Response('{"ok":true}'), "monad")).toBe('{"ok":true}');
  });

  it("stops an answer that never ends just past the bound", async () => {
    const body = endless("x".repeat(64 * 1024));
    await expect(readBoundedText(new Response(body.stream, { status: 200 }), "monad")).rejects.toMatchObject({ code: "invalid_response" });
    expect(body.pulled()).toBeLessThanOrEqual(MAX_ANSWER_BYTES + 2 * 64 * 1024);
  });

  it("stops an event stream whose event never ends", async () => {
    const body = endless("data: ".concat("y".repeat(64 * 1024), "\n"));
    const read = async () => {
      for await (const _ of parseSse(body.stream)) {
        // no event ever completes
      }
    };
    await expect(read()).rejects.toMatchObject({ code: "invalid_response" });
    expect(body.pulled()).toBeLessThanOrEqual(MAX_ANSWER_BYTES + 2 * 64 * 1024);
  });
});
