export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  random?: () => number;
}

/**
 * Capped exponential backoff with "equal jitter": half the window fixed, half random. Never
 * zero (a restarting coordinator is not hammered) and never in lockstep with other workers.
 */
export class Backoff {
  #attempt = 0;
  readonly #opts: Required<BackoffOptions>;

  constructor(opts: BackoffOptions) {
    this.#opts = { random: Math.random, ...opts };
  }

  next(): number {
    const window = Math.min(this.#opts.capMs, this.#opts.baseMs * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    return Math.round(window / 2 + this.#opts.random() * (window / 2));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
