interface WakeLockSentinelLike {
  released: boolean;
  release(): Promise<void>;
  addEventListener(type: "release", listener: () => void): void;
}
interface WakeLockLike {
  request(type: "screen"): Promise<WakeLockSentinelLike>;
}

export type WakeLockState = "on" | "off" | "unsupported" | "refused";

/**
 * Keeps the screen on while the worker runs, where the browser has the Screen Wake Lock API. The
 * browser drops the lock whenever the tab is hidden, so it is taken again when the tab comes back.
 */
export class ScreenWakeLock {
  readonly #onChange: (state: WakeLockState) => void;
  #sentinel: WakeLockSentinelLike | undefined;
  #wanted = false;

  constructor(onChange: (state: WakeLockState) => void) {
    this.#onChange = onChange;
    document.addEventListener("visibilitychange", () => {
      if (this.#wanted && document.visibilityState === "visible") void this.#acquire();
    });
  }

  async hold(): Promise<void> {
    this.#wanted = true;
    await this.#acquire();
  }

  async release(): Promise<void> {
    this.#wanted = false;
    const s = this.#sentinel;
    this.#sentinel = undefined;
    if (s !== undefined && !s.released) await s.release();
    this.#onChange("off");
  }

  async #acquire(): Promise<void> {
    const api = (navigator as Navigator & { wakeLock?: WakeLockLike }).wakeLock;
    if (api === undefined) return this.#onChange("unsupported");
    if (this.#sentinel !== undefined && !this.#sentinel.released) return;
    try {
      const sentinel = await api.request("screen");
      this.#sentinel = sentinel;
      sentinel.addEventListener("release", () => {
        if (this.#sentinel === sentinel) this.#onChange("off");
      });
      this.#onChange("on");
    } catch {
      // Refused (battery saver, a hidden tab, no user gesture yet): the worker runs on regardless.
      this.#onChange("refused");
    }
  }
}
