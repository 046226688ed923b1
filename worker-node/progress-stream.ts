import type { JobProgressMessage } from "../protocol/index.ts";

/** Largest `text` the coordinator accepts in one job_progress frame. */
const MAX_TEXT = 16_384;

/**
 * Coalesces streamed tokens into job_progress frames: a local model can produce hundreds of
 * tokens a second, and one frame per token would make the coordinator do the same work per token.
 * The first piece goes out at once: the seeker's time to first token should not include the
 * coalescing window.
 */
export class ProgressStream {
  #buffer = "";
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #jobId: string;
  readonly #send: (msg: JobProgressMessage) => void;
  readonly #intervalMs: number;

  constructor(jobId: string, send: (msg: JobProgressMessage) => void, intervalMs = 50) {
    this.#jobId = jobId;
    this.#send = send;
    this.#intervalMs = intervalMs;
  }

  push(text: string): void {
    this.#buffer += text;
    if (this.#seq === 0 || this.#buffer.length >= MAX_TEXT / 2) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.#intervalMs);
  }

  /** Sends whatever is buffered; call before the completion so tokens never trail it. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#buffer.length > 0) {
      let cut = Math.min(MAX_TEXT, this.#buffer.length);
      // Never split a surrogate pair (an emoji, say) across two frames.
      if (cut < this.#buffer.length && /[\uD800-\uDBFF]/.test(this.#buffer[cut - 1] ?? "")) cut--;
      const text = this.#buffer.slice(0, cut);
      this.#buffer = this.#buffer.slice(cut);
      this.#send({ type: "job_progress", job_id: this.#jobId, text, seq: this.#seq++ });
    }
  }
}
