import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { WebSocket } from "ws";
import { WebSocketServer } from "ws";
import type { CoordinatorMessage, JobAssignMessage, LlmOutput, ModelsUpdateMessage, WorkerMessage } from "../protocol/index.ts";
import {
  generateKeyPair,
  HEARTBEAT_FRAME,
  ModelsUpdateMessage as ModelsUpdateSchema,
  parseWorkerMessage,
  registerSigningString,
  TASK_ENGINE_VERSION,
  verifyMessage,
  verifyReceipt,
} from "../protocol/index.ts";
import { WorkerAgent } from "./agent.ts";
import { ChainAgents } from "./chain-agents.ts";
import type { LlmBackend, LlmRequest } from "./llm/llm-backend.ts";
import { ModelInventory, type ModelLists } from "./llm/model-inventory.ts";
import { createLogger } from "./logger.ts";
import { SlotBudget } from "./slot-budget.ts";
import { TaskPool } from "./tasks/task-pool.ts";

// The worker's side of the protocol under conditions the real coordinator rarely produces on
// demand (an ack that never comes, a dropped socket before the ack, refusals). The scripted
// peer below speaks protocol/ws.ts over a real socket and checks the worker's frames with the
// coordinator's own parser.

type Frame = WorkerMessage | ModelsUpdateMessage;

interface Peer {
  ws: WebSocket;
  nonce: string;
  frames: Frame[];
  next(type: Frame["type"], timeoutMs?: number): Promise<Frame>;
  send(msg: CoordinatorMessage | Record<string, unknown>): void;
}

interface Scripted {
  url: string;
  connections: Peer[];
  connection(index: number): Promise<Peer>;
  close(): Promise<void>;
}

interface PeerOptions {
  ack?: (peer: Peer, index: number) => boolean;
  heartbeatMs?: number;
  /** Optional messages the coordinator says it understands (register_ack `accepts`). */
  accepts?: string[];
}

async function scriptedCoordinator(opts: PeerOptions = {}): Promise<Scripted> {
  const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const connections: Peer[] = [];
  const arrivals: (() => void)[] = [];
  server.on("connection", (ws) => {
    const index = connections.length;
    const waiting: { type: string; resolve: (m: Frame) => void }[] = [];
    const frames: Frame[] = [];
    const consumed = new Set<Frame>();
    const peer: Peer = {
      ws,
      nonce: `nonce-${index}-${Math.random()}`,
      frames,
      send: (msg) => ws.send(JSON.stringify(msg)),
      next: (type, timeoutMs = 5_000) => {
        const seen = frames.find((f) => f.type === type && !consumed.has(f));
        if (seen) {
          consumed.add(seen);
          return Promise.resolve(seen);
        }
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no ${type} frame within ${timeoutMs} ms`)), timeoutMs);
          waiting.push({
            type,
            resolve: (m) => {
              clearTimeout(timer);
              consumed.add(m);
              resolve(m);
            },
          });
        });
      },
    };
    ws.on("message", (data) => {
      const raw = JSON.parse(data.toString()) as { type?: unknown };
      // models_update is not in the coordinator's union yet (protocol/ws.ts): check it by its own schema.
      const msg: Frame = raw.type === "models_update" ? ModelsUpdateSchema.parse(raw) : parsedFrame(data.toString());
      frames.push(msg);
      if (msg.type === "register" && (opts.ack?.(peer, index) ?? true)) {
        peer.send({
          type: "register_ack",
          status: "ok",
          worker_id: msg.provider_pubkey,
          verified: true,
          chain: "monad",
          privacy: ["PUBLIC", "PRIVATE"],
          heartbeat_interval_ms: opts.heartbeatMs ?? 10_000,
          ...(opts.accepts && { accepts: opts.accepts }),
        });
      }
      const i = waiting.findIndex((w) => w.type === msg.type);
      if (i >= 0) waiting.splice(i, 1)[0]?.resolve(msg);
    });
    connections.push(peer);
    peer.send({ type: "challenge", nonce: peer.nonce, chain: "monad", protocol: "dispatch/1" });
    for (const wake of arrivals.splice(0)) wake();
  });
  const connection = async (index: number): Promise<Peer> => {
    const deadline = Date.now() + 10_000;
    while (connections[index] === undefined) {
      if (Date.now() > deadline) throw new Error(`connection ${index} never came`);
      await new Promise<void>((r) => arrivals.push(r));
    }
    return connections[index] as Peer;
  };
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/monad/v1/workers/ws`,
    connections,
    connection,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of server.clients) c.terminate();
        server.close(() => resolve());
      }),
  };
}

