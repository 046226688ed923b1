import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { Chain, ProviderType } from "../protocol/index.ts";
import { CHAINS, LIMITS } from "../protocol/index.ts";
import type { BackendMode } from "./llm/select-backend.ts";
import type { LogFormat, LogLevel } from "./logger.ts";

export interface WorkerConfig {
  coordinator: string;
  chain: Chain;
  providerType: ProviderType;
  keyFile: string;
  trustCode: string | undefined;
  slots: number;
  agentId: string | undefined;
  llmBackend: BackendMode;
  ollamaHost: string;
  ollamaModel: string;
  ggufPath: string | undefined;
  threads: number;
  contextSize: number;
  logFormat: LogFormat;
  logLevel: LogLevel;
}

interface OptionSpec {
  flag: string;
  env: string;
  value: string | undefined;
  help: string;
  short?: string;
}

// One table drives parsing, environment fallbacks and --help, so they cannot drift apart.
const OPTIONS: OptionSpec[] = [
  {
    flag: "coordinator",
    env: "DISPATCH_COORDINATOR",
    value: "URL",
    help: "coordinator base URL (http(s) or ws(s)); default http://127.0.0.1:8787",
  },
  { flag: "chain", env: "DISPATCH_CHAIN", value: "monad|solana", help: "chain whose jobs to take; default monad" },
  {
    flag: "type",
    env: "DISPATCH_TYPE",
    value: "desktop|seeker",
    help: "desktop (LLM_INFER + TASK) or seeker (TASK only); default desktop",
  },
  {
    flag: "key",
    env: "DISPATCH_KEY_FILE",
    value: "PATH",
    help: "ed25519 identity, created 0600 on first run; default ~/.dispatch/worker-key.json",
  },
  {
    flag: "trust-code",
    env: "DISPATCH_TRUST_CODE",
    value: "CODE",
    help: "pairing code from a seeker, claimed after registering (for PRIVATE jobs)",
  },
  { flag: "concurrency", env: "DISPATCH_CONCURRENCY", value: "N", short: "c", help: `job slots, 1-${LIMITS.maxWorkerSlots}; default 1` },
  { flag: "agent-id", env: "DISPATCH_AGENT_ID", value: "ID", help: "ERC-8004 agent id linked to this key (decimal)" },
  {
    flag: "llm-backend",
    env: "DISPATCH_LLM_BACKEND",
    value: "auto|ollama|embedded|none",
    help: "LLM backend; auto = Ollama if it serves the model, else the GGUF file; default auto",
  },
  {
    flag: "ollama-host",
    env: "DISPATCH_OLLAMA_HOST",
    value: "URL",
    help: "Ollama server (OLLAMA_HOST is honoured too); default http://127.0.0.1:11434",
  },
  { flag: "ollama-model", env: "DISPATCH_OLLAMA_MODEL", value: "NAME", help: "Ollama model; default llama3.2" },
  { flag: "gguf", env: "DISPATCH_GGUF", value: "PATH", help: "GGUF model file for the embedded node-llama-cpp backend" },
  {
    flag: "threads",
    env: "DISPATCH_THREADS",
    value: "N",
    help: "CPU threads for the embedded backend (1 is fastest on 2 cores); default 1",
  },
  {
    flag: "context-size",
    env: "DISPATCH_CONTEXT_SIZE",
    value: "N",
    help: "embedded context size in tokens, capped at the model's; default 2048",
  },
  { flag: "log-format", env: "DISPATCH_LOG_FORMAT", value: "logfmt|json", help: "log lines on stderr; default logfmt" },
  { flag: "log-level", env: "DISPATCH_LOG_LEVEL", value: "debug|info|warn|error", help: "default info" },
];

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function helpText(): string {
  const rows = OPTIONS.map((o) => {
    const left = `  ${o.short ? `-${o.short}, ` : ""}--${o.flag} ${o.value ?? ""}`.padEnd(46);
    return `${left}${o.help}\n${"".padEnd(46)}env ${o.env}`;
  });
  return [
    "dispatch-worker: sell idle compute to Dispatch seekers",
    "",
    "Usage: npm run worker -- [options]     (or: dispatch-worker [options])",
    "",
    "Options (each also read from the environment variable shown; flags win):",
    ...rows,
    `  -h, --help`.padEnd(46) + "show this help",
    "",
    "Examples:",
    "  npm run worker -- --coordinator http://127.0.0.1:8787 --chain monad --gguf ./model.gguf",
    "  npm run worker -- --type seeker --chain solana -c 2",
    "",
  ].join("\n");
}

