import { CHAINS, type Chain } from "../protocol/index.ts";

/**
 * Every variable the coordinator reads, in one place: default, meaning, the profiles that must set
 * it, whether it is a secret, and how its value is checked. `readSettings` parses through it,
 * `/v1/health` shows its non-secret entries, the README table is generated from it
 * (`npm run settings:docs`), and `test/settings-registry.test.ts` fails when wrangler.toml, the
 * README or the code drift from it. Adding a setting is adding one entry here.
 */

/** Deployment profiles: `[env.<profile>]` in wrangler.toml. */
export const PROFILES = ["local", "testnet"] as const;
export type Profile = (typeof PROFILES)[number];

export type SettingValue = string | number | boolean | null | string[];

/** How a raw string becomes a value; errors name the variable and say what is expected. */
interface Kind<T extends SettingValue> {
  /** The accepted values, for the README. */
  format: string;
  parse(name: string, raw: string): T;
}

export interface SettingSpec<T extends SettingValue = SettingValue> extends Kind<T> {
  /** README grouping. */
  area: "workers" | "payments" | "payouts" | "trust layer" | "limits";
  /** What it does, for the README. */
  doc: string;
  /** The value used when the variable is unset or empty ("" = off / none). */
  default: string;
  /**
   * Never in wrangler.toml nor in `/v1/health`: `wrangler secret put` when deployed (and listed in the
   * profile's `secrets.required`); `--var` locally (`npm start` passes the local test keys).
   */
  secret: boolean;
  /** Profiles that must give it a value (local: `npm start` does; testnet: wrangler.toml or a secret). */
  needs: readonly Profile[];
  /** Set on per-chain variables (`<BASE>_MONAD`, `<BASE>_SOLANA`): only that chain's object reads it. */
  chain?: Chain;
}

export class SettingsError extends Error {}

const bad = (name: string, expected: string, raw: string): SettingsError =>
  new SettingsError(`${name} must be ${expected}, got ${JSON.stringify(raw)}`);

const flag: Kind<boolean> = {
  format: "`true` or `false`",
  parse(name, raw) {
    if (raw === "true" || raw === "1") return true;
    if (raw === "false" || raw === "0") return false;
    throw bad(name, '"true" or "false"', raw);
  },
};

function oneOf<const V extends string>(values: readonly V[]): Kind<V> {
  return {
    format: values.map((v) => `\`${v}\``).join(" or "),
    parse(name, raw) {
      if ((values as readonly string[]).includes(raw)) return raw as V;
      throw bad(name, values.map((v) => JSON.stringify(v)).join(" or "), raw);
    },
  };
}

const positiveInt: Kind<number> = {
  format: "positive integer",
  parse(name, raw) {
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n <= 0) throw bad(name, "a positive integer", raw);
    return n;
  },
};

/** The kinds below accept "" as "not set" (null), so their default can be "". */
const url: Kind<string | null> = {
  format: "http(s) URL",
  parse(name, raw) {
    if (raw === "") return null;
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw bad(name, "an http(s) URL", raw);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw bad(name, "an http(s) URL", raw);
    return raw;
  },
};

function pattern<T extends string>(format: string, expected: string, re: RegExp): Kind<T | null> {
  return {
    format,
    parse(name, raw) {
      if (raw === "") return null;
      if (!re.test(raw)) throw bad(name, expected, raw);
      return raw as T;
    },
  };
}

const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const evmAddress = pattern<`0x${string}`>("0x address", "a 0x-prefixed 20-byte address", EVM_ADDRESS);
const evmKey = pattern<`0x${string}`>("0x private key", "a 0x-prefixed 32-byte private key", /^0x[0-9a-fA-F]{64}$/);
const solanaAddress = pattern<string>("base58 address", "a base58 Solana address", /^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
const text = pattern<string>("text", "non-empty text", /\S/);
const solanaKeypair = pattern<string>(
  "base58 keypair",
  "the base58 64-byte keypair (as solana-keygen exports it)",
  /^[1-9A-HJ-NP-Za-km-z]{80,90}$/,
);

const percent: Kind<number> = {
  format: "integer 0-100",
  parse(name, raw) {
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n > 100) throw bad(name, "an integer from 0 to 100", raw);
    return n;
  },
};

