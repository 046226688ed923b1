import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair, hashOutput, JobView, signSeekerRequest, verifyReceipt } from "../protocol/index.ts";
import type { DevCoordinator } from "../scripts/dev-coordinator.ts";
import { startCoordinator } from "../scripts/dev-coordinator.ts";
import type { OllamaServer } from "../test/support/ollama-server.ts";
import { startOllamaServer } from "../test/support/ollama-server.ts";
import type { WorkerProcess } from "../test/support/worker-process.ts";
import { startWorker } from "../test/support/worker-process.ts";

// Real processes and sockets: wrangler dev (workerd) running coordinator/, worker-node/cli.ts
// processes, and an Ollama-compatible HTTP server that answers slowly enough to interrupt.

const ARTICLE =
  "The harbour authority opened a new ferry terminal on Monday. The terminal doubles passenger capacity and adds electric charging for boats. " +
  "Local shops complained about parking. Ferries to the islands will now leave every twenty minutes. The weather was mild.";
const SLOW_TOKENS = Array.from({ length: 16 }, (_, i) => ` word${i}`);

let coordinator: DevCoordinator;
let ollama: OllamaServer;
let dir: string;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  [coordinator, ollama, dir] = await Promise.all([
    startCoordinator(),
    startOllamaServer({ "slow:latest": { tokens: SLOW_TOKENS, delayMs: 120 } }),
    mkdtemp(path.join(os.tmpdir(), "dispatch-worker-test-")),
  ]);
});

afterEach(async () => {
  for (const w of workers.splice(0)) {
    if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill("SIGKILL");
    await w.exited;
  }
});

afterAll(async () => {
  await Promise.all([coordinator?.stop(), ollama?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function worker(name: string, type: "desktop" | "seeker", extra: string[] = []): Promise<WorkerProcess> {
  const args = ["--coordinator", coordinator.url, "--chain", "monad", "--type", type, "--key", path.join(dir, `${name}.json`), ...extra];
  if (type === "desktop") args.push("--llm-backend", "ollama", "--ollama-host", ollama.host, "--ollama-model", "slow");
  const w = await startWorker(args);
  workers.push(w);
  await w.waitFor((l) => l.msg === "registered");
  return w;
}

async function commit(tier: "fast" | "cheap", body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${coordinator.url}/monad/v1/jobs/commit/${tier}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user_id: "u1", ...body }),
  });
  const json = (await res.json()) as { job_id?: string };
  expect(res.status, JSON.stringify(json)).toBe(201);
  return String(json.job_id);
}

