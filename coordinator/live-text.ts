/**
 * The text a client has been streamed, kept honest across re-runs. A job whose worker drops
 * out is re-run elsewhere from the start; the client cannot take back what it was already
 * sent, so the new run's text is forwarded only past that point, and only while it agrees
 * with it. The verified final text then either extends what was sent (its tail is the last
 * delta) or it does not, and the stream must end in an error instead of a wrong answer.
 * Each token costs only its own length, however long the answer grows.
 */
export class LiveText {
  private sent = "";
  /** Characters the current run has produced. */
  private produced = 0;
  private diverged = false;

  /** A token of the current run; returns what is new to the client (often empty). */
  token(text: string): string {
    if (this.diverged) return "";
    const start = this.produced;
    this.produced += text.length;
    if (start >= this.sent.length) {
      this.sent += text;
      return text;
    }
    // A re-run still covering text the client has: it must say the same.
    const overlap = Math.min(this.sent.length - start, text.length);
    if (this.sent.slice(start, start + overlap) !== text.slice(0, overlap)) {
      this.diverged = true;
      return "";
    }
    const fresh = text.slice(overlap);
    this.sent += fresh;
    return fresh;
  }

  /** The job went back to the queue: the next run starts from its first token. */
  restart(): void {
    this.produced = 0;
  }

  /** The last delta that makes the client's text equal the verified `text`, or null when it cannot. */
  finish(text: string): string | null {
    return text.startsWith(this.sent) ? text.slice(this.sent.length) : null;
  }
}