export type ParsedCli = { help: true } | { help: false; config: WorkerConfig };

/** Flags first, then DISPATCH_* variables, then defaults. Throws ConfigError naming the bad value. */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): ParsedCli {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        ...Object.fromEntries(OPTIONS.map((o) => [o.flag, { type: "string" as const, ...(o.short && { short: o.short }) }])),
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new ConfigError(`${err instanceof Error ? err.message : String(err)} (see --help)`);
  }
  if (values.help === true) return { help: true };

  const get = (flag: string): string | undefined => {
    const spec = OPTIONS.find((o) => o.flag === flag);
    const fromFlag = values[flag];
    if (typeof fromFlag === "string") return fromFlag;
    const fromEnv = spec ? env[spec.env] : undefined;
    return fromEnv !== undefined && fromEnv !== "" ? fromEnv : undefined;
  };
  const oneOf = <T extends string>(flag: string, allowed: readonly T[], fallback: T): T => {
    const v = get(flag)?.toLowerCase() ?? fallback;
    if (!(allowed as readonly string[]).includes(v))
      throw new ConfigError(`--${flag} must be one of ${allowed.join(", ")} (got ${JSON.stringify(v)})`);
    return v as T;
  };
  const int = (flag: string, fallback: number, min: number, max: number): number => {
    const raw = get(flag);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new ConfigError(`--${flag} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
    return n;
  };

  const coordinator = get("coordinator") ?? "http://127.0.0.1:8787";
  try {
    const url = new URL(coordinator);
    if (!["http:", "https:", "ws:", "wss:"].includes(url.protocol)) throw new Error("bad protocol");
  } catch {
    throw new ConfigError(`--coordinator must be an http(s) or ws(s) URL (got ${JSON.stringify(coordinator)})`);
  }
  const type = oneOf("type", ["desktop", "seeker"] as const, "desktop");
  const agentId = get("agent-id");
  if (agentId !== undefined && !/^\d{1,78}$/.test(agentId)) throw new ConfigError("--agent-id must be a decimal number");
  const gguf = get("gguf");
  const home = os.homedir();
  const keyFile = get("key") ?? path.join(home, ".dispatch", "worker-key.json");

  return {
    help: false,
    config: {
      coordinator,
      chain: oneOf("chain", CHAINS, "monad"),
      providerType: type === "seeker" ? "SEEKER" : "DESKTOP",
      keyFile: path.resolve(keyFile.startsWith("~/") ? path.join(home, keyFile.slice(2)) : keyFile),
      trustCode: get("trust-code"),
      slots: int("concurrency", 1, 1, LIMITS.maxWorkerSlots),
      agentId,
      // A seeker phone runs TASKs only: never spend its startup probing for an LLM.
      llmBackend: type === "seeker" ? "none" : oneOf("llm-backend", ["auto", "ollama", "embedded", "none"] as const, "auto"),
      ollamaHost: get("ollama-host") ?? env.OLLAMA_HOST ?? "http://127.0.0.1:11434",
      ollamaModel: get("ollama-model") ?? "llama3.2",
      ggufPath: gguf === undefined ? undefined : path.resolve(gguf),
      threads: int("threads", 1, 1, 256),
      contextSize: int("context-size", 2048, 64, 1 << 20),
      logFormat: oneOf("log-format", ["logfmt", "json"] as const, "logfmt"),
      logLevel: oneOf("log-level", ["debug", "info", "warn", "error"] as const, "info"),
    },
  };
}

/** `${coordinator}/${chain}/v1/workers/ws` with http(s) turned into ws(s); a base that already names the chain is kept. */
export function workerSocketUrl(coordinator: string, chain: Chain): string {
  const url = new URL(coordinator);
  url.protocol = url.protocol === "https:" || url.protocol === "wss:" ? "wss:" : "ws:";
  const base = url.pathname.replace(/\/+$/, "");
  const prefix = base.endsWith(`/${chain}`) ? base : `${base}/${chain}`;
  url.pathname = `${prefix}/v1/workers/ws`;
  url.search = "";
  return url.toString();
}
