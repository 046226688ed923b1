import http from "node:http";
import type { AddressInfo } from "node:net";

/** What the proxy does to the next call of one endpoint. */
export interface Fault {
  /** Hold the answer this long before passing it on. */
  delayMs?: number;
  /** Forward the call (the money moves), then never answer: the caller's timeout decides. */
  swallowAnswer?: boolean;
}

/**
 * Stands between the coordinator and the real x402 facilitator, to create the races money code
 * must survive: a settlement that takes long, or one that went through but whose answer is lost.
 * Faults are queued per endpoint (`/verify`, `/settle`) and used once each.
 */
export async function startFacilitatorProxy(target: string): Promise<{
  url: string;
  next(endpoint: "/verify" | "/settle", fault: Fault): void;
  calls: Record<string, number>;
  stop(): Promise<void>;
}> {
  const faults = new Map<string, Fault[]>();
  const calls: Record<string, number> = {};
  const held = new Set<http.ServerResponse>();
  const server = http.createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://proxy").pathname;
    calls[path] = (calls[path] ?? 0) + 1;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const fault = faults.get(path)?.shift();
    try {
      const upstream = await fetch(`${target}${req.url ?? "/"}`, {
        method: req.method ?? "GET",
        headers: { "content-type": "application/json" },
        ...(req.method === "POST" ? { body: Buffer.concat(chunks) } : {}),
      });
      const body = Buffer.from(await upstream.arrayBuffer());
      if (fault?.swallowAnswer) {
        held.add(res);
        return;
      }
      if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      res.writeHead(upstream.status, { "content-type": "application/json" }).end(body);
    } catch {
      res.writeHead(502).end("upstream unreachable");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    next(endpoint, fault) {
      const list = faults.get(endpoint) ?? [];
      list.push(fault);
      faults.set(endpoint, list);
    },
    calls,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const res of held) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
