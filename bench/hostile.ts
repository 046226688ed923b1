// Abuse benchmark: honest seekers and workers alongside every attack of the hostile-clients
// issue at once, against the built coordinator on workerd (`--wrangler`: under `wrangler dev`).
// `--attacker-nice=19` runs the attacker process at the lowest CPU priority, as if its load came
// from other machines (on one 2-core box the attacker otherwise takes CPU from workerd). Prints honest jobs/s, p50/p99 and
// failures with and without the attacks, and the coordinator's memory (workerd RSS) before and
// after. Attackers connect from other loopback addresses (127.0.0.x), as distinct clients do.

import { spawn } from "node:child_process";
import http from "node:http";
import { setPriority } from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { generateKeyPair, LIMITS, signSeekerRequest } from "../protocol/index.ts";
import { startCoordinator } from "../scripts/dev-coordinator.ts";
import { startWorkerdCoordinator } from "../scripts/workerd-coordinator.ts";
import { SimWorker } from "./sim-worker.ts";

const CHAIN = "monad";

interface Answer {
  status: number;
  body: string;
}

/** One HTTP request from a given source address (node:http, so the client address is ours to pick). */
function from(
  addr: string,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer; chunked?: boolean; read?: boolean } = {},
): Promise<Answer & { res?: http.IncomingMessage }> {
  return new Promise((resolve) => {
    // `cf-connecting-ip` is what Cloudflare's edge would set; workerd alone sets none.
    const headers = { ...init.headers, "cf-connecting-ip": addr };
    const req = http.request(url, { method: init.method ?? "GET", headers, localAddress: addr }, (res) => {
      if (init.read === false) {
        // A subscriber that stops reading: keep the socket, never consume the body.
        res.pause();
        resolve({ status: res.statusCode ?? 0, body: "", res });
        return;
      }
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", () => resolve({ status: 0, body: "" }));
    req.on("upgrade", (res, socket) => {
      held.push(socket);
      resolve({ status: res.statusCode ?? 101, body: "" });
    });
    if (init.chunked) {
      // No content-length: the body streams in pieces.
      const body = Buffer.from(init.body ?? "");
      for (let i = 0; i < body.length; i += 16_384) req.write(body.subarray(i, i + 16_384));
      req.end();
    } else req.end(init.body);
  });
}

const attacker = (n: number) => `127.0.0.${10 + (n % 200)}`;
/** Sockets the attacks keep open (upgraded but never registered), destroyed when they stop. */
const held: { destroy(): void }[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Repeats `fn` every `ms` until `stop.done`, counting outcomes by status. */
async function every(ms: number, stop: { done: boolean }, tally: Map<string, number>, name: string, fn: (i: number) => Promise<number>) {
  for (let i = 0; !stop.done; i++) {
    const status = await fn(i).catch(() => 0);
    const key = `${name} ${status}`;
    tally.set(key, (tally.get(key) ?? 0) + 1);
    await sleep(ms);
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Honest load: seekers commit TASK jobs and long-poll their results for `seconds`. */
async function honestLoad(base: string, seekers: number, seconds: number): Promise<{ jobs: number; failed: number; lat: number[] }> {
  const lat: number[] = [];
  let failed = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: seekers }, async (_, id) => {
      while (Date.now() < until) {
        const t0 = performance.now();
        const commit = await fetch(`${base}/${CHAIN}/v1/jobs/commit/cheap`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ job_type: "TASK", user_id: `honest-${id}`, payload: { task_type: "summarize", input: "Honest work." } }),
        });
        if (commit.status !== 201) {
          failed++;
          await commit.text();
          continue;
        }
        const { job_id } = (await commit.json()) as { job_id: string };
        const res = await fetch(`${base}/${CHAIN}/v1/jobs/${job_id}?wait=30`);
        const job = (await res.json()) as { status?: string };
        if (job.status !== "completed") failed++;
        lat.push(performance.now() - t0);
      }
    }),
  );
  return { jobs: lat.length, failed, lat: lat.sort((a, b) => a - b) };
}

