import type { JobEvent } from "../protocol/index.ts";

const MAX_REPLAY_JOBS = 256;
const MAX_REPLAY_TOKENS = 4096;
const MAX_REPLAY_CHARS = 256 * 1024;

/**
 * In-memory listeners for long-polls and SSE streams. They are never a record of anything:
 * each listener is an open request, and the job state it reports is read back from SQL.
 * An open request keeps the Durable Object awake, so these cannot be lost to hibernation.
 */
export class Listeners {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly streams = new Map<string, Set<WritableStreamDefaultWriter<Uint8Array>>>();
  private readonly encoder = new TextEncoder();
  /**
   * Tokens of running LLM jobs, so a stream opened after the first tokens (a seeker subscribes
   * right after its commit returns) still gets the whole text. Bounded per job and in jobs.
   */
  private readonly tokens = new Map<string, { events: JobEvent[]; chars: number }>();

  /** Resolves when the job reaches a terminal state or after `ms`. */
  wait(jobId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(jobId) ?? new Set();
      this.waiters.set(jobId, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(jobId);
        resolve();
      };
      // A request-scoped timer bounds the wait; it holds no state that outlives the request.
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }

  /** Opens an SSE stream that starts with the job's current state; a terminal state closes it at once. */
  openStream(jobId: string, current: JobEvent, terminal: boolean): ReadableStream<Uint8Array> {
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    writer.write(this.frame(current)).catch(() => {});
    for (const token of this.tokens.get(jobId)?.events ?? []) writer.write(this.frame(token)).catch(() => {});
    if (terminal) {
      writer.close().catch(() => {});
      return readable;
    }
    const set = this.streams.get(jobId) ?? new Set();
    this.streams.set(jobId, set);
    set.add(writer);
    writer.closed.catch(() => this.dropStream(jobId, writer));
    return readable;
  }

  emit(event: JobEvent, terminal = false): void {
    if (event.type === "token") this.remember(event);
    // A finished job needs no replay; a re-queued one starts its text again on another worker.
    else if (terminal || event.stage === "pending") this.tokens.delete(event.job_id);
    const set = this.streams.get(event.job_id);
    if (set) {
      const frame = this.frame(event);
      for (const writer of [...set]) {
        writer.write(frame).catch(() => this.dropStream(event.job_id, writer));
        if (terminal) {
          writer.close().catch(() => {});
          this.dropStream(event.job_id, writer);
        }
      }
    }
    if (terminal) for (const done of [...(this.waiters.get(event.job_id) ?? [])]) done();
  }

  private remember(event: JobEvent & { type: "token" }): void {
    let entry = this.tokens.get(event.job_id);
    if (!entry) {
      if (this.tokens.size >= MAX_REPLAY_JOBS) {
        const oldest = this.tokens.keys().next().value;
        if (oldest !== undefined) this.tokens.delete(oldest);
      }
      entry = { events: [], chars: 0 };
      this.tokens.set(event.job_id, entry);
    }
    if (entry.events.length >= MAX_REPLAY_TOKENS || entry.chars + event.text.length > MAX_REPLAY_CHARS) return;
    entry.events.push(event);
    entry.chars += event.text.length;
  }

  private frame(event: JobEvent): Uint8Array {
    return this.encoder.encode(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  }

  private dropStream(jobId: string, writer: WritableStreamDefaultWriter<Uint8Array>): void {
    const set = this.streams.get(jobId);
    set?.delete(writer);
    if (set && set.size === 0) this.streams.delete(jobId);
  }
}
