import { DurableObject } from "cloudflare:workers";
import {
  CHAINS,
  type Chain,
  type DashboardSnapshot,
  HEARTBEAT_ACK_FRAME,
  HEARTBEAT_FRAME,
  type HealthResponse,
  type JobView,
  LIMITS,
  type ModelsResponse,
  NETWORKS,
  type SeekerAuth,
  toHex,
  type WorkerAccount,
  type WorkersResponse,
} from "../protocol/index.ts";
import { Admission, type CommitInput, type CommitOutcome } from "./admission.ts";
import { SpotChecks } from "./audits/spot-checks.ts";
import { TrustLayer } from "./chain/trust-layer.ts";
import { DashboardFeed } from "./dashboard/feed.ts";
import type { Env } from "./env.ts";
import { type Failure, fail, type Outcome, ok } from "./errors.ts";
import { type CommittedRead, HeldCalls, jobViewOutcome, type SignedCommit, tooManyWaits } from "./held-calls.ts";
import { routeModel } from "./job-routes.ts";
import { isTerminal, Lifecycle, statusEvent } from "./lifecycle.ts";
import { Listeners } from "./listeners.ts";
import { OutboxDrain } from "./outbox-drain.ts";
import { Pairings } from "./pairings.ts";
import { Payments } from "./payments/service.ts";
import { Money } from "./payouts/money.ts";
import { receiptView } from "./receipt-view.ts";
import { Retention } from "./retention.ts";
import { publicSettings, readSettings, type Settings } from "./settings.ts";
import { setting } from "./settings-registry.ts";
import { attachment, setAttachment, socketTag } from "./sockets.ts";
import { DashboardStore } from "./storage/dashboard-store.ts";
import type { JobRow } from "./storage/job-store.ts";
import { migrate } from "./storage/schema.ts";
import { Sql } from "./storage/sql.ts";
import { WorkerSessions } from "./worker-session.ts";

/** Who is asking, as the edge saw it: a verified signature (its nonce not yet spent) and the client address. */
export interface Caller {
  auth: SeekerAuth | null;
  addr: string;
}

export interface ReadInput {
  chain: Chain;
  jobId: string;
  caller: Caller;
}

/**
 * One chain's coordinator: the worker pool (hibernatable sockets), all job state (SQLite) and
 * time (one alarm). The Hono app validates requests and calls the methods below over RPC.
 */