/** Starts every attack; returns a function that stops them and reports what each got back. */
async function startAttacks(
  base: string,
  honestKeys: string[],
  on: (name: Attack) => boolean,
): Promise<() => Promise<Map<string, number>>> {
  const api = `${base}/${CHAIN}/v1`;
  const stop = { done: false };
  const tally = new Map<string, number>();
  const closers: (() => void)[] = [];
  const loops: Promise<void>[] = [];
  const json = { "content-type": "application/json" };

  // 1. Hostile workers from their own addresses: one rejects everything (a reject loop), one
  //    reports a fault for every job, one answers with poison output, one streams big tokens.
  for (const [i, behaviour] of (["reject", "fault", "poison", "stream"] as const).entries()) {
    if (!on("workers") && !(behaviour === "stream" && on("sse"))) continue;
    const w = new SimWorker({ behaviour });
    await w.connect(base, CHAIN, behaviour === "stream" ? "DESKTOP" : "SEEKER", { slots: 4 }, { localAddress: attacker(i) });
    closers.push(() => w.close());
  }
  // 2. Head-of-line flood: LLM jobs nobody honest can serve, from many addresses (also squats
  //    the quota of a victim's public key with unsigned jobs).
  const victim = generateKeyPair();
  if (on("flood"))
    loops.push(
      every(10, stop, tally, "flood commit", async (i) => {
        const body = { job_type: "LLM_INFER", user_id: i % 3 === 0 ? victim.publicKey : `flood-${i}`, payload: { prompt: "x" } };
        return (
          await from(attacker(20 + (i % 40)), `${api}/jobs/commit/fast`, { method: "POST", headers: json, body: JSON.stringify(body) })
        ).status;
      }),
    );
  // 3. Socket lockout: upgrades that never register, from 10 addresses, held open.
  if (on("sockets"))
    loops.push(
      every(20, stop, tally, "idle upgrade", async (i) => {
        const res = await from(attacker(70 + (i % 10)), `${base}/${CHAIN}/v1/workers/ws`, {
          headers: {
            connection: "Upgrade",
            upgrade: "websocket",
            "sec-websocket-version": "13",
            "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
          },
          read: false,
        });
        return res.status;
      }),
    );
  // 4. Paused SSE subscribers on the streaming worker's jobs, and a flood of held long-polls.
  if (on("sse"))
    loops.push(
      every(500, stop, tally, "paused sse", async (i) => {
        const commit = await from(attacker(90), `${api}/jobs/commit/fast`, {
          method: "POST",
          headers: json,
          body: JSON.stringify({ job_type: "LLM_INFER", user_id: `sse-${i}`, payload: { prompt: "stream" } }),
        });
        const id = (JSON.parse(commit.body || "{}") as { job_id?: string }).job_id;
        if (!id) return commit.status;
        const res = await from(attacker(91 + (i % 4)), `${api}/jobs/${id}/events`, { read: false });
        if (res.res) closers.push(() => res.res?.destroy());
        return res.status;
      }),
    );
  const waitedOn: string[] = [];
  for (let i = 0; i < (on("polls") ? 20 : 0); i++) {
    const res = await from(attacker(99), `${api}/jobs/commit/fast`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ job_type: "LLM_INFER", user_id: `waited-${i}`, payload: { prompt: "wait" } }),
    });
    const id = (JSON.parse(res.body || "{}") as { job_id?: string }).job_id;
    if (id) waitedOn.push(id);
  }
  // Held without waiting for the answer: a thousand long-polls open at once is the attack.
  const polls: Promise<unknown>[] = [];
  let outstanding = 0;
  if (on("polls"))
    loops.push(
      every(10, stop, tally, "held long-poll opened", async (i) => {
        // At most 1,000 open at once, topped up as they end.
        if (outstanding >= 1_000) return 1;
        outstanding++;
        const poll = from(attacker(100 + (i % 10)), `${api}/jobs/${waitedOn[i % waitedOn.length]}?wait=30`).then((res) => {
          outstanding--;
          const key = `held long-poll ${res.status}`;
          tally.set(key, (tally.get(key) ?? 0) + 1);
        });
        polls.push(poll);
        return 1;
      }),
    );
  // 5. A captured signed request, replayed.
  const user = generateKeyPair();
  const createBody = JSON.stringify({ user_id: user.publicKey });
  const captured = signSeekerRequest({
    chain: CHAIN,
    method: "POST",
    url: `${api}/trust/create`,
    body: createBody,
    secretKey: user.secretKey,
    publicKey: user.publicKey,
  });
  if (on("replay"))
    loops.push(
      every(
        50,
        stop,
        tally,
        "replayed signature",
        async () =>
          (await from(attacker(120), `${api}/trust/create`, { method: "POST", headers: { ...json, ...captured }, body: createBody }))
            .status,
      ),
    );
  // 6. Oversized chunked bodies and JSON nested past the bound.
  const big = JSON.stringify({ job_type: "TASK", user_id: "big", payload: { task_type: "summarize", input: "y".repeat(400_000) } });
  if (on("bodies"))
    loops.push(
      every(
        100,
        stop,
        tally,
        "chunked 400 KB body",
        async () =>
          (await from(attacker(130), `${api}/jobs/commit/cheap`, { method: "POST", headers: json, body: big, chunked: true })).status,
      ),
    );
  const deep = `{"job_type":"TASK","user_id":"d","payload":${"[".repeat(3000)}${"]".repeat(3000)}}`;
  if (on("bodies"))
    loops.push(
      every(
        50,
        stop,
        tally,
        "deep JSON",
        async () => (await from(attacker(131), `${api}/jobs/commit/cheap`, { method: "POST", headers: json, body: deep })).status,
      ),
    );
  // 7. Impersonation: unsigned registers with the honest workers' keys.
  if (on("impersonation"))
    loops.push(
      every(200, stop, tally, "impersonation", async (i) => {
        const key = honestKeys[i % honestKeys.length] ?? "";
        const w = new SimWorker({ key: { publicKey: key, secretKey: "00".repeat(32) } });
        const ok = await w.connect(base, CHAIN, "SEEKER", {}, { localAddress: attacker(140), signed: false }).then(
          () => 101,
          () => 401,
        );
        w.close();
        return ok;
      }),
    );
  return async () => {
    stop.done = true;
    for (const close of closers) close();
    for (const socket of held.splice(0)) socket.destroy();
    await Promise.all(loops);
    return tally;
  };
}

