import { afterEach, describe, expect, it } from "vitest";
import { api, closeAll, connectWorker, json, sqlIn, type TestWorker, taskBody } from "./support.ts";

const workers: TestWorker[] = [];
afterEach(() => closeAll(workers));

function commitWait(body: unknown, wait: string | number, headers: Record<string, string> = {}): Promise<Response> {
  return api(`/monad/v1/jobs/commit/cheap?wait=${wait}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

describe("POST /v1/jobs/commit/{tier}?wait=N", () => {
  it("answers with the finished job, exactly as GET /v1/jobs/{id} shows it, in one round trip", async () => {
    const w = await connectWorker(workers, { type: "SEEKER", capabilities: ["TASK"] });
    const pending = commitWait(taskBody({}, "one-trip"), 10);
    const assign = await w.next("job_assign");
    w.complete(String(assign.job_id), { summary: "short" });
    const res = await pending;
    expect(res.status).toBe(200);
    const view = await json(res);
    expect(view).toMatchObject({ id: assign.job_id, status: "completed", result: { summary: "short" }, receipt: { verified: true } });
    expect(view).toEqual(await json(await api(`/monad/v1/jobs/${assign.job_id}`)));
  });

  it("answers 202 with the job id when the job takes longer than the wait", async () => {
    const started = Date.now();
    const res = await commitWait(taskBody({}, "slow-trip"), 1);
    expect(res.status).toBe(202);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const body = await json(res);
    expect(body).toMatchObject({ job_id: expect.any(String), status: "pending" });
  });

  it("answers a refused commit as usual, and an idempotent retry with the same job", async () => {
    const w = await connectWorker(workers, { type: "SEEKER", capabilities: ["TASK"] });
    const bad = await commitWait({ job_type: "TASK", user_id: "x", payload: {} }, 5);
    expect(bad.status).toBe(400);
    const headers = { "idempotency-key": "wait-key-1" };
    const pending = commitWait(taskBody({}, "idem-wait"), 10, headers);
    const assign = await w.next("job_assign");
    w.complete(String(assign.job_id), { summary: "once" });
    expect((await json(await pending)).id).toBe(assign.job_id);
    const again = await commitWait(taskBody({}, "idem-wait"), 10, headers);
    expect(again.status).toBe(200);
    expect((await json(again)).id).toBe(assign.job_id);
  });

  it("refuses a wait beyond 60 seconds", async () => {
    for (const wait of [61, -1, "soon"]) {
      const res = await commitWait(taskBody({}, "bad-wait"), wait);
      expect(res.status).toBe(400);
      expect((await json(res)).error).toBe("invalid_query");
    }
    expect(await sqlIn("monad", "SELECT id FROM jobs WHERE user_id = 'bad-wait'")).toEqual([]);
  });

  it("counts against the address's long-poll bound, and refuses before committing when it is reached", async () => {
    const addr = "10.7.7.7";
    const held = Array.from({ length: 32 }, (_, i) => commitWait(taskBody({}, `held-${i}`), 2, { "cf-connecting-ip": addr }));
    await new Promise((r) => setTimeout(r, 300));
    const refused = await commitWait(taskBody({}, "one-too-many"), 2, { "cf-connecting-ip": addr });
    expect(refused.status).toBe(429);
    expect((await json(refused)).error).toBe("too_many_waits");
    expect(await sqlIn("monad", "SELECT id FROM jobs WHERE user_id = 'one-too-many'")).toEqual([]);
    for (const res of await Promise.all(held)) expect(res.status).toBe(202);
  });
});
