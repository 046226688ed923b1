import { afterEach, describe, expect, it } from "vitest";
import type { HealthResponse, JobView, WorkerAccount, WorkersResponse } from "../../protocol/index.ts";
import { api, closeAll, commit, connectWorker, getJob, json, type TestWorker, taskBody, until } from "./support.ts";

// The coordinator tests run with AUDIT_SAMPLE_PERCENT=100 (vitest.config.ts): every PUBLIC TASK
// job whose worker names an engine is spot-checked when another worker with that engine is online.
const ENGINE = "dispatch-tasks/test wv@000000000000";
const OTHER_ENGINE = "dispatch-tasks/other wv@111111111111";
const RIGHT = { label: "positive", scores: { positive: 0.9, negative: 0.1 }, confidence: 0.9, method: "sentiment" };
const WRONG = { label: "negative", scores: { positive: 0.1, negative: 0.9 }, confidence: 0.9, method: "sentiment" };
/** The worker share (90 %) of a CHEAP TASK ($0.001). */
const AUDIT_CREDIT = 900;

const pool: TestWorker[] = [];
afterEach(() => closeAll(pool));

const engineWorker = (taskEngine = ENGINE) => connectWorker(pool, { type: "SEEKER", capabilities: ["TASK"], taskEngine });

async function commitTask(input: string): Promise<string> {
  const res = await commit(taskBody({ payload: { task_type: "classify", input } }));
  expect(res.status).toBe(201);
  return String(res.body.job_id);
}

/** The first `job_assign` that reaches any of `workers`, and who got it. */
async function firstAssign(workers: TestWorker[], timeoutMs = 3000): Promise<{ worker: TestWorker; jobId: string; payload: unknown }> {
  return until(async () => {
    for (const worker of workers) {
      const i = worker.inbox.findIndex((m) => m.type === "job_assign");
      const msg = i >= 0 ? worker.inbox.splice(i, 1)[0] : undefined;
      if (msg) return { worker, jobId: String(msg.job_id), payload: msg.payload };
    }
    return undefined;
  }, timeoutMs);
}

const health = async () => json<HealthResponse>(await api("/monad/v1/health"));
const account = async (w: TestWorker) => json<WorkerAccount>(await api(`/monad/v1/workers/${w.pubkey}`));
const failuresOf = async (w: TestWorker) =>
  (await json<WorkersResponse>(await api("/monad/v1/workers"))).workers.find((x) => x.provider_pubkey === w.pubkey)?.failures;
const auditOf = async (jobId: string, state: string) =>
  until(async () => {
    const job = await getJob(jobId);
    return job.audit?.state === state ? job : undefined;
  });