async function settled(jobId: string): Promise<JobView> {
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${coordinator.url}/monad/v1/jobs/${jobId}?wait=20`);
    const view = JobView.parse(await res.json());
    if (view.status === "completed" || view.status === "failed") return view;
  }
  throw new Error(`job ${jobId} still pending after 60 s`);
}

const llmJob = { job_type: "LLM_INFER", payload: { prompt: "Say sixteen words", max_tokens: 64 } };

function expectValidReceipt(view: JobView, pubkey: string): void {
  expect(view.receipt).not.toBeNull();
  const { signature, verified, ...receipt } = view.receipt as NonNullable<JobView["receipt"]>;
  expect(verified).toBe(true);
  expect(receipt.provider_pubkey).toBe(pubkey);
  expect(receipt.output_hash).toBe(hashOutput(view.result));
  expect(verifyReceipt({ receipt, signature, output: view.result, jobId: view.id, providerPubkey: pubkey })).toEqual({ ok: true });
}

describe("worker processes against the real coordinator", () => {
  it("a seeker registers with a signed challenge and runs a summarize job", async () => {
    const seeker = await worker("seeker", "seeker");
    const registered = seeker.lines.find((l) => l.msg === "registered");
    expect(registered).toMatchObject({ verified: true });
    const starting = seeker.lines.find((l) => l.msg === "worker starting");
    expect(starting).toMatchObject({ provider_type: "SEEKER", capabilities: "TASK", llm: "none" });

    const id = await commit("cheap", { job_type: "TASK", payload: { task_type: "summarize", input: ARTICLE, max_sentences: 2 } });
    const view = await settled(id);
    expect(view.status).toBe("completed");
    const result = view.result as { summary: string; selected_count: number };
    expect(result.selected_count).toBe(2);
    expect(result.summary).toContain("The harbour authority opened a new ferry terminal on Monday.");
    expectValidReceipt(view, seeker.pubkey);
  });

  it("a worker started with --chain solana serves the Solana coordinator", async () => {
    const w = await startWorker([
      "--coordinator",
      coordinator.url,
      "--chain",
      "solana",
      "--type",
      "seeker",
      "--key",
      path.join(dir, "solana.json"),
    ]);
    workers.push(w);
    await w.waitFor((l) => l.msg === "registered");
    expect(w.lines.find((l) => l.msg === "worker starting")).toMatchObject({
      chain: "solana",
      url: expect.stringMatching(/\/solana\/v1\/workers\/ws$/),
    });
    const res = await fetch(`${coordinator.url}/solana/v1/jobs/commit/cheap`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ job_type: "TASK", user_id: "u1", payload: { task_type: "extract_json", input: 'result: {"ok": true,}' } }),
    });
    const { job_id } = (await res.json()) as { job_id: string };
    const view = JobView.parse(await (await fetch(`${coordinator.url}/solana/v1/jobs/${job_id}?wait=20`)).json());
    expect(view.status).toBe("completed");
    expect(view.result).toEqual({ objects: [{ ok: true }], repaired: [0], errors: [] });
    expectValidReceipt(view, w.pubkey);
  });

  it("one process serves both chains with one key: a chat job on solana and a TASK on monad", async () => {
    const args = ["--coordinator", coordinator.url, "--chains", "monad,solana", "--key", path.join(dir, "both.json")];
    const w = await startWorker([...args, "--llm-backend", "ollama", "--ollama-host", ollama.host, "--models", "slow"]);
    workers.push(w);
    await w.waitFor((l) => l.msg === "registered" && l.chain === "solana");
    await w.waitFor((l) => l.msg === "registered" && l.chain === "monad");
    expect(w.lines.find((l) => l.msg === "worker starting")).toMatchObject({ chain: "monad,solana", models: "slow:latest" });

    const chat = {
      job_type: "LLM_INFER",
      user_id: "u1",
      payload: { model: "slow", messages: [{ role: "user", content: "Say sixteen words" }], max_tokens: 64 },
    };
    const res = await fetch(`${coordinator.url}/solana/v1/jobs/commit/fast`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(chat),
    });
    const { job_id } = (await res.json()) as { job_id: string };
    const task = await commit("cheap", { job_type: "TASK", payload: { task_type: "classify", input: "What a wonderful day!" } });
    const [onSolana, onMonad] = await Promise.all([
      fetch(`${coordinator.url}/solana/v1/jobs/${job_id}?wait=30`).then(async (r) => JobView.parse(await r.json())),
      settled(task),
    ]);
    expect(onSolana.result).toMatchObject({ text: SLOW_TOKENS.join(""), model: "slow:latest", prompt_tokens: 3 });
    expectValidReceipt(onSolana, w.pubkey);
    expect(onMonad.result).toMatchObject({ label: "positive" });
    expectValidReceipt(onMonad, w.pubkey);
  });

  it("reports a task failure as an {error} output, not as made-up text", async () => {
    const seeker = await worker("seeker-err", "seeker");
    const schema = { type: "object", properties: { n: { type: "no-such-type" } } };
    const id = await commit("cheap", { job_type: "TASK", payload: { task_type: "extract_json", input: '{"n": 1}', schema } });
    const view = await settled(id);
    expect(view.status).toBe("failed");
    // The worker calls a schema that does not compile an input error; with no other worker to
    // disagree the coordinator ends the job with it, keeping the output itself as the result,
    // so the receipt still verifies against it.
    expect(view.reason).toBe("invalid_input");
    expect(view.result).toMatchObject({ error: expect.stringMatching(/^invalid schema/) });
    expect(seeker.lines.some((l) => l.msg === "job finished" && l.outcome === "error")).toBe(true);
  });

  it("streams LLM tokens through the coordinator's event stream as they are generated", async () => {
    await worker("streamer", "desktop");
    const id = await commit("fast", llmJob);
    const res = await fetch(`${coordinator.url}/monad/v1/jobs/${id}/events`, { signal: AbortSignal.timeout(20_000) });
    expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
    const decoder = new TextDecoder();
    let buffer = "";
    const tokens: { seq: number; text: string }[] = [];
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      const events = buffer.split("\n\n");
      buffer = events.pop() ?? "";
      const parsed = events.flatMap((e) =>
        e
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => JSON.parse(l.slice(5)) as Record<string, unknown>),
      );
      for (const e of parsed) if (e.type === "token") tokens.push({ seq: Number(e.seq), text: String(e.text) });
      if (parsed.some((e) => e.type === "status" && (e.status === "completed" || e.status === "failed"))) break;
    }
    await reader.cancel();
    // Tokens arrive in several frames (coalesced, not one giant blob), in order, and end the
    // result. The stream does not replay frames sent before it was opened, and under load the
    // first token can beat the subscription, so the received text is a suffix of the result.
    expect(tokens.length).toBeGreaterThan(1);
    const first = tokens[0]?.seq ?? 0;
    expect(tokens.map((t) => t.seq)).toEqual(tokens.map((_, i) => first + i));
    const view = await settled(id);
    const text = (view.result as { text: string }).text;
    expect(text.endsWith(tokens.map((t) => t.text).join(""))).toBe(true);
    if (first === 0) expect(tokens.map((t) => t.text).join("")).toBe(text);
  });

  it("claims a trust pairing code and then serves its user's PRIVATE job", async () => {
    const user = generateKeyPair();
    const signed = (method: string, pathname: string, body = "") => ({
      ...signSeekerRequest({
        chain: "monad",
        method,
        url: `${coordinator.url}${pathname}`,
        body,
        secretKey: user.secretKey,
        publicKey: user.publicKey,
      }),
      ...(body && { "content-type": "application/json" }),
    });
    const createBody = JSON.stringify({ user_id: user.publicKey });
    const created = await fetch(`${coordinator.url}/monad/v1/trust/create`, {
      method: "POST",
      headers: signed("POST", "/monad/v1/trust/create", createBody),
      body: createBody,
    });
    expect(created.status).toBe(201);
    const { pairing_code } = (await created.json()) as { pairing_code: string };

    const w = await worker("paired", "seeker", ["--trust-code", pairing_code]);
    await w.waitFor((l) => l.msg === "trust pairing claimed");
    expect(w.lines.find((l) => l.msg === "trust pairing claimed")).toMatchObject({ user_id: user.publicKey });
    expect(w.stderr()).not.toContain(pairing_code);

    const commitPath = "/monad/v1/jobs/commit/cheap";
    const commitBody = JSON.stringify({
      job_type: "TASK",
      user_id: user.publicKey,
      privacy_class: "PRIVATE",
      payload: { task_type: "classify", input: "Dreadful, broken on arrival." },
    });
    const committed = await fetch(`${coordinator.url}${commitPath}`, {
      method: "POST",
      headers: signed("POST", commitPath, commitBody),
      body: commitBody,
    });
    expect(committed.status, await committed.clone().text()).toBe(201);
    const { job_id } = (await committed.json()) as { job_id: string };
    const jobPath = `/monad/v1/jobs/${job_id}?wait=20`;
    const view = JobView.parse(await (await fetch(`${coordinator.url}${jobPath}`, { headers: signed("GET", jobPath) })).json());
    expect(view.status).toBe("completed");
    expect(view.privacy_class).toBe("PRIVATE");
    expect(view.result).toMatchObject({ label: "negative" });
    expectValidReceipt(view, w.pubkey);
  });

  it("a job whose worker is killed with SIGKILL mid-job is completed by another worker", async () => {
    const first = await worker("victim", "desktop");
    const id = await commit("fast", llmJob);
    await first.waitFor((l) => l.msg === "job started" && l.job_id === id);
    first.proc.kill("SIGKILL");
    await first.exited;

    const second = await worker("rescuer", "desktop");
    const view = await settled(id);
    expect(view.status).toBe("completed");
    expect(view.attempts).toBe(2);
    expect(view.result).toMatchObject({ text: SLOW_TOKENS.join(""), backend: "ollama", model: "slow:latest" });
    expectValidReceipt(view, second.pubkey);
  });

  it("on SIGTERM a worker finishes its in-flight job, delivers it, and exits 0", async () => {
    const w = await worker("graceful", "desktop");
    const id = await commit("fast", llmJob);
    await w.waitFor((l) => l.msg === "job started" && l.job_id === id);
    w.proc.kill("SIGTERM");
    await w.waitFor((l) => l.msg === "draining");
    // A job committed while it drains must not be taken by it.
    const late = await commit("cheap", { job_type: "TASK", payload: { task_type: "classify", input: "Lovely!" } });
    expect(await w.exited).toEqual({ code: 0, signal: null });

    const view = await settled(id);
    expect(view.status).toBe("completed");
    expectValidReceipt(view, w.pubkey);
    // Finished and delivered before exiting, not handed back.
    const finished = w.lines.find((l) => l.msg === "job finished" && l.job_id === id);
    expect(finished).toMatchObject({ outcome: "ok", delivered: true });
    if (finished === undefined) throw new Error("no `job finished` line");
    expect(w.lines.indexOf(finished)).toBeLessThan(w.lines.findIndex((l) => l.msg === "stopped"));
    expect(w.lines.some((l) => l.msg === "job started" && l.job_id === late)).toBe(false);
  });

  it("survives a coordinator restart mid-job: reconnects, re-sends the completion, and takes new work", async () => {
    const w = await worker("steadfast", "desktop");
    const id = await commit("fast", llmJob);
    await w.waitFor((l) => l.msg === "job started" && l.job_id === id);
    await coordinator.restart();
    await w.waitFor((l) => l.msg === "registered" && w.lines.filter((x) => x.msg === "registered").length >= 2, 30_000);

    const view = await settled(id);
    expect(view.status).toBe("completed");
    expect(view.result).toMatchObject({ text: SLOW_TOKENS.join("") });
    expectValidReceipt(view, w.pubkey);
    // Whether the coordinator re-offered the job after the restart or not, it ran exactly once.
    expect(w.lines.filter((l) => l.msg === "job started" && l.job_id === id)).toHaveLength(1);
    expect(w.lines.some((l) => l.msg === "disconnected from coordinator")).toBe(true);
    // The job finished while the coordinator was down; the completion went out after re-registering.
    expect(w.lines.find((l) => l.msg === "job finished" && l.job_id === id)).toMatchObject({ outcome: "ok", delivered: false });
    expect(w.lines.filter((l) => l.msg === "registered").at(-1)).toMatchObject({ resending: 1 });

    const next = await settled(
      await commit("cheap", { job_type: "TASK", payload: { task_type: "classify", input: "What a wonderful day!" } }),
    );
    expect(next.status).toBe("completed");
    expect(next.result).toMatchObject({ label: "positive" });
    expectValidReceipt(next, w.pubkey);
  });
});
