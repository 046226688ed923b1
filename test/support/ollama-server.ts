import http from "node:http";
import type { AddressInfo } from "node:net";

/** How the fake server answers `/api/chat` and `/api/generate` for one model. */
export interface ScriptedModel {
  /** Response pieces, one NDJSON line each. */
  tokens: string[];
  /** Pause before each piece (ms). */
  delayMs?: number;
  /** After this many pieces, send an `{error}` line and end the stream. */
  errorAfter?: number;
  /** After this many pieces, stop writing but keep the connection open. */
  stallAfter?: number;
  /** Listed by `/api/ps` from the start (otherwise only after its first request, as Ollama loads on demand). */
  loaded?: boolean;
}

export interface OllamaServer {
  host: string;
  /** Bodies of every `/api/chat` and `/api/generate` request, in order. */
  requests: Record<string, unknown>[];
  /** Paths of every request, in order (`GET /api/tags`, `POST /api/chat`, ...). */
  calls: string[];
  /** Adds a model, as `ollama pull` would. */
  add(name: string, script: ScriptedModel): void;
  /** Unloads a model, as Ollama does after its keep-alive. */
  unload(name: string): void;
  close(): Promise<void>;
}

/**
 * An Ollama-compatible HTTP server (the subset the `ollama` client uses): `/api/version`,
 * `/api/tags`, `/api/ps` (models loaded now: those marked `loaded` and those used since),
 * streaming `/api/chat` and `/api/generate` with `num_predict` and `stop` honoured, counts
 * in the final line, and Ollama's 404 `{error}` for unknown models.
 */
export async function startOllamaServer(
  initial: Record<string, ScriptedModel>,
  opts: { /** Answer /api/ps with 404, as Ollama did before 0.1.38. */ withoutPs?: boolean } = {},
): Promise<OllamaServer> {
  const models = new Map(Object.entries(initial));
  const loaded = new Set(Object.entries(initial).flatMap(([name, s]) => (s.loaded ? [name] : [])));
  const requests: Record<string, unknown>[] = [];
  const calls: string[] = [];
  const open = new Set<http.ServerResponse>();
  const listing = (names: Iterable<string>) => ({
    models: [...names].map((name) => ({
      name,
      model: name,
      modified_at: new Date(0).toISOString(),
      size: 1,
      digest: "0",
      details: {},
      expires_at: new Date(Date.now() + 300_000).toISOString(),
      size_vram: 0,
    })),
  });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    calls.push(`${req.method} ${url.pathname}`);
    if (req.method === "GET" && url.pathname === "/api/version") return json(res, 200, { version: "0.12.0-test" });
    if (req.method === "GET" && url.pathname === "/api/tags") return json(res, 200, listing(models.keys()));
    if (req.method === "GET" && url.pathname === "/api/ps" && !opts.withoutPs) return json(res, 200, listing(loaded));
    if (req.method === "POST" && (url.pathname === "/api/chat" || url.pathname === "/api/generate")) {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString("utf8");
      });
      req.on("end", () => {
        const request = JSON.parse(body) as GenerationRequest;
        requests.push(request as unknown as Record<string, unknown>);
        // Ollama resolves a bare model name to its `:latest` tag.
        const name = models.has(request.model) ? request.model : `${request.model}:latest`;
        const script = models.get(name);
        if (script === undefined) return json(res, 404, { error: `model "${request.model}" not found, try pulling it first` });
        loaded.add(name);
        open.add(res);
        res.on("close", () => open.delete(res));
        void stream(res, url.pathname === "/api/chat" ? "chat" : "generate", request, script);
      });
      return;
    }
    json(res, 404, { error: "not found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `http://127.0.0.1:${port}`,
    requests,
    calls,
    add: (name, script) => {
      models.set(name, script);
      if (script.loaded) loaded.add(name);
    },
    unload: (name) => {
      loaded.delete(name);
    },
    close: async () => {
      for (const res of open) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface GenerationRequest {
  model: string;
  prompt?: string;
  system?: string;
  messages?: { role: string; content: string }[];
  options?: { num_predict?: number; stop?: string[] };
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

/** Words read, standing in for the prompt's token count: deterministic, so tests can check it. */
function promptWords(request: GenerationRequest): number {
  const texts = request.messages?.map((m) => m.content) ?? [request.system ?? "", request.prompt ?? ""];
  return texts.join(" ").split(/\s+/).filter(Boolean).length;
}

async function stream(
  res: http.ServerResponse,
  kind: "chat" | "generate",
  request: GenerationRequest,
  script: ScriptedModel,
): Promise<void> {
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  const line = (obj: unknown): void => {
    res.write(`${JSON.stringify(obj)}\n`);
  };
  const piece = (text: string) =>
    kind === "chat"
      ? { model: request.model, created_at: new Date().toISOString(), message: { role: "assistant", content: text }, done: false }
      : { model: request.model, created_at: new Date().toISOString(), response: text, done: false };
  const numPredict = request.options?.num_predict ?? -1;
  const limit = numPredict >= 0 ? Math.min(numPredict, script.tokens.length) : script.tokens.length;
  const stops = request.options?.stop ?? [];
  let text = "";
  let sent = 0;
  let stopped = false;
  for (let i = 0; i < limit && !stopped; i++) {
    if (script.errorAfter === i) {
      line({ error: "an error was encountered while running the model: out of memory" });
      res.end();
      return;
    }
    if (script.stallAfter === i) return; // keep the socket open, say nothing more
    if (script.delayMs) await new Promise((r) => setTimeout(r, script.delayMs));
    if (res.destroyed) return;
    let token = script.tokens[i] ?? "";
    // Like Ollama, end before a stop sequence and leave it out of the text.
    const cut = Math.min(...stops.map((s) => (text + token).indexOf(s)).filter((at) => at >= 0));
    if (Number.isFinite(cut)) {
      token = (text + token).slice(text.length, cut);
      stopped = true;
    }
    text += token;
    sent++;
    if (token !== "") line(piece(token));
  }
  line({
    ...piece(""),
    done: true,
    done_reason: !stopped && limit < script.tokens.length ? "length" : "stop",
    prompt_eval_count: promptWords(request),
    eval_count: sent,
    total_duration: 1,
  });
  res.end();
}
