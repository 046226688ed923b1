// How the demo's results read to a person: one block per scenario, grouped by chain, then a
// one-line-per-scenario summary. Colour only on a terminal that wants it.
import type { Chain } from "../protocol/index.ts";
import type { ScenarioResult } from "./demo-scenarios.ts";

import { bold, dim, green, red } from "./terminal-colors.ts";

const LETTERS: Record<ScenarioResult["scenario"], string> = { llm_summary: "(a)", public_task: "(b)", private_task: "(c)" };
const WIDTH = 96;
const INDENT = "                "; // under the value column of a block

export function shortKey(pubkey: string | null | undefined): string {
  return pubkey ? `${pubkey.slice(0, 12)}…` : "-";
}

export function seconds(ms: number | null): string {
  return ms === null ? "-" : `${(ms / 1000).toFixed(2)} s`;
}

/** Word-wraps to the block width, at most `maxLines` lines (the rest elided). */
function wrap(text: string, maxLines = 4): string {
  const width = WIDTH - INDENT.length;
  const lines: string[] = [];
  let line = "";
  for (const word of text.replace(/\s+/g, " ").trim().split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  if (lines.length > maxLines) {
    lines.length = maxLines;
    lines[maxLines - 1] = `${lines[maxLines - 1]?.slice(0, width - 2)} …`;
  }
  return lines.join(`\n${INDENT}`);
}

function row(label: string, value: string): string {
  return `      ${label.padEnd(10)}${value}`;
}

export function scenarioBlock(r: ScenarioResult, providers: ReadonlyMap<string, string>): string {
  const status = r.ok ? green("✓ passed") : red("✗ FAILED");
  const head = `  ${LETTERS[r.scenario]} ${bold(r.title)} ${dim(`· ${r.policy} · ${r.privacy}`)}`;
  const lines = [`${head}  ${status}`];
  if (r.scenario === "private_task" && typeof r.details.paired_worker === "string") {
    lines.push(row("pairing", `trust.create → worker ${shortKey(r.details.paired_worker)} claimed the code → listed by trust.list`));
  }
  if (r.display) {
    const quoted = r.scenario === "private_task" ? r.display : `“${r.display}”`;
    lines.push(row(r.scenario === "private_task" ? "label" : "output", wrap(quoted)));
  }
  const produced = r.output as {
    model?: unknown;
    backend?: unknown;
    tokens?: unknown;
    sentence_count?: unknown;
    selected_count?: unknown;
  } | null;
  if (r.scenario === "llm_summary" && typeof produced?.model === "string") {
    lines.push(row("model", `${produced.model} · ${String(produced.backend)} · ${String(produced.tokens)} tokens`));
    lines.push(row("streamed", streamedText(r)));
  }
  if (r.scenario === "public_task" && typeof produced?.selected_count === "number") {
    lines.push(row("sentences", `${produced.selected_count} of ${String(produced.sentence_count)}, verbatim from the input`));
  }
  if (r.route !== null) {
    const payment = r.payment_state === "disabled" ? dim(" (payments disabled)") : r.payment_state ? dim(` (${r.payment_state})`) : "";
    lines.push(row("route", r.route));
    lines.push(row("price", `${r.price ?? "-"}${payment}`));
    lines.push(row("latency", seconds(r.latency_ms)));
    const who = r.provider_pubkey ? providers.get(r.provider_pubkey) : undefined;
    const receipt = r.receipt_verified ? `${green("verified ✓")} ${dim("(ed25519 signature, output hash, job id)")}` : red("NOT verified");
    lines.push(row("receipt", `${receipt} · provider ${shortKey(r.provider_pubkey)}${who ? dim(` (${who})`) : ""}`));
  }
  if (r.error) lines.push(row("error", red(`${r.error.code}: ${wrap(r.error.message, 12)}`)));
  return lines.join("\n");
}

/** How much of the LLM answer reached the seeker live, as SSE `token` events, before the verified result. */
function streamedText(r: ScenarioResult): string {
  const events = Number(r.details.streamed_events ?? 0);
  const chars = Number(r.details.streamed_chars ?? 0);
  const total = String((r.output as { text?: unknown } | null)?.text ?? "").length;
  if (events === 0) return red("no tokens reached the event stream");
  const share = chars === total ? `all ${total} characters` : `${chars} of ${total} characters`;
  return `${events} SSE token event${events === 1 ? "" : "s"} (${share})`;
}

export function chainHeader(chain: Chain): string {
  const title = ` ${chain} `;
  return `\n${bold(`━━${title}${"━".repeat(Math.max(0, 60 - title.length))}`)}`;
}

export function summaryTable(results: readonly ScenarioResult[]): string {
  const header = ["chain", "scenario", "result", "route", "price", "latency", "receipt", "provider"];
  const rows = results.map((r) => [
    r.chain,
    `${LETTERS[r.scenario]} ${r.title}`,
    r.ok ? "ok" : "FAILED",
    r.route ?? "-",
    r.price ?? "-",
    seconds(r.latency_ms),
    r.receipt_verified ? "verified" : "-",
    shortKey(r.provider_pubkey),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((cells) => cells[i]?.length ?? 0)));
  const line = (cells: string[]): string => `  ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ")}`.trimEnd();
  const body = rows.map((cells) => {
    const text = line(cells);
    return cells[2] === "ok" ? text : red(text);
  });
  return [bold("Summary"), dim(line(header)), ...body].join("\n");
}
