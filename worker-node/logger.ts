export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "logfmt" | "json";
export type LogFields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. the job id). */
  child(fields: LogFields): Logger;
}

/** Structured logs on stderr (stdout stays free for anything a wrapper wants to pipe). */
export function createLogger(opts: { level: LogLevel; format: LogFormat; write?: (line: string) => void }, base: LogFields = {}): Logger {
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (level: LogLevel, msg: string, fields: LogFields = {}): void => {
    if (RANK[level] < RANK[opts.level]) return;
    const record = { ts: new Date().toISOString(), level, msg, ...base, ...fields };
    write(opts.format === "json" ? JSON.stringify(record, jsonSafe) : logfmt(record));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger({ ...opts, write }, { ...base, ...fields }),
  };
}

function jsonSafe(_key: string, value: unknown): unknown {
  return value instanceof Error ? value.message : value;
}

function logfmt(record: LogFields): string {
  return Object.entries(record)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${logfmtValue(v)}`)
    .join(" ");
}

function logfmtValue(value: unknown): string {
  const text = value instanceof Error ? value.message : typeof value === "string" ? value : JSON.stringify(value);
  return /^[^\s"=\\]+$/.test(text) ? text : JSON.stringify(text);
}
