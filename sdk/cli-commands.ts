import { readFile } from "node:fs/promises";
import QRCode from "qrcode";
import { type Chain, type JobType, type JobView, Policy, TaskType } from "../protocol/index.ts";
import { type CliConfig, UsageError } from "./cli-config.ts";
import { cliPaymentClient } from "./cli-payments.ts";
import { DispatchError, type DispatchErrorCode } from "./errors.ts";
import { loadIdentity, loadOrCreateIdentity } from "./identity-file.ts";
import type { PaymentClientInput } from "./payments.ts";
import { ComputeRouter } from "./router.ts";
import type { ComputeRouterOptions, Identity, JobResult, ProgressEvent } from "./types.ts";

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
}

export interface CommandArgs {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
  config: CliConfig;
  json: boolean;
  io: CliIo;
  env: NodeJS.ProcessEnv;
}

/** Identity need: "create" makes a key on first use, "load" uses one if it exists, "none" ignores it. */
type IdentityNeed = "create" | "load" | "none";

export async function makeRouter(
  args: CommandArgs,
  need: IdentityNeed,
  x402Client?: PaymentClientInput,
  extra: Pick<ComputeRouterOptions, "maxPrice"> = {},
): Promise<ComputeRouter> {
  let identity: Identity | undefined;
  if (need === "create") {
    const { identity: id, created } = await loadOrCreateIdentity(args.config.identityPath);
    if (created) args.io.stderr(`created seeker identity ${id.publicKey} in ${args.config.identityPath}\n`);
    identity = id;
  } else if (need === "load") {
    identity = await loadIdentity(args.config.identityPath).catch((err: unknown) => {
      // Reading a public job needs no key; a broken key file is still worth an error.
      if (err instanceof DispatchError && err.code === "identity_required") return undefined;
      throw err;
    });
  }
  return new ComputeRouter({
    coordinators: args.config.coordinators,
    chainPreference: args.config.chains,
    ...(identity ? { identity } : {}),
    ...(args.config.userId ? { userId: args.config.userId } : {}),
    ...(args.config.hosted ? { hosted: args.config.hosted } : {}),
    ...(x402Client ? { x402Client } : {}),
    ...extra,
  });
}

/** The browser worker page (served at the coordinator's root) that claims `code` once it has registered. */
export function pairingLink(chainUrl: string, chain: Chain, code: string): string {
  const link = new URL("/worker", chainUrl);
  link.search = new URLSearchParams({ chain, pair: code }).toString();
  return link.toString();
}

function chainOf(args: CommandArgs): Chain {
  return args.config.chains[0] ?? "monad";
}

function jobType(text: string | undefined): JobType {
  const t = text?.toLowerCase();
  if (t === "llm" || t === "llm_infer") return "LLM_INFER";
  if (t === "task") return "TASK";
  throw new UsageError(`job type must be llm or task, got "${text ?? ""}"`);
}

function policy(value: unknown): Policy {
  const parsed = Policy.safeParse(typeof value === "string" ? value.toUpperCase() : "AUTO");
  if (!parsed.success) throw new UsageError(`--policy must be auto, fast or cheap, got "${String(value)}"`);
  return parsed.data;
}

