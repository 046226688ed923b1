import { afterEach, describe, expect, it } from "vitest";
import { DASHBOARD_LIMITS, DashboardSnapshot } from "../../protocol/index.ts";
import { toJob } from "../dashboard/snapshot.ts";
import type { JobLine } from "../storage/dashboard-store.ts";
import { api, closeAll, commit, connectWorker, json, sqlIn, TestWorker, taskBody, until } from "./support.ts";

const HOSTILE = `<img src=x onerror=alert(1)>"'&`;

const pool: TestWorker[] = [];
afterEach(async () => {
  await sqlIn("monad", "DELETE FROM connections WHERE socket_id LIKE 'fake-%'");
  // Rows a test dated in the future would otherwise stay the newest jobs for the next test.
  await sqlIn("monad", "DELETE FROM jobs WHERE id LIKE 'bulk-%' OR id = 'private-dash-job'");
  await closeAll(pool);
});

async function snapshot(chain = "monad"): Promise<DashboardSnapshot> {
  const res = await api(`/${chain}/v1/dashboard`);
  expect(res.status).toBe(200);
  return DashboardSnapshot.parse(await res.json());
}

/** Reads SSE events off a stream until `want` says stop, returning every parsed event. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  want: (events: { event: string; data: unknown }[]) => boolean,
): Promise<{ event: string; data: unknown }[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const events: { event: string; data: unknown }[] = [];
  let text = "";
  try {
    while (!want(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      for (let end = text.indexOf("\n\n"); end >= 0; end = text.indexOf("\n\n")) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
    }
  } finally {
    reader.releaseLock();
  }
  return events;
}

describe("dashboard snapshot", () => {
  it("shows workers with their load and models, the queue, and each job's stage and latency", async () => {
    const w = await connectWorker(pool, { slots: 2 });
    w.send({ type: "models_update", models: ["llama3.2", "qwen2.5:7b"], loaded_models: ["qwen2.5:7b"] });
    w.send({ type: "heartbeat" });
    await w.next("heartbeat_ack");
    const { body } = await commit(taskBody({}, "dash-user"));
    const jobId = String(body.job_id);
    await w.next("job_assign");

    // Snapshots are rebuilt at most once per interval: wait for one taken after the assignment.
    let s = await until(async () => {
      const next = await snapshot();
      return next.jobs[0]?.id === jobId && next;
    });
    const listed = s.workers.list.find((x) => x.provider_pubkey === w.pubkey);
    expect(listed).toMatchObject({ provider_type: "DESKTOP", verified: true, slots: 2, active: 1 });
    expect(listed?.models).toEqual([
      { name: "qwen2.5:7b", loaded: true },
      { name: "llama3.2:latest", loaded: false },
    ]);
    expect(s.queue.assigned).toBe(1);
    expect(s.jobs[0]).toMatchObject({ id: jobId, stage: "assigned", worker_pubkey: w.pubkey, latency_ms: null, tier: "CHEAP" });

    w.complete(jobId);
    await until(async () => (await snapshot()).jobs[0]?.stage === "completed");
    s = await snapshot();
    expect(s.jobs[0]?.latency_ms).toBeGreaterThanOrEqual(0);
    expect(s.jobs[0]?.anchor).toEqual({ state: "none", transaction: null });
    expect(s.queue).toEqual({ pending: 0, assigned: 0, settling: 0 });
    const finished = s.series.buckets.reduce((sum, b) => sum + b.completed, 0);
    expect(finished).toBeGreaterThanOrEqual(1);
    expect(s.series.buckets).toHaveLength(DASHBOARD_LIMITS.buckets);
  });

  it("keeps a worker's agent description verbatim, as data", async () => {
    const w = new TestWorker();
    pool.push(w);
    const challenge = await w.open();
    w.register(String(challenge.nonce), { agent: HOSTILE });
    await w.next("register_ack");
    // Snapshots are rebuilt at most once per interval: wait for one that has the worker.
    const listed = await until(async () => (await snapshot()).workers.list.find((x) => x.provider_pubkey === w.pubkey));
    expect(listed.agent).toBe(HOSTILE);
  });

  it("lists PRIVATE jobs without their id or their worker", async () => {
    const now = Date.now();
    await sqlIn(
      "monad",
      `INSERT INTO jobs (id, job_type, policy, privacy_class, user_id, payload, status, worker_pubkey, price_micro, payment_state,
         request_hash, created_at, queue_deadline, completed_at, reason)
       VALUES ('private-dash-job', 'TASK', 'CHEAP', 'PRIVATE', 'owner', '{}', 'failed', 'aa', 1000, 'disabled', 'h', ?, ?, ?, 'test_cleanup')`,
      now + 60_000,
      now,
      now + 60_000,
    );
    const job = await until(async () => (await snapshot()).jobs.find((j) => j.privacy_class === "PRIVATE"));
    expect(job).toMatchObject({ id: null, worker_pubkey: null, stage: "failed" });
  });

  it("lists at most 200 workers and the 50 newest jobs, counting the workers left out", async () => {
    const now = Date.now();
    const fleet = DASHBOARD_LIMITS.workers + 5;
    // Rows straight into SQL: a fleet this size over real sockets would only slow the test down.
    const numbers = "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)";
    await sqlIn(
      "monad",
      `INSERT OR IGNORE INTO workers (pubkey, provider_type, first_seen, last_seen) ${numbers}
       SELECT printf('fake%060d', i), 'SEEKER', ?, ? FROM n`,
      fleet,
      now,
      now,
    );
    await sqlIn(
      "monad",
      `INSERT INTO connections (socket_id, pubkey, provider_type, capabilities, verified, slots, connected_at, last_seen, agent) ${numbers}
       SELECT 'fake-' || i, printf('fake%060d', i), 'SEEKER', '["TASK"]', 1, 1, ? + i, ?, ? FROM n`,
      fleet,
      now,
      now + 3_600_000,
      "x".repeat(200),
    );
    await sqlIn(
      "monad",
      `INSERT INTO jobs (id, job_type, policy, privacy_class, user_id, payload, status, price_micro, payment_state,
         request_hash, created_at, queue_deadline, completed_at, reason) ${numbers}
       SELECT 'bulk-' || i, 'TASK', 'CHEAP', 'PUBLIC', 'bulk', '{}', 'failed', 1000, 'disabled', 'h', ? + 120000 + i, ?, ?, 'test_cleanup' FROM n`,
      DASHBOARD_LIMITS.jobs + 10,
      now,
      now,
      now,
    );
    const s = await until(async () => {
      const next = await snapshot();
      return next.workers.online >= fleet && next;
    });
    expect(s.workers.list).toHaveLength(DASHBOARD_LIMITS.workers);
    expect(s.workers.more).toBe(s.workers.online - DASHBOARD_LIMITS.workers);
    expect(s.jobs).toHaveLength(DASHBOARD_LIMITS.jobs);
    expect(s.jobs[0]?.id).toBe(`bulk-${DASHBOARD_LIMITS.jobs + 9}`);
    const created = s.jobs.map((j) => Date.parse(j.created_at));
    expect(created).toEqual([...created].sort((a, b) => b - a));
    // 200 workers with the longest agent text still make a snapshot far below a stream's buffer.
    expect(JSON.stringify(s).length).toBeLessThan(256 * 1024);
  });
});

describe("dashboard stream", () => {
  it("sends a snapshot at once, and a new one when a job is committed", async () => {
    const res = await api("/monad/v1/dashboard/events");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const body = res.body;
    if (!body) throw new Error("no body");
    const first = await readEvents(body, (events) => events.length >= 1);
    expect(first[0]?.event).toBe("snapshot");
    const { body: committed } = await commit(taskBody({}, "dash-stream"));
    const later = await readEvents(body, (events) =>
      events.some((e) => (e.data as DashboardSnapshot).jobs?.some((j) => j.id === committed.job_id)),
    );
    expect(later.at(-1)?.event).toBe("snapshot");
    await body.cancel();
  });

  it("holds one of the address's long-poll slots per viewer, and gives it back when the viewer leaves", async () => {
    const headers = { "cf-connecting-ip": "10.9.9.9" };
    const open = await Promise.all(Array.from({ length: 32 }, () => api("/monad/v1/dashboard/events", { headers })));
    expect(open.map((r) => r.status)).toEqual(Array(32).fill(200));
    const refused = await api("/monad/v1/dashboard/events", { headers });
    expect(refused.status).toBe(429);
    expect((await json(refused)).error).toBe("too_many_waits");
    await open[0]?.body?.cancel();
    const again = await until(async () => {
      const res = await api("/monad/v1/dashboard/events", { headers });
      if (res.status === 200) return res;
      await res.body?.cancel();
      return undefined;
    });
    for (const res of [...open.slice(1), again]) await res.body?.cancel();
    await until(async () => (await snapshot()).streams.holds === 0);
  });
});

describe("dashboard page", () => {
  it("is served per chain under a content security policy that allows no inline code", async () => {
    for (const [path, chain] of [
      ["/dashboard", "monad"],
      ["/monad/dashboard", "monad"],
      ["/solana/dashboard", "solana"],
    ] as const) {
      const res = await api(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/html");
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("unsafe-inline");
      const html = await res.text();
      expect(html).toContain(`data-chain="${chain}"`);
      expect(html).not.toMatch(/<script>|<style>| on\w+=/);
    }
    expect((await api("/dashboard/app.js")).headers.get("content-type")).toContain("text/javascript");
    expect((await api("/dashboard/app.css")).headers.get("content-type")).toContain("text/css");
  });
});

describe("dashboard job ids", () => {
  const line = (privacy: "PUBLIC" | "PRIVATE"): JobLine => ({
    id: "0f1e2d3c-4b5a-4697-8877-665544332211",
    job_type: "TASK",
    policy: "CHEAP",
    privacy_class: privacy,
    route: "TASK",
    status: "completed",
    reason: null,
    attempts: 1,
    payment_state: "disabled",
    price_micro: 1000,
    worker_pubkey: "ab".repeat(32),
    created_at: 1_000,
    completed_at: 1_250,
    anchor_batch: null,
    anchor_tx: null,
  });

  it("publishes a PUBLIC job's id only when the operator says so (an id reads the job's result)", () => {
    const hidden = toJob(line("PUBLIC"), false);
    expect(hidden).toMatchObject({ id: null, ref: "0f1e2d3c", latency_ms: 250, worker_pubkey: "ab".repeat(32) });
    expect(JSON.stringify(hidden)).not.toContain("4b5a");
    expect(toJob(line("PUBLIC"), true)).toMatchObject({ id: "0f1e2d3c-4b5a-4697-8877-665544332211", ref: "0f1e2d3c" });
  });

  it("never shows a PRIVATE job's id, reference or worker", () => {
    for (const publish of [true, false]) {
      expect(toJob(line("PRIVATE"), publish)).toMatchObject({ id: null, ref: null, worker_pubkey: null });
    }
  });

  it("publishes ids under the local profile, the one `npm start` and these tests run", async () => {
    const s = await snapshot();
    for (const job of s.jobs.filter((j) => j.privacy_class === "PUBLIC")) expect(job.id?.startsWith(job.ref ?? "-")).toBe(true);
    const health = (await (await api("/monad/v1/health")).json()) as { settings: Record<string, unknown> };
    expect(health.settings.DASHBOARD_JOB_IDS).toBe(true);
  });
});
