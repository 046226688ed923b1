import { env, runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import {
  buildReceipt,
  type Chain,
  type CoordinatorMessage,
  type Ed25519KeyPair,
  generateKeyPair,
  type JobView,
  registerSigningString,
  signMessage,
  signReceipt,
  signSeekerRequest,
} from "../../protocol/index.ts";
import type { ChainCoordinator } from "../chain-coordinator.ts";

export const BASE = "http://coordinator.test";

type Msg = CoordinatorMessage & Record<string, unknown>;

/** A worker driven by the test over a real WebSocket into the Durable Object. */
export class TestWorker {
  readonly key: Ed25519KeyPair;
  readonly inbox: Msg[] = [];
  private waiters: (() => void)[] = [];
  ws: WebSocket | null = null;
  closedWith: { code: number; reason: string } | null = null;
  readonly opts: WorkerOptions;

  constructor(opts: Partial<WorkerOptions> = {}) {
    this.opts = {
      chain: "monad",
      type: "DESKTOP",
      capabilities: ["LLM_INFER", "TASK"],
      signed: true,
      slots: 1,
      path: "/v1/workers/ws",
      ...opts,
    };
    this.key = opts.key ?? generateKeyPair();
  }

  get pubkey(): string {
    return this.key.publicKey;
  }

  async open(): Promise<Msg> {
    const headers: Record<string, string> = { upgrade: "websocket" };
    if (this.opts.addr) headers["cf-connecting-ip"] = this.opts.addr;
    const res = await SELF.fetch(`${BASE}/${this.opts.chain}${this.opts.path}`, { headers });
    const ws = res.webSocket;
    if (!ws) throw new Error(`no websocket: ${res.status} ${await res.text()}`);
    ws.accept();
    ws.addEventListener("message", (e) => {
      this.inbox.push(JSON.parse(e.data as string) as Msg);
      for (const w of this.waiters.splice(0)) w();
    });
    ws.addEventListener("close", (e) => {
      this.closedWith = { code: e.code, reason: e.reason };
      for (const w of this.waiters.splice(0)) w();
    });
    this.ws = ws;
    return this.next("challenge");
  }

  /** Opens, answers the challenge (or not, like a reference worker) and waits for the ack. */
  async connect(): Promise<Msg> {
    const challenge = await this.open();
    this.register(String(challenge.nonce));
    return this.next("register_ack");
  }

  register(nonce: string, overrides: Record<string, unknown> = {}): void {
    this.send({
      type: "register",
      provider_pubkey: this.pubkey,
      provider_type: this.opts.type,
      capabilities: this.opts.capabilities,
      slots: this.opts.slots,
      ...(this.opts.signed ? { signature: this.sign(nonce) } : {}),
      ...(this.opts.taskEngine ? { task_engine: this.opts.taskEngine } : {}),
      ...overrides,
    });
  }

  /** The register signature: chain, the host this worker dialled, the nonce and the payout address. */
  sign(nonce: string, opts: { host?: string; chain?: string; payoutAddress?: string } = {}): string {
    return signMessage(
      registerSigningString({
        chain: opts.chain ?? this.opts.chain,
        host: opts.host ?? new URL(BASE).host,
        nonce,
        payoutAddress: opts.payoutAddress,
      }),
      this.key.secretKey,
    );
  }

  send(message: unknown): void {
    this.ws?.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** The next message of `type` (other messages stay queued). */
  async next(type: string, timeoutMs = 3000): Promise<Msg> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.type === type);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as Msg;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${type}; inbox: ${JSON.stringify(this.inbox.map((m) => m.type))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Asserts that nothing of `type` arrives within `ms`. */
  async nothing(type: string, ms = 300): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    const got = this.inbox.find((m) => m.type === type);
    if (got) throw new Error(`unexpected ${type}: ${JSON.stringify(got)}`);
  }

  /** Completes a job with a valid receipt; `tamper` lets a test break one piece of it. */
  complete(jobId: string, output: unknown = { text: `done ${jobId}` }, tamper: (m: Record<string, unknown>) => void = () => {}): void {
    const receipt = buildReceipt({ jobId, providerPubkey: this.pubkey, output });
    const message: Record<string, unknown> = {
      type: "job_complete",
      job_id: jobId,
      output,
      output_hash: receipt.output_hash,
      receipt,
      receipt_signature: signReceipt(receipt, this.key.secretKey),
    };
    tamper(message);
    this.send(message);
  }

  /** Waits until the coordinator closed this socket. */
  async closed(timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closedWith && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (!this.closedWith) throw new Error("socket still open");
  }

  close(): void {
    try {
      this.ws?.close(1000, "test done");
    } catch {
      // already closed
    }
  }
}

interface WorkerOptions {
  chain: Chain;
  type: "DESKTOP" | "SEEKER";
  capabilities: string[];
  signed: boolean;
  slots: number;
  path: string;
  key?: Ed25519KeyPair;
  /** The client address the coordinator sees (`cf-connecting-ip`). */
  addr?: string;
  /** The `task_engine` named at register (none by default: such workers are never audited nor audit). */
  taskEngine?: string;
}

export async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, init);
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