describe("spot-check audits", () => {
  it("re-runs a completed TASK on a second worker with the same engine, which agrees and earns its audit credit", async () => {
    const before = (await health()).audits;
    const workers = [await engineWorker(), await engineWorker()];
    const jobId = await commitTask("I love this phone");
    const original = await firstAssign(workers);
    original.worker.complete(jobId, RIGHT);

    const run = await firstAssign(workers);
    expect(run.worker).not.toBe(original.worker);
    expect(run.jobId).not.toBe(jobId);
    expect(run.payload).toMatchObject({ task_type: "classify", input: "I love this phone" });
    expect((await getJob(jobId)).audit).toMatchObject({ state: "pending", auditor: run.worker.pubkey, match: null });
    run.worker.complete(run.jobId, RIGHT);

    const job: JobView = await auditOf(jobId, "agreed");
    expect(job.audit).toEqual({ state: "agreed", auditor: run.worker.pubkey, match: true });
    // The seeker's job is as the original worker delivered it, unpaid for the audit.
    expect(job.result).toEqual(RIGHT);
    expect(job.receipt?.provider_pubkey).toBe(original.worker.pubkey);
    expect(job.payment).toMatchObject({ state: "disabled", price: "$0.001", transaction: null });
    // The run is the coordinator's own: nobody reads it as a job.
    expect((await api(`/monad/v1/jobs/${run.jobId}`)).status).toBe(404);
    expect((await api(`/monad/v1/receipts/${run.jobId}`)).status).toBe(404);

    expect(await account(run.worker)).toMatchObject({ earned_micro: AUDIT_CREDIT, audit_micro: AUDIT_CREDIT });
    expect(await account(original.worker)).toMatchObject({ earned_micro: 0, audit_micro: 0 });
    const after = (await health()).audits;
    expect(after?.run).toBe((before?.run ?? 0) + 1);
    expect(after?.agreed).toBe((before?.agreed ?? 0) + 1);
    expect(after?.disputed).toBe(before?.disputed ?? 0);
  });

  it("catches a worker whose validly signed output differs: the job shows disputed, a third run outvotes it, it takes a failure", async () => {
    const before = (await health()).audits;
    const liar = await engineWorker();
    const jobId = await commitTask("What a wonderful day");
    const assigned = await liar.next("job_assign");
    expect(assigned.job_id).toBe(jobId);
    const honest = [await engineWorker(), await engineWorker()];
    liar.complete(jobId, WRONG);

    const auditor = await firstAssign(honest);
    auditor.worker.complete(auditor.jobId, RIGHT);
    const referee = await firstAssign(honest);
    expect(referee.worker).not.toBe(auditor.worker);
    expect(await getJob(jobId)).toMatchObject({ audit: { state: "disputed", auditor: auditor.worker.pubkey, match: false, upheld: null } });
    referee.worker.complete(referee.jobId, RIGHT);

    const job = await until(async () => {
      const j = await getJob(jobId);
      return j.audit?.upheld === false ? j : undefined;
    });
    expect(job.audit).toEqual({
      state: "disputed",
      auditor: auditor.worker.pubkey,
      match: false,
      referee: referee.worker.pubkey,
      upheld: false,
    });
    // The verdict changes neither what the seeker got nor what it paid.
    expect(job.result).toEqual(WRONG);
    expect(job.receipt?.provider_pubkey).toBe(liar.pubkey);
    expect(job.payment).toMatchObject({ state: "disabled", price: "$0.001" });

    expect(await failuresOf(liar)).toBe(1);
    for (const w of honest) {
      expect(await failuresOf(w)).toBe(0);
      expect((await account(w)).audit_micro).toBe(AUDIT_CREDIT);
    }
    expect((await account(liar)).audit_micro).toBe(0);
    const after = (await health()).audits;
    expect(after?.disputed).toBe((before?.disputed ?? 0) + 1);
    expect(after?.overturned).toBe((before?.overturned ?? 0) + 1);
  });

  it("blames the auditor, not the job's worker, when the third run sides with the job", async () => {
    const original = await engineWorker();
    const jobId = await commitTask("Terrible service, never again");
    await original.next("job_assign");
    const others = [await engineWorker(), await engineWorker()];
    original.complete(jobId, RIGHT);

    const auditor = await firstAssign(others);
    auditor.worker.complete(auditor.jobId, WRONG);
    const referee = await firstAssign(others);
    referee.worker.complete(referee.jobId, RIGHT);

    const job = await until(async () => {
      const j = await getJob(jobId);
      return j.audit?.upheld === true ? j : undefined;
    });
    expect(job.audit).toMatchObject({ state: "disputed", auditor: auditor.worker.pubkey, match: false, upheld: true });
    expect(await failuresOf(auditor.worker)).toBe(1);
    expect(await failuresOf(original)).toBe(0);
    expect((await account(auditor.worker)).audit_micro).toBe(0);
    expect((await account(referee.worker)).audit_micro).toBe(AUDIT_CREDIT);
  });

  it("runs no audit when no other worker runs the same engine", async () => {
    const before = (await health()).audits;
    const worker = await engineWorker();
    const jobId = await commitTask("Fine, I guess");
    expect((await worker.next("job_assign")).job_id).toBe(jobId);
    // Online when the job completes: another engine, no engine, and an unsigned worker (never an auditor).
    const others = [
      await engineWorker(OTHER_ENGINE),
      await connectWorker(pool, { type: "SEEKER", capabilities: ["TASK"] }),
      await connectWorker(pool, { type: "SEEKER", capabilities: ["TASK"], signed: false, taskEngine: ENGINE }),
    ];
    worker.complete(jobId, RIGHT);
    expect((await getJob(jobId, { wait: 2 })).status).toBe("completed");
    for (const w of others) await w.nothing("job_assign");
    expect((await getJob(jobId)).audit).toEqual({ state: "none", auditor: null, match: null });
    expect((await health()).audits?.run).toBe(before?.run ?? 0);
  });

  it("gives a freed slot to a waiting seeker's job before an older audit run", async () => {
    const [x, y] = [await engineWorker(), await engineWorker()];
    const job1 = await commitTask("first");
    const job2 = await commitTask("second");
    const a1 = await firstAssign([x, y]);
    const a2 = await firstAssign([x, y]);
    expect(new Set([a1.jobId, a2.jobId])).toEqual(new Set([job1, job2]));
    const job3 = await commitTask("third");
    // The first to finish takes job 3; its audit run waits for the other worker.
    a1.worker.complete(a1.jobId, RIGHT);
    expect((await a1.worker.next("job_assign")).job_id).toBe(job3);
    expect((await getJob(a1.jobId)).audit?.state).toBe("pending");
    // A seeker's job committed after that audit run still goes first when a slot frees.
    const job4 = await commitTask("fourth");
    a2.worker.complete(a2.jobId, RIGHT);
    expect((await a2.worker.next("job_assign")).job_id).toBe(job4);
    expect((await health()).jobs_queued).toBe(0);
  });
});
