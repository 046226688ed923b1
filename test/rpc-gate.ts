import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A JSON-RPC pass-through that a test can close and reopen, standing between the coordinator
 * and anvil: the chain stays up (and keeps its state) while the coordinator sees it go away.
 */
export async function startRpcGate(target: string): Promise<{ url: string; open: boolean; stop(): Promise<void> }> {
  const gate = { url: "", open: true, stop: async () => {} };
  const server = http.createServer(async (req, res) => {
    if (!gate.open) {
      res.writeHead(503).end("gate closed");
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    try {
      const upstream = await fetch(target, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: Buffer.concat(chunks),
      });
      res.writeHead(upstream.status, { "content-type": "application/json" }).end(Buffer.from(await upstream.arrayBuffer()));
    } catch {
      res.writeHead(502).end("upstream unreachable");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  gate.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  gate.stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return gate;
}
