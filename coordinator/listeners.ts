import type { JobEvent } from "../protocol/index.ts";
import { ReplayCache } from "./replay-cache.ts";

export interface ListenerLimits {
  /** Long-polls and SSE streams one client address may hold open at once. */
  holdsPerAddress: number;
  /** Long-polls and SSE streams held open in all. */
  holdsTotal: number;
  /** Bytes one SSE stream may have queued for a reader that is not reading; past it the stream is dropped. */
  streamBufferBytes: number;
  /**
   * Bytes of streamed tokens kept for late subscribers, over all jobs and per job. The per-job
   * figure also caps what one job may stream at all: a worker that streams more is not
   * answering a `max_tokens`-bounded prompt, and every subscriber would have to hold it.
   */
  replayBytesTotal: number;
  replayBytesPerJob: number;
}

interface Stream {
  writer: WritableStreamDefaultWriter<Uint8Array>;
  /** Bytes written that the reader has not pulled yet. */
  queued: number;
  release: () => void;
}

/**
 * In-memory listeners for long-polls and SSE streams. They are never a record of anything:
 * each listener is an open request, and the job state it reports is read back from SQL.
 * An open request keeps the Durable Object awake, so these cannot be lost to hibernation.
 * Every byte they hold is bounded: holds per client, bytes queued per stream, replay bytes.
 */
export class Listeners {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly streams = new Map<string, Set<Stream>>();
  private readonly holdsByAddress = new Map<string, number>();
  private holdsTotal = 0;
  private readonly encoder = new TextEncoder();
  private readonly replay: ReplayCache;
  /** Token bytes forwarded per running job (see `replayBytesPerJob`). */
  private readonly streamed = new Map<string, number>();
  private readonly limits: () => ListenerLimits;
  /** Streams dropped because their reader fell behind (reported by health). */
  droppedStreams = 0;

  constructor(limits: () => ListenerLimits) {
    this.limits = limits;
    this.replay = new ReplayCache(() => {
      const l = limits();
      return { totalBytes: l.replayBytesTotal, perJobBytes: l.replayBytesPerJob };
    });
  }

  /** Reserves one hold (a long-poll or stream) for `addr`; null when the client or the object is at its bound. */
  hold(addr: string): (() => void) | null {
    const limits = this.limits();
    const mine = this.holdsByAddress.get(addr) ?? 0;
    if (mine >= limits.holdsPerAddress || this.holdsTotal >= limits.holdsTotal) return null;
    this.holdsByAddress.set(addr, mine + 1);
    this.holdsTotal++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holdsTotal--;
      const left = (this.holdsByAddress.get(addr) ?? 1) - 1;
      if (left <= 0) this.holdsByAddress.delete(addr);
      else this.holdsByAddress.set(addr, left);
    };
  }

  stats(): { holds: number; streams: number; replay_bytes: number; dropped_streams: number } {
    let streams = 0;
    for (const set of this.streams.values()) streams += set.size;
    return { holds: this.holdsTotal, streams, replay_bytes: this.replay.bytes, dropped_streams: this.droppedStreams };
  }

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

  /**
   * Opens an SSE stream that starts with the job's current state and the tokens streamed so far
   * (after `lastEventId`, when the client resumes); a terminal state closes it at once.
   * `release` is called exactly once, when the stream ends for any reason.
   */
  openStream(
    jobId: string,
    current: JobEvent,
    terminal: boolean,
    release: () => void,
    lastEventId: number | null = null,
  ): ReadableStream<Uint8Array> {
    let stream: Stream | undefined;
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>({
      // Called only as the reader pulls (the readable side has no buffer of its own): what has
      // not passed through here is what a slow reader makes us hold.
      transform: (chunk, controller) => {
        if (stream) stream.queued -= chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const writer = writable.getWriter();
    stream = { writer, queued: 0, release };
    const replay = this.replay.framesAfter(jobId, lastEventId);
    if (terminal) {
      // A job can finish before its seeker subscribes (commit returns, the stream opens after):
      // the text comes first, since clients stop reading at the final status.
      for (const frame of replay) this.write(jobId, stream, frame);
      this.write(jobId, stream, this.frame(current));
      this.end(jobId, stream);
      return readable;
    }
    this.write(jobId, stream, this.frame(current));
    for (const frame of replay) this.write(jobId, stream, frame);
    const set = this.streams.get(jobId) ?? new Set();
    this.streams.set(jobId, set);
    set.add(stream);
    const opened = stream;
    // The reader went away (client disconnected): forget the stream and give back its hold.
    writer.closed.then(
      () => this.forget(jobId, opened),
      () => this.forget(jobId, opened),
    );
    return readable;
  }

  emit(event: JobEvent, terminal = false): void {
    let frame: Uint8Array | undefined;
    if (event.type === "token") {
      const sent = (this.streamed.get(event.job_id) ?? 0) + event.text.length;
      // Past its share a job's tokens are dropped (the final result still carries the whole text).
      if (sent > this.limits().replayBytesPerJob) return;
      this.streamed.set(event.job_id, sent);
      frame = this.replay.remember(event.job_id, event.seq, this.frame(event));
    } else if (terminal || event.stage === "pending") {
      this.streamed.delete(event.job_id);
      // A completed job keeps its text for a late subscriber (the cache is bounded, oldest out); a
      // failed one has none to give, and a re-queued one starts again on another worker.
      if (event.status !== "completed") this.replay.forget(event.job_id);
    }
    const set = this.streams.get(event.job_id);
    if (set) {
      frame ??= this.frame(event);
      for (const stream of [...set]) {
        this.write(event.job_id, stream, frame);
        if (terminal) this.end(event.job_id, stream);
      }
    }
    if (terminal) for (const done of [...(this.waiters.get(event.job_id) ?? [])]) done();
  }

  /** Ends the stream opened with `release`: its reader went away where the runtime could not say so at once. */
  closeStream(jobId: string, release: () => void): void {
    for (const stream of [...(this.streams.get(jobId) ?? [])]) {
      if (stream.release !== release) continue;
      stream.writer.abort(new Error("reader gone")).catch(() => {});
      this.forget(jobId, stream);
    }
  }

  /** Writes one frame, or drops the stream when its reader has fallen too far behind. */
  private write(jobId: string, stream: Stream, frame: Uint8Array): void {
    if (stream.queued + frame.byteLength > this.limits().streamBufferBytes) {
      this.droppedStreams++;
      // Abort discards what is queued; the client can reconnect and resume with Last-Event-ID.
      stream.writer.abort(new Error("reader too slow")).catch(() => {});
      this.forget(jobId, stream);
      return;
    }
    stream.queued += frame.byteLength;
    stream.writer.write(frame).catch(() => this.forget(jobId, stream));
  }

  private end(jobId: string, stream: Stream): void {
    stream.writer.close().catch(() => {});
    this.forget(jobId, stream);
  }

  private frame(event: JobEvent): Uint8Array {
    const id = event.type === "token" ? `id: ${event.seq}\n` : "";
    return this.encoder.encode(`${id}event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  }

  private forget(jobId: string, stream: Stream): void {
    stream.release();
    const set = this.streams.get(jobId);
    if (!set?.delete(stream)) return;
    if (set.size === 0) this.streams.delete(jobId);
  }
}
