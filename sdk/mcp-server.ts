import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { CHAINS, type Chain, type JobType, LIMITS, type Policy, priceMicroUsd, resolvePolicy } from "../protocol/index.ts";
import { DispatchError, isDispatchError } from "./errors.ts";
import type { ComputeRouter } from "./router.ts";
import type { ChatResult, JobResult } from "./types.ts";

/** What the MCP tools need from their host process. */
export interface McpDeps {
  /** A router for one kind of job, whose payer pays at most `maxPriceMicroUsd` (or the published price) for it. */
  router(job: { job_type: JobType; policy: Policy }): Promise<ComputeRouter>;
  /** The most one call may pay, in micro-USD; undefined means exactly the published price. */
  maxPriceMicroUsd: number | undefined;
  version: string;
}

const chain = z.enum(CHAINS).optional().describe("monad or solana; default: the configured preference");
const policy = z.enum(["auto", "fast", "cheap"]).optional().describe("price tier; auto is fast for run_llm, cheap for tasks");
const text = z.string().min(1).max(LIMITS.maxTaskInputChars).describe("the text to work on");

/**
 * Dispatch as MCP tools for agent hosts: every job tool pays through the configured keys (at
 * most the published price, or the configured cap) and returns the output with its receipt,
 * verified by the SDK before anything is returned. A failure is a tool error the model can read,
 * never a crashed server.
 */
export function dispatchMcpServer(deps: McpDeps): McpServer {
  const server = new McpServer({ name: "dispatch", version: deps.version });

  server.registerTool(
    "run_llm",
    {
      title: "Run an LLM",
      description:
        "Ask an LLM on the Dispatch network (a worker runs it and signs a receipt). Give `prompt` (one user turn) or `messages` (a chat). Returns the answer, its model and token counts, and the verified receipt.",
      inputSchema: {
        prompt: z.string().min(1).max(LIMITS.maxPromptChars).optional(),
        messages: z
          .array(z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string().max(LIMITS.maxPromptChars) }))
          .min(1)
          .max(LIMITS.maxChatMessages)
          .optional(),
        system: z.string().max(LIMITS.maxPromptChars).optional().describe("system instruction, sent first"),
        model: z
          .string()
          .max(LIMITS.maxModelNameChars)
          .optional()
          .describe("a model workers serve (see quote or /v1/models); any when absent"),
        max_tokens: z.number().int().min(1).max(LIMITS.maxTokens).optional(),
        temperature: z.number().min(0).max(2).optional(),
        policy,
        chain,
      },
    },
    (args) =>
      guarded(async () => {
        if ((args.prompt === undefined) === (args.messages === undefined)) {
          throw new DispatchError("invalid_request", "give exactly one of `prompt` and `messages`");
        }
        const turns = args.messages ?? [{ role: "user" as const, content: args.prompt ?? "" }];
        const messages = args.system === undefined ? turns : [{ role: "system" as const, content: args.system }, ...turns];
        const router = await paidRouter(deps, "LLM_INFER", args.policy);
        const answer: ChatResult = await router.chat({
          messages,
          ...(args.model === undefined ? {} : { model: args.model }),
          ...(args.max_tokens === undefined ? {} : { max_tokens: args.max_tokens }),
          ...(args.temperature === undefined ? {} : { temperature: args.temperature }),
          policy: toPolicy(args.policy),
          ...(args.chain === undefined ? {} : { chain: args.chain }),
        });
        return jobResult(answer, answer.text, { model: answer.model, finish_reason: answer.finish_reason, usage: answer.usage });
      }),
  );

  server.registerTool(
    "summarize",
    {
      title: "Summarize a text",
      description:
        "Extractive summary of a text (deterministic TASK; the worker signs a receipt). Returns the summary and the verified receipt.",
      inputSchema: { text, max_sentences: z.number().int().min(1).max(20).optional(), policy, chain },
    },
    (args) =>
      task(deps, args, "summarize", { ...(args.max_sentences === undefined ? {} : { max_sentences: args.max_sentences }) }, (o) =>
        typeof o.summary === "string" ? o.summary : JSON.stringify(o),
      ),
  );

  server.registerTool(
    "classify",
    {
      title: "Classify a text",
      description:
        "Zero-shot classification of a text into one of `labels` (sentiment when absent). Returns the label, confidence and verified receipt.",
      inputSchema: { text, labels: z.array(z.string().min(1).max(64)).min(2).max(32).optional(), policy, chain },
    },
    (args) =>
      task(deps, args, "classify", { ...(args.labels === undefined ? {} : { labels: args.labels }) }, (o) =>
        typeof o.label === "string"
          ? `${o.label}${typeof o.confidence === "number" ? ` (confidence ${o.confidence.toFixed(2)})` : ""}`
          : JSON.stringify(o),
      ),
  );

  server.registerTool(
    "extract_json",
    {
      title: "Extract JSON from a text",
      description:
        "Recovers JSON objects from messy text, optionally checked against a JSON Schema. Returns the objects and the verified receipt.",
      inputSchema: {
        text,
        schema: z.record(z.string(), z.unknown()).optional().describe("JSON Schema the objects must satisfy"),
        policy,
        chain,
      },
    },
    (args) =>
      task(deps, args, "extract_json", { ...(args.schema === undefined ? {} : { schema: args.schema }) }, (o) =>
        JSON.stringify(o, null, 2),
      ),
  );

  server.registerTool(
    "quote",
    {
      title: "Quote a price",
      description: "The price of a job (run_llm is LLM_INFER, the others TASK), the tier it resolves to, and how payment is taken.",
      inputSchema: { job_type: z.enum(["LLM_INFER", "TASK"]), policy, chain },
    },
    (args) =>
      guarded(async () => {
        const router = await deps.router({ job_type: args.job_type, policy: toPolicy(args.policy) });
        const quote = await router.quote({
          job_type: args.job_type,
          policy: toPolicy(args.policy),
          ...(args.chain ? { chain: args.chain } : {}),
        });
        const cap = deps.maxPriceMicroUsd === undefined ? "the published price" : usd(deps.maxPriceMicroUsd);
        const pay = quote.payment.enabled ? `paid with x402 on ${quote.network}` : "payments disabled on this coordinator";
        return {
          content: [
            {
              type: "text",
              text: `${quote.job_type} ${quote.policy_resolved} on ${quote.chain}: ${quote.price} (${pay}); this server pays at most ${cap} per call`,
            },
          ],
          structuredContent: { ...quote },
        };
      }),
  );

  server.registerTool(
    "job_status",
    {
      title: "Check a job",
      description: "A job's status, and for a completed job its output with the receipt verified again.",
      inputSchema: { job_id: z.string().min(1).max(128), chain },
    },
    (args) =>
      guarded(async () => {
        const router = await deps.router({ job_type: "TASK", policy: "AUTO" });
        const view = await router.status(args.job_id, args.chain === undefined ? {} : { chain: args.chain });
        let verified = false;
        if (view.status === "completed") {
          router.verify(view, args.job_id);
          verified = true;
        }
        const line = `job ${view.id}: ${view.status} (${view.stage})${view.reason ? `, ${view.reason}` : ""}${verified ? "; receipt verified" : ""}`;
        return { content: [{ type: "text", text: line }], structuredContent: { ...view, receipt_verified: verified } };
      }),
  );

  return server;
}