function parsedFrame(raw: string): WorkerMessage {
  const parsed = parseWorkerMessage(raw);
  if (!parsed.ok) throw new Error(`worker sent an invalid frame: ${parsed.message}`);
  return parsed.value;
}

/** An LLM whose model lists the test sets, and whose answers wait until the test releases them. */
class FakeLlm implements LlmBackend {
  readonly name = "ollama";
  readonly inventory = new ModelInventory("a:latest", { models: ["a:latest", "b:latest"], loaded: [] });
  closed = 0;
  #gate: Promise<void> = Promise.resolve();
  #open: () => void = () => {};

  get defaultModel(): string {
    return this.inventory.defaultModel;
  }
  models(): ModelLists {
    return this.inventory.lists;
  }
  resolveModel(requested: string | undefined): string | undefined {
    return this.inventory.resolve(requested);
  }
  async refresh(): Promise<void> {}
  onModelsChange(listener: (lists: ModelLists) => void): () => void {
    return this.inventory.onChange(listener);
  }
  /** Makes every answer wait until the returned function is called. */
  hold(): () => void {
    this.#gate = new Promise((resolve) => {
      this.#open = resolve;
    });
    return () => this.#open();
  }
  async generate(req: LlmRequest): Promise<LlmOutput> {
    await this.#gate;
    req.onToken("hi");
    return { text: "hi", tokens: 1, finish_reason: "stop", model: req.model, backend: "ollama" };
  }
  async close(): Promise<void> {
    this.closed++;
  }
}

const keys = generateKeyPair();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(opts: PeerOptions & { slots?: number; llm?: LlmBackend; slotBudget?: SlotBudget } = {}) {
  const peer = await scriptedCoordinator(opts);
  const tasks = new TaskPool(1);
  // As the CLI does: a job must not spend its time waiting for the thread's language model to load.
  await tasks.ready();
  const lines: Record<string, unknown>[] = [];
  const agent = new WorkerAgent({
    url: peer.url,
    chain: "monad",
    keys,
    providerType: opts.llm ? "DESKTOP" : "SEEKER",
    capabilities: opts.llm ? ["LLM_INFER", "TASK"] : ["TASK"],
    slots: opts.slots ?? 1,
    ...(opts.slotBudget && { slotBudget: opts.slotBudget }),
    agent: "test",
    deps: { tasks, llm: opts.llm },
    log: createLogger({ level: "debug", format: "json", write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }),
    backoff: { baseMs: 40, capMs: 200 },
    registerTimeoutMs: 300,
    ackGraceMs: 300,
  });
  agent.start();
  cleanups.push(async () => {
    await agent.shutdown("test over");
    await tasks.close();
    await peer.close();
  });
  return { peer, agent, lines, tasks };
}

function assign(jobId: string, payload: Record<string, unknown>, extra: Partial<JobAssignMessage> = {}): JobAssignMessage {
  return {
    type: "job_assign",
    job_id: jobId,
    job_type: "TASK",
    payload,
    policy: "CHEAP",
    privacy_class: "PUBLIC",
    user_id: "u1",
    deadline_at: new Date(Date.now() + 30_000).toISOString(),
    attempt: 1,
    payment_ref: "pay-123",
    ...extra,
  };
}

const CLASSIFY = { task_type: "classify", input: "I love this, it is wonderful." };

