import { Ollama } from "ollama";
import type { LlmOutput } from "../../protocol/index.ts";
import { sameModel } from "../../protocol/index.ts";
import type { LlmBackend, LlmRequest } from "./llm-backend.ts";
import { GenerationAbortedError } from "./llm-backend.ts";
import { ModelInventory, type ModelLists } from "./model-inventory.ts";

export interface OllamaSettings {
  host: string;
  /** The model for jobs that name none; when absent, llama3.2 if served, else the first served model. */
  model?: string | undefined;
  /** Serve only these of the server's models; all of them when absent. */
  only?: readonly string[] | undefined;
  /** How often to look again at what the server has and has loaded (ms). */
  refreshMs?: number;
}

export type ProbeResult =
  | { ok: true; version: string; defaultModel: string; lists: ModelLists; notes: string[] }
  | { ok: false; reason: string };

const PROBE_TIMEOUT_MS = 3_000;
const DEFAULT_REFRESH_MS = 30_000;
/** The model a worker offers by default when the server has it and nobody chose another. */
const PREFERRED_DEFAULT = "llama3.2";

/** A client whose every request also stops when `signal` aborts (the client only aborts streams itself). */
function client(host: string, signal: AbortSignal): Ollama {
  const boundFetch: typeof fetch = (input, init) =>
    fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal });
  return new Ollama({ host, fetch: boundFetch });
}

/** The server's models (`/api/tags`) narrowed to `only`, and which of them are loaded (`/api/ps`). */
async function listModels(api: Ollama, only: readonly string[] | undefined): Promise<ModelLists> {
  // Ollama before 0.1.38 has no /api/ps: it serves its models all the same, none known as loaded.
  const [tags, running] = await Promise.all([api.list(), api.ps().catch(() => ({ models: [] }))]);
  const models = tags.models.map((m) => m.name).filter((name) => only === undefined || only.some((o) => sameModel(o, name)));
  const loaded = models.filter((name) => running.models.some((r) => sameModel(r.name, name) || sameModel(r.model, name)));
  return { models, loaded };
}

/** Does an Ollama server answer at `host`, and which of the wanted models does it have? */
export async function probeOllama(settings: OllamaSettings): Promise<ProbeResult> {
  const api = client(settings.host, AbortSignal.timeout(PROBE_TIMEOUT_MS));
  let version: string;
  try {
    version = (await api.version()).version;
  } catch (err) {
    return { ok: false, reason: `no Ollama at ${settings.host}: ${message(err)}` };
  }
  let lists: ModelLists;
  try {
    lists = await listModels(api, settings.only);
  } catch (err) {
    return { ok: false, reason: `Ollama at ${settings.host} did not list its models: ${message(err)}` };
  }
  const where = `Ollama ${version} at ${settings.host}`;
  const missing = (settings.only ?? []).filter((o) => !lists.models.some((m) => sameModel(m, o)));
  const notes = missing.map((m) => `${where} has no model ${m} (run: ollama pull ${m})`);
  let defaultModel: string | undefined;
  if (settings.model !== undefined) {
    defaultModel = lists.models.find((m) => sameModel(m, settings.model ?? ""));
    if (defaultModel === undefined)
      return { ok: false, reason: `${where} has no model ${settings.model} (run: ollama pull ${settings.model})` };
  } else {
    defaultModel = lists.models.find((m) => sameModel(m, PREFERRED_DEFAULT)) ?? lists.models[0];
  }
  if (defaultModel === undefined) {
    const what = settings.only === undefined ? "no models" : `none of ${settings.only.join(", ")}`;
    return { ok: false, reason: `${where} has ${what} (run: ollama pull ${settings.only?.[0] ?? PREFERRED_DEFAULT})` };
  }
  return { ok: true, version, defaultModel, lists, notes };
}

/**
 * Chat through a local Ollama server, on any of the models it serves. What it serves and has
 * loaded is looked at again every `refreshMs` and after each job, so the coordinator can hear
 * when a model was pulled, loaded or unloaded.
 */
export class OllamaBackend implements LlmBackend {
  readonly name = "ollama";
  readonly #host: string;
  readonly #only: readonly string[] | undefined;
  readonly #inventory: ModelInventory;
  readonly #timer: NodeJS.Timeout;
  #refreshing: Promise<void> | undefined;

  constructor(settings: OllamaSettings, found: { defaultModel: string; lists: ModelLists }) {
    this.#host = settings.host;
    this.#only = settings.only;
    this.#inventory = new ModelInventory(found.defaultModel, found.lists);
    this.#timer = setInterval(() => void this.refresh(), settings.refreshMs ?? DEFAULT_REFRESH_MS);
    this.#timer.unref();
  }

  /** Probes the server and returns a backend for it; throws with the probe's reason otherwise. */
  static async connect(settings: OllamaSettings): Promise<OllamaBackend> {
    const probe = await probeOllama(settings);
    if (!probe.ok) throw new Error(probe.reason);
    return new OllamaBackend(settings, probe);
  }

  get defaultModel(): string {
    return this.#inventory.defaultModel;
  }

  models(): ModelLists {
    return this.#inventory.lists;
  }

  /** Server models left out of the lists (a name the protocol cannot carry, or past its bound). */
  get skipped(): readonly string[] {
    return this.#inventory.skipped;
  }

  resolveModel(requested: string | undefined): string | undefined {
    return this.#inventory.resolve(requested);
  }

  onModelsChange(listener: (lists: ModelLists) => void): () => void {
    return this.#inventory.onChange(listener);
  }

  /** One refresh at a time; a server that does not answer leaves the last known lists in place. */
  refresh(): Promise<void> {
    this.#refreshing ??= listModels(client(this.#host, AbortSignal.timeout(PROBE_TIMEOUT_MS)), this.#only)
      .then((lists) => this.#inventory.set(lists))
      .catch(() => {})
      .finally(() => {
        this.#refreshing = undefined;
      });
    return this.#refreshing;
  }

  async generate(req: LlmRequest): Promise<LlmOutput> {
    let text = "";
    try {
      const stream = await client(this.#host, req.signal).chat({
        model: req.model,
        messages: req.messages,
        stream: true,
        options: {
          num_predict: req.maxTokens,
          ...(req.temperature !== undefined && { temperature: req.temperature }),
          ...(req.stop !== undefined && { stop: req.stop }),
        },
      });
      let pieces = 0;
      for await (const part of stream) {
        const piece = part.message?.content;
        if (piece) {
          text += piece;
          pieces++;
          req.onToken(piece);
        }
        if (part.done) {
          return {
            text,
            tokens: part.eval_count ?? pieces,
            // Ollama leaves the count out when the whole prompt came from its cache.
            ...(typeof part.prompt_eval_count === "number" && { prompt_tokens: part.prompt_eval_count }),
            finish_reason: part.done_reason === "length" ? "length" : "stop",
            model: req.model,
            backend: "ollama",
          };
        }
      }
      throw new Error("Ollama stream ended without a final message");
    } catch (err) {
      if (req.signal.aborted) throw new GenerationAbortedError(text);
      throw new Error(`ollama: ${message(err)}`);
    } finally {
      // The job may have loaded its model, or made Ollama unload another one for it.
      void this.refresh();
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#refreshing;
  }
}

function message(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}
