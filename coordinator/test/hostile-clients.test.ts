import { afterEach, describe, expect, it } from "vitest";
import { buildReceipt, generateKeyPair, LIMITS, signReceipt } from "../../protocol/index.ts";
import {
  api,
  closeAll,
  commit,
  connectWorker,
  fireAlarm,
  getJob,
  json,
  llmBody,
  signed,
  signHeaders,
  sqlIn,
  TestWorker,
  taskBody,
} from "./support.ts";

const workers: TestWorker[] = [];
afterEach(() => closeAll(workers));

const worker = (opts: ConstructorParameters<typeof TestWorker>[0] = {}) => connectWorker(workers, opts);
const track = (w: TestWorker) => {
  workers.push(w);
  return w;
};

/** `n` unsigned commits spread over client addresses, so no per-address bound stops the flood. */
async function flood(n: number, body: (i: number) => Record<string, unknown>, tier: "fast" | "cheap" = "cheap"): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await commit(body(i), { tier, addr: `10.9.${Math.floor(i / 200)}.${i % 200}` });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    ids.push(String(res.body.job_id));
  }
  return ids;
}

function nested(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

describe("matching under floods", () => {
  it("matches a new job to an idle worker behind hundreds of jobs no online worker can take", async () => {
    // 300 LLM jobs (no LLM worker is online) and 64 PRIVATE jobs of a user whose only trusted
    // worker is busy: before, matching looked at the 200 oldest pending jobs and stalled.
    const attacker = generateKeyPair();
    const own = await worker({ type: "DESKTOP", slots: 1 });
    const code = await json<{ pairing_code: string }>(
      await signed(attacker, "POST", "/monad/v1/trust/create", { user_id: attacker.publicKey }),
    );
    own.send({ type: "trust_claim", pairing_code: code.pairing_code });
    await own.next("trust_claim_ack");
    const busy = await commit(llmBody({}, "keeps-own-busy"), { tier: "fast" });
    expect((await own.next("job_assign")).job_id).toBe(busy.body.job_id);
    await flood(300, (i) => llmBody({}, `llm-flooder-${i}`), "fast");
    for (let i = 0; i < LIMITS.maxPendingJobsPerUser; i++) {
      const text = JSON.stringify(taskBody({ privacy_class: "PRIVATE" }, attacker.publicKey));
      const path = "/monad/v1/jobs/commit/cheap";
      expect((await commit(text, { headers: signHeaders(attacker, "POST", path, text) })).status).toBe(201);
    }
    const phone = await worker({ type: "SEEKER", capabilities: ["TASK"], slots: 4 });
    const victim = await commit(taskBody({}, "victim"));
    expect((await phone.next("job_assign", 2000)).job_id).toBe(victim.body.job_id);
  });

  it("gives a worker that frees a slot the oldest job it can serve, not the head of the queue", async () => {
    await flood(250, (i) => llmBody({}, `head-${i}`), "fast");
    const phone = await worker({ type: "SEEKER", capabilities: ["TASK"], slots: 1 });
    const first = await commit(taskBody({}, "queue-a"));
    expect((await phone.next("job_assign")).job_id).toBe(first.body.job_id);
    const second = await commit(taskBody({}, "queue-b"));
    const third = await commit(taskBody({}, "queue-c"));
    phone.complete(String(first.body.job_id), { summary: "a" });
    expect((await phone.next("job_assign")).job_id).toBe(second.body.job_id);
    phone.complete(String(second.body.job_id), { summary: "b" });
    expect((await phone.next("job_assign")).job_id).toBe(third.body.job_id);
  });

  it("bounds a reject loop: rejections are counted, spend the job's lifetime, and end the job", async () => {
    const { body } = await commit(taskBody({}, "rejected-user"));
    const id = String(body.job_id);
    for (let i = 0; i < LIMITS.maxRejectsPerJob; i++) {
      const w = await worker();
      expect((await w.next("job_assign")).job_id).toBe(id);
      w.send({ type: "job_reject", job_id: id, reason: "no thanks" });
      await w.nothing("job_assign", 50);
      const [row] = await sqlIn("monad", "SELECT queue_deadline, expires_at, rejects FROM jobs WHERE id = ?", id);
      expect(Number(row?.queue_deadline)).toBeLessThanOrEqual(Number(row?.expires_at));
    }
    expect(await getJob(id)).toMatchObject({ status: "failed", reason: "no_eligible_worker" });
  });
});

describe("hostile workers", () => {
  it("stops feeding a worker that faults its jobs while a healthy worker serves the route", async () => {
    const bad = await worker({ type: "SEEKER", capabilities: ["TASK"], slots: 4 });
    const first = await commit(taskBody({}, "bench-a"));
    expect((await bad.next("job_assign")).job_id).toBe(first.body.job_id);
    const good = await worker({ type: "DESKTOP", slots: 1 });
    bad.complete(String(first.body.job_id), { error: "model crashed" });
    // The faulted job goes to the healthy worker; the faulty one, benched, gets nothing more,
    // even for CHEAP TASKs it would otherwise be preferred for, while the healthy one can serve.
    expect((await good.next("job_assign")).job_id).toBe(first.body.job_id);
    const next = await commit(taskBody({}, "bench-b"));
    await bad.nothing("job_assign", 200);
    good.complete(String(first.body.job_id), { summary: "a" });
    expect((await good.next("job_assign")).job_id).toBe(next.body.job_id);
  });

  it("still gives a benched worker work when it is the only one serving the route", async () => {
    const lone = await worker({ type: "SEEKER", capabilities: ["TASK"] });
    const first = await commit(taskBody({}, "lone-a"));
    lone.complete(String((await lone.next("job_assign")).job_id), { error: "oops" });
    await lone.next("job_complete_ack");
    // Its own faulted job went back to the queue (excluded for it); a new job still reaches it.
    const second = await commit(taskBody({}, "lone-b"));
    expect((await lone.next("job_assign")).job_id).toBe(second.body.job_id);
    expect((await getJob(String(first.body.job_id))).stage).toBe("pending");
  });

  it("refills a benched worker's slots from the queue once its bench ends", async () => {
    const healthy = await worker({ type: "DESKTOP", slots: 1 });
    const flaky = await worker({ type: "DESKTOP", slots: 1 });
    const a = await commit(taskBody({}, "refill-a"), { tier: "fast" });
    const b = await commit(taskBody({}, "refill-b"), { tier: "fast" });
    const holder = [healthy, flaky];
    const got = await Promise.all(holder.map((w) => w.next("job_assign")));
    const flakyJob = String(got[1]?.job_id);
    flaky.complete(flakyJob, { error: "crash" });
    await flaky.next("job_complete_ack");
    const c = await commit(taskBody({}, "refill-c"), { tier: "fast" });
    await flaky.nothing("job_assign", 200);
    await sqlIn("monad", "UPDATE workers SET unhealthy_until = 1 WHERE pubkey = ?", flaky.pubkey);
    await sqlIn("monad", "UPDATE connections SET refill_at = 1 WHERE pubkey = ?", flaky.pubkey);
    await fireAlarm("monad");
    const refilled = await flaky.next("job_assign");
    expect([a.body.job_id, b.body.job_id, c.body.job_id]).toContain(refilled.job_id);
  });
});

describe("sockets", () => {
  it("closes a socket that never registers after the handshake window", async () => {
    const idle = track(new TestWorker());
    await idle.open();
    await sqlIn("monad", "UPDATE sockets SET opened_at = opened_at - ?", LIMITS.unregisteredSocketSeconds * 1000 + 1);
    await fireAlarm("monad");
    await idle.closed(3000);
    expect(idle.closedWith?.code).toBe(4008);
    expect((await json<{ sockets: number }>(await api("/monad/v1/health"))).sockets).toBe(0);
  });

  it("bounds unregistered sockets per client address and leaves other addresses alone", async () => {
    for (let i = 0; i < LIMITS.maxUnregisteredPerAddress; i++) await track(new TestWorker({ addr: "10.1.1.1" })).open();
    const refused = await api("/monad/v1/workers/ws", { headers: { upgrade: "websocket", "cf-connecting-ip": "10.1.1.1" } });
    expect(refused.status).toBe(429);
    expect((await json(refused)).error).toBe("too_many_connections");
    const honest = await worker({ addr: "10.1.1.2" });
    expect(honest.ws).not.toBeNull();
  });

  it("bounds registered sockets per client address (MAX_SOCKETS_PER_ADDRESS)", async () => {
    for (let i = 0; i < 40; i++) await worker({ addr: "10.2.2.2" });
    const refused = await api("/monad/v1/workers/ws", { headers: { upgrade: "websocket", "cf-connecting-ip": "10.2.2.2" } });
    expect(refused.status).toBe(429);
    await worker({ addr: "10.2.2.3" });
  });
});

describe("event streams and long-polls", () => {
  it("drops an event stream whose reader stops reading, and the reader resumes after its last event", async () => {
    const w = await worker();
    const { body } = await commit(llmBody({}, "slow-reader"), { tier: "fast" });
    const id = String(body.job_id);
    await w.next("job_assign");
    const paused = await api(`/v1/jobs/${id}/events`);
    expect(paused.status).toBe(200);
    const chunk = "x".repeat(16_000);
    // Far more than a stream may hold for a reader who is not reading (SSE_BUFFER_BYTES, 128 KiB
    // in these tests), and more than one job may stream at all (256 KiB).
    for (let seq = 0; seq < 120; seq++) w.send({ type: "job_progress", job_id: id, text: chunk, seq });
    w.send({ type: "heartbeat" });
    await w.next("heartbeat_ack");
    const health = await json<{ listeners: { dropped_streams: number; streams: number; replay_bytes: number } }>(await api("/v1/health"));
    expect(health.listeners.dropped_streams).toBeGreaterThanOrEqual(1);
    expect(health.listeners.streams).toBe(0);
    // Replay memory is bounded per job (256 KiB), whatever the worker streams.
    expect(health.listeners.replay_bytes).toBeLessThanOrEqual(256 * 1024);
    await paused.body?.cancel();

    const resumed = await api(`/v1/jobs/${id}/events`, { headers: { "last-event-id": "10" } });
    setTimeout(() => w.complete(id, { text: "done" }), 50);
    const ids = [...(await resumed.text()).matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids.length).toBeGreaterThan(0);
    expect(Math.min(...ids)).toBe(11);
  });

  it("limits long-polls held open per client address", async () => {
    const { body } = await commit(taskBody({}, "waited-on"));
    const id = String(body.job_id);
    const held = Array.from({ length: 32 }, () => api(`/v1/jobs/${id}?wait=2`, { headers: { "cf-connecting-ip": "10.3.3.3" } }));
    await new Promise((r) => setTimeout(r, 200));
    const refused = await api(`/v1/jobs/${id}?wait=2`, { headers: { "cf-connecting-ip": "10.3.3.3" } });
    expect(refused.status).toBe(429);
    expect((await json(refused)).error).toBe("too_many_waits");
    const other = await api(`/v1/jobs/${id}?wait=1`, { headers: { "cf-connecting-ip": "10.3.3.4" } });
    expect(other.status).toBe(200);
    for (const res of await Promise.all(held)) expect(res.status).toBe(200);
  });
});

describe("signed requests", () => {
  it("refuses a replayed signed request, even within its freshness window", async () => {
    const user = generateKeyPair();
    const path = "/monad/v1/trust/create";
    const text = JSON.stringify({ user_id: user.publicKey });
    const headers = { ...signHeaders(user, "POST", path, text), "content-type": "application/json" };
    expect((await api(path, { method: "POST", headers, body: text })).status).toBe(201);
    const replay = await api(path, { method: "POST", headers, body: text });
    expect(replay.status).toBe(401);
    expect((await json(replay)).error).toBe("replayed_signature");
  });

  it("refuses a signature made for another chain or another host", async () => {
    const user = generateKeyPair();
    const path = "/monad/v1/trust/create";
    const text = JSON.stringify({ user_id: user.publicKey });
    const { signSeekerRequest } = await import("../../protocol/index.ts");
    const base = { method: "POST", body: text, secretKey: user.secretKey, publicKey: user.publicKey };
    for (const headers of [
      signSeekerRequest({ ...base, chain: "solana", url: `http://coordinator.test${path}` }),
      signSeekerRequest({ ...base, chain: "monad", url: `http://elsewhere.example${path}` }),
    ]) {
      const res = await api(path, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: text });
      expect(res.status).toBe(401);
      expect((await json(res)).error).toBe("invalid_signature");
    }
  });

  it("refuses a register signature made for another coordinator, chain or payout address", async () => {
    for (const wrong of [{ host: "relay.example" }, { chain: "solana" }, { payoutAddress: "0x000000000000000000000000000000000000dEaD" }]) {
      const w = track(new TestWorker());
      const challenge = await w.open();
      w.register(String(challenge.nonce), { signature: w.sign(String(challenge.nonce), wrong) });
      expect(await w.next("error")).toMatchObject({ code: "AUTH_FAILED" });
    }
  });
});

