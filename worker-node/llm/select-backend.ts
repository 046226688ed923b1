import { EmbeddedBackend } from "./embedded-backend.ts";
import type { LlmBackend } from "./llm-backend.ts";
import { OllamaBackend, probeOllama } from "./ollama-backend.ts";

export type BackendMode = "auto" | "ollama" | "embedded" | "none";

export interface LlmSettings {
  backend: BackendMode;
  ollamaHost: string;
  ollamaModel: string;
  ggufPath: string | undefined;
  threads: number;
  contextSize: number;
  slots: number;
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
    const probe = await probeOllama({ host: settings.ollamaHost, model: settings.ollamaModel });
    if (probe.ok) {
      notes.push(`ollama ${probe.version} at ${settings.ollamaHost} serves ${settings.ollamaModel}`);
      return { backend: new OllamaBackend({ host: settings.ollamaHost, model: settings.ollamaModel }), notes };
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
    notes.push(`embedded node-llama-cpp on ${settings.ggufPath} (${settings.threads} thread(s), context ${backend.contextSize} tokens)`);
    return { backend, notes };
  } catch (err) {
    notes.push(`embedded backend failed to load ${settings.ggufPath}: ${err instanceof Error ? err.message : String(err)}`);
    return { backend: undefined, notes };
  }
}