describe("worker agent protocol", () => {
  it("answers the challenge with a signature over the nonce and declares itself and its TASK engine", async () => {
    const { peer } = await setup({ slots: 2 });
    const conn = await peer.connection(0);
    const reg = await conn.next("register");
    expect(reg).toMatchObject({
      type: "register",
      provider_pubkey: keys.publicKey,
      provider_type: "SEEKER",
      capabilities: ["TASK"],
      slots: 2,
      task_engine: TASK_ENGINE_VERSION,
    });
    expect(reg).not.toHaveProperty("models"); // a TASK-only worker serves no model
    const signature = (reg as { signature?: string }).signature ?? "";
    const host = new URL(peer.url).host;
    expect(verifyMessage(registerSigningString({ chain: "monad", host, nonce: conn.nonce }), signature, keys.publicKey)).toBe(true);
    // Bound to the coordinator it dialled: the same nonce at another host does not verify.
    expect(
      verifyMessage(registerSigningString({ chain: "monad", host: "relay.example", nonce: conn.nonce }), signature, keys.publicKey),
    ).toBe(false);
  });

  it("signs a receipt bound to the job, its output and the payment reference", async () => {
    const { peer } = await setup();
    const conn = await peer.connection(0);
    await conn.next("register");
    conn.send(assign("job-1", CLASSIFY));
    const done = (await conn.next("job_complete")) as Extract<Frame, { type: "job_complete" }>;
    expect(done.output).toMatchObject({ label: "positive" });
    expect(done.receipt).toMatchObject({ job_id: "job-1", provider_pubkey: keys.publicKey, payment_ref: "pay-123" });
    expect(
      verifyReceipt({
        receipt: done.receipt ?? ({} as never),
        signature: done.receipt_signature ?? "",
        output: done.output,
        jobId: "job-1",
        providerPubkey: keys.publicKey,
      }),
    ).toEqual({ ok: true });
  });

  it("keeps a completion until it is acknowledged and re-sends it after reconnecting", async () => {
    const { peer, agent } = await setup();
    const first = await peer.connection(0);
    await first.next("register");
    first.send(assign("job-2", CLASSIFY));
    const sent = await first.next("job_complete");
    first.ws.terminate(); // lost before the ack
    const second = await peer.connection(1);
    await second.next("register");
    const resent = await second.next("job_complete");
    expect(resent).toEqual(sent);
    expect(agent.pendingCompletions).toBe(1);
    second.send({ type: "job_complete_ack", job_id: "job-2", status: "accepted" });
    await expect.poll(() => agent.pendingCompletions).toBe(0);
  });

  it("re-sends a held completion instead of re-running a job offered again", async () => {
    const { peer, lines } = await setup();
    const conn = await peer.connection(0);
    await conn.next("register");
    conn.send(assign("job-3", CLASSIFY));
    const sent = await conn.next("job_complete");
    conn.send(assign("job-3", CLASSIFY, { attempt: 2 }));
    expect(await conn.next("job_complete")).toEqual(sent);
    expect(lines.filter((l) => l.msg === "job started" && l.job_id === "job-3")).toHaveLength(1);
  });

  it("forgets a completion the coordinator will never accept", async () => {
    const { peer, agent } = await setup();
    const conn = await peer.connection(0);
    await conn.next("register");
    conn.send(assign("job-4", CLASSIFY));
    await conn.next("job_complete");
    conn.send({ type: "error", code: "NOT_ASSIGNED", message: "this job was completed by another worker", job_id: "job-4" });
    await expect.poll(() => agent.pendingCompletions).toBe(0);
  });

  it("rejects jobs it cannot take: no free slot, unsupported type", async () => {
    const { peer } = await setup({ slots: 1 });
    const conn = await peer.connection(0);
    await conn.next("register");
    const big = { task_type: "summarize", input: "The fox ran far away from the farm. ".repeat(2_000) };
    conn.send(assign("busy", big));
    conn.send(assign("extra", CLASSIFY));
    conn.send(assign("llm", { prompt: "hi" }, { job_type: "LLM_INFER" }));
    expect(await conn.next("job_reject")).toEqual({ type: "job_reject", job_id: "extra", reason: "no_free_slot" });
    expect(await conn.next("job_reject")).toEqual({ type: "job_reject", job_id: "llm", reason: "unsupported_job_type: LLM_INFER" });
    expect(await conn.next("job_complete")).toMatchObject({ job_id: "busy" });
  });

  it("stops a job the coordinator cancels and sends no completion for it", async () => {
    const { peer, agent, lines } = await setup();
    const conn = await peer.connection(0);
    await conn.next("register");
    conn.send(assign("cancel-me", { task_type: "summarize", input: "The fox ran far away from the farm. ".repeat(2_700) }));
    await expect.poll(() => lines.some((l) => l.msg === "job started")).toBe(true);
    conn.send({ type: "job_cancel", job_id: "cancel-me", reason: "worker_timeout" });
    // The thread may still be loading its language model when the cancel lands: allow for a busy machine.
    await expect.poll(() => lines.some((l) => l.msg === "job dropped after cancel"), { timeout: 10_000 }).toBe(true);
    expect(conn.frames.some((f) => f.type === "job_complete")).toBe(false);
    expect(agent.pendingCompletions).toBe(0);
  });

  it("reports a job that arrives past its deadline as an error output", async () => {
    const { peer } = await setup();
    const conn = await peer.connection(0);
    await conn.next("register");
    conn.send(assign("late", CLASSIFY, { deadline_at: new Date(Date.now() - 1_000).toISOString() }));
    expect(await conn.next("job_complete")).toMatchObject({ output: { error: expect.stringMatching(/^deadline_exceeded/) } });
  });

  it("reconnects when the register_ack does not come in time", async () => {
    const { peer, lines } = await setup({ ack: (_peer, index) => index > 0 });
    await (await peer.connection(0)).next("register");
    const second = await peer.connection(1);
    await second.next("register");
    await expect.poll(() => lines.some((l) => l.msg === "registered")).toBe(true);
    expect(lines.some((l) => l.msg === "no register_ack in time; reconnecting")).toBe(true);
  });

  it("ignores unknown message types and survives malformed frames", async () => {
    const { peer } = await setup();
    const conn = await peer.connection(0);
    await conn.next("register");
    conn.send({ type: "feedback_posted", job_id: "x", tx_hash: "0x1" });
    conn.ws.send("not json");
    conn.send({ type: "job_assign", job_id: "bad" }); // missing fields
    conn.send(assign("after", CLASSIFY));
    expect(await conn.next("job_complete")).toMatchObject({ job_id: "after" });
    expect(peer.connections).toHaveLength(1);
  });

  it("on shutdown rejects new work, finishes the running job, and waits for its ack", async () => {
    const { peer, agent } = await setup();
    const conn = await peer.connection(0);
    await conn.next("register");
    conn.send(assign("running", { task_type: "summarize", input: "The fox ran far away from the farm. ".repeat(1_500) }));
    await new Promise((r) => setTimeout(r, 30));
    const stopping = agent.shutdown("SIGTERM");
    conn.send(assign("too-late", CLASSIFY));
    expect(await conn.next("job_reject")).toEqual({ type: "job_reject", job_id: "too-late", reason: "worker_shutting_down" });
    await conn.next("job_complete");
    conn.send({ type: "job_complete_ack", job_id: "running", status: "accepted" });
    await stopping;
    expect(await agent.stopped).toBe(0);
    expect(agent.pendingCompletions).toBe(0);
  });

  it("sends heartbeats at the coordinator's interval and reconnects when the coordinator goes silent", async () => {
    const { peer, lines } = await setup({ heartbeatMs: 1_000 });
    const first = await peer.connection(0);
    await first.next("register");
    const beat = await first.next("heartbeat", 2_000);
    // Exactly the frame the coordinator answers without waking its Durable Object.
    expect(JSON.stringify(beat)).toBe(HEARTBEAT_FRAME);
    // This peer never answers heartbeats: after three silent intervals the worker must redial.
    await peer.connection(1);
    expect(lines.some((l) => l.msg === "coordinator silent; reconnecting")).toBe(true);
  });

  it("stops for good when its key registers elsewhere", async () => {
    const { peer, agent } = await setup();
    const conn = await peer.connection(0);
    await conn.next("register");
    conn.send({ type: "error", code: "REPLACED", message: "this key registered again on a newer connection" });
    expect(await agent.stopped).toBe(1);
    expect(peer.connections).toHaveLength(1);
  });
});

