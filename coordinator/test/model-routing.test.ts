import { afterEach, describe, expect, it } from "vitest";
import { api, closeAll, commit, connectWorker, getJob, json, llmBody, type TestWorker } from "./support.ts";

const workers: TestWorker[] = [];
afterEach(() => closeAll(workers));

/** A worker that registers the models it serves, and which of them are loaded. */
async function modelWorker(models: string[], loaded: string[] = []): Promise<TestWorker> {
  const w = await connectWorker(workers, { type: "DESKTOP" });
  // Re-register on the same socket with model lists (the register frame carries them).
  w.send({ type: "models_update", models, loaded_models: loaded });
  w.send({ type: "heartbeat" });
  await w.next("heartbeat_ack");
  return w;
}

const modelJob = (model: string, user: string) => llmBody({ payload: { prompt: "Hi", max_tokens: 8, model } }, user);

describe("model routing", () => {
  it("sends a job that names a model only to a worker that serves it", async () => {
    const a = await modelWorker(["alpha"]);
    const b = await modelWorker(["beta:7b"]);
    const job = await commit(modelJob("beta:7b", "model-user"), { tier: "fast" });
    expect((await b.next("job_assign")).job_id).toBe(job.body.job_id);
    await a.nothing("job_assign", 200);
  });

  it("compares model names the Ollama way: no tag means :latest, case does not matter", async () => {
    const w = await modelWorker(["Alpha:latest"]);
    const job = await commit(modelJob("alpha", "tag-user"), { tier: "fast" });
    expect((await w.next("job_assign")).job_id).toBe(job.body.job_id);
  });

  it("prefers the worker that has the model loaded", async () => {
    const cold = await modelWorker(["gamma"]);
    const warm = await modelWorker(["gamma"], ["gamma"]);
    const job = await commit(modelJob("gamma", "warm-user"), { tier: "fast" });
    expect((await warm.next("job_assign")).job_id).toBe(job.body.job_id);
    await cold.nothing("job_assign", 100);
  });

  it("fails a job for a model nobody serves at once with model_not_served", async () => {
    await modelWorker(["alpha"]);
    const res = await commit(modelJob("nobody-serves-this", "missing-user"), { tier: "fast" });
    expect(res.status).toBe(422);
    expect(res.body.error).toBe("model_not_served");
    expect(await getJob(String(res.body.job_id))).toMatchObject({ status: "failed", reason: "model_not_served" });
  });

  it("gives a job without a model to any LLM worker, including one that lists no models", async () => {
    const plain = await connectWorker(workers, { type: "DESKTOP" });
    const job = await commit(llmBody({}, "any-model-user"), { tier: "fast" });
    expect((await plain.next("job_assign")).job_id).toBe(job.body.job_id);
  });

  it("hands a job to another worker when its worker answers model_not_served, without blaming it", async () => {
    const stale = await modelWorker(["delta"]);
    const job = await commit(modelJob("delta", "stale-user"), { tier: "fast" });
    const id = String(job.body.job_id);
    await stale.next("job_assign");
    const fresh = await modelWorker(["delta"]);
    stale.complete(id, { error: "model_not_served: delta was removed", error_kind: "worker" });
    expect((await fresh.next("job_assign")).job_id).toBe(id);
    const listed = await json<{ workers: { provider_pubkey: string; failures: number }[] }>(await api("/monad/v1/workers"));
    expect(listed.workers.find((w) => w.provider_pubkey === stale.pubkey)?.failures).toBe(0);
  });

  it("lists the models online in OpenAI's shape with worker and loaded counts", async () => {
    await modelWorker(["epsilon"], ["epsilon"]);
    await modelWorker(["epsilon", "zeta:1b"]);
    const list = await json<{ object: string; data: { id: string; object: string; workers: number; loaded: number }[] }>(
      await api("/monad/v1/models"),
    );
    expect(list.object).toBe("list");
    expect(list.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: "epsilon:latest", object: "model", workers: 2, loaded: 1 }),
        expect.objectContaining({ id: "zeta:1b", workers: 1, loaded: 0 }),
      ]),
    );
  });
});