/** A link template with `{tx}` where the transaction goes. */
const txUrlTemplate: Kind<string | null> = {
  format: "URL with `{tx}`",
  parse(name, raw) {
    if (raw === "") return null;
    if (!/^https?:\/\//.test(raw) || !raw.includes("{tx}")) throw bad(name, "an http(s) URL containing {tx}", raw);
    return raw;
  },
};

const evmAddressList: Kind<`0x${string}`[]> = {
  format: "comma-separated 0x addresses",
  parse(name, raw) {
    const items = raw
      .split(",")
      .map((a) => a.trim())
      .filter(Boolean);
    for (const a of items) if (!EVM_ADDRESS.test(a)) throw bad(name, "comma-separated 0x-prefixed 20-byte addresses", raw);
    return items as `0x${string}`[];
  },
};

type Options = Pick<SettingSpec, "area" | "doc"> & Partial<Pick<SettingSpec, "default" | "secret" | "needs">>;

function define<T extends SettingValue>(kind: Kind<T>, options: Options): SettingSpec<T> {
  return { default: "", secret: false, needs: [], ...kind, ...options };
}

type ChainSuffix = Uppercase<Chain>;

const title = (chain: Chain): string => chain.charAt(0).toUpperCase() + chain.slice(1);

/** The same setting once per chain: `<base>_MONAD` and `<base>_SOLANA`. */
function perChain<const B extends string, T extends SettingValue>(
  base: B,
  make: (chain: Chain) => SettingSpec<T>,
): Record<`${B}_${ChainSuffix}`, SettingSpec<T>> {
  return Object.fromEntries(CHAINS.map((chain) => [`${base}_${chain.toUpperCase()}`, { ...make(chain), chain }])) as Record<
    `${B}_${ChainSuffix}`,
    SettingSpec<T>
  >;
}

export const SETTINGS = {
  ALLOW_UNVERIFIED_WORKERS: define(flag, {
    area: "workers",
    default: "true",
    doc: "Accept reference workers that register without signing the challenge, for PUBLIC jobs only. Turn off once your fleet signs.",
  }),
  AUDIT_SAMPLE_PERCENT: define(percent, {
    area: "workers",
    default: "5",
    doc: 'Share of completed PUBLIC TASK jobs re-run on a second worker with the same engine and compared (spot-check audits; README, "Spot-check audits"). 0 turns audits off.',
  }),
  DASHBOARD_JOB_IDS: define(flag, {
    area: "workers",
    default: "false",
    // Reference-compatible reads make a PUBLIC job's id enough to read its result.
    doc: "Publish PUBLIC job ids and receipt links on `/dashboard` (an id reads the job's result); off: 8-character references.",
  }),
  PAYMENTS_MODE: define(oneOf(["disabled", "x402"]), {
    area: "payments",
    default: "disabled",
    needs: ["local", "testnet"],
    doc: "`disabled` runs jobs unpaid (local testing; `/v1/health` says so); `x402` answers commits with 402 until paid.",
  }),
  FACILITATOR_URL: define(url, {
    area: "payments",
    needs: ["local"],
    doc: "The x402 facilitator (`/verify`, `/settle`, `/supported`) for every chain without its own `FACILITATOR_URL_<CHAIN>`.",
  }),
  ...perChain("FACILITATOR_URL", (chain) =>
    define(url, {
      area: "payments",
      needs: ["testnet"],
      doc: `The facilitator for ${title(chain)} only, when it differs from \`FACILITATOR_URL\`.`,
    }),
  ),
  ...perChain("PAY_TO", (chain) =>
    define(chain === "monad" ? evmAddress : solanaAddress, {
      area: "payments",
      needs: ["local", "testnet"],
      doc: `Where ${title(chain)} payments go (x402 \`payTo\`). Required with \`x402\`.`,
    }),
  ),
  ...perChain("ASSET", (chain) =>
    define(chain === "monad" ? evmAddress : solanaAddress, {
      area: "payments",
      needs: ["local", "testnet"],
      doc:
        chain === "monad"
          ? "The USDC token prices are charged in (EIP-3009). Required with `x402`."
          : "The USDC mint prices are charged in. Required with `x402`.",
    }),
  ),
  ...perChain("ASSET_NAME", (chain) =>
    define(text, {
      area: "payments",
      needs: chain === "monad" ? ["local", "testnet"] : [],
      doc:
        chain === "monad"
          ? "EIP-712 domain name of the token (its `name()`); clients sign against it. Required with `x402`."
          : "Scheme extra `name` for the mint (unused by exact SVM).",
    }),
  ),
  ...perChain("ASSET_VERSION", (chain) =>
    define(text, {
      area: "payments",
      needs: chain === "monad" ? ["local", "testnet"] : [],
      doc:
        chain === "monad"
          ? "EIP-712 domain version of the token (its `version()`). Required with `x402`."
          : "Scheme extra `version` for the mint (unused by exact SVM).",
    }),
  ),
  EVM_RPC_URL: define(url, {
    area: "trust layer",
    needs: ["local", "testnet"],
    doc: "JSON-RPC of the EVM chain that holds ERC-8004 and the receipt anchor (Monad). Empty: identity checks, feedback and anchoring are off.",
  }),
  IDENTITY_REGISTRY: define(evmAddress, {
    area: "trust layer",
    needs: ["local", "testnet"],
    doc: "ERC-8004 IdentityRegistry. Required with `EVM_RPC_URL`.",
  }),
  REPUTATION_REGISTRY: define(evmAddress, {
    area: "trust layer",
    needs: ["local", "testnet"],
    doc: "ERC-8004 ReputationRegistry. Required with `EVM_RPC_URL`.",
  }),
  RECEIPT_ANCHOR: define(evmAddress, {
    area: "trust layer",
    needs: ["local"],
    doc: "Our ReceiptAnchor contract (`npm run contracts:deploy-anchor`). Empty: receipts are not anchored.",
  }),
  ...perChain("COORDINATOR_KEY", (chain) =>
    define(evmKey, {
      area: "trust layer",
      secret: true,
      needs: ["local", "testnet"],
      doc: `EVM key the ${title(chain)} object signs feedback and anchors with (one key per object keeps nonces apart); needs gas. Required with \`EVM_RPC_URL\`.`,
    }),
  ),
  REPUTATION_CLIENTS: define(evmAddressList, {
    area: "trust layer",
    needs: ["local", "testnet"],
    doc: "Whose ERC-8004 feedback counts in reputation: normally the addresses of both coordinator keys.",
  }),
  ANCHOR_BATCH_SIZE: define(positiveInt, { area: "trust layer", default: "64", doc: "Receipts per anchored Merkle root, at most." }),
  ANCHOR_INTERVAL_SECONDS: define(positiveInt, {
    area: "trust layer",
    default: "60",
    doc: "How often a partial batch of receipts is anchored.",
  }),
  WORKER_SHARE_PERCENT: define(percent, {
    area: "payouts",
    default: "90",
    doc: "Share of each settled job's price credited to the worker that delivered it; the rest is the coordinator's fee.",
  }),
  PAYOUT_MIN_MICRO_USD: define(positiveInt, {
    area: "payouts",
    default: "10000",
    doc: "A worker is paid (one batched USDC transfer) once its unpaid earnings reach this many micro-USD ($0.01 by default)...",
  }),
  PAYOUT_INTERVAL_SECONDS: define(positiveInt, {
    area: "payouts",
    default: "3600",
    doc: "...or once its oldest unpaid earning is this old, whatever the amount.",
  }),
  ...perChain("RPC_URL", (chain) =>
    define(url, {
      area: "payouts",
      needs: ["local", "testnet"],
      doc: `JSON-RPC of ${title(chain)}: sends payouts and refunds${chain === "monad" ? ", and asks the token whether an EIP-3009 authorization was used when a settlement's answer was lost" : ""}. Empty: those wait.`,
    }),
  ),
  ...perChain("TREASURY_KEY", (chain) =>
    define(chain === "monad" ? evmKey : solanaKeypair, {
      area: "payouts",
      secret: true,
      needs: ["local", "testnet"],
      doc: `The ${title(chain)} treasury that pays workers and refunds payers (normally the \`PAY_TO_${chain.toUpperCase()}\` account); needs USDC and ${chain === "monad" ? "gas" : "SOL for fees and token-account rent"}. Empty: payouts and refunds wait.`,
    }),
  ),
  ...perChain("EXPLORER_TX_URL", (chain) =>
    define(txUrlTemplate, {
      area: "payouts",
      doc: `Block-explorer link for a ${title(chain)} transaction, \`{tx}\` replaced; sent to workers with their payouts.`,
    }),
  ),
  FACILITATOR_TIMEOUT_MS: define(positiveInt, {
    area: "payments",
    default: "30000",
    doc: "How long one facilitator call may take; past it a settlement's outcome is unknown until the chain or facilitator says.",
  }),
  MAX_SOCKETS: define(positiveInt, {
    area: "limits",
    // 9,500 signed, heartbeating workers were measured on one object (BENCHMARKS.md, bench/scale.ts); the platform allows 32,768.
    default: "10000",
    doc: "Worker sockets per chain object, in total.",
  }),
  MAX_SOCKETS_PER_ADDRESS: define(positiveInt, { area: "limits", default: "256", doc: "Worker sockets per client IP address." }),
  MAX_WAITS_PER_ADDRESS: define(positiveInt, {
    area: "limits",
    default: "32",
    doc: "Long-polls (`?wait=`) and event streams held open per client IP address.",
  }),
  MAX_WAITS: define(positiveInt, { area: "limits", default: "2000", doc: "Long-polls and event streams per chain object, in total." }),
  SSE_BUFFER_BYTES: define(positiveInt, {
    area: "limits",
    default: "1048576",
    doc: "Bytes buffered for one event stream before a slow reader is dropped (it resumes with `Last-Event-ID`).",
  }),
  REPLAY_CACHE_BYTES: define(positiveInt, {
    area: "limits",
    default: "16777216",
    doc: "Memory for streamed LLM tokens kept to replay to late or resuming readers, per chain object.",
  }),
  UNSIGNED_JOBS_PER_ADDRESS: define(positiveInt, {
    area: "limits",
    default: "256",
    doc: "Unfinished unsigned jobs per client IP address (signed seekers have their own quota).",
  }),
  RETENTION_HOURS: define(positiveInt, {
    area: "limits",
    default: "168",
    doc: "Finished jobs, receipts and exclusions are deleted this long after they finish (receipts stay while an anchor proof needs them).",
  }),
} satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;
/** The settings as the Worker sees them: optional strings (wrangler `[vars]`, `--var`, secrets). */
export type SettingVars = { readonly [K in SettingName]?: string };
export type ValueOf<K extends SettingName> = ReturnType<(typeof SETTINGS)[K]["parse"]>;

export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

/** One setting's value: its default when unset or empty, else the checked value. */
export function setting<K extends SettingName>(env: SettingVars, name: K): ValueOf<K> {
  const spec: SettingSpec = SETTINGS[name];
  const raw = env[name];
  try {
    return spec.parse(name, raw === undefined || raw === "" ? spec.default : raw) as ValueOf<K>;
  } catch (err) {
    // The message reaches HTTP answers and logs: never with a secret's value (a key pasted without its 0x would leak).
    if (spec.secret) throw new SettingsError(`${name} must be a well-formed ${spec.format} (a secret: its value is not shown)`);
    throw err;
  }
}

/** The name of a per-chain setting for `chain`, e.g. `PAY_TO_SOLANA`. */
export function chainSetting<const B extends string>(base: B, chain: Chain): `${B}_${ChainSuffix}` {
  return `${base}_${chain.toUpperCase() as ChainSuffix}`;
}

/** The settings one chain's object reads: the shared ones and its own per-chain ones. */
export function settingsOf(chain: Chain): SettingName[] {
  return SETTING_NAMES.filter((name) => {
    const spec: SettingSpec = SETTINGS[name];
    return spec.chain === undefined || spec.chain === chain;
  });
}