export function taskBody(overrides: Record<string, unknown> = {}, user = "seeker-1"): Record<string, unknown> {
  return { job_type: "TASK", user_id: user, payload: { task_type: "summarize", input: "A short text to summarize." }, ...overrides };
}

export function llmBody(overrides: Record<string, unknown> = {}, user = "seeker-1"): Record<string, unknown> {
  return { job_type: "LLM_INFER", user_id: user, payload: { prompt: "Once upon a time", max_tokens: 16 }, ...overrides };
}

export async function commit(
  body: unknown,
  opts: { chain?: Chain; tier?: "fast" | "cheap"; headers?: Record<string, string>; addr?: string } = {},
) {
  const res = await api(`/${opts.chain ?? "monad"}/v1/jobs/commit/${opts.tier ?? "cheap"}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(opts.addr ? { "cf-connecting-ip": opts.addr } : {}), ...opts.headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await json(res) };
}

/** The chain a test path addresses: `/solana/...`, else Monad (bare `/v1` is Monad). */
export function chainOf(path: string): Chain {
  return path.startsWith("/solana") ? "solana" : "monad";
}

/** Signed-request headers for `key` over chain, host, method, full path and body (a fresh nonce each call). */
export function signHeaders(key: Ed25519KeyPair, method: string, path: string, body = "", extra: { nonce?: string; now?: Date } = {}) {
  return signSeekerRequest({
    chain: chainOf(path),
    method,
    url: `${BASE}${path}`,
    body,
    secretKey: key.secretKey,
    publicKey: key.publicKey,
    ...extra,
  });
}

/** A request signed as `key` over method, full path and body. */
export async function signed(key: Ed25519KeyPair, method: string, path: string, body?: unknown): Promise<Response> {
  const text = body === undefined ? "" : JSON.stringify(body);
  const headers = signHeaders(key, method, path, text);
  return api(path, { method, headers: { ...headers, "content-type": "application/json" }, ...(body === undefined ? {} : { body: text }) });
}

export async function getJob(id: string, opts: { chain?: Chain; wait?: number; key?: Ed25519KeyPair } = {}): Promise<JobView> {
  const path = `/${opts.chain ?? "monad"}/v1/jobs/${id}${opts.wait ? `?wait=${opts.wait}` : ""}`;
  const res = opts.key ? await signed(opts.key, "GET", path) : await api(path);
  return json<JobView>(res);
}

export function stub(chain: Chain = "monad"): DurableObjectStub<ChainCoordinator> {
  return env.CHAIN.getByName(chain);
}

/** Runs SQL inside the object: the way tests move deadlines into the past without waiting. */
export async function sqlIn(chain: Chain, query: string, ...params: SqlStorageValue[]): Promise<Record<string, SqlStorageValue>[]> {
  return runInDurableObject(stub(chain), (_instance, state) => state.storage.sql.exec(query, ...params).toArray());
}

export async function fireAlarm(chain: Chain = "monad"): Promise<boolean> {
  return runDurableObjectAlarm(stub(chain));
}

export async function until<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Closes the workers a test opened, waits until the object has released them all, and ends
 * the test's unfinished jobs (storage is shared by the tests of a file), so no test inherits work.
 */
export async function closeAll(workers: TestWorker[]): Promise<void> {
  for (const w of workers.splice(0)) w.close();
  for (const chain of ["monad", "solana"] as const) {
    await until(async () => (await json<{ workers_online: number }>(await api(`/${chain}/v1/health`))).workers_online === 0);
    await sqlIn(chain, "UPDATE jobs SET status = 'failed', reason = 'test_cleanup' WHERE status IN ('pending', 'assigned')");
  }
}

/** Opens and registers a worker, remembering it in `pool` so `closeAll(pool)` releases it after the test. */
export async function connectWorker(pool: TestWorker[], opts: ConstructorParameters<typeof TestWorker>[0] = {}): Promise<TestWorker> {
  const w = new TestWorker(opts);
  pool.push(w);
  await w.connect();
  return w;
}

/** Opens a worker that serves `models` (and has `loaded` of them loaded), remembered in `pool`. */
export async function modelWorker(
  pool: TestWorker[],
  models: string[],
  loaded: string[] = [],
  opts: ConstructorParameters<typeof TestWorker>[0] = {},
) {
  const w = await connectWorker(pool, { type: "DESKTOP", ...opts });
  w.send({ type: "models_update", models, loaded_models: loaded });
  // The heartbeat's ack proves the update before it was handled.
  w.send({ type: "heartbeat" });
  await w.next("heartbeat_ack");
  return w;
}

/** What our LLM workers answer: the text, token counts, why it ended, the model and backend. */
export function llmOutput(text: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    text,
    tokens: text.split(" ").length,
    prompt_tokens: 7,
    finish_reason: "stop",
    model: "alpha:latest",
    backend: "ollama",
    ...extra,
  };
}

/** The `data:` payloads of an SSE body, in order (`[DONE]` kept as the string). */
export function sseData(body: string): unknown[] {
  return body
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const data = block
        .split("\n")
        .filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6))
        .join("\n");
      return data === "[DONE]" ? data : (JSON.parse(data) as unknown);
    });
}
