import { Ollama } from "ollama";
import type { LlmOutput } from "../../protocol/index.ts";
import type { LlmBackend, LlmRequest } from "./llm-backend.ts";
import { GenerationAbortedError } from "./llm-backend.ts";

export interface OllamaSettings {
  host: string;
  model: string;
}

export type ProbeResult = { ok: true; version: string } | { ok: false; reason: string };

const PROBE_TIMEOUT_MS = 3_000;

/** A client whose every request also stops when `signal` aborts (the client only aborts streams itself). */
function client(host: string, signal: AbortSignal): Ollama {
  const boundFetch: typeof fetch = (input, init) =>
    fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal });
  return new Ollama({ host, fetch: boundFetch });
}

/** Ollama tags models `name:tag`; a bare name means `:latest`. */
function sameModel(a: string, b: string): boolean {
  const norm = (m: string): string => (m.includes(":") ? m : `${m}:latest`);
  return norm(a) === norm(b);
}

/** Does an Ollama server answer at `host`, and does it have `model`? */
export async function probeOllama(settings: OllamaSettings): Promise<ProbeResult> {
  const api = client(settings.host, AbortSignal.timeout(PROBE_TIMEOUT_MS));
  let version: string;
  try {
    version = (await api.version()).version;
  } catch (err) {
    return { ok: false, reason: `no Ollama at ${settings.host}: ${message(err)}` };
  }
  try {
    const { models } = await api.list();
    if (!models.some((m) => sameModel(m.name, settings.model) || sameModel(m.model, settings.model))) {
      return {
        ok: false,
        reason: `Ollama ${version} at ${settings.host} has no model ${settings.model} (run: ollama pull ${settings.model})`,
      };
    }
  } catch (err) {
    return { ok: false, reason: `Ollama at ${settings.host} did not list its models: ${message(err)}` };
  }
  return { ok: true, version };
}

export class OllamaBackend implements LlmBackend {
  readonly name = "ollama";
  readonly model: string;
  readonly #host: string;

  constructor(settings: OllamaSettings) {
    this.model = settings.model;
    this.#host = settings.host;
  }

  async generate(req: LlmRequest): Promise<LlmOutput> {
    let text = "";
    try {
      const stream = await client(this.#host, req.signal).generate({
        model: this.model,
        prompt: req.prompt,
        ...(req.system !== undefined && { system: req.system }),
        stream: true,
        options: {
          num_predict: req.maxTokens,
          ...(req.temperature !== undefined && { temperature: req.temperature }),
        },
      });
      let tokens = 0;
      for await (const part of stream) {
        if (part.response) {
          text += part.response;
          tokens++;
          req.onToken(part.response);
        }
        if (part.done) {
          return {
            text,
            tokens: part.eval_count ?? tokens,
            finish_reason: part.done_reason === "length" ? "length" : "stop",
            model: this.model,
            backend: "ollama",
          };
        }
      }
      throw new Error("Ollama stream ended without a final message");
    } catch (err) {
      if (req.signal.aborted) throw new GenerationAbortedError(text);
      throw new Error(`ollama: ${message(err)}`);
    }
  }

  async close(): Promise<void> {}
}

function message(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}
