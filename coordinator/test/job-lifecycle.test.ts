import { afterEach, describe, expect, it } from "vitest";
import { verifyReceipt } from "../../protocol/index.ts";
import { api, closeAll, commit, connectWorker, fireAlarm, getJob, json, llmBody, sqlIn, TestWorker, taskBody } from "./support.ts";

const workers: TestWorker[] = [];
afterEach(() => closeAll(workers));

const worker = (opts: ConstructorParameters<typeof TestWorker>[0] = {}) => connectWorker(workers, opts);

describe("commit, assign, complete", () => {
  it("assigns a committed job, completes it and serves a verified receipt", async () => {
    const w = await worker();
    const { status, body } = await commit(taskBody({}, "lifecycle-user"));
    expect(status).toBe(201);
    const assign = await w.next("job_assign");
    expect(assign).toMatchObject({
      job_id: body.job_id,
      job_type: "TASK",
      policy: "CHEAP",
      privacy_class: "PUBLIC",
      user_id: "lifecycle-user",
      attempt: 1,
    });
    expect(assign.payload).toMatchObject({ task_type: "summarize", input: "A short text to summarize." });
    const running = await getJob(String(body.job_id));
    expect(running).toMatchObject({ status: "assigned", stage: "assigned" });

    w.complete(String(body.job_id), { summary: "A short text." });
    expect(await w.next("job_complete_ack")).toMatchObject({ job_id: body.job_id, status: "accepted" });
    const job = await getJob(String(body.job_id));
    expect(job).toMatchObject({ status: "completed", stage: "completed", result: { summary: "A short text." } });
    expect(job.receipt?.verified).toBe(true);
    expect(job.receipt?.provider_pubkey).toBe(w.pubkey);
    const { signature, verified: _v, ...receipt } = job.receipt ?? ({} as never);
    expect(verifyReceipt({ receipt, signature, output: job.result, jobId: job.id, providerPubkey: w.pubkey })).toEqual({ ok: true });
    expect(job.completed_at).not.toBeNull();

    const r = await api(`/v1/receipts/${job.id}`);
    expect(await r.json()).toMatchObject({ job_id: job.id, verified: true, signature });
  });

  it("assigns a pending job the moment a worker registers", async () => {
    const { body } = await commit(llmBody({}, "early-user"), { tier: "fast" });
    expect((await getJob(String(body.job_id))).stage).toBe("pending");
    const w = await worker();
    expect((await w.next("job_assign")).job_id).toBe(body.job_id);
  });

  it("prefers a DESKTOP for FAST and a SEEKER for CHEAP TASK", async () => {
    const desktop = await worker({ type: "DESKTOP" });
    const phone = await worker({ type: "SEEKER", capabilities: ["TASK"] });
    const cheap = await commit(taskBody({}, "policy-user"), { tier: "cheap" });
    expect((await phone.next("job_assign")).job_id).toBe(cheap.body.job_id);
    const fast = await commit(taskBody({}, "policy-user"), { tier: "fast" });
    expect((await desktop.next("job_assign")).job_id).toBe(fast.body.job_id);
  });

  it("never sends LLM_INFER to a SEEKER, even one that claims the capability", async () => {
    const phone = await worker({ type: "SEEKER", capabilities: ["TASK", "LLM_INFER"] });
    await commit(llmBody({}, "llm-user"), { tier: "fast" });
    await phone.nothing("job_assign");
  });

  it("long-poll returns as soon as the job completes", async () => {
    const w = await worker();
    const { body } = await commit(taskBody({}, "poll-user"));
    const id = String(body.job_id);
    await w.next("job_assign");
    const started = Date.now();
    const poll = getJob(id, { wait: 20 });
    setTimeout(() => w.complete(id), 200);
    const job = await poll;
    expect(job.status).toBe("completed");
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("long-poll returns the current state when the wait runs out", async () => {
    const { body } = await commit(taskBody({}, "timeout-poll-user"));
    const started = Date.now();
    const job = await getJob(String(body.job_id), { wait: 1 });
    expect(job.status).toBe("pending");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("streams status changes and job_progress tokens over SSE", async () => {
    const w = await worker();
    const { body } = await commit(llmBody({}, "sse-user"), { tier: "fast" });
    const id = String(body.job_id);
    await w.next("job_assign");
    // A token sent before anyone listens is replayed to a stream opened later.
    w.send({ type: "job_progress", job_id: id, text: "Once", seq: 0 });
    w.send({ type: "heartbeat" });
    await w.next("heartbeat_ack");
    const res = await api(`/v1/jobs/${id}/events`);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    w.send({ type: "job_progress", job_id: id, text: " upon", seq: 1 });
    setTimeout(() => w.complete(id, { text: "Once upon" }), 100);
    const text = await res.text();
    const events = text
      .trim()
      .split("\n\n")
      .map((block) =>
        JSON.parse(
          block
            .split("\n")
            .find((l) => l.startsWith("data: "))
            ?.slice(6) ?? "null",
        ),
      );
    expect(events[0]).toMatchObject({ type: "status", stage: "assigned" });
    expect(events.filter((e) => e.type === "token").map((e) => e.text)).toEqual(["Once", " upon"]);
    expect(events.at(-1)).toMatchObject({ type: "status", stage: "completed", status: "completed" });
  });

  it("replays a finished job's tokens, before its final status, to a stream opened after it finished", async () => {
    const w = await worker();
    const { body } = await commit(llmBody({}, "late-sse-user"), { tier: "fast" });
    const id = String(body.job_id);
    await w.next("job_assign");
    w.send({ type: "job_progress", job_id: id, text: "Once", seq: 0 });
    w.send({ type: "job_progress", job_id: id, text: " upon", seq: 1 });
    w.complete(id, { text: "Once upon" });
    expect((await getJob(id, { wait: 5 })).status).toBe("completed");
    const text = await (await api(`/v1/jobs/${id}/events`)).text();
    const events = text
      .trim()
      .split("\n\n")
      .map((b) =>
        JSON.parse(
          b
            .split("\n")
            .find((l) => l.startsWith("data: "))
            ?.slice(6) ?? "null",
        ),
      );
    expect(events.map((e) => (e.type === "token" ? e.text : e.stage))).toEqual(["Once", " upon", "completed"]);
  });
});

describe("completion rules", () => {
  it("refuses a forged completion from another socket", async () => {
    const honest = await worker();
    const { body } = await commit(taskBody({}, "forge-user"));
    const id = String(body.job_id);
    await honest.next("job_assign");
    const forger = await worker();
    forger.complete(id, { text: "forged" });
    expect(await forger.next("error")).toMatchObject({ code: "NOT_ASSIGNED", job_id: id });
    expect((await getJob(id)).stage).toBe("assigned");
    honest.complete(id, { text: "real" });
    await honest.next("job_complete_ack");
    expect((await getJob(id)).result).toEqual({ text: "real" });
  });

  const tampers: [string, (m: Record<string, unknown>) => void][] = [
    ["a bad signature", (m) => (m.receipt_signature = btoa("x".repeat(64)))],
    ["a receipt for another job", (m) => (m.receipt = { ...(m.receipt as object), job_id: "another-job" })],
    ["an output that does not match its hash", (m) => (m.output = { text: "swapped after signing" })],
    ["a receipt hash that is not the output's", (m) => (m.output_hash = "0".repeat(64))],
  ];
  for (const [what, tamper] of tampers) {
    it(`refuses ${what} and re-queues the job to another worker`, async () => {
      const bad = await worker();
      const { body } = await commit(taskBody({}, `tamper-${what}`));
      const id = String(body.job_id);
      await bad.next("job_assign");
      const good = await worker();
      bad.complete(id, { text: "x" }, tamper);
      expect(await bad.next("error")).toMatchObject({ code: "INVALID_RECEIPT", job_id: id });
      expect((await good.next("job_assign")).job_id).toBe(id);
      good.complete(id);
      await good.next("job_complete_ack");
      const job = await getJob(id);
      expect(job.status).toBe("completed");
      expect(job.receipt?.provider_pubkey).toBe(good.pubkey);
    });
  }

  it("re-queues a job whose worker reports a fault elsewhere and counts the fault against that worker", async () => {
    const first = await worker();
    const { body } = await commit(taskBody({}, "fault-user"));
    const id = String(body.job_id);
    await first.next("job_assign");
    const second = await worker();
    // The reference convention: `{error}` with no kind is the worker's own fault.
    first.complete(id, { error: "model crashed" });
    await first.next("job_complete_ack");
    expect((await second.next("job_assign")).job_id).toBe(id);
    second.complete(id, { summary: "ok" });
    await second.next("job_complete_ack");
    expect(await getJob(id)).toMatchObject({ status: "completed", result: { summary: "ok" }, attempts: 2 });
    const listed = await json<{ workers: { provider_pubkey: string; failures: number; successes: number }[] }>(
      await api("/monad/v1/workers"),
    );
    expect(listed.workers.find((x) => x.provider_pubkey === first.pubkey)).toMatchObject({ failures: 1, successes: 0 });
  });

  it("fails a job for bad input only once a second worker agrees, with the signed error as its result", async () => {
    const holder = await worker();
    const { body } = await commit(taskBody({}, "input-user"));
    const id = String(body.job_id);
    await holder.next("job_assign");
    const other = await worker();
    holder.complete(id, { error: "schema does not compile", error_kind: "input" });
    await holder.next("job_complete_ack");
    expect((await other.next("job_assign")).job_id).toBe(id);
    other.complete(id, { error: "schema does not compile", error_kind: "input" });
    await other.next("job_complete_ack");
    const job = await getJob(id);
    expect(job).toMatchObject({
      status: "failed",
      reason: "invalid_input",
      result: { error: "schema does not compile", error_kind: "input" },
    });
    const { signature, verified: _v, ...receipt } = job.receipt ?? ({} as never);
    expect(verifyReceipt({ receipt, signature, output: job.result, jobId: id, providerPubkey: other.pubkey })).toEqual({ ok: true });
    // Neither worker is blamed for a job that could not be done.
    const listed = await json<{ workers: { failures: number }[] }>(await api("/monad/v1/workers"));
    expect(listed.workers.every((x) => x.failures === 0)).toBe(true);
  });

  it("fails a job for bad input at once when no other worker could take it", async () => {
    const w = await worker();
    const { body } = await commit(taskBody({}, "lone-input-user"));
    const id = String(body.job_id);
    await w.next("job_assign");
    w.complete(id, { error: "input nests too deep", error_kind: "input" });
    await w.next("job_complete_ack");
    expect(await getJob(id)).toMatchObject({ status: "failed", reason: "invalid_input" });
  });

  it("hands a rejected job to another worker", async () => {
    const first = await worker();
    const { body } = await commit(taskBody({}, "reject-user"));
    const id = String(body.job_id);
    await first.next("job_assign");
    const second = await worker();
    first.send({ type: "job_reject", job_id: id, reason: "busy" });
    expect((await second.next("job_assign")).job_id).toBe(id);
    await first.nothing("job_assign");
  });
});

describe("reassignment and deadlines", () => {
  it("reassigns a job to another worker when its worker disconnects mid-job", async () => {
    const first = await worker();
    const { body } = await commit(taskBody({}, "disconnect-user"));
    const id = String(body.job_id);
    await first.next("job_assign");
    const second = await worker();
    first.close();
    const assign = await second.next("job_assign");
    expect(assign).toMatchObject({ job_id: id, attempt: 2 });
    second.complete(id);
    await second.next("job_complete_ack");
    expect((await getJob(id)).status).toBe("completed");
  });

  it("accepts a completion re-sent by the same key after a reconnect", async () => {
    const first = await worker();
    const { body } = await commit(taskBody({}, "resend-user"));
    const id = String(body.job_id);
    await first.next("job_assign");
    first.close();
    await new Promise((r) => setTimeout(r, 100));
    const again = new TestWorker({ key: first.key });
    workers.push(again);
    await again.connect();
    // The job may be offered to the same key again; either way its finished completion is accepted.
    again.complete(id, { text: "finished while offline" });
    expect(await again.next("job_complete_ack")).toMatchObject({ job_id: id });
    expect((await getJob(id)).result).toEqual({ text: "finished while offline" });
  });

  it("reassigns on a missed execution deadline, then fails worker_timeout after the attempt limit", async () => {
    const ws = [await worker(), await worker(), await worker(), await worker()];
    const { body } = await commit(taskBody({}, "deadline-user"));
    const id = String(body.job_id);
    const seen = new Set<string>();
    for (let attempt = 1; attempt <= 3; attempt++) {
      const job = await getJob(id);
      expect(job).toMatchObject({ stage: "assigned", attempts: attempt });
      const [row] = await sqlIn("monad", "SELECT worker_pubkey FROM jobs WHERE id = ?", id);
      const holder = ws.find((w) => w.pubkey === row?.worker_pubkey);
      if (!holder) throw new Error("job assigned to an unknown worker");
      expect((await holder.next("job_assign")).job_id).toBe(id);
      expect(seen.has(holder.pubkey)).toBe(false);
      seen.add(holder.pubkey);
      await sqlIn("monad", "UPDATE jobs SET exec_deadline = ? WHERE id = ?", Date.now() - 1, id);
      expect(await fireAlarm("monad")).toBe(true);
      expect(await holder.next("job_cancel")).toMatchObject({ job_id: id });
    }
    const job = await getJob(id);
    expect(job).toMatchObject({ status: "failed", reason: "worker_timeout", attempts: 3, result: { error: "worker_timeout" } });
  });

  it("fails a job nobody can take at its queue deadline with no_eligible_worker", async () => {
    const { body } = await commit(llmBody({}, "lonely-user"), { tier: "fast" });
    const id = String(body.job_id);
    await sqlIn("monad", "UPDATE jobs SET queue_deadline = ? WHERE id = ?", Date.now() - 1, id);
    expect(await fireAlarm("monad")).toBe(true);
    expect(await getJob(id)).toMatchObject({ status: "failed", reason: "no_eligible_worker", result: { error: "no_eligible_worker" } });
  });

  it("keeps the chains apart", async () => {
    const solana = await worker({ chain: "solana" });
    const monadJob = await commit(taskBody({}, "chain-user"), { chain: "monad" });
    await solana.nothing("job_assign");
    const solanaJob = await commit(taskBody({}, "chain-user"), { chain: "solana" });
    expect((await solana.next("job_assign")).job_id).toBe(solanaJob.body.job_id);
    expect((await getJob(String(monadJob.body.job_id), { chain: "solana" })).status).toBeUndefined();
  });
});
