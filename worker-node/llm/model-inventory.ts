import { LIMITS, MODEL_NAME, modelKey } from "../../protocol/index.ts";

/** What a backend serves: model names as the backend spells them, the default first. */
export interface ModelLists {
  models: string[];
  /** Of `models`, those loaded now (they answer without a load delay). */
  loaded: string[];
}

/**
 * The models one backend serves and has loaded, with change notification. Names the protocol
 * cannot carry are left out, and the list is cut to the protocol's bound keeping the default
 * and the loaded models, so a register never fails because a machine has many models.
 */
export class ModelInventory {
  readonly defaultModel: string;
  #lists: ModelLists;
  /** Names left out of the last update, for the startup notes. */
  #skipped: string[] = [];
  readonly #listeners = new Set<(lists: ModelLists) => void>();

  constructor(defaultModel: string, lists: ModelLists) {
    this.defaultModel = defaultModel;
    this.#lists = { models: [], loaded: [] };
    this.set(lists);
  }

  get lists(): ModelLists {
    return { models: [...this.#lists.models], loaded: [...this.#lists.loaded] };
  }

  get skipped(): readonly string[] {
    return this.#skipped;
  }

  /**
   * The served name for a job's `model`, or undefined if not served. A job that names none may
   * run on any model: the default, or the first served one if the default has gone away.
   */
  resolve(requested: string | undefined): string | undefined {
    if (requested === undefined) return this.resolve(this.defaultModel) ?? this.#lists.models[0];
    const key = modelKey(requested);
    return this.#lists.models.find((m) => modelKey(m) === key);
  }

  /** Replaces the lists; listeners hear about it only when something changed. */
  set(lists: ModelLists): void {
    const valid = (name: string) => name.length <= LIMITS.maxModelNameChars && MODEL_NAME.test(name);
    const loadedKeys = new Set(lists.loaded.map(modelKey));
    const served = dedupe(lists.models.filter(valid));
    this.#skipped = lists.models.filter((m) => !valid(m));
    const rank = (m: string) => (m === this.defaultModel ? 0 : loadedKeys.has(modelKey(m)) ? 1 : 2);
    const ordered = served.map((m, i) => ({ m, i })).sort((a, b) => rank(a.m) - rank(b.m) || a.i - b.i);
    const models = ordered.slice(0, LIMITS.maxWorkerModels).map((x) => x.m);
    this.#skipped.push(...ordered.slice(LIMITS.maxWorkerModels).map((x) => x.m));
    const loaded = models.filter((m) => loadedKeys.has(modelKey(m)));
    const changed = !equal(models, this.#lists.models) || !equal(loaded, this.#lists.loaded);
    this.#lists = { models, loaded };
    if (changed) for (const listener of this.#listeners) listener(this.lists);
  }

  /** Calls `listener` after each change; returns the unsubscribe function. */
  onChange(listener: (lists: ModelLists) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

function dedupe(names: string[]): string[] {
  const seen = new Set<string>();
  return names.filter((n) => {
    const key = modelKey(n);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function equal(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
