import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { CHAINS, type Chain } from "../protocol/index.ts";
import { defaultIdentityPath } from "./identity-file.ts";
import type { HostedConfig } from "./types.ts";

/** Thrown for bad flags, env or config: exit code 2 and the usage hint. */
export class UsageError extends Error {
  override name = "UsageError";
}

const ProviderFile = z.object({ apiKey: z.string().min(1), baseUrl: z.string().url().optional(), model: z.string().optional() });

/** ~/.config/dispatch/config.json; every key optional, flags and env override it. */
const ConfigFile = z
  .object({
    /** Host root; the chain prefix is appended (`http://127.0.0.1:8787` -> `.../monad`). */
    coordinator: z.string().url(),
    coordinators: z.object({ monad: z.string().url(), solana: z.string().url() }).partial(),
    chains: z.array(z.enum(CHAINS)).min(1),
    identity: z.string(),
    user_id: z.string(),
    timeout_seconds: z.number().positive(),
    hosted: z.object({ openai: ProviderFile, anthropic: ProviderFile }).partial(),
  })
  .partial()
  .strict();
type ConfigFile = z.infer<typeof ConfigFile>;

export interface CliConfig {
  coordinators: Record<Chain, string>;
  chains: Chain[];
  identityPath: string;
  userId: string | undefined;
  timeoutMs: number | undefined;
  hosted: HostedConfig | undefined;
}

export interface ConfigFlags {
  config?: string | undefined;
  coordinator?: string | undefined;
  "monad-url"?: string | undefined;
  "solana-url"?: string | undefined;
  chain?: string | undefined;
  identity?: string | undefined;
  "user-id"?: string | undefined;
  timeout?: string | undefined;
}

export const DEFAULT_COORDINATOR = "http://127.0.0.1:8787";

export function defaultConfigPath(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "dispatch", "config.json");
}

/** Flags beat environment (DISPATCH_*), which beats the config file, which beats defaults. */
export async function resolveConfig(flags: ConfigFlags, rawEnv: NodeJS.ProcessEnv): Promise<CliConfig> {
  // An empty variable (`DISPATCH_CHAIN= dispatch ...`) means unset, as shells users expect.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(rawEnv).filter(([, v]) => v !== ""));
  const explicitPath = flags.config ?? env.DISPATCH_CONFIG;
  const file = await readConfigFile(explicitPath ?? defaultConfigPath(env), explicitPath !== undefined);

  const root = flags.coordinator ?? env.DISPATCH_COORDINATOR ?? file.coordinator ?? DEFAULT_COORDINATOR;
  const underRoot = (chain: Chain) => `${checkUrl(root, "coordinator").replace(/\/+$/, "")}/${chain}`;
  const coordinators = {
    monad: checkUrl(flags["monad-url"] ?? env.DISPATCH_MONAD_URL ?? file.coordinators?.monad ?? underRoot("monad"), "monad-url"),
    solana: checkUrl(flags["solana-url"] ?? env.DISPATCH_SOLANA_URL ?? file.coordinators?.solana ?? underRoot("solana"), "solana-url"),
  };

  const chainText = flags.chain ?? env.DISPATCH_CHAIN;
  const chains = chainText === undefined ? (file.chains ?? ["monad", "solana"]) : parseChains(chainText);

  const timeoutText = flags.timeout ?? env.DISPATCH_TIMEOUT;
  let timeoutMs = file.timeout_seconds === undefined ? undefined : file.timeout_seconds * 1000;
  if (timeoutText !== undefined) {
    const seconds = Number(timeoutText);
    if (!Number.isFinite(seconds) || seconds <= 0)
      throw new UsageError(`--timeout must be a positive number of seconds, got "${timeoutText}"`);
    timeoutMs = seconds * 1000;
  }

  return {
    coordinators,
    chains,
    identityPath: flags.identity ?? env.DISPATCH_IDENTITY ?? file.identity ?? defaultIdentityPath(),
    userId: flags["user-id"] ?? env.DISPATCH_USER_ID ?? file.user_id,
    timeoutMs,
    hosted: hostedConfig(file, env),
  };
}

/** API keys come from the environment or the config file only: flags would show in `ps`. */
function hostedConfig(file: ConfigFile, env: NodeJS.ProcessEnv): HostedConfig | undefined {
  const openaiKey = env.DISPATCH_OPENAI_API_KEY ?? file.hosted?.openai?.apiKey;
  const anthropicKey = env.DISPATCH_ANTHROPIC_API_KEY ?? file.hosted?.anthropic?.apiKey;
  const hosted: HostedConfig = {};
  if (openaiKey) {
    hosted.openai = { ...file.hosted?.openai, apiKey: openaiKey };
    if (env.DISPATCH_OPENAI_BASE_URL) hosted.openai.baseUrl = env.DISPATCH_OPENAI_BASE_URL;
    if (env.DISPATCH_OPENAI_MODEL) hosted.openai.model = env.DISPATCH_OPENAI_MODEL;
  }
  if (anthropicKey) {
    hosted.anthropic = { ...file.hosted?.anthropic, apiKey: anthropicKey };
    if (env.DISPATCH_ANTHROPIC_BASE_URL) hosted.anthropic.baseUrl = env.DISPATCH_ANTHROPIC_BASE_URL;
    if (env.DISPATCH_ANTHROPIC_MODEL) hosted.anthropic.model = env.DISPATCH_ANTHROPIC_MODEL;
  }
  return hosted.openai || hosted.anthropic ? hosted : undefined;
}

async function readConfigFile(path: string, required: boolean): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new UsageError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UsageError(`config file ${path} is not valid JSON`);
  }
  const parsed = ConfigFile.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`config file ${path}: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  return parsed.data;
}

export function parseChains(text: string): Chain[] {
  const chains = text.split(",").map((c) => c.trim().toLowerCase());
  for (const chain of chains) {
    if (!(CHAINS as readonly string[]).includes(chain)) throw new UsageError(`unknown chain "${chain}": use ${CHAINS.join(" or ")}`);
  }
  return chains as Chain[];
}

function checkUrl(url: string, what: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error("not http(s)");
  } catch {
    throw new UsageError(`${what} must be an http(s) URL, got "${url}"`);
  }
  return url;
}
