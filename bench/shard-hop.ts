// What one more Durable Object hop costs (docs/SCALING.md): the same one-write "commit" served
// straight from a shard object, and through a router object that picks the shard, on workerd with
// no dev proxy. `node bench/shard-hop.ts [--requests=N]`.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serveOnWorkerd } from "../scripts/workerd-coordinator.ts";
import { percentile } from "./coordinator-load.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

async function timed(url: string, requests: number, concurrency: number): Promise<{ lat: number[]; perSecond: number }> {
  const lat: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < requests) {
        const t0 = performance.now();
        const res = await fetch(url);
        if (!res.ok) throw new Error(`${url} answered ${res.status}`);
        await res.arrayBuffer();
        lat.push(performance.now() - t0);
      }
    }),
  );
  return { lat: lat.sort((a, b) => a - b), perSecond: lat.length / ((performance.now() - start) / 1000) };
}

export async function shardHopBench(requests: number): Promise<void> {
  const server = await serveOnWorkerd({
    config: path.join(here, "hop", "wrangler.toml"),
    namespaces: [
      { binding: "SHARD", className: "Shard" },
      { binding: "ROUTER", className: "Router" },
    ],
  });
  try {
    const rows = [];
    for (const [name, route] of [
      ["edge only (no object)", "/edge"],
      ["edge -> shard", "/direct"],
      ["edge -> router -> shard", "/routed?shards=4"],
    ] as const) {
      await timed(`${server.url}${route}`, 200, 4); // warm-up: objects created, JIT settled
      for (const concurrency of [1, 16]) {
        const r = await timed(`${server.url}${route}`, requests, concurrency);
        rows.push({
          path: name,
          "in flight": concurrency,
          "p50 ms": Number(percentile(r.lat, 50).toFixed(2)),
          "p99 ms": Number(percentile(r.lat, 99).toFixed(2)),
          "req/s": Math.round(r.perSecond),
        });
      }
    }
    console.table(rows);
  } finally {
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = process.argv.find((a) => a.startsWith("--requests="));
  await shardHopBench(arg ? Number(arg.slice(11)) : 3_000);
}
