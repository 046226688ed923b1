import { evictDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { HEARTBEAT_FRAME } from "../../protocol/index.ts";
import { api, closeAll, commit, connectWorker, fireAlarm, getJob, json, sqlIn, stub, TestWorker, taskBody } from "./support.ts";

const workers: TestWorker[] = [];
afterEach(() => closeAll(workers));

function track(w: TestWorker): TestWorker {
  workers.push(w);
  return w;
}

const worker = (opts: ConstructorParameters<typeof TestWorker>[0] = {}) => connectWorker(workers, opts);

describe("worker authentication", () => {
  it("sends a challenge and verifies the signed register", async () => {
    const w = track(new TestWorker());
    const challenge = await w.open();
    expect(challenge).toMatchObject({ type: "challenge", chain: "monad" });
    expect(String(challenge.nonce)).toMatch(/^[0-9a-f]{64}$/);
    w.register(String(challenge.nonce));
    expect(await w.next("register_ack")).toMatchObject({
      status: "ok",
      worker_id: w.pubkey,
      verified: true,
      privacy: ["PUBLIC", "PRIVATE"],
    });
  });

  it("accepts a reference worker (no signature) at the chain root, for PUBLIC jobs only", async () => {
    for (const [chain, path] of [
      ["monad", ""],
      ["solana", ""],
    ] as const) {
      const w = await worker({ chain, path, signed: false });
      expect(w.inbox).toEqual([]);
      const job = await commit(taskBody({}, "ref-user"), { chain });
      const assign = await w.next("job_assign");
      expect(assign.job_id).toBe(job.body.job_id);
      w.complete(String(job.body.job_id));
      await w.next("job_complete_ack");
      expect((await getJob(String(job.body.job_id), { chain })).status).toBe("completed");
    }
  });

  it("refuses a signature that does not answer this connection's challenge", async () => {
    const w = track(new TestWorker());
    await w.open();
    w.register("not-the-nonce");
    expect(await w.next("error")).toMatchObject({ code: "AUTH_FAILED" });
    await waitClosed(w);
    expect(w.closedWith?.code).toBe(4001);
  });

  it("answers anything before register with NOT_REGISTERED", async () => {
    const w = track(new TestWorker());
    await w.open();
    // (The bare heartbeat frame is answered by the runtime itself, registered or not.)
    w.send({ type: "heartbeat", provider_pubkey: w.pubkey });
    expect(await w.next("error")).toMatchObject({ code: "NOT_REGISTERED" });
    w.send({ type: "job_reject", job_id: "x" });
    expect(await w.next("error")).toMatchObject({ code: "NOT_REGISTERED" });
  });

  it("acknowledges heartbeats", async () => {
    const w = await worker();
    w.send({ type: "heartbeat", provider_pubkey: w.pubkey, metrics: { load: 0.1 } });
    expect(await w.next("heartbeat_ack")).toMatchObject({ status: "ok" });
  });

  it("closes the older socket when a key registers again", async () => {
    const first = await worker();
    const second = await worker({ key: first.key });
    expect(await first.next("error")).toMatchObject({ code: "REPLACED" });
    await waitClosed(first);
    expect(first.closedWith?.code).toBe(4002);
    const job = await commit(taskBody({}, "rereg-user"));
    expect((await second.next("job_assign")).job_id).toBe(job.body.job_id);
    const health = await json(await api("/monad/v1/health"));
    expect(health.workers_online).toBe(1);
  });

  it("does not let an unsigned claim to a key knock its verified owner offline", async () => {
    const owner = await worker();
    const impostor = track(new TestWorker({ key: owner.key, signed: false }));
    await impostor.open();
    impostor.register("");
    expect(await impostor.next("error")).toMatchObject({ code: "AUTH_FAILED" });
    owner.send({ type: "heartbeat" });
    expect(await owner.next("heartbeat_ack")).toBeDefined();
  });
});

describe("heartbeats", () => {
  it("answers heartbeats without waking the object, and still counts them as signs of life", async () => {
    const alive = await worker();
    const silent = await worker();
    alive.send(HEARTBEAT_FRAME);
    expect(await alive.next("heartbeat_ack")).toMatchObject({ status: "ok" });
    // Both look silent to the object's own records (the runtime answered the heartbeat)...
    await sqlIn("monad", "UPDATE connections SET last_seen = 1");
    await fireAlarm("monad");
    // ...but the one the runtime heard from is kept, and the truly silent one is dropped.
    await silent.closed(3000);
    expect(silent.closedWith?.code).toBe(4000);
    alive.send(HEARTBEAT_FRAME);
    expect(await alive.next("heartbeat_ack")).toBeDefined();
    const [row] = await sqlIn("monad", "SELECT last_seen FROM connections WHERE pubkey = ?", alive.pubkey);
    expect(Number(row?.last_seen)).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe("hibernation", () => {
  it("keeps jobs, workers and sockets across eviction", async () => {
    const w = await worker();
    const { body } = await commit(taskBody({}, "hibernate-user"));
    const id = String(body.job_id);
    await w.next("job_assign");
    await evictDurableObject(stub("monad"), { webSockets: "hibernate" });
    // The socket survives and the woken object still knows who it is and what it holds.
    w.send({ type: "heartbeat" });
    expect(await w.next("heartbeat_ack")).toBeDefined();
    w.complete(id);
    expect(await w.next("job_complete_ack")).toMatchObject({ job_id: id, status: "accepted" });
    expect((await getJob(id)).status).toBe("completed");
    const next = await commit(taskBody({}, "hibernate-user"));
    expect((await w.next("job_assign")).job_id).toBe(next.body.job_id);
  });

  it("releases the jobs of sockets that did not survive a restart", async () => {
    const w = await worker();
    const { body } = await commit(taskBody({}, "restart-user"));
    const id = String(body.job_id);
    await w.next("job_assign");
    await evictDurableObject(stub("monad"), { webSockets: "close" });
    const job = await getJob(id);
    expect(job.stage).toBe("pending");
    expect((await json(await api("/monad/v1/health"))).workers_online).toBe(0);
  });
});

describe("hostile frames", () => {
  it("answers bad frames with error and keeps serving", async () => {
    const w = await worker();
    const cases: [string, string][] = [
      ["{not json", "PARSE_ERROR"],
      ["[1,2,3]", "INVALID_MESSAGE"],
      ["42", "INVALID_MESSAGE"],
      ["null", "INVALID_MESSAGE"],
      ['{"no_type":1}', "UNKNOWN_MSG"],
      ['{"type":"launch_missiles"}', "UNKNOWN_MSG"],
      ['{"type":"register"}', "INVALID_MESSAGE"],
      ['{"type":"register","provider_pubkey":"xyz","provider_type":"DESKTOP","capabilities":["TASK"]}', "INVALID_MESSAGE"],
      ['{"type":"job_complete","job_id":5}', "INVALID_MESSAGE"],
      ['{"type":"job_complete","job_id":"nope","output":1,"output_hash":"x","receipt":{},"receipt_signature":"x"}', "INVALID_MESSAGE"],
      ['{"type":"job_reject","job_id":"nope"}', "NOT_ASSIGNED"],
      ['{"type":"job_progress","job_id":"nope","text":"x"}', "NOT_ASSIGNED"],
      [JSON.stringify({ type: "heartbeat", metrics: "x".repeat(2 * 1024 * 1024) }), "FRAME_TOO_LARGE"],
    ];
    for (const [frame, code] of cases) {
      w.send(frame);
      expect(await w.next("error"), frame.slice(0, 80)).toMatchObject({ code });
    }
    w.send({ type: "heartbeat" });
    expect(await w.next("heartbeat_ack")).toBeDefined();
    const job = await commit(taskBody({}, "hostile-user"));
    expect((await w.next("job_assign")).job_id).toBe(job.body.job_id);
  });

  it("refuses a register without a pubkey (the reference crashes on it)", async () => {
    const w = track(new TestWorker({ signed: false }));
    const challenge = await w.open();
    w.send({
      type: "register",
      provider_type: "DESKTOP",
      capabilities: ["TASK"],
      signature: w.sign(String(challenge.nonce)),
    });
    expect(await w.next("error")).toMatchObject({ code: "INVALID_MESSAGE" });
    w.register(String(challenge.nonce));
    expect(await w.next("register_ack")).toBeDefined();
  });

  it("requires a WebSocket upgrade on the worker endpoint", async () => {
    const res = await api("/monad/v1/workers/ws");
    expect(res.status).toBe(426);
    expect((await json(res)).error).toBe("upgrade_required");
  });
});

async function waitClosed(w: TestWorker): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!w.closedWith && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}