export class ChainCoordinator extends DurableObject<Env> {
  private readonly sql: Sql;
  private readonly listeners: Listeners;
  private readonly life: Lifecycle;
  private readonly admission: Admission;
  private readonly retention: Retention;
  private readonly sessions: WorkerSessions;
  private readonly payments: Payments;
  private readonly outbox: OutboxDrain;
  private readonly trustLayer: TrustLayer;
  private readonly money: Money;
  private readonly held: HeldCalls;
  private readonly dashboardFeed: DashboardFeed;
  private readonly spotChecks: SpotChecks;
  private readonly pairings: Pairings;
  private chainName: Chain | null = null;
  private settingsCache: Settings | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = new Sql(ctx.storage.sql);
    this.listeners = new Listeners(() => this.settings().limits);
    this.life = new Lifecycle(ctx, this.sql, this.listeners, () => ({
      allowUnverifiedWorkers: this.settings().allowUnverifiedWorkers,
      settleAtAssignment: this.chain() === "solana",
    }));
    this.payments = new Payments(
      () => this.settings().payments,
      this.life.payments,
      () => this.settings().money.facilitatorTimeoutMs,
    );
    this.money = new Money(
      this.life,
      this.sql,
      this.payments,
      () => this.settings(),
      () => this.chain(),
    );
    this.trustLayer = new TrustLayer(
      this.life,
      this.sql,
      () => this.settings().onchain,
      (tx) => setting(this.env, "EXPLORER_TX_URL_MONAD")?.replace("{tx}", tx) ?? null,
    );
    this.admission = new Admission(this.life, this.payments, () => this.settings().limits);
    this.retention = new Retention(
      this.life,
      this.sql,
      () => this.settings().limits.retentionMs,
      () => this.settings().onchain?.receiptAnchor != null,
    );
    this.pairings = new Pairings(this.life);
    this.spotChecks = new SpotChecks({
      life: this.life,
      samplePercent: () => this.settings().auditSamplePercent,
      credit: (pubkey, runJobId, now) => this.money.earnings.creditAudit(pubkey, runJobId, now),
      blame: (pubkey, jobId, outputHash, now) => this.trustLayer.onAuditLost(pubkey, jobId, outputHash, now),
    });
    this.life.hooks = {
      jobFinished: (job, success, outputHash, now) => {
        this.trustLayer.onJobFinished(job, success, outputHash, now);
        this.spotChecks.onJobFinished(job, success, outputHash, now);
      },
      deadlines: () => [this.trustLayer.nextBatchAt(), this.retention.nextAt()],
      jobMoved: (job, now) => this.money.earnings.onJobMoved(job, now),
    };
    this.outbox = new OutboxDrain(this.life, this.money.settlement, this.money.transfers, this.trustLayer);
    this.sessions = new WorkerSessions(
      this.life,
      this.listeners,
      () => this.chain(),
      () => this.settings().allowUnverifiedWorkers,
      this.trustLayer,
    );
    this.held = new HeldCalls({
      life: this.life,
      listeners: this.listeners,
      network: () => this.network(),
      holdsPerAddress: () => this.settings().limits.holdsPerAddress,
      commit: (input) => this.commit(input),
    });
    // Our workers' heartbeats are answered by the runtime, without waking (or billing) the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(HEARTBEAT_FRAME, HEARTBEAT_ACK_FRAME));
    this.dashboardFeed = new DashboardFeed({
      store: new DashboardStore(this.sql),
      ledger: this.money.ledger,
      listeners: this.listeners,
      chain: () => this.chain(),
      settings: () => this.settings(),
      // Anchors are on the EVM chain whichever chain this is: read that one setting, not all of Monad's.
      anchorExplorer: () => setting(this.env, "EXPLORER_TX_URL_MONAD"),
    });
    ctx.blockConcurrencyWhile(async () => {
      migrate(this.sql);
      const stored = this.sql.first<{ value: string }>("SELECT value FROM meta WHERE key = 'chain'")?.value;
      if (stored && (CHAINS as readonly string[]).includes(stored)) this.chainName = stored as Chain;
      this.reconcileSockets();
      await this.life.scheduleAlarm();
    });
  }

  private chain(): Chain {
    return this.chainName ?? "monad";
  }

  private settings(): Settings {
    this.settingsCache ??= readSettings(this.env, this.chain());
    return this.settingsCache;
  }

  private network(): string {
    return NETWORKS[this.chain()];
  }

  /** The object learns which chain it serves from its first caller, and keeps it. */
  private bind(chain: Chain): void {
    if (this.chainName === chain) return;
    this.chainName = chain;
    this.settingsCache = null;
    this.money.reset();
    this.sql.run("INSERT INTO meta (key, value) VALUES ('chain', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", chain);
  }

  /**
   * After a restart (not a hibernation) the sockets are gone but their rows are not: release
   * the jobs of every connection that no live socket answers for.
   */
  private reconcileSockets(): void {
    const live = new Set<string>();
    for (const ws of this.ctx.getWebSockets()) {
      const a = attachment(ws);
      if (a) live.add(a.sid);
    }
    for (const conn of this.life.workers.connections()) {
      if (!live.has(conn.socket_id)) this.life.socketGone(conn.socket_id);
    }
    for (const sid of this.life.sockets.all()) {
      if (!live.has(sid)) this.life.sockets.closed(sid);
    }
  }

  /**
   * Spends a signed request's nonce: each signature acts once, so a captured request cannot be
   * replayed within its freshness window. Returns the signer (or null when unsigned).
   */
  private spend(auth: SeekerAuth | null): { user: string | null } | Failure {
    if (auth === null) return { user: null };
    if (!this.life.nonces.consume(auth.userId, auth.nonce, auth.expiresAt)) {
      return fail(401, "replayed_signature", "this signed request was already used; sign each request anew (fresh nonce)");
    }
    return { user: auth.userId };
  }

  // ---- HTTP (over RPC) ----

  async health(chain: Chain): Promise<HealthResponse> {
    this.bind(chain);
    const byType = this.life.workers.onlineByType();
    const counts = this.life.jobs.counts();
    const settings = this.settings();
    return {
      status: "ok",
      workers_online: Object.values(byType).reduce((a, b) => a + b, 0),
      workers_by_type: byType,
      jobs_queued: counts.pending,
      jobs_assigned: counts.assigned,
      network: this.network(),
      chain: this.chain(),
      timestamp: new Date().toISOString(),
      payments: {
        enabled: settings.payments.mode !== "disabled",
        mode: settings.payments.mode,
        facilitator: settings.payments.facilitatorUrl,
      },
      audits: { sample_percent: settings.auditSamplePercent, ...this.life.audits.stats() },
      outbox_pending: this.life.outbox.pendingCount(),
      outbox_dead: this.life.outbox.deadCount(),
      sockets: this.life.sockets.total(),
      listeners: this.listeners.stats(),
      allow_unverified_workers: settings.allowUnverifiedWorkers,
      onchain: settings.onchain
        ? { enabled: true, reputation_registry: settings.onchain.reputationRegistry, receipt_anchor: settings.onchain.receiptAnchor }
        : { enabled: false, reputation_registry: null, receipt_anchor: null },
      settings: publicSettings(this.env, this.chain()),
    };
  }

  /** `GET /v1/models`: the models online workers serve now (OpenAI's list shape, with our counts). */
  async models(chain: Chain): Promise<ModelsResponse> {
    this.bind(chain);
    return {
      object: "list",
      data: this.life.workers.modelRoutes().map((r) => ({
        id: routeModel(r.route) ?? r.route,
        object: "model",
        created: 0,
        owned_by: "dispatch",
        workers: r.workers,
        loaded: r.loaded,
      })),
    };
  }

  /** `GET /v1/workers/{pubkey}`: one worker's earnings and payouts on this chain. */
  async workerAccount(chain: Chain, pubkey: string): Promise<WorkerAccount> {
    this.bind(chain);
    return this.money.earnings.account(pubkey, this.network());
  }

  /** `GET /v1/dashboard`: workers, job flow, throughput, money and outbox health in one bounded snapshot. */
  async dashboard(chain: Chain): Promise<DashboardSnapshot> {
    this.bind(chain);
    return this.dashboardFeed.snapshot();
  }

  async workers(chain: Chain): Promise<WorkersResponse> {
    this.bind(chain);
    return { workers: this.life.workers.online() };
  }

  async commit(input: CommitInput & { auth: SeekerAuth | null }): Promise<CommitOutcome> {
    this.bind(input.chain);
    const spent = this.spend(input.auth);
    if ("status" in spent) return spent;
    const outcome = await this.admission.commit(input, spent.user);
    await this.life.scheduleAlarm();
    this.kickOutbox();
    return outcome;
  }

  async job(input: ReadInput & { waitMs: number }): Promise<Outcome<JobView>> {
    this.bind(input.chain);
    const spent = this.spend(input.caller.auth);
    if ("status" in spent) return spent;
    let job = this.life.jobs.seekerJob(input.jobId);
    const denied = this.readDenied(job, spent.user);
    if (denied) return denied;
    if (job && input.waitMs > 0 && !isTerminal(job)) {
      const release = this.listeners.hold(input.caller.addr);
      if (!release) return tooManyWaits(this.settings().limits.holdsPerAddress);
      try {
        await this.listeners.wait(job.id, input.waitMs);
      } finally {
        release();
      }
      job = this.life.jobs.seekerJob(input.jobId);
    }
    if (!job) return fail(404, "job_not_found", "Job not found");
    return jobViewOutcome(job, this.life, this.network());
  }

  /** `POST /v1/jobs/commit/{tier}?wait=N`: the finished job in one round trip (200), else the commit (202). */
  async commitAndWait(input: SignedCommit, waitMs: number): Promise<Outcome<unknown>> {
    this.bind(input.chain);
    return this.held.commitAndWait(input, waitMs);
  }

  /** Commit, then the job's events until it finishes (the OpenAI and Ollama streams). */
  async commitAndFollow(input: SignedCommit): Promise<Response> {
    this.bind(input.chain);
    return this.held.commitAndFollow(input);
  }

  /** Ends a `commitAndFollow` stream whose client went away. */
  async unfollow(chain: Chain, followId: string): Promise<void> {
    this.bind(chain);
    this.held.unfollow(followId);
  }

  /** A job the edge committed in the same request, read back without spending a second signature. */
  async committedJob(read: CommittedRead): Promise<Outcome<JobView>> {
    this.bind(read.chain);
    return this.held.committedJob(read);
  }

  async receipt(input: ReadInput): Promise<Outcome<Record<string, unknown>>> {
    this.bind(input.chain);
    const spent = this.spend(input.caller.auth);
    if ("status" in spent) return spent;
    const job = this.life.jobs.seekerJob(input.jobId);
    const denied = this.readDenied(job, spent.user);
    if (denied) return denied;
    const stored = job ? this.life.jobs.receipt(job.id) : undefined;
    if (!job || !stored || job.result === null) return fail(404, "not_found", "no receipt for this job yet; it has not completed");
    return ok(await receiptView(job, stored, this.trustLayer.proof(job.id)));
  }

  private readDenied(job: JobRow | undefined, viewer: string | null): Outcome<never> | null {
    if (!job) return fail(404, "job_not_found", "Job not found");
    if (job.privacy_class !== "PRIVATE" || viewer === job.user_id) return null;
    if (viewer === null) return fail(401, "signature_required", "PRIVATE jobs are readable only by their owner: sign the request");
    return fail(403, "forbidden", "this PRIVATE job belongs to another user");
  }

  async trustCreate(chain: Chain, auth: SeekerAuth): Promise<Outcome<Record<string, string>>> {
    this.bind(chain);
    const spent = this.spend(auth);
    return "status" in spent ? spent : this.pairings.create(auth.userId, Date.now());
  }

  async trustClaim(chain: Chain, code: string, pubkey: string): Promise<Outcome<Record<string, string>>> {
    this.bind(chain);
    const claimed = this.pairings.claim(code, pubkey, Date.now());
    await this.life.scheduleAlarm();
    return claimed;
  }

  async trustList(chain: Chain, auth: SeekerAuth): Promise<Outcome<{ providers: { provider_pubkey: string; paired_at: string }[] }>> {
    this.bind(chain);
    const spent = this.spend(auth);
    return "status" in spent ? spent : this.pairings.list(auth.userId);
  }

  async trustRevoke(chain: Chain, auth: SeekerAuth, pubkey: string): Promise<Outcome<Record<string, unknown>>> {
    this.bind(chain);
    const spent = this.spend(auth);
    return "status" in spent ? spent : this.pairings.revoke(auth.userId, pubkey, Date.now());
  }

  // ---- raw requests: WebSocket upgrades and SSE ----

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const chain = url.searchParams.get("chain");
    if (chain && (CHAINS as readonly string[]).includes(chain)) this.bind(chain as Chain);
    const addr = url.searchParams.get("addr") ?? "unknown";
    if (url.pathname === "/ws") return this.acceptWorker(addr, url.searchParams.get("host") ?? "");
    if (url.pathname === "/dashboard/events") return this.dashboardFeed.stream(addr);
    if (url.pathname === "/events") {
      const h = request.headers;
      const user = h.get("x-dispatch-viewer");
      const auth =
        user === null
          ? null
          : { userId: user, nonce: h.get("x-dispatch-viewer-nonce") ?? "", expiresAt: Number(h.get("x-dispatch-viewer-expires")) };
      const lastEventId = Number.parseInt(h.get("last-event-id") ?? "", 10);
      return this.events(url.searchParams.get("job") ?? "", { auth, addr }, Number.isNaN(lastEventId) ? null : lastEventId);
    }
    return new Response("not found", { status: 404 });
  }

  /** Accepts a worker socket, within the object's cap and the per-address caps. */
  private acceptWorker(addr: string, host: string): Response {
    const limits = this.settings().limits;
    const counts = this.life.sockets.counts(addr);
    const refuse = (status: number, error: string, message: string) =>
      Response.json({ error, message }, { status, headers: { "retry-after": "10" } });
    if (counts.total >= limits.maxSockets || this.ctx.getWebSockets().length >= limits.maxSockets) {
      return refuse(503, "rate_limited", "this coordinator is full; retry later");
    }
    if (counts.fromAddress >= limits.maxSocketsPerAddress) {
      return refuse(429, "too_many_connections", `at most ${limits.maxSocketsPerAddress} worker sockets per client address`);
    }
    if (counts.handshakesFromAddress >= LIMITS.maxUnregisteredPerAddress) {
      return refuse(
        429,
        "too_many_connections",
        `at most ${LIMITS.maxUnregisteredPerAddress} unregistered sockets per client address; register within ${LIMITS.unregisteredSocketSeconds} s`,
      );
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    const sid = crypto.randomUUID();
    const nonce = toHex(crypto.getRandomValues(new Uint8Array(32)));
    const now = Date.now();
    this.ctx.acceptWebSocket(server, [socketTag(sid)]);
    setAttachment(server, { v: 2, sid, nonce, connectedAt: now, host, addr, pubkey: null, verified: false });
    this.life.sockets.opened(sid, addr, now);
    server.send(JSON.stringify({ type: "challenge", nonce, chain: this.chain(), protocol: "dispatch/1" }));
    // The reaping deadline of this handshake may be the earliest one.
    this.ctx.waitUntil(this.life.scheduleAlarm());
    return new Response(null, { status: 101, webSocket: client });
  }

  private events(jobId: string, caller: Caller, lastEventId: number | null): Response {
    const spent = this.spend(caller.auth);
    if ("status" in spent) return Response.json(spent.error, { status: spent.status });
    const job = this.life.jobs.seekerJob(jobId);
    const denied = this.readDenied(job, spent.user);
    if (denied && !denied.ok) return Response.json(denied.error, { status: denied.status });
    if (!job) return Response.json({ error: "job_not_found", message: "Job not found" }, { status: 404 });
    const release = isTerminal(job) ? () => {} : this.listeners.hold(caller.addr);
    if (!release) {
      const refused = tooManyWaits(this.settings().limits.holdsPerAddress);
      return Response.json(refused.error, { status: 429, headers: refused.headers ?? {} });
    }
    const stream = this.listeners.openStream(job.id, statusEvent(job), isTerminal(job), release, lastEventId);
    return new Response(stream, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" },
    });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    try {
      if (await this.sessions.onMessage(ws, message)) {
        await this.life.scheduleAlarm();
        this.kickOutbox();
      }
    } catch (err) {
      console.error("webSocketMessage failed", err);
      try {
        ws.send(JSON.stringify({ type: "error", code: "INTERNAL", message: "the coordinator could not handle that message" }));
      } catch {
        // The socket is gone as well; its close handler releases its jobs.
      }
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    await this.dropSocket(ws);
    try {
      // Finish the close handshake the peer started.
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.dropSocket(ws);
  }

  private async dropSocket(ws: WebSocket): Promise<void> {
    const a = attachment(ws);
    if (a) this.life.socketGone(a.sid);
    await this.life.scheduleAlarm();
  }

  /**
   * Drains the outbox without holding up the caller: a commit or a completion answers at once,
   * and the settlement it queued runs beside it. The alarm is the backstop for anything left.
   */
  private kickOutbox(): void {
    // Nothing new queued: whatever else is due has its alarm.
    if (!this.life.outbox.takeQueued()) return;
    this.ctx.waitUntil(
      this.outbox
        .drain()
        .then(() => this.life.scheduleAlarm())
        .catch((err) => console.error("outbox drain failed", err)),
    );
  }

  override async alarm(): Promise<void> {
    // The platform just consumed the alarm; forget the cached time so the next one is always set.
    this.life.forgetAlarm();
    const now = Date.now();
    this.life.sweep(now);
    try {
      // Read its schedule from storage again: an operator (or a test) may have moved it.
      this.retention.forget();
      this.retention.run(now);
    } catch (err) {
      console.error("alarm: retention pass failed", err);
    }
    await this.outbox.drain();
    await this.life.scheduleAlarm();
  }
}