describe("models", () => {
  const llmJob = (jobId: string, payload: Record<string, unknown> = { prompt: "hi" }) =>
    assign(jobId, payload, { job_type: "LLM_INFER", policy: "FAST" });

  it("declares the models it serves and has loaded in register", async () => {
    const { peer } = await setup({ llm: new FakeLlm() });
    const reg = await (await peer.connection(0)).next("register");
    expect(reg).toMatchObject({ capabilities: ["LLM_INFER", "TASK"], models: ["a:latest", "b:latest"], loaded_models: [] });
  });

  it("tells a coordinator that accepts models_update when the loaded models change", async () => {
    const llm = new FakeLlm();
    const { peer, lines } = await setup({ llm, accepts: ["models_update"] });
    const conn = await peer.connection(0);
    await conn.next("register");
    await expect.poll(() => lines.some((l) => l.msg === "registered")).toBe(true);
    llm.inventory.set({ models: ["a:latest", "b:latest"], loaded: ["b:latest"] });
    expect(await conn.next("models_update")).toEqual({
      type: "models_update",
      models: ["a:latest", "b:latest"], // the default first, then the loaded ones
      loaded_models: ["b:latest"],
    });
  });

  it("keeps models_update from a coordinator that does not list it; the next register carries the new lists", async () => {
    const llm = new FakeLlm();
    const { peer, lines } = await setup({ llm });
    const first = await peer.connection(0);
    await first.next("register");
    await expect.poll(() => lines.some((l) => l.msg === "registered")).toBe(true);
    llm.inventory.set({ models: ["a:latest", "c:latest"], loaded: ["a:latest"] });
    await expect.poll(() => lines.some((l) => l.msg === "models changed")).toBe(true);
    first.ws.terminate();
    const second = await peer.connection(1);
    expect(await second.next("register")).toMatchObject({ models: ["a:latest", "c:latest"], loaded_models: ["a:latest"] });
    expect(first.frames.some((f) => f.type === "models_update")).toBe(false);
  });

  it("registers with a coordinator whose accepts list it cannot read, and sends it no models_update", async () => {
    const llm = new FakeLlm();
    const { peer, lines } = await setup({ llm, accepts: 5 as unknown as string[] });
    const conn = await peer.connection(0);
    await conn.next("register");
    await expect.poll(() => lines.some((l) => l.msg === "registered")).toBe(true);
    llm.inventory.set({ models: ["a:latest"], loaded: ["a:latest"] });
    await expect.poll(() => lines.some((l) => l.msg === "models changed")).toBe(true);
    conn.send(assign("after", CLASSIFY));
    await conn.next("job_complete"); // frames are in order: a models_update would have come first
    expect(conn.frames.some((f) => f.type === "models_update")).toBe(false);
  });

  it("answers a job for a model it does not serve with model_not_served", async () => {
    const { peer } = await setup({ llm: new FakeLlm() });
    const conn = await peer.connection(0);
    await conn.next("register");
    conn.send(llmJob("wrong-model", { model: "llama3.2", prompt: "hi" }));
    expect(await conn.next("job_complete")).toMatchObject({ output: { error: expect.stringMatching(/^model_not_served: llama3.2/) } });
  });
});

