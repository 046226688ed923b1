import { chatMessages, type LlmInput } from "../protocol/index.ts";
import { combineSignals } from "./coordinator-client.ts";
import { DispatchError } from "./errors.ts";
import type { FetchLike, HostedConfig, HostedRoute } from "./types.ts";

/** A prompt (with an optional system text) or chat messages, as an LLM job carries them. */
export interface HostedCompletionRequest extends LlmInput {
  max_tokens: number;
  temperature?: number | undefined;
  stop?: string[] | undefined;
}

export interface HostedCompletion {
  route: HostedRoute;
  text: string;
  model: string;
}

const DEFAULTS = {
  openai: { baseUrl: "https://api.openai.com/v1", model: "gpt-4o-mini" },
  anthropic: { baseUrl: "https://api.anthropic.com/v1", model: "claude-3-5-haiku-latest", version: "2023-06-01" },
} as const;

/** The configured providers, in the order they are tried. */
export function hostedProviders(config: HostedConfig | undefined): HostedRoute[] {
  const out: HostedRoute[] = [];
  if (config?.openai?.apiKey) out.push("hosted:openai");
  if (config?.anthropic?.apiKey) out.push("hosted:anthropic");
  return out;
}

/** One completion from a hosted provider (OpenAI Chat Completions or Anthropic Messages). */
export async function completeHosted(
  route: HostedRoute,
  config: HostedConfig,
  req: HostedCompletionRequest,
  fetchFn: FetchLike,
  signal?: AbortSignal,
): Promise<HostedCompletion> {
  const call = route === "hosted:openai" ? openaiRequest(config, req) : anthropicRequest(config, req);
  const { signal: combined, dispose } = combineSignals(signal, config.timeoutMs ?? 60_000);
  let res: Response;
  try {
    res = await fetchFn(call.url, { method: "POST", headers: call.headers, body: JSON.stringify(call.body), signal: combined });
  } catch (err) {
    if (signal?.aborted) throw new DispatchError("aborted", "the call was aborted by the caller", { cause: err });
    throw new DispatchError("hosted_error", `${route}: cannot reach ${call.url}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  } finally {
    dispose();
  }
  const text = await res.text();
  if (!res.ok) {
    // Provider error bodies never echo the key, but keep them short anyway.
    throw new DispatchError("hosted_error", `${route}: ${res.status} from ${call.url}: ${text.slice(0, 300)}`, { status: res.status });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new DispatchError("hosted_error", `${route}: non-JSON answer from ${call.url}`, { status: res.status });
  }
  const out = route === "hosted:openai" ? openaiText(body) : anthropicText(body);
  if (out === undefined) throw new DispatchError("hosted_error", `${route}: the answer carries no text`, { status: res.status });
  return { route, text: out, model: call.model };
}

interface ProviderCall {
  url: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  model: string;
}

function openaiRequest(config: HostedConfig, req: HostedCompletionRequest): ProviderCall {
  const cfg = config.openai;
  if (!cfg) throw new DispatchError("hosted_error", "hosted:openai is not configured");
  const model = cfg.model ?? DEFAULTS.openai.model;
  return {
    url: `${(cfg.baseUrl ?? DEFAULTS.openai.baseUrl).replace(/\/+$/, "")}/chat/completions`,
    headers: { "content-type": "application/json", authorization: `Bearer ${cfg.apiKey}` },
    body: {
      model,
      messages: chatMessages(req),
      max_tokens: req.max_tokens,
      ...(req.temperature === undefined ? {} : { temperature: req.temperature }),
      ...(req.stop === undefined ? {} : { stop: req.stop }),
    },
    model,
  };
}

function anthropicRequest(config: HostedConfig, req: HostedCompletionRequest): ProviderCall {
  const cfg = config.anthropic;
  if (!cfg) throw new DispatchError("hosted_error", "hosted:anthropic is not configured");
  const model = cfg.model ?? DEFAULTS.anthropic.model;
  // Anthropic takes the system text beside the turns, not as one of them.
  const turns = chatMessages(req);
  const system = turns.filter((m) => m.role === "system").map((m) => m.content);
  return {
    url: `${(cfg.baseUrl ?? DEFAULTS.anthropic.baseUrl).replace(/\/+$/, "")}/messages`,
    headers: {
      "content-type": "application/json",
      "x-api-key": cfg.apiKey,
      "anthropic-version": cfg.version ?? DEFAULTS.anthropic.version,
    },
    body: {
      model,
      max_tokens: req.max_tokens,
      messages: turns.filter((m) => m.role !== "system"),
      ...(system.length > 0 ? { system: system.join("\n\n") } : {}),
      ...(req.temperature === undefined ? {} : { temperature: req.temperature }),
      ...(req.stop === undefined ? {} : { stop_sequences: req.stop }),
    },
    model,
  };
}

function openaiText(body: unknown): string | undefined {
  const choices = (body as { choices?: { message?: { content?: unknown } }[] }).choices;
  const content = choices?.[0]?.message?.content;
  return typeof content === "string" ? content : undefined;
}

function anthropicText(body: unknown): string | undefined {
  const content = (body as { content?: { type?: string; text?: unknown }[] }).content;
  if (!Array.isArray(content)) return undefined;
  const parts = content.filter((c) => c.type === "text" && typeof c.text === "string").map((c) => c.text as string);
  return parts.length > 0 ? parts.join("") : undefined;
}