async function task(
  deps: McpDeps,
  args: { text: string; policy?: "auto" | "fast" | "cheap" | undefined; chain?: Chain | undefined },
  taskType: "summarize" | "classify" | "extract_json",
  extra: Record<string, unknown>,
  describe: (output: Record<string, unknown>) => string,
): Promise<CallToolResult> {
  return guarded(async () => {
    const router = await paidRouter(deps, "TASK", args.policy);
    const result = await router.runTask({
      task_type: taskType,
      input: args.text,
      ...extra,
      policy: toPolicy(args.policy),
      ...(args.chain === undefined ? {} : { chain: args.chain }),
    });
    const output = (result.output ?? {}) as Record<string, unknown>;
    return jobResult(result, describe(output));
  });
}

/** The router for a paid call, after checking the published price against the cap: nothing above it is ever signed. */
async function paidRouter(deps: McpDeps, jobType: JobType, policy: "auto" | "fast" | "cheap" | undefined): Promise<ComputeRouter> {
  const resolved = toPolicy(policy);
  const price = priceMicroUsd(resolvePolicy(resolved, jobType), jobType);
  if (deps.maxPriceMicroUsd !== undefined && price > deps.maxPriceMicroUsd) {
    throw new DispatchError(
      "price_too_high",
      `the ${resolvePolicy(resolved, jobType)} price of ${jobType} is ${usd(price)}, above this server's cap of ${usd(deps.maxPriceMicroUsd)} per call (--max-price); nothing was paid`,
    );
  }
  return deps.router({ job_type: jobType, policy: resolved });
}

/** Micro-USD as dollars with every significant digit (a cap may be finer than a price's three decimals). */
function usd(micro: number): string {
  return `$${(micro / 1_000_000).toFixed(6).replace(/\.?0+$/, "")}`;
}

function toPolicy(policy: "auto" | "fast" | "cheap" | undefined): Policy {
  return policy === undefined ? "AUTO" : (policy.toUpperCase() as Policy);
}

/** A finished job as a tool result: the output for the model to read, then what proves it. */
function jobResult(result: JobResult, human: string, extra: Record<string, unknown> = {}): CallToolResult {
  const proof = result.receipt
    ? `Receipt verified: job ${result.job_id} on ${result.route}, signed by worker ${result.receipt.provider_pubkey}; output sha-256 ${result.receipt.output_hash}.`
    : `Served by ${result.route} without a receipt (hosted fallback${result.fallback_reason ? `: ${result.fallback_reason}` : ""}).`;
  const paid = result.payment && result.payment.state !== "disabled" ? ` Paid ${result.payment.price} (${result.payment.state}).` : "";
  return {
    content: [{ type: "text", text: `${human}\n\n${proof}${paid}` }],
    structuredContent: {
      route: result.route,
      job_id: result.job_id,
      output: result.output,
      receipt: result.receipt,
      receipt_verified: result.receipt !== null,
      payment: result.payment,
      ...extra,
    },
  };
}

/** Runs a tool body; failures become tool errors (the calling model reads them), never protocol errors. */
async function guarded(run: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await run();
  } catch (err) {
    const text = isDispatchError(err) ? `${err.code}: ${err.message}` : `error: ${err instanceof Error ? err.message : String(err)}`;
    return { isError: true, content: [{ type: "text", text }] };
  }
}
