// How `npm start` reads on screen: one progress line per component while the network comes up,
// then the logs that matter (worker activity, coordinator errors) with a name column. Colour and
// in-place progress only on a terminal that wants them.

import { dim, green, red, tty, yellow } from "./terminal-colors.ts";

export interface Step {
  /** New detail while still waiting (shown in place on a terminal, dropped otherwise). */
  update(text: string): void;
  done(text: string): void;
  fail(text: string): void;
}

/** Starts a progress line `name text`; the outcome replaces it. */
export function step(name: string, text: string): Step {
  const started = Date.now();
  const label = name.padEnd(12);
  const pending = (t: string): void => {
    if (tty) process.stdout.write(`\r\x1b[2K  ${dim("…")} ${label} ${dim(t)}`);
  };
  const finish = (mark: string, t: string, timed: boolean): void => {
    const took = timed ? `  ${dim(`${((Date.now() - started) / 1000).toFixed(1)} s`)}` : "";
    process.stdout.write(`${tty ? "\r\x1b[2K" : ""}  ${mark} ${label} ${t}${took}\n`);
  };
  pending(text);
  return { update: pending, done: (t) => finish(green("✓"), t, true), fail: (t) => finish(red("✗"), t, false) };
}

/** A name column for a child's log line. */
export function prefixed(name: string, line: string): string {
  return `${dim(name.padEnd(15))} ${line}`;
}

/** One of our workers' JSON log records as a compact line: time, level if not info, message, fields. */
export function workerLine(record: Record<string, unknown>): string {
  const { ts, level, msg, ...fields } = record;
  const time = typeof ts === "string" ? ts.slice(11, 19) : "";
  const mark = level === "error" ? red("error ") : level === "warn" ? yellow("warn ") : "";
  const rest = Object.entries(fields)
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return `${dim(time)} ${mark}${String(msg)}${rest ? ` ${dim(rest)}` : ""}`;
}

/** Splits a stream into lines, calling `onLine` for each complete, non-blank one. */
export function lines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  let partial = "";
  stream?.on("data", (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) if (line.trim()) onLine(line.replace(/\r$/, ""));
  });
}
