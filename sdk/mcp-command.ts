import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { JobType, Policy } from "../protocol/index.ts";
import { type CommandArgs, makeRouter } from "./cli-commands.ts";
import { UsageError } from "./cli-config.ts";
import { cliPaymentClient } from "./cli-payments.ts";
import { dispatchMcpServer } from "./mcp-server.ts";
import type { ComputeRouter } from "./router.ts";

const VERSION = "0.1.0";

/**
 * `dispatch mcp`: Dispatch's jobs as MCP tools over stdio, for agent hosts. Payments come from
 * the same environment keys as `dispatch run`, capped per call at the published price or at
 * `--max-price` / DISPATCH_MAX_PRICE. Stdout belongs to the protocol: everything else goes to stderr.
 */
export async function mcpCommand(args: CommandArgs): Promise<number> {
  const raw = args.values["max-price"] ?? args.env.DISPATCH_MAX_PRICE;
  const maxPriceMicroUsd = raw === undefined || raw === "" ? undefined : parsePrice(String(raw));
  const quoteRouter = await makeRouter(args, "none");
  const routers = new Map<string, Promise<ComputeRouter>>();
  const router = (job: { job_type: JobType; policy: Policy }): Promise<ComputeRouter> => {
    const key = `${job.job_type}/${job.policy}`;
    let made = routers.get(key);
    if (made === undefined) {
      made = (async () => {
        const maxAmount = maxPriceMicroUsd === undefined ? {} : { maxAmount: BigInt(maxPriceMicroUsd) };
        const payment = await cliPaymentClient(args.env, quoteRouter, job, maxAmount);
        // The router's own price check (a 402 above the limit is never signed) uses the same cap.
        return makeRouter(args, "load", payment?.client, maxPriceMicroUsd === undefined ? {} : { maxPrice: maxPriceMicroUsd });
      })();
      // A failure (a malformed key) is reported to this call and tried afresh on the next.
      made.catch(() => routers.delete(key));
      routers.set(key, made);
    }
    return made;
  };
  const server = dispatchMcpServer({ router, maxPriceMicroUsd, version: VERSION });
  await server.connect(new StdioServerTransport());
  const paying =
    args.env.DISPATCH_EVM_PRIVATE_KEY || args.env.DISPATCH_SVM_PRIVATE_KEY ? "paying with the configured keys" : "no payment keys set";
  args.io.stderr(`dispatch MCP server on stdio (${args.config.chains.join(", ")}; ${paying})\n`);
  // The host ends the session by closing our stdin.
  await new Promise<void>((resolve) => {
    process.stdin.once("end", resolve);
    process.stdin.once("close", resolve);
  });
  await server.close();
  return 0;
}

/** "$0.01" or "0.01" (USD) as micro-USD, the unit prices and USDC amounts share. */
export function parsePrice(text: string): number {
  const match = /^\$?(\d+(?:\.\d{1,6})?)$/.exec(text.trim());
  if (!match?.[1]) throw new UsageError(`--max-price must be a USD amount such as 0.01 or $0.01, got "${text}"`);
  return Math.round(Number(match[1]) * 1_000_000);
}