const ATTACKS = ["workers", "flood", "sockets", "sse", "polls", "replay", "bodies", "impersonation"] as const;
type Attack = (typeof ATTACKS)[number];

const mb = (bytes: number | null) => (bytes === null ? "n/a" : `${(bytes / 1024 / 1024).toFixed(0)} MB`);

/**
 * The attacks run in a process of their own, so their work never stalls the honest clients'
 * event loop (only the machine's two cores are shared, as a real attacker's load would be).
 */
async function attackerProcess(
  base: string,
  honestKeys: string[],
  attacks: readonly Attack[],
  nice: number,
): Promise<() => Promise<Map<string, number>>> {
  const child = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), `--attack=${base}`, `--keys=${honestKeys.join(",")}`, `--attacks=${attacks.join(",")}`],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  if (nice !== 0 && child.pid !== undefined) setPriority(child.pid, nice);
  const lines = createInterface({ input: child.stdout });
  const next = () => new Promise<string>((resolve) => lines.once("line", resolve));
  if ((await next()) !== "ready") throw new Error("attacker process failed to start");
  return async () => {
    child.stdin.write("stop\n");
    const tally = JSON.parse(await next()) as [string, number][];
    child.stdin.end();
    return new Map(tally);
  };
}

/** Attacker mode: attack `base` until told to stop on stdin, then print the tally as one JSON line. */
async function runAttacker(base: string, keys: string[], attacks: readonly string[]): Promise<void> {
  const stop = await startAttacks(base, keys, (name) => attacks.includes(name));
  console.log("ready");
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once("line", () => resolve()));
  console.log(JSON.stringify([...(await stop()).entries()]));
  process.exit(0);
}

