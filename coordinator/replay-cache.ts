interface Entry {
  frames: { seq: number; frame: Uint8Array }[];
  bytes: number;
}

/**
 * The encoded token frames of running LLM jobs, so a stream opened after the first tokens (a
 * seeker subscribes right after its commit returns, or resumes after being dropped) still gets
 * the whole text. Bounded in bytes per job and over all jobs: when full, the jobs that started
 * streaming longest ago are forgotten first (their late subscribers miss the early tokens, the
 * final result still carries the whole text).
 */
export class ReplayCache {
  private readonly entries = new Map<string, Entry>();
  private readonly limits: () => { totalBytes: number; perJobBytes: number };
  bytes = 0;

  constructor(limits: () => { totalBytes: number; perJobBytes: number }) {
    this.limits = limits;
  }

  /** Keeps one frame if the job's share allows; returns it either way, for the live streams. */
  remember(jobId: string, seq: number, frame: Uint8Array): Uint8Array {
    const { totalBytes, perJobBytes } = this.limits();
    let entry = this.entries.get(jobId);
    if (entry && entry.bytes + frame.byteLength > perJobBytes) return frame;
    if (frame.byteLength > perJobBytes) return frame;
    while (this.bytes + frame.byteLength > totalBytes && this.entries.size > 0) {
      const oldest = this.entries.keys().next().value as string;
      if (oldest === jobId) break;
      this.forget(oldest);
    }
    if (this.bytes + frame.byteLength > totalBytes) return frame;
    if (!entry) {
      entry = { frames: [], bytes: 0 };
      this.entries.set(jobId, entry);
    }
    entry.frames.push({ seq, frame });
    entry.bytes += frame.byteLength;
    this.bytes += frame.byteLength;
    return frame;
  }

  /** Frames of a job with a sequence number above `after` (all of them when null). */
  framesAfter(jobId: string, after: number | null): Uint8Array[] {
    const entry = this.entries.get(jobId);
    if (!entry) return [];
    return entry.frames.filter((f) => after === null || f.seq > after).map((f) => f.frame);
  }

  forget(jobId: string): void {
    const entry = this.entries.get(jobId);
    if (!entry) return;
    this.bytes -= entry.bytes;
    this.entries.delete(jobId);
  }
}
