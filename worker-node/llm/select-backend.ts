import { EmbeddedBackend } from "./embedded-backend.ts";
import type { LlmBackend } from "./llm-backend.ts";
import { OllamaBackend, probeOllama } from "./ollama-backend.ts";

export type BackendMode = "auto" | "ollama" | "embedded" | "none";

export interface LlmSettings {
  backend: BackendMode;
  ollamaHost: string;
  /** Default Ollama model; when absent, llama3.2 if served, else the first served model. */
  ollamaModel: string | undefined;
  /** Serve only these Ollama models (all the server has when absent). */
  models: readonly string[] | undefined;
  ggufPath: string | undefined;
  threads: number;
  contextSize: number;
  slots: number;
  /** How often the Ollama backend looks again at the server's models (ms). */
  refreshMs?: number;
}

export interface Selection {
  backend: LlmBackend | undefined;
  /** Why each backend that was considered was or was not chosen, for the startup summary. */
  notes: string[];
}

/**
 * Picks the LLM backend by probing, never by configuration alone: a worker advertises
 * LLM_INFER only when the chosen backend has actually answered.
 */
export async function selectBackend(settings: LlmSettings): Promise<Selection> {
  const notes: string[] = [];
  if (settings.backend === "none") return { backend: undefined, notes: ["LLM disabled (--llm-backend none)"] };
  if (settings.backend === "auto" || settings.backend === "ollama") {
    const probe = await probeOllama({ host: settings.ollamaHost, model: settings.ollamaModel, only: settings.models });
    if (probe.ok) {
      notes.push(...probe.notes);
      const backend = new OllamaBackend(
        { host: settings.ollamaHost, only: settings.models, ...(settings.refreshMs !== undefined && { refreshMs: settings.refreshMs }) },
        probe,
      );
      const { models, loaded } = backend.models();
      notes.push(
        `ollama ${probe.version} at ${settings.ollamaHost} serves ${models.join(", ")} (default ${backend.defaultModel}; loaded now: ${loaded.join(", ") || "none"})`,
      );
      if (backend.skipped.length > 0)
        notes.push(`not advertised (invalid name, or more than the protocol's limit): ${backend.skipped.join(", ")}`);
      return { backend, notes };
    }
    notes.push(probe.reason);
    if (settings.backend === "ollama") return { backend: undefined, notes };
  }
  if (settings.ggufPath === undefined) {
    notes.push("no GGUF file configured (--gguf) for the embedded backend");
    return { backend: undefined, notes };
  }
  try {
    const backend = await EmbeddedBackend.load({
      modelPath: settings.ggufPath,
      threads: settings.threads,
      contextSize: settings.contextSize,
      slots: settings.slots,
    });
    notes.push(
      `embedded node-llama-cpp on ${settings.ggufPath} as model ${backend.defaultModel} (${settings.threads} thread(s), context ${backend.contextSize} tokens, prompts as ${backend.promptFormat})`,
    );
    return { backend, notes };
  } catch (err) {
    notes.push(`embedded backend failed to load ${settings.ggufPath}: ${err instanceof Error ? err.message : String(err)}`);
    return { backend: undefined, notes };
  }
}
