/**
 * Stop sequences matched on the generated text, as OpenAI and Ollama define them: the answer
 * ends before the first occurrence, which is left out. Text that might be the start of a stop
 * sequence is held back until the next piece shows whether it is. (node-llama-cpp's own stop
 * triggers match tokens, so a sequence such as " Lily" never fires on SentencePiece models,
 * whose tokens carry the space inside.)
 */
export class StopFilter {
  readonly #stops: string[];
  readonly #emit: (text: string) => void;
  #held = "";
  #stopped = false;

  constructor(stops: string[], emit: (text: string) => void) {
    this.#stops = stops.filter((s) => s.length > 0);
    this.#emit = emit;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Feeds generated text; returns true once a stop sequence has appeared (generation should end). */
  push(piece: string): boolean {
    if (this.#stopped) return true;
    const text = this.#held + piece;
    let cut = -1;
    for (const stop of this.#stops) {
      const at = text.indexOf(stop);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.#stopped = true;
      this.#held = "";
      this.#send(text.slice(0, cut));
      return true;
    }
    let keep = 0;
    for (const stop of this.#stops) {
      for (let k = Math.min(stop.length - 1, text.length); k > keep; k--) {
        if (text.endsWith(stop.slice(0, k))) {
          keep = k;
          break;
        }
      }
    }
    this.#held = text.slice(text.length - keep);
    this.#send(text.slice(0, text.length - keep));
    return false;
  }

  /** Generation ended: what was held back did not become a stop sequence, so it is text. */
  flush(): void {
    if (!this.#stopped) this.#send(this.#held);
    this.#held = "";
  }

  #send(text: string): void {
    if (text.length > 0) this.#emit(text);
  }
}