describe("quotas", () => {
  it("does not let unsigned jobs under a victim's public key consume the victim's signed quota", async () => {
    const victim = generateKeyPair();
    const trusted = await worker({ slots: 1 });
    const code = await json<{ pairing_code: string }>(
      await signed(victim, "POST", "/monad/v1/trust/create", { user_id: victim.publicKey }),
    );
    trusted.send({ type: "trust_claim", pairing_code: code.pairing_code });
    await trusted.next("trust_claim_ack");
    await commit(llmBody({}, "busy-maker"), { tier: "fast" });
    await trusted.next("job_assign");
    await flood(LIMITS.maxPendingJobsPerUser, () => taskBody({}, victim.publicKey));
    expect((await commit(taskBody({}, victim.publicKey), { addr: "10.4.4.4" })).status).toBe(429);
    const text = JSON.stringify(taskBody({ privacy_class: "PRIVATE" }, victim.publicKey));
    const res = await commit(text, { headers: signHeaders(victim, "POST", "/monad/v1/jobs/commit/cheap", text) });
    expect(res.status).toBe(201);
  });

  it("holds the unfinished-job quota when many commits race (checked again when the job is stored)", async () => {
    const results = await Promise.all(
      Array.from({ length: LIMITS.maxPendingJobsPerUser + 8 }, (_, i) => commit(taskBody({}, "racing-user"), { addr: `10.7.0.${i}` })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(LIMITS.maxPendingJobsPerUser);
    expect(results.filter((r) => r.status === 429)).toHaveLength(8);
  });

  it("bounds unsigned unfinished jobs per client address", async () => {
    for (let i = 0; i < 256; i++) expect((await commit(taskBody({}, `addr-user-${i}`), { addr: "10.5.5.5" })).status).toBe(201);
    const refused = await commit(taskBody({}, "addr-user-x"), { addr: "10.5.5.5" });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe("too_many_pending_jobs");
    expect((await commit(taskBody({}, "addr-user-y"), { addr: "10.5.5.6" })).status).toBe(201);
  });
});

describe("poison input and output", () => {
  it("refuses worker output nested thousands deep, and the job stays readable and goes to another worker", async () => {
    const first = await worker();
    const { body } = await commit(taskBody({}, "poison-user"));
    const id = String(body.job_id);
    await first.next("job_assign");
    first.complete(id, nested(3000));
    expect(await first.next("error")).toMatchObject({ code: "INVALID_MESSAGE" });
    const res = await api(`/v1/jobs/${id}`);
    expect(res.status).toBe(200);
    expect((await json(res)).stage).toBe("assigned");
  });

  it("answers 400 for a request nested too deep or a schema nested past its bound, never 500", async () => {
    const deep = await commit(taskBody({ payload: { task_type: "extract_json", input: "{}", schema: { a: nested(2440) } } }, "deep-user"));
    expect(deep.status).toBe(400);
    expect(deep.body.error).toBe("json_too_deep");
    let schema: Record<string, unknown> = { type: "string" };
    // 40 levels of objects: within the 64 a body may nest, past the 32 a schema may.
    for (let i = 0; i < 20; i++) schema = { type: "object", properties: { a: schema } };
    const tooDeep = await commit(taskBody({ payload: { task_type: "extract_json", input: "{}", schema } }, "deep-user"));
    expect(tooDeep.status).toBe(400);
    expect(tooDeep.body.field).toBe("payload.schema");
  });

  it("cuts off a chunked body with no content-length at the size limit", async () => {
    const big = new TextEncoder().encode(JSON.stringify(taskBody({ payload: { task_type: "summarize", input: "y".repeat(300_000) } })));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < big.length; i += 16_384) controller.enqueue(big.subarray(i, i + 16_384));
        controller.close();
      },
    });
    const res = await api("/monad/v1/jobs/commit/cheap", { method: "POST", headers: { "content-type": "application/json" }, body: stream });
    expect(res.status).toBe(413);
    expect((await json(res)).error).toBe("payload_too_large");
  });
});

