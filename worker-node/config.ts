import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { Chain, ProviderType } from "../protocol/index.ts";
import { ADDRESS_FORMAT, CHAINS, isPayoutAddress, LIMITS, ModelName, sameModel } from "../protocol/index.ts";
import type { BackendMode } from "./llm/select-backend.ts";
import type { LogFormat, LogLevel } from "./logger.ts";

/** One coordinator session: the worker keeps one per chain it serves. */
export interface Target {
  coordinator: string;
  chain: Chain;
  /** Where this chain's coordinator pays the worker's earnings (in the signed register). */
  payoutAddress?: string;
}

export interface WorkerConfig {
  /** Sessions to keep, in the order given; they share the key, the backends and the job slots. */
  targets: Target[];
  providerType: ProviderType;
  keyFile: string;
  trustCode: string | undefined;
  slots: number;
  agentId: string | undefined;
  llmBackend: BackendMode;
  ollamaHost: string;
  /** Default Ollama model; undefined lets the backend choose (llama3.2 if served, else the first). */
  ollamaModel: string | undefined;
  /** Ollama models to serve (all the server has when undefined). */
  models: string[] | undefined;
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
  /** May be given more than once (and its variable may hold a comma-separated list). */
  multiple?: boolean;
}

// One table drives parsing, environment fallbacks and --help, so they cannot drift apart.
const OPTIONS: OptionSpec[] = [
  {
    flag: "coordinator",
    env: "DISPATCH_COORDINATOR",
    value: "URL",
    help: "coordinator base URL (http(s) or ws(s)); default http://127.0.0.1:8787; repeat: one per --chain",
    multiple: true,
  },
  {
    flag: "chain",
    env: "DISPATCH_CHAIN",
    value: "monad|solana",
    help: "chain whose jobs to take; default monad; repeat it (or use --chains) to serve several",
    multiple: true,
  },
  {
    flag: "chains",
    env: "DISPATCH_CHAINS",
    value: "LIST",
    help: "e.g. monad,solana: one session per chain, sharing the LLM, TASK threads and job slots",
  },
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
    flag: "payout-address",
    env: "DISPATCH_PAYOUT_ADDRESS",
    value: "ADDR",
    help: "where earnings are paid: 0x… on monad, base58 on solana; with several chains give chain=ADDR (repeat or comma-separate)",
    multiple: true,
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
    help: "LLM backend; auto = Ollama if it answers with a model, else the GGUF file; default auto",
  },
  {
    flag: "ollama-host",
    env: "DISPATCH_OLLAMA_HOST",
    value: "URL",
    help: "Ollama server (OLLAMA_HOST is honoured too); default http://127.0.0.1:11434",
  },
  {
    flag: "ollama-model",
    env: "DISPATCH_OLLAMA_MODEL",
    value: "NAME",
    help: "Ollama model for jobs that name none; default llama3.2 if served, else the first one",
  },
  {
    flag: "models",
    env: "DISPATCH_MODELS",
    value: "LIST",
    help: "comma-separated Ollama models to serve; default every model the server has",
  },
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
    "  npm run worker -- --chains monad,solana --models llama3.2,qwen2.5:7b",
    "",
  ].join("\n");
}

export type ParsedCli = { help: true } | { help: false; config: WorkerConfig };

