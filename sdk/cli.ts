#!/usr/bin/env node
import { parseArgs } from "node:util";
import {
  type CliIo,
  type CommandArgs,
  healthCommand,
  quoteCommand,
  receiptCommand,
  runCommand,
  statusCommand,
  trustCommand,
} from "./cli-commands.ts";
import { resolveConfig, UsageError } from "./cli-config.ts";
import { DispatchError } from "./errors.ts";
import { mcpCommand } from "./mcp-command.ts";

const HELP = `dispatch: buy verifiable compute from the Dispatch network (seeker CLI)

Usage:
  dispatch quote llm|task [--policy auto|fast|cheap]
  dispatch run llm <prompt|-> [--max-tokens N] [--system TEXT] [--no-stream] [--private]
  dispatch run task summarize|classify|extract_json <input|-> [--labels a,b] [--schema JSON|FILE]
                                                              [--max-sentences N] [--private]
  dispatch status <job id> [--wait SECONDS]
  dispatch receipt verify <job id>
  dispatch trust create [--qr] | trust list | trust revoke <provider pubkey>
  dispatch health
  dispatch mcp [--max-price USD]       MCP server on stdio: run_llm, summarize, classify,
                                       extract_json, quote, job_status

Options:
  --coordinator URL    coordinator root; chains live under /monad and /solana  [default http://127.0.0.1:8787]
  --monad-url URL      monad coordinator base URL (overrides --coordinator)
  --solana-url URL     solana coordinator base URL (overrides --coordinator)
  --chain CHAINS       chain, or comma-separated preference: monad, solana      [default monad,solana]
  --policy POLICY      auto (FAST for llm, CHEAP for task), fast or cheap
  --private            PRIVATE job: signed, runs only on workers you paired with, never hosted
  --identity PATH      seeker key file, created (mode 0600) on first signed use
                       [default ~/.config/dispatch/identity.json]
  --input-file PATH    read the prompt or task input from a file
  --timeout SECONDS    give up waiting after this long [default: task 30, llm 60]
  --user-id ID         user_id for PUBLIC jobs [default: the identity's key, else "anonymous"]
  --config PATH        config file [default ~/.config/dispatch/config.json]
  --json               machine-readable result on stdout (progress stays on stderr)
  --qr                 trust create: also print the browser worker's pairing link as a QR code
  --max-price USD      mcp: the most one tool call may pay [default: the published price]
  -h, --help           this help

Environment: DISPATCH_COORDINATOR, DISPATCH_MONAD_URL, DISPATCH_SOLANA_URL, DISPATCH_CHAIN,
  DISPATCH_IDENTITY, DISPATCH_CONFIG, DISPATCH_USER_ID, DISPATCH_TIMEOUT; hosted fallback for
  PUBLIC jobs: DISPATCH_OPENAI_API_KEY, DISPATCH_ANTHROPIC_API_KEY (+ _BASE_URL, _MODEL).
  x402 payments, at most the quoted price: DISPATCH_EVM_PRIVATE_KEY (monad);
  DISPATCH_SVM_PRIVATE_KEY and DISPATCH_SVM_RPC_URL (solana); DISPATCH_MAX_PRICE for mcp.
  Flags beat the environment, which beats the config file.

Exit codes: 0 ok, 1 job failed or other error, 2 usage, 3 receipt invalid,
  4 coordinator unreachable, 5 timed out, 6 payment required or failed.
`;

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
  qr: { type: "boolean" },
  private: { type: "boolean" },
  stream: { type: "boolean" },
  "no-stream": { type: "boolean" },
  coordinator: { type: "string" },
  "monad-url": { type: "string" },
  "solana-url": { type: "string" },
  chain: { type: "string" },
  policy: { type: "string" },
  type: { type: "string" },
  identity: { type: "string" },
  config: { type: "string" },
  "user-id": { type: "string" },
  timeout: { type: "string" },
  "max-tokens": { type: "string" },
  system: { type: "string" },
  labels: { type: "string" },
  schema: { type: "string" },
  "max-sentences": { type: "string" },
  "input-file": { type: "string" },
  wait: { type: "string" },
  "max-price": { type: "string" },
} as const;

