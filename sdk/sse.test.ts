import { describe, expect, it } from "vitest";
import { parseSse } from "./sse.ts";

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function collect(chunks: string[]) {
  const out = [];
  for await (const msg of parseSse(streamOf(chunks))) out.push(msg);
  return out;
}

describe("parseSse", () => {
  it("reassembles events split across chunks at any byte", async () => {
    const text = 'event: token\ndata: {"text":"héllo"}\n\n: keep-alive\n\nevent: status\ndata: {"a":1}\n\n';
    const bytes = new TextEncoder().encode(text);
    // Split inside the multi-byte "é" and between every other byte boundary too.
    for (const size of [1, 2, 3, 7]) {
      const parts: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) parts.push(bytes.slice(i, i + size));
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (const part of parts) controller.enqueue(part);
          controller.close();
        },
      });
      const out = [];
      for await (const msg of parseSse(stream)) out.push(msg);
      expect(out.map((m) => [m.event, m.data])).toEqual([
        ["token", '{"text":"héllo"}'],
        ["status", '{"a":1}'],
      ]);
    }
  });

  it("handles CRLF line ends, multi-line data and the default event name", async () => {
    const out = await collect(["data: one\r\ndata: two\r\n\r\nid: 7\r\nevent: x\r\ndata:no-space\r\n\r\n"]);
    expect(out).toEqual([
      { event: "message", data: "one\ntwo", id: undefined },
      { event: "x", data: "no-space", id: "7" },
    ]);
  });

  it("drops an event cut off by the end of the stream", async () => {
    expect(await collect(['event: status\ndata: {}\n\nevent: token\ndata: {"half'])).toHaveLength(1);
  });
});
