import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A JSON-RPC pass-through that can hold the answer to chosen methods: the call reaches the chain
 * (a transaction is mined), the caller just never hears back until released. Lets a test stop
 * the coordinator between "sent" and "recorded as sent".
 */
export async function startRpcProxy(target: string): Promise<{
  url: string;
  /** Hold the answers of calls to `method` from now on (until `release`). */
  hold(method: string): void;
  release(): void;
  /** How many calls to `method` went through so far. */
  count(method: string): number;
  stop(): Promise<void>;
}> {
  const holding = new Set<string>();
  const counts = new Map<string, number>();
  const waiting: (() => void)[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    let methods: string[] = [];
    try {
      const parsed = JSON.parse(body.toString()) as { method?: string } | { method?: string }[];
      methods = (Array.isArray(parsed) ? parsed : [parsed]).map((m) => String(m.method));
    } catch {
      // not JSON: pass it on as is
    }
    for (const m of methods) counts.set(m, (counts.get(m) ?? 0) + 1);
    try {
      const upstream = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body });
      const answer = Buffer.from(await upstream.arrayBuffer());
      if (methods.some((m) => holding.has(m))) await new Promise<void>((resolve) => waiting.push(resolve));
      res.writeHead(upstream.status, { "content-type": "application/json" }).end(answer);
    } catch {
      if (!res.headersSent) res.writeHead(502).end("upstream unreachable");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hold: (method) => holding.add(method),
    release: () => {
      holding.clear();
      for (const w of waiting.splice(0)) w();
    },
    count: (method) => counts.get(method) ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const w of waiting.splice(0)) w();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