/** Flags first, then DISPATCH_* variables, then defaults. Throws ConfigError naming the bad value. */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv): ParsedCli {
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: {
        ...Object.fromEntries(
          OPTIONS.map((o) => [
            o.flag,
            { type: "string" as const, ...(o.short && { short: o.short }), ...(o.multiple && { multiple: true }) },
          ]),
        ),
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
    if (Array.isArray(fromFlag)) return fromFlag.at(-1);
    const fromEnv = spec ? env[spec.env] : undefined;
    return fromEnv !== undefined && fromEnv !== "" ? fromEnv : undefined;
  };
  const split = (values: string[]): string[] => values.flatMap((v) => v.split(",")).map((v) => v.trim());
  /** Every value given on the command line for a repeatable or comma-separated option. */
  const flagValues = (flag: string): string[] => {
    const given = values[flag];
    return split(Array.isArray(given) ? given : typeof given === "string" ? [given] : []);
  };
  const envValues = (flag: string): string[] => {
    const raw = env[OPTIONS.find((o) => o.flag === flag)?.env ?? ""];
    return raw === undefined || raw === "" ? [] : split([raw]);
  };
  /** Flags if any were given, else the variables: for options that several flags feed (--chain, --chains). */
  const list = (...flags: string[]): string[] | undefined => {
    const flagged = flags.flatMap(flagValues);
    const all = flagged.length > 0 ? flagged : flags.flatMap(envValues);
    return all.length > 0 ? all : undefined;
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

  const targets = withPayoutAddresses(parseTargets(list("coordinator"), list("chain", "chains") ?? []), list("payout-address") ?? []);
  const type = oneOf("type", ["desktop", "seeker"] as const, "desktop");
  const agentId = get("agent-id");
  if (agentId !== undefined && !/^\d{1,78}$/.test(agentId)) throw new ConfigError("--agent-id must be a decimal number");
  const gguf = get("gguf");
  const home = os.homedir();
  const keyFile = get("key") ?? path.join(home, ".dispatch", "worker-key.json");

  return {
    help: false,
    config: {
      targets,
      providerType: type === "seeker" ? "SEEKER" : "DESKTOP",
      keyFile: path.resolve(keyFile.startsWith("~/") ? path.join(home, keyFile.slice(2)) : keyFile),
      trustCode: get("trust-code"),
      slots: int("concurrency", 1, 1, LIMITS.maxWorkerSlots),
      agentId,
      // A seeker phone runs TASKs only: never spend its startup probing for an LLM.
      llmBackend: type === "seeker" ? "none" : oneOf("llm-backend", ["auto", "ollama", "embedded", "none"] as const, "auto"),
      ollamaHost: get("ollama-host") ?? env.OLLAMA_HOST ?? "http://127.0.0.1:11434",
      ...modelChoice(get("ollama-model"), list("models")),
      ggufPath: gguf === undefined ? undefined : path.resolve(gguf),
      threads: int("threads", 1, 1, 256),
      contextSize: int("context-size", 2048, 64, 1 << 20),
      logFormat: oneOf("log-format", ["logfmt", "json"] as const, "logfmt"),
      logLevel: oneOf("log-level", ["debug", "info", "warn", "error"] as const, "info"),
    },
  };
}

const DEFAULT_COORDINATOR = "http://127.0.0.1:8787";

/**
 * Pairs coordinators with chains: one coordinator serves every chain, or there is one per
 * chain in the same order. A pair given twice would register one key twice on one socket path.
 */
function parseTargets(coordinators: string[] | undefined, chainValues: string[]): Target[] {
  const chains = chainValues.length === 0 ? ["monad"] : chainValues;
  for (const chain of chains) {
    if (!(CHAINS as readonly string[]).includes(chain.toLowerCase()))
      throw new ConfigError(`--chain must be one of ${CHAINS.join(", ")} (got ${JSON.stringify(chain)})`);
  }
  const urls = coordinators ?? [DEFAULT_COORDINATOR];
  for (const url of urls) {
    let ok = false;
    try {
      ok = ["http:", "https:", "ws:", "wss:"].includes(new URL(url).protocol);
    } catch {
      ok = false;
    }
    if (!ok) throw new ConfigError(`--coordinator must be an http(s) or ws(s) URL (got ${JSON.stringify(url)})`);
  }
  if (urls.length !== 1 && urls.length !== chains.length) {
    throw new ConfigError(
      `give one --coordinator for every chain, or one per chain in the same order (got ${urls.length} coordinators for ${chains.length} chains)`,
    );
  }
  const targets = chains.map((chain, i) => ({
    coordinator: urls[urls.length === 1 ? 0 : i] as string,
    chain: chain.toLowerCase() as Chain,
  }));
  const seen = new Set<string>();
  for (const t of targets) {
    const key = workerSocketUrl(t.coordinator, t.chain);
    if (seen.has(key)) throw new ConfigError(`chain ${t.chain} on ${t.coordinator} is given twice`);
    seen.add(key);
  }
  return targets;
}

/**
 * Gives each chain its payout address: `chain=ADDR`, or a bare address that goes to the one
 * chain served, or else to the chain whose address shape it has. Checked against that shape.
 */
function withPayoutAddresses(targets: Target[], values: string[]): Target[] {
  const byChain = new Map<Chain, string>();
  for (const value of values) {
    const eq = value.indexOf("=");
    let chain: Chain | undefined;
    let addr = value.trim();
    if (eq > 0) {
      const name = value.slice(0, eq).trim().toLowerCase();
      if (!(CHAINS as readonly string[]).includes(name)) throw new ConfigError(`--payout-address: unknown chain ${JSON.stringify(name)}`);
      chain = name as Chain;
      addr = value.slice(eq + 1).trim();
    } else if (targets.length === 1) {
      chain = targets[0]?.chain;
    } else {
      chain = CHAINS.find((c) => isPayoutAddress(c, addr));
    }
    if (chain === undefined) throw new ConfigError(`--payout-address ${JSON.stringify(value)}: say which chain (chain=ADDR)`);
    if (!isPayoutAddress(chain, addr)) {
      throw new ConfigError(`--payout-address for ${chain} must be ${ADDRESS_FORMAT[chain].what} (got ${JSON.stringify(addr)})`);
    }
    byChain.set(chain, addr);
  }
  return targets.map((t) => {
    const payoutAddress = byChain.get(t.chain);
    return payoutAddress === undefined ? t : { ...t, payoutAddress };
  });
}

/** `--ollama-model` and `--models`, checked against the protocol's model names and each other. */
function modelChoice(model: string | undefined, models: string[] | undefined): Pick<WorkerConfig, "ollamaModel" | "models"> {
  const check = (flag: string, name: string): void => {
    const parsed = ModelName.safeParse(name);
    if (!parsed.success) throw new ConfigError(`--${flag}: ${parsed.error.issues[0]?.message ?? "invalid"} (got ${JSON.stringify(name)})`);
  };
  if (model !== undefined) check("ollama-model", model);
  for (const m of models ?? []) check("models", m);
  if (models !== undefined && models.length > LIMITS.maxWorkerModels) {
    throw new ConfigError(`--models names at most ${LIMITS.maxWorkerModels} models (got ${models.length})`);
  }
  if (model !== undefined && models !== undefined && !models.some((m) => sameModel(m, model))) {
    throw new ConfigError(`--ollama-model ${model} must be one of --models (${models.join(", ")})`);
  }
  return { ollamaModel: model, models };
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