describe("several chains in one process", () => {
  const llmJob = (jobId: string) => assign(jobId, { prompt: "hi" }, { job_type: "LLM_INFER", policy: "FAST" });

  it("takes every chain's jobs from one slot budget: a job waits while another chain's job holds the slot", async () => {
    const llm = new FakeLlm();
    const budget = new SlotBudget(1);
    const monad = await setup({ llm, slotBudget: budget });
    const solana = await setup({ llm, slotBudget: budget });
    const [a, b] = await Promise.all([monad.peer.connection(0), solana.peer.connection(0)]);
    await Promise.all([a.next("register"), b.next("register")]);

    const release = llm.hold();
    a.send(llmJob("monad-job"));
    await expect.poll(() => budget.used).toBe(1);
    b.send(llmJob("solana-job"));
    await expect.poll(() => solana.lines.some((l) => l.msg === "waiting for a slot held by another chain's job")).toBe(true);
    expect(solana.lines.some((l) => l.msg === "job started")).toBe(false);
    release();
    expect(await a.next("job_complete")).toMatchObject({ job_id: "monad-job", output: { text: "hi" } });
    expect(await b.next("job_complete")).toMatchObject({ job_id: "solana-job", output: { text: "hi" } });
    expect(b.frames.some((f) => f.type === "job_reject")).toBe(false);
    await expect.poll(() => budget.used).toBe(0);
  });

  it("hands a job back when another chain holds the slot past half the job's time", async () => {
    const llm = new FakeLlm();
    const budget = new SlotBudget(1);
    const monad = await setup({ llm, slotBudget: budget });
    const solana = await setup({ llm, slotBudget: budget });
    const [a, b] = await Promise.all([monad.peer.connection(0), solana.peer.connection(0)]);
    await Promise.all([a.next("register"), b.next("register")]);
    const release = llm.hold();
    a.send(llmJob("long"));
    await expect.poll(() => budget.used).toBe(1);
    const started = Date.now();
    // 3 s to the deadline: 2 s of budget after the delivery margin, so it waits 1 s at most.
    b.send(assign("short", CLASSIFY, { deadline_at: new Date(Date.now() + 3_000).toISOString() }));
    expect(await b.next("job_reject")).toEqual({ type: "job_reject", job_id: "short", reason: "no_free_slot" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    release();
    expect(await a.next("job_complete")).toMatchObject({ job_id: "long" });
    await expect.poll(() => budget.used).toBe(0);
  });

  it("stops every chain's session when one is replaced, then closes the shared backends once", async () => {
    const llm = new FakeLlm();
    const tasks = new TaskPool(1);
    const peers = await Promise.all([scriptedCoordinator(), scriptedCoordinator()]);
    const log = createLogger({ level: "error", format: "json", write: () => {} });
    const deps = { tasks, llm };
    const agents = peers.map(
      (peer) =>
        new WorkerAgent({
          url: peer.url,
          chain: "monad",
          keys,
          providerType: "DESKTOP",
          capabilities: ["LLM_INFER"],
          slots: 1,
          agent: "test",
          deps,
          log,
        }),
    );
    const node = new ChainAgents(agents, deps, log);
    cleanups.push(async () => {
      await node.shutdown("test over");
      for (const p of peers) await p.close();
    });
    node.start();
    const conns = await Promise.all(peers.map((p) => p.connection(0)));
    await Promise.all(conns.map((c) => c.next("register")));
    conns[1]?.send({ type: "error", code: "REPLACED", message: "this key registered again on a newer connection" });
    expect(await node.stopped).toBe(1);
    expect(await Promise.all(agents.map((a) => a.stopped))).toEqual([0, 1]); // the other chain drained gracefully
    await expect.poll(() => conns[0]?.ws.readyState).toBe(3); // the other chain's socket is closed too
    expect(llm.closed).toBe(1);
    expect(await tasks.run({ task_type: "classify", input: "x" }, { timeoutMs: 1_000 })).toEqual({
      error: "worker is shutting down",
      error_kind: "worker",
    });
  });
});