function printJson(args: CommandArgs, value: unknown): void {
  args.io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

export async function quoteCommand(args: CommandArgs): Promise<number> {
  const router = await makeRouter(args, "none");
  const type = jobType(args.positionals[0] ?? (args.values.type as string | undefined));
  const quote = await router.quote({ job_type: type, policy: policy(args.values.policy), chain: chainOf(args) });
  if (args.json) printJson(args, quote);
  else {
    const pay = quote.payment.enabled ? `x402 on ${quote.network}` : "payments disabled on this coordinator";
    args.io.stdout(`${quote.job_type} ${quote.policy_resolved} on ${quote.chain}: ${quote.price} (${pay})\n  commit: ${quote.endpoint}\n`);
  }
  return 0;
}

export async function runCommand(args: CommandArgs): Promise<number> {
  const [kind, ...rest] = args.positionals;
  const type = jobType(kind);
  const privacy = args.values.private ? "PRIVATE" : "PUBLIC";
  const payment = await cliPaymentClient(args.env, await makeRouter(args, "none"), { job_type: type, policy: policy(args.values.policy) });
  if (payment) args.io.stderr(`paying with x402 from ${payment.payers.join(", ")} (at most the quoted price)\n`);
  const router = await makeRouter(args, privacy === "PRIVATE" ? "create" : "none", payment?.client);
  const onProgress = (event: ProgressEvent) => args.io.stderr(describeProgress(event));
  const common = {
    policy: policy(args.values.policy),
    privacy,
    ...(args.config.timeoutMs ? { timeoutMs: args.config.timeoutMs } : {}),
    onProgress,
  } as const;

  let result: JobResult;
  if (type === "LLM_INFER") {
    const prompt = await textArg(args, rest[0], "prompt");
    const stream = !args.json && args.values.stream !== false;
    let streamed = false;
    const llm = await router.runLLM({
      ...common,
      prompt,
      ...(args.values["max-tokens"] ? { max_tokens: intFlag(args.values["max-tokens"], "max-tokens") } : {}),
      ...(typeof args.values.system === "string" ? { system: args.values.system } : {}),
      ...(stream
        ? {
            onToken: (text: string) => {
              streamed = true;
              args.io.stdout(text);
            },
          }
        : {}),
    });
    result = llm;
    if (!args.json) args.io.stdout(streamed ? "\n" : `${llm.text}\n`);
  } else {
    const taskType = TaskType.safeParse(rest[0]);
    if (!taskType.success) throw new UsageError(`task type must be summarize, classify or extract_json, got "${rest[0] ?? ""}"`);
    const input = await textArg(args, rest[1], "input");
    result = await router.runTask({
      ...common,
      task_type: taskType.data,
      input,
      ...(typeof args.values.labels === "string" ? { labels: args.values.labels.split(",").map((l) => l.trim()) } : {}),
      ...(typeof args.values.schema === "string" ? { schema: await schemaArg(args.values.schema) } : {}),
      ...(args.values["max-sentences"] ? { max_sentences: intFlag(args.values["max-sentences"], "max-sentences") } : {}),
    });
    if (!args.json) args.io.stdout(`${humanOutput(result.output)}\n`);
  }
  args.io.stderr(describeResult(result));
  if (args.json) printJson(args, result);
  return 0;
}

export async function statusCommand(args: CommandArgs): Promise<number> {
  const id = requireArg(args.positionals[0], "job id");
  const router = await makeRouter(args, "load");
  const wait = args.values.wait === undefined ? undefined : intFlag(args.values.wait, "wait");
  const view = await router.status(id, { chain: chainOf(args), ...(wait === undefined ? {} : { waitSeconds: wait }) });
  if (args.json) printJson(args, view);
  else args.io.stdout(describeView(view));
  return view.status === "failed" ? 1 : 0;
}

export async function receiptCommand(args: CommandArgs): Promise<number> {
  const [sub, id] = args.positionals;
  if (sub !== "verify") throw new UsageError(`unknown receipt command "${sub ?? ""}": use receipt verify <job id>`);
  const jobId = requireArg(id, "job id");
  const router = await makeRouter(args, "load");
  const view = await router.status(jobId, { chain: chainOf(args) });
  if (view.status !== "completed") {
    const code = view.status === "failed" ? ((view.reason ?? "worker_error") as DispatchErrorCode) : "not_settled";
    throw new DispatchError(code, `job ${jobId} is ${view.status}${view.reason ? ` (${view.reason})` : ""}: it has no receipt to verify`, {
      jobId,
    });
  }
  // Throws invalid_receipt (exit 3) with the reason when the receipt does not hold.
  router.verify(view, jobId);
  const receipt = view.receipt;
  if (args.json) printJson(args, { valid: true, job_id: jobId, receipt });
  else {
    args.io.stdout(
      `receipt valid for job ${jobId}\n  signed by worker ${receipt?.provider_pubkey}\n  output sha-256 ${receipt?.output_hash}\n  completed ${receipt?.completed_at}\n`,
    );
  }
  return 0;
}

export async function trustCommand(args: CommandArgs): Promise<number> {
  const [sub, pubkey] = args.positionals;
  const router = await makeRouter(args, "create");
  const chain = chainOf(args);
  if (sub === "create") {
    const code = await router.trust.create({ chain });
    const link = pairingLink(args.config.coordinators[chain], chain, code.pairing_code);
    if (args.json) printJson(args, { ...code, worker_page_url: link });
    else {
      args.io.stdout(
        `pairing code ${code.pairing_code} (expires ${code.expires_at})\n  on a Node worker: dispatch-worker --chain ${chain} --trust-code ${code.pairing_code}\n  in a browser:     ${link}\n`,
      );
      // A phone pairs by pointing its camera at the terminal; the code is single use and expires.
      if (args.values.qr === true) args.io.stdout(await QRCode.toString(link, { type: "terminal", small: true }));
    }
  } else if (sub === "list") {
    const list = await router.trust.list({ chain });
    if (args.json) printJson(args, list);
    else if (list.providers.length === 0) args.io.stdout(`no trusted workers on ${chain}\n`);
    else for (const p of list.providers) args.io.stdout(`${p.provider_pubkey}  paired ${p.paired_at}\n`);
  } else if (sub === "revoke") {
    const key = requireArg(pubkey, "provider public key");
    await router.trust.revoke(key, { chain });
    if (args.json) printJson(args, { revoked: key });
    else args.io.stdout(`revoked ${key} on ${chain}\n`);
  } else {
    throw new UsageError(`unknown trust command "${sub ?? ""}": use trust create, trust list or trust revoke <provider pubkey>`);
  }
  return 0;
}

export async function healthCommand(args: CommandArgs): Promise<number> {
  const router = await makeRouter(args, "none");
  const health = await router.health(chainOf(args));
  if (args.json) printJson(args, health);
  else {
    const pay = health.payments.enabled ? `payments ${health.payments.mode}` : "payments disabled";
    args.io.stdout(`${health.chain} (${health.network}): ${health.workers_online} workers online, ${health.jobs_queued} queued, ${pay}\n`);
  }
  return 0;
}

function requireArg(value: string | undefined, what: string): string {
  if (!value) throw new UsageError(`missing ${what}`);
  return value;
}

/** The text itself, `-` for stdin, or `--input-file`. */
async function textArg(args: CommandArgs, value: string | undefined, what: string): Promise<string> {
  const file = args.values["input-file"];
  if (typeof file === "string")
    return readFile(file, "utf8").catch((err: Error) => {
      throw new UsageError(`cannot read --input-file ${file}: ${err.message}`);
    });
  if (value === "-") return args.io.readStdin();
  return requireArg(value, `${what} (give it as an argument, "-" for stdin, or --input-file)`);
}

async function schemaArg(value: string): Promise<Record<string, unknown>> {
  const text = value.trim().startsWith("{")
    ? value
    : await readFile(value, "utf8").catch(() => {
        throw new UsageError(`--schema must be inline JSON or a readable file, got "${value}"`);
      });
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new UsageError("--schema is not valid JSON");
  }
}

