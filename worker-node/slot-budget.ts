/**
 * The job slots of one machine. A worker serving several chains gives each coordinator the
 * full count (none can see the others' load) and takes every job's slot from this one budget,
 * so serving two chains never doubles the work the machine runs at once.
 */
export class SlotBudget {
  readonly total: number;
  #used = 0;
  readonly #waiters: ((granted: boolean) => void)[] = [];

  constructor(total: number) {
    this.total = total;
  }

  get used(): number {
    return this.#used;
  }

  /** Takes a slot if one is free now. */
  take(): boolean {
    if (this.#used >= this.total) return false;
    this.#used++;
    return true;
  }

  /** Waits, first come first served, for a slot until `until` (epoch ms) or `signal`; resolves whether it got one. */
  acquire(until: number, signal: AbortSignal): Promise<boolean> {
    if (this.take()) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const settle = (granted: boolean): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", giveUp);
        const i = this.#waiters.indexOf(settle);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve(granted);
      };
      const giveUp = (): void => settle(false);
      const timer = setTimeout(giveUp, Math.max(0, until - Date.now()));
      signal.addEventListener("abort", giveUp, { once: true });
      this.#waiters.push(settle);
    });
  }

  /** Gives a slot back: to the longest waiter if there is one. */
  release(): void {
    const next = this.#waiters.shift();
    if (next !== undefined) next(true);
    else this.#used = Math.max(0, this.#used - 1);
  }
}
