import { JobEvent } from "../protocol/index.ts";

/** Our own frames are small (a token frame carries at most 16 KiB of text); anything larger is a broken stream. */
const MAX_PENDING_CHARS = 1024 * 1024;

/**
 * Reads back, at the edge, the job event frames the chain's object streams
 * (`event: <type>\ndata: <json>\n\n`, as `GET /v1/jobs/{id}/events` serves them). It reads only
 * when asked, so a slow client slows the object's stream, whose own bound then applies.
 */
export class JobEventReader {
  private readonly reader: ReadableStreamDefaultReader<string>;
  private pending = "";

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next event, or null once the stream has ended (or was cancelled). */
  async next(): Promise<JobEvent | null> {
    for (;;) {
      const end = this.pending.indexOf("\n\n");
      if (end >= 0) {
        const frame = this.pending.slice(0, end);
        this.pending = this.pending.slice(end + 2);
        const event = parseFrame(frame);
        if (event) return event;
        continue;
      }
      const { done, value } = await this.reader.read();
      if (done) return null;
      this.pending += value;
      if (this.pending.length > MAX_PENDING_CHARS) {
        await this.cancel();
        throw new Error("job event stream sent an oversized frame");
      }
    }
  }

  /** Stops reading: a pending `next()` ends with null and the object frees the stream and its hold. */
  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }
}

function parseFrame(frame: string): JobEvent | null {
  const data = frame.split("\n").find((line) => line.startsWith("data: "));
  if (data === undefined) return null;
  try {
    const parsed = JobEvent.safeParse(JSON.parse(data.slice(6)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
