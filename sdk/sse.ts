import { MAX_ANSWER_BYTES } from "./bounded-body.ts";
import { DispatchError } from "./errors.ts";

/** One Server-Sent Event as the WHATWG EventSource algorithm assembles it. */
export interface SseMessage {
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * Parses a `text/event-stream` body. Written by hand rather than with EventSource because
 * EventSource cannot send headers (signed reads of PRIVATE jobs need them) and does not
 * exist in Node or Workers.
 */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "";
  let data: string[] = [];
  let dataChars = 0;
  let id: string | undefined;
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      // stream: true keeps a multi-byte character split across chunks intact.
      buffer += decoder.decode(value, { stream: true });
      // A coordinator is not trusted to end its lines or events: one event is at most an answer's size.
      if (buffer.length + dataChars > MAX_ANSWER_BYTES) {
        throw new DispatchError("invalid_response", `an event stream sent an event larger than ${MAX_ANSWER_BYTES} bytes`);
      }
      // Lines end in \n, \r\n or \r; a trailing \r may be half of a \r\n still in flight.
      let match = /\r\n|\n|\r(?=[^\n])/.exec(buffer);
      while (match) {
        const line = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        if (line === "") {
          if (data.length > 0) yield { event: event || "message", data: data.join("\n"), id };
          event = "";
          data = [];
          dataChars = 0;
        } else if (!line.startsWith(":")) {
          const colon = line.indexOf(":");
          const field = colon === -1 ? line : line.slice(0, colon);
          let value = colon === -1 ? "" : line.slice(colon + 1);
          if (value.startsWith(" ")) value = value.slice(1);
          if (field === "event") event = value;
          else if (field === "data") {
            data.push(value);
            dataChars += value.length + 1;
          } else if (field === "id") id = value;
        }
        match = /\r\n|\n|\r(?=[^\n])/.exec(buffer);
      }
    }
  } finally {
    // Leaving the loop early (the consumer stopped) must release the connection.
    await reader.cancel().catch(() => {});
  }
}
