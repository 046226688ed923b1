#!/usr/bin/env node
import os from "node:os";
import type { JobType } from "../protocol/index.ts";
import { WorkerAgent } from "./agent.ts";
import { ChainAgents } from "./chain-agents.ts";
import type { WorkerConfig } from "./config.ts";
import { ConfigError, helpText, parseConfig, workerSocketUrl } from "./config.ts";
import { loadOrCreateKey } from "./key-file.ts";
import { selectBackend } from "./llm/select-backend.ts";
import type { Logger } from "./logger.ts";
import { createLogger } from "./logger.ts";
import { SlotBudget } from "./slot-budget.ts";
import { TaskPool } from "./tasks/task-pool.ts";

const VERSION = "0.1.0";

async function main(): Promise<number> {
  let config: WorkerConfig;
  try {
    const parsed = parseConfig(process.argv.slice(2), process.env);
    if (parsed.help) {
      process.stdout.write(helpText());
      return 0;
    }
    config = parsed.config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`dispatch-worker: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const log = createLogger({ level: config.logLevel, format: config.logFormat });

  const key = await loadOrCreateKey(config.keyFile);
  if (key.created) log.info("created a new worker identity", { key_file: config.keyFile });
  if (key.warning) log.warn(key.warning);

  const tasks = new TaskPool(config.slots);
  const selection = await selectBackend({
    backend: config.llmBackend,
    ollamaHost: config.ollamaHost,
    ollamaModel: config.ollamaModel,
    models: config.models,
    ggufPath: config.ggufPath,
    threads: config.threads,
    contextSize: config.contextSize,
    slots: config.slots,
  });
  for (const note of selection.notes) log.info("llm probe", { note });
  await tasks.ready();

  const llm = selection.backend;
  const capabilities: JobType[] = llm !== undefined && config.providerType === "DESKTOP" ? ["LLM_INFER", "TASK"] : ["TASK"];
  const urls = config.targets.map((t) => workerSocketUrl(t.coordinator, t.chain));
  const backendText = llm === undefined ? "none" : `${llm.name} (${llm.defaultModel})`;
  printSummary(config, log, { pubkey: key.keys.publicKey, urls, capabilities, backend: backendText, models: llm?.models().models ?? [] });

  const deps = { tasks, llm };
  // One budget for every chain: serving two chains must not double the jobs this machine runs at once.
  const slotBudget = new SlotBudget(config.slots);
  const agents = config.targets.map(
    (target, i) =>
      new WorkerAgent({
        url: urls[i] as string,
        chain: target.chain,
        ...(target.payoutAddress !== undefined && { payoutAddress: target.payoutAddress }),
        keys: key.keys,
        providerType: config.providerType,
        capabilities,
        slots: config.slots,
        slotBudget,
        agent: `dispatch-worker/${VERSION} node/${process.versions.node} llm=${backendText}`,
        ...(config.agentId !== undefined && { agentId: config.agentId }),
        ...(config.trustCode !== undefined && { trustCode: config.trustCode }),
        deps,
        log: config.targets.length > 1 ? log.child({ chain: target.chain }) : log,
      }),
  );
  const node = new ChainAgents(agents, deps, log);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      log.warn("second signal: exiting without waiting for running jobs", { signal });
      process.exit(130);
    }
    void node.shutdown(signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  node.start();
  return node.stopped;
}

function printSummary(
  config: WorkerConfig,
  log: Logger,
  facts: { pubkey: string; urls: string[]; capabilities: JobType[]; backend: string; models: string[] },
): void {
  const chains = config.targets.map((t, i) => `${t.chain}  (${facts.urls[i]})`);
  if (config.logFormat === "logfmt" && process.stderr.isTTY) {
    process.stderr.write(
      [
        "",
        `  dispatch-worker ${VERSION}`,
        `  pubkey        ${facts.pubkey}`,
        ...chains.map((c, i) => `  ${i === 0 ? "chain" : "".padEnd(5)}         ${c}`),
        `  type          ${config.providerType}  slots ${config.slots}${config.targets.length > 1 ? " (shared by every chain)" : ""}`,
        `  capabilities  ${facts.capabilities.join(", ")}`,
        `  llm           ${facts.backend}${config.llmBackend === "none" ? "" : `  [mode ${config.llmBackend}]`}`,
        ...(facts.models.length > 0 ? [`  models        ${facts.models.join(", ")}`] : []),
        ...config.targets.map((t) =>
          t.payoutAddress === undefined
            ? `  payouts       ${t.chain}: none set (earnings wait; --payout-address)`
            : `  payouts       ${t.chain}: ${t.payoutAddress}`,
        ),
        `  key file      ${config.keyFile}`,
        "",
        "",
      ].join("\n"),
    );
  }
  log.info("worker starting", {
    version: VERSION,
    pubkey: facts.pubkey,
    chain: config.targets.map((t) => t.chain).join(","),
    url: facts.urls.join(","),
    provider_type: config.providerType,
    slots: config.slots,
    capabilities: facts.capabilities.join(","),
    llm: facts.backend,
    models: facts.models.join(",") || undefined,
    cpus: os.availableParallelism(),
    trust_code: config.trustCode === undefined ? undefined : "set",
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Startup failures (an unreadable key file, say) are the user's to fix: the message, not a stack.
    const detail = process.env.DISPATCH_LOG_LEVEL === "debug" && err instanceof Error ? err.stack : undefined;
    process.stderr.write(`dispatch-worker: ${detail ?? (err instanceof Error ? err.message : String(err))}\n`);
    process.exitCode = 1;
  },
);