/** `only`: run just these attacks (e.g. to see what one of them costs); all when absent. */
export async function hostileBench(
  quick: boolean,
  opts: { only?: readonly string[]; seconds?: number; runtime?: "workerd" | "wrangler"; attackerNice?: number } = {},
): Promise<void> {
  const seconds = opts.seconds ?? (quick ? 8 : 20);
  const on = (name: Attack) => opts.only === undefined || opts.only.includes(name);
  const runtime = opts.runtime ?? "workerd";
  const coordinator = runtime === "workerd" ? await startWorkerdCoordinator() : await startCoordinator();
  try {
    const base = coordinator.url;
    const honest = Array.from({ length: 8 }, () => new SimWorker());
    await Promise.all(honest.map((w) => w.connect(base, CHAIN, "SEEKER", { slots: 2 })));
    await honestLoad(base, 8, quick ? 4 : 8); // warm up: JIT and SQLite caches, so the quiet phase is not the cold one
    const memQuiet = await coordinator.memory();
    const quiet = await honestLoad(base, 8, seconds);
    const stopAttacks = await attackerProcess(
      base,
      honest.map((w) => w.key.publicKey),
      ATTACKS.filter(on),
      opts.attackerNice ?? 0,
    );
    await sleep(1_000);
    // Memory sampled through the attack: flat means it stops growing, whatever the attack does.
    const samples: number[] = [];
    const sampler = setInterval(() => {
      void coordinator.memory().then((m) => m !== null && samples.push(m));
    }, 1_000);
    const attacked = await honestLoad(base, 8, seconds);
    clearInterval(sampler);
    const memAttacked = await coordinator.memory();
    const health = (await (await fetch(`${base}/${CHAIN}/v1/health`)).json()) as Record<string, unknown>;
    const tally = await stopAttacks();
    await sleep(12_000);
    const memAfter = await coordinator.memory();
    for (const w of honest) w.close();
    const row = (name: string, r: Awaited<ReturnType<typeof honestLoad>>) => ({
      phase: name,
      "honest jobs": r.jobs,
      "honest failed": r.failed,
      "jobs/s": Number((r.jobs / seconds).toFixed(1)),
      "p50 ms": Number(percentile(r.lat, 50).toFixed(1)),
      "p99 ms": Number(percentile(r.lat, 99).toFixed(1)),
    });
    console.log(
      `${runtime === "workerd" ? "workerd, no dev proxy" : "wrangler dev"}: 8 honest SEEKER workers (2 slots each), 8 honest seekers, ${seconds} s per phase, chain ${CHAIN}; attacker niceness ${opts.attackerNice ?? 0}; attacks: ${ATTACKS.filter(on).join(", ")}`,
    );
    console.table([row("quiet", quiet), row("under attack", attacked)]);
    console.log(
      `throughput under attack: ${((100 * attacked.jobs) / Math.max(1, quiet.jobs)).toFixed(0)} % of quiet; coordinator memory (workerd RSS): quiet ${mb(memQuiet)}, under attack ${mb(memAttacked)}, 12 s after ${mb(memAfter)}`,
    );
    const half = samples.slice(Math.floor(samples.length / 2));
    console.log(
      `memory during the attack (1 s samples, MB): ${samples.map((m) => (m / 1024 / 1024).toFixed(0)).join(" ")}; growth over its second half: ${mb((half.at(-1) ?? 0) - (half[0] ?? 0))}`,
    );
    console.log(
      `health under attack: ${JSON.stringify({ sockets: health.sockets, jobs_queued: health.jobs_queued, listeners: health.listeners })}`,
    );
    console.log("attack requests by answer status (0 = connection refused or reset):");
    console.table([...tally.entries()].sort().map(([k, n]) => ({ attack: k, requests: n })));
    console.log(
      `(limits: ${LIMITS.maxUnregisteredPerAddress} handshakes per address, ${LIMITS.maxPendingJobsPerUser} unfinished jobs per user)`,
    );
  } finally {
    await coordinator.stop();
  }
}

const attackUrl = process.argv.find((a) => a.startsWith("--attack="))?.slice(9);
if (import.meta.url === `file://${process.argv[1]}` && attackUrl !== undefined) {
  const keys =
    process.argv
      .find((a) => a.startsWith("--keys="))
      ?.slice(7)
      .split(",") ?? [];
  await runAttacker(
    attackUrl,
    keys,
    process.argv
      .find((a) => a.startsWith("--attacks="))
      ?.slice(10)
      .split(",") ?? [...ATTACKS],
  );
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const only = process.argv
    .find((a) => a.startsWith("--attacks="))
    ?.slice(10)
    .split(",");
  const seconds = process.argv.find((a) => a.startsWith("--seconds="))?.slice(10);
  const runtime = process.argv.includes("--wrangler") ? "wrangler" : "workerd";
  const nice = process.argv.find((a) => a.startsWith("--attacker-nice="))?.slice(16);
  await hostileBench(process.argv.includes("--quick"), {
    ...(nice !== undefined && { attackerNice: Number(nice) }),
    ...(only !== undefined && { only }),
    ...(seconds !== undefined && { seconds: Number(seconds) }),
    runtime,
  });
}