const COMMANDS: Record<string, (args: CommandArgs) => Promise<number>> = {
  quote: quoteCommand,
  run: runCommand,
  status: statusCommand,
  receipt: receiptCommand,
  trust: trustCommand,
  health: healthCommand,
  mcp: mcpCommand,
};

/** Exit code per error code; anything unlisted is 1. */
const EXIT_CODES: Record<string, number> = {
  invalid_receipt: 3,
  network_error: 4,
  timeout: 5,
  payment_required: 6,
  payment_failed: 6,
  price_too_high: 6,
  payment_invalid: 6,
  payment_already_used: 6,
  payment_unavailable: 6,
};

export async function main(argv: string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  let json = argv.includes("--json");
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    json = values.json === true;
    const [command, ...rest] = positionals;
    if (values.help || command === "help") {
      io.stdout(HELP);
      return 0;
    }
    const run = command ? COMMANDS[command] : undefined;
    if (!run) throw new UsageError(command ? `unknown command "${command}"` : "no command given");
    const config = await resolveConfig(values, env);
    const flagValues: CommandArgs["values"] = { ...values, stream: values["no-stream"] ? false : values.stream };
    return await run({ positionals: rest, values: flagValues, config, json, io, env });
  } catch (err) {
    return report(err, json, io);
  }
}

function report(err: unknown, json: boolean, io: CliIo): number {
  if (err instanceof UsageError || (err instanceof TypeError && "code" in err && String(err.code).startsWith("ERR_PARSE_ARGS"))) {
    io.stderr(`dispatch: ${err.message}\nRun "dispatch --help" for usage.\n`);
    if (json) io.stdout(`${JSON.stringify({ error: "usage", message: err.message })}\n`);
    return 2;
  }
  if (err instanceof DispatchError) {
    io.stderr(`dispatch: ${err.code}: ${err.message}\n${hint(err)}`);
    if (json) io.stdout(`${JSON.stringify({ error: err.code, message: err.message, status: err.status, job_id: err.jobId ?? null })}\n`);
    return EXIT_CODES[err.code] ?? 1;
  }
  const message = err instanceof Error ? err.message : String(err);
  io.stderr(`dispatch: unexpected error: ${message}\n`);
  if (json) io.stdout(`${JSON.stringify({ error: "internal_error", message })}\n`);
  return 1;
}

/** What to try next, for the failures a user can do something about. */
function hint(err: DispatchError): string {
  switch (err.code) {
    case "network_error":
      return "  is the coordinator running? (npx wrangler dev) Set --coordinator or DISPATCH_COORDINATOR.\n";
    case "no_eligible_worker":
      return "  no worker took the job in time: start a worker-node, or set DISPATCH_OPENAI_API_KEY for a hosted fallback.\n";
    case "no_trusted_worker":
      return "  pair a worker first: dispatch trust create, then give the code to your worker.\n";
    case "timeout":
      return err.jobId ? `  the job may still finish: dispatch status ${err.jobId} --wait 30\n` : "";
    case "payment_required":
      return "  this coordinator charges per job (x402): set DISPATCH_EVM_PRIVATE_KEY (or DISPATCH_SVM_PRIVATE_KEY) to pay.\n";
    case "job_not_found":
    case "not_found":
      return "  a job lives on the chain it was committed to: check --chain (monad or solana).\n";
    case "signature_required":
    case "forbidden":
      return "  PRIVATE jobs and pairings are readable only with the key that made them: check --identity.\n";
    case "invalid_receipt":
      return "  do not trust this result: the worker's signed receipt does not match it.\n";
    default:
      return "";
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

// Run only as a program, not when imported (tests import main).
if (import.meta.main) {
  const code = await main(process.argv.slice(2), process.env, {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readStdin,
  });
  process.exitCode = code;
}
