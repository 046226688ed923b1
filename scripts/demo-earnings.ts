// The demo's last word: what each worker earned on each chain, and the payouts that reached it.
import { type Chain, HealthResponse, WorkerAccount, WorkersResponse } from "../protocol/index.ts";
import { shortKey } from "./demo-report.ts";
import { bold, dim } from "./terminal-colors.ts";

const usd = (micro: number): string => `$${(micro / 1_000_000).toFixed(4)}`;

async function getJson<T>(url: string, parse: (v: unknown) => T): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return parse(await res.json());
}

/**
 * Each worker's earnings per chain (`GET /v1/workers/{pubkey}`), after waiting up to `waitMs` for
 * payouts still on their way to confirm. With payments off there is nothing to earn: it says so.
 */
export async function earningsReport(base: string, chains: readonly Chain[], names: Map<string, string>, waitMs = 20_000): Promise<string> {
  const lines = [bold("Worker earnings")];
  for (const chain of chains) {
    const api = `${base}/${chain}/v1`;
    const health = await getJson(`${api}/health`, (v) => HealthResponse.parse(v));
    if (!health.payments.enabled) {
      lines.push(dim(`  ${chain}: payments are off on this network: workers earn nothing (run \`npm start\` for a paid network)`));
      continue;
    }
    const { workers } = await getJson(`${api}/workers`, (v) => WorkersResponse.parse(v));
    const deadline = Date.now() + waitMs;
    for (const w of workers) {
      let account = await getJson(`${api}/workers/${w.provider_pubkey}`, (v) => WorkerAccount.parse(v));
      // A payout signed moments ago confirms within a few seconds on the local chains.
      while (account.pending_micro > 0 && account.payout_address && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 1_000));
        account = await getJson(`${api}/workers/${w.provider_pubkey}`, (v) => WorkerAccount.parse(v));
      }
      const name = names.get(w.provider_pubkey) ?? `${chain} ${w.provider_type.toLowerCase()} worker`;
      const confirmed = account.payouts.filter((p) => p.state === "confirmed");
      const last = confirmed[0]?.transaction;
      lines.push(
        `  ${chain.padEnd(7)} ${name.padEnd(28)} ${dim(shortKey(w.provider_pubkey))}  earned ${usd(account.earned_micro)} (${account.share_percent} % share)` +
          `, paid ${usd(account.paid_micro)} in ${confirmed.length} payout${confirmed.length === 1 ? "" : "s"}` +
          `${account.pending_micro > 0 ? `, pending ${usd(account.pending_micro)}` : ""}` +
          `${account.payout_address ? "" : " (no payout address: earnings wait)"}${last ? dim(`  last tx ${shortKey(last)}`) : ""}`,
      );
    }
    if (workers.length === 0) lines.push(dim(`  ${chain}: no workers online`));
  }
  return lines.join("\n");
}