function intFlag(value: unknown, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number, got "${String(value)}"`);
  return n;
}

function humanOutput(output: unknown): string {
  if (typeof output === "string") return output;
  const o = output as Record<string, unknown> | null;
  if (o && typeof o.summary === "string") return o.summary;
  if (o && typeof o.label === "string") return typeof o.confidence === "number" ? `${o.label} (${o.confidence.toFixed(2)})` : o.label;
  return JSON.stringify(output, null, 2);
}

function describeProgress(event: ProgressEvent): string {
  switch (event.type) {
    case "paying":
      return `paying the ${event.chain} coordinator (x402)...\n`;
    case "committed":
      return `job ${event.job_id} committed on ${event.chain}${event.paid ? " (paid)" : ""}\n`;
    case "stage":
      return `job ${event.job_id}: ${event.stage}\n`;
    case "route_failed":
      return `${event.route} could not serve the job: ${event.code}\n`;
    case "fallback":
      return `falling back to ${event.route} (${event.reason}); no receipt for hosted answers\n`;
  }
}

function describeResult(result: JobResult): string {
  if (!result.receipt) return `served by ${result.route} (no receipt)\n`;
  return `served by ${result.route}; receipt verified: job ${result.job_id} signed by worker ${result.receipt.provider_pubkey.slice(0, 16)}...\n`;
}

function describeView(view: JobView): string {
  const lines = [`job ${view.id}: ${view.status} (${view.stage}), ${view.job_type} ${view.policy} ${view.privacy_class}`];
  if (view.reason) lines.push(`  reason: ${view.reason}`);
  lines.push(`  payment: ${view.payment.state} ${view.payment.price}`);
  if (view.status === "completed") lines.push(`  result: ${humanOutput(view.result)}`);
  if (view.receipt) lines.push(`  receipt by ${view.receipt.provider_pubkey} (run: dispatch receipt verify ${view.id})`);
  return `${lines.join("\n")}\n`;
}
