import http from "node:http";
import type { AddressInfo } from "node:net";

/** How the fake server answers `/api/generate` for one model. */
export interface ScriptedModel {
  /** Response pieces, one NDJSON line each. */
  tokens: string[];
  /** Pause before each piece (ms). */
  delayMs?: number;
  /** After this many pieces, send an `{error}` line and end the stream. */
  errorAfter?: number;
  /** After this many pieces, stop writing but keep the connection open. */
  stallAfter?: number;
}

export interface OllamaServer {
  host: string;
  /** Bodies of every `/api/generate` request, in order. */
  requests: Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * An Ollama-compatible HTTP server (the subset the `ollama` client uses for generation):
 * `/api/version`, `/api/tags`, streaming `/api/generate` with `num_predict` honoured, and
 * Ollama's 404 `{error}` for unknown models.
 */
export async function startOllamaServer(models: Record<string, ScriptedModel>): Promise<OllamaServer> {
  const requests: Record<string, unknown>[] = [];
  const open = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (req.method === "GET" && url.pathname === "/api/version") return json(res, 200, { version: "0.12.0-test" });
    if (req.method === "GET" && url.pathname === "/api/tags") {
      return json(res, 200, {
        models: Object.keys(models).map((name) => ({
          name,
          model: name,
          modified_at: new Date(0).toISOString(),
          size: 1,
          digest: "0",
          details: {},
        })),
      });
    }
    if (req.method === "POST" && url.pathname === "/api/generate") {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString("utf8");
      });
      req.on("end", () => {
        const request = JSON.parse(body) as { model: string; options?: { num_predict?: number } };
        requests.push(request as unknown as Record<string, unknown>);
        // Ollama resolves a bare model name to its `:latest` tag.
        const script = models[request.model] ?? models[`${request.model}:latest`];
        if (script === undefined) return json(res, 404, { error: `model "${request.model}" not found, try pulling it first` });
        open.add(res);
        res.on("close", () => open.delete(res));
        void stream(res, request.model, script, request.options?.num_predict ?? -1);
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
    close: async () => {
      for (const res of open) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

async function stream(res: http.ServerResponse, model: string, script: ScriptedModel, numPredict: number): Promise<void> {
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  const line = (obj: unknown): void => {
    res.write(`${JSON.stringify(obj)}\n`);
  };
  const limit = numPredict >= 0 ? Math.min(numPredict, script.tokens.length) : script.tokens.length;
  for (let i = 0; i < limit; i++) {
    if (script.errorAfter === i) {
      line({ error: "an error was encountered while running the model: out of memory" });
      res.end();
      return;
    }
    if (script.stallAfter === i) return; // keep the socket open, say nothing more
    if (script.delayMs) await new Promise((r) => setTimeout(r, script.delayMs));
    if (res.destroyed) return;
    line({ model, created_at: new Date().toISOString(), response: script.tokens[i], done: false });
  }
  line({
    model,
    created_at: new Date().toISOString(),
    response: "",
    done: true,
    done_reason: limit < script.tokens.length ? "length" : "stop",
    eval_count: limit,
    total_duration: 1,
  });
  res.end();
}