describe("idempotency", () => {
  it("answers one of two concurrent commits with one key and different bodies with 409", async () => {
    const key = { "idempotency-key": "race-1" };
    const results = await Promise.all([
      commit(taskBody({}, "race-user"), { headers: key }),
      commit(taskBody({ payload: { task_type: "summarize", input: "Another text." } }, "race-user"), { headers: key }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
  });

  it("answers a concurrent duplicate with the first commit's job", async () => {
    const key = { "idempotency-key": "dup-1" };
    const [a, b] = await Promise.all([
      commit(taskBody({}, "dup-user"), { headers: key }),
      commit(taskBody({}, "dup-user"), { headers: key }),
    ]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.job_id).toBe(b.body.job_id);
  });
});

describe("worker identity", () => {
  it("refuses an unsigned register for a key that has proven itself, even while it is offline", async () => {
    const owner = await worker();
    owner.close();
    await new Promise((r) => setTimeout(r, 100));
    const impostor = track(new TestWorker({ key: owner.key, signed: false }));
    await impostor.open();
    impostor.register("");
    expect(await impostor.next("error")).toMatchObject({ code: "AUTH_FAILED" });
    await impostor.closed(2000);
    expect(impostor.closedWith?.code).toBe(4001);
  });
});

describe("reference workers", () => {
  it("offers a reference worker its first job only after a grace, not in the same breath as register_ack", async () => {
    const { body } = await commit(taskBody({}, "late-listener"));
    const ref = await worker({ signed: false, path: "" });
    await ref.nothing("job_assign", 300);
    await sqlIn("monad", "UPDATE connections SET offer_after = 1 WHERE offer_after > 1");
    await fireAlarm("monad");
    expect((await ref.next("job_assign")).job_id).toBe(body.job_id);
  });

  it("reports `assigned` while a worker holds the job", async () => {
    const w = await worker();
    const { body } = await commit(taskBody({}, "status-user"));
    await w.next("job_assign");
    expect(await getJob(String(body.job_id))).toMatchObject({ status: "assigned", stage: "assigned" });
  });

  it("completes a job from job_complete without a receipt followed by receipt_submit", async () => {
    const w = await worker({ signed: false, path: "" });
    await sqlIn("monad", "UPDATE connections SET offer_after = 0");
    const { body } = await commit(taskBody({}, "android-user"));
    await fireAlarm("monad");
    const id = String(body.job_id);
    await w.next("job_assign");
    const output = { summary: "ok" };
    const receipt = buildReceipt({ jobId: id, providerPubkey: w.pubkey, output });
    w.send({ type: "job_complete", job_id: id, output, output_hash: receipt.output_hash });
    await w.nothing("error", 100);
    expect((await getJob(id)).stage).toBe("assigned");
    w.send({ type: "receipt_submit", job_id: id, receipt, receipt_signature: signReceipt(receipt, w.key.secretKey) });
    await w.next("job_complete_ack");
    const job = await getJob(id);
    expect(job).toMatchObject({ status: "completed", result: output });
    expect(job.receipt?.verified).toBe(true);
  });

  it("re-queues a job whose receipt never follows its job_complete", async () => {
    const w = await worker();
    const { body } = await commit(taskBody({}, "no-receipt-user"));
    const id = String(body.job_id);
    await w.next("job_assign");
    const output = { summary: "ok" };
    w.send({
      type: "job_complete",
      job_id: id,
      output,
      output_hash: buildReceipt({ jobId: id, providerPubkey: w.pubkey, output }).output_hash,
    });
    await w.nothing("error", 100);
    const [row] = await sqlIn("monad", "SELECT exec_deadline, assigned_at FROM jobs WHERE id = ?", id);
    expect(Number(row?.exec_deadline) - Date.now()).toBeLessThanOrEqual(LIMITS.receiptWaitSeconds * 1000);
    await sqlIn("monad", "UPDATE jobs SET exec_deadline = 1 WHERE id = ?", id);
    await fireAlarm("monad");
    const job = await getJob(id);
    expect(job).toMatchObject({ stage: "pending", result: null });
  });
});

describe("storage retention", () => {
  it("prunes finished jobs with their receipts and exclusions after the retention period", async () => {
    const w = await worker();
    const { body } = await commit(taskBody({}, "old-user"));
    const id = String(body.job_id);
    await w.next("job_assign");
    w.complete(id, { summary: "old" });
    await w.next("job_complete_ack");
    await sqlIn("monad", "INSERT OR IGNORE INTO job_exclusions (job_id, provider_pubkey, reason) VALUES (?, 'x', 'test')", id);
    await sqlIn("monad", "UPDATE jobs SET completed_at = 1 WHERE id = ?", id);
    await sqlIn("monad", "UPDATE meta SET value = '0' WHERE key = 'prune_at'");
    await fireAlarm("monad");
    expect((await api(`/v1/jobs/${id}`)).status).toBe(404);
    expect(await sqlIn("monad", "SELECT 1 FROM receipts WHERE job_id = ?", id)).toEqual([]);
    expect(await sqlIn("monad", "SELECT 1 FROM job_exclusions WHERE job_id = ?", id)).toEqual([]);
  });

  it("dead-letters an outbox item after bounded retries instead of retrying forever", async () => {
    await sqlIn(
      "monad",
      `INSERT INTO outbox (kind, ref, body, attempts, next_attempt_at, created_at)
       VALUES ('feedback', 'doomed', '{"agentId":"1","success":true,"responseMs":1,"hash":"0x00","pubkey":"x"}', 19, 0, 0)`,
    );
    await fireAlarm("monad");
    const [row] = await sqlIn("monad", "SELECT dead_at, done_at FROM outbox WHERE ref = 'doomed'");
    expect(row?.dead_at).not.toBeNull();
    expect((await json<{ outbox_dead: number }>(await api("/monad/v1/health"))).outbox_dead).toBeGreaterThanOrEqual(1);
  });
});
