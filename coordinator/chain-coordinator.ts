import { DurableObject } from "cloudflare:workers";
import {
  CHAINS,
  type Chain,
  type CommitBody,
  type HealthResponse,
  type JobView,
  LIMITS,
  NETWORKS,
  priceMicroUsd,
  priceString,
  type Tier,
  toHex,
  verifyReceiptAsync,
  type WorkersResponse,
} from "../protocol/index.ts";
import { TrustLayer } from "./chain/trust-layer.ts";
import type { Env } from "./env.ts";
import { fail, type Outcome, ok } from "./errors.ts";
import { isTerminal, Lifecycle, statusEvent } from "./lifecycle.ts";
import { Listeners } from "./listeners.ts";
import { OutboxDrain } from "./outbox-drain.ts";
import { type Admitted, isOutcome, Payments } from "./payments/service.ts";
import { paymentResponseHeaders } from "./payments/x402.ts";
import { readSettings, type Settings } from "./settings.ts";
import { attachment, setAttachment, socketTag } from "./sockets.ts";
import { type JobRow, toJobView, wireStatus } from "./storage/job-store.ts";
import { migrate } from "./storage/schema.ts";
import { Sql } from "./storage/sql.ts";
import { WorkerSessions } from "./worker-session.ts";

/** Upper bound on sockets per chain object, so a flood of upgrades cannot exhaust it. */
const MAX_SOCKETS = 5_000;

export interface CommitInput {
  chain: Chain;
  tier: Tier;
  body: CommitBody;
  idempotencyKey: string | null;
  requestHash: string;
  /** The verified signer of the request, when it was signed. */
  signedUser: string | null;
  /** The `PAYMENT-SIGNATURE` header, when the seeker paid. */
  paymentHeader: string | null;
  resourceUrl: string;
}

export interface ReadInput {
  chain: Chain;
  jobId: string;
  viewer: string | null;
}

/**
 * One chain's coordinator: the worker pool (hibernatable sockets), all job state (SQLite) and
 * time (one alarm). The Hono app validates requests and calls the methods below over RPC.
 */
export class ChainCoordinator extends DurableObject<Env> {
  private readonly sql: Sql;
  private readonly listeners = new Listeners();
  private readonly life: Lifecycle;
  private readonly sessions: WorkerSessions;
  private readonly payments: Payments;
  private readonly outbox: OutboxDrain;
  private readonly trustLayer: TrustLayer;
  private chainName: Chain | null = null;
  private settingsCache: Settings | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = new Sql(ctx.storage.sql);
    this.life = new Lifecycle(ctx, this.sql, this.listeners, () => ({
      allowUnverifiedWorkers: this.settings().allowUnverifiedWorkers,
      settleAtAssignment: this.chain() === "solana",
    }));
    this.payments = new Payments(() => this.settings().payments, this.life.payments);
    this.trustLayer = new TrustLayer(this.life, this.sql, () => this.settings().onchain);
    this.life.hooks = {
      jobFinished: (job, success, outputHash, now) => this.trustLayer.onJobFinished(job, success, outputHash, now),
      deadlines: () => [this.trustLayer.nextBatchAt()],
    };
    this.outbox = new OutboxDrain(this.life, this.payments, this.trustLayer);
    this.sessions = new WorkerSessions(
      this.life,
      this.listeners,
      () => this.chain(),
      () => this.settings().allowUnverifiedWorkers,
      this.trustLayer,
    );
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
      outbox_pending: this.life.outbox.pendingCount(),
      allow_unverified_workers: settings.allowUnverifiedWorkers,
      onchain: settings.onchain
        ? { enabled: true, reputation_registry: settings.onchain.reputationRegistry, receipt_anchor: settings.onchain.receiptAnchor }
        : { enabled: false, reputation_registry: null, receipt_anchor: null },
    };
  }

  async workers(chain: Chain): Promise<WorkersResponse> {
    this.bind(chain);
    return { workers: this.life.workers.online() };
  }

  async commit(input: CommitInput): Promise<Outcome<Record<string, string>>> {
    this.bind(input.chain);
    const { body } = input;
    const now = Date.now();
    if (input.idempotencyKey !== null) {
      const existing = this.life.jobs.byIdempotencyKey(body.user_id, input.idempotencyKey);
      if (existing) {
        if (existing.request_hash !== input.requestHash) {
          return fail(409, "idempotency_conflict", "this Idempotency-Key was used with a different request; use a new key");
        }
        return this.commitOutcome(existing);
      }
    }
    if (body.privacy_class === "PRIVATE" && input.signedUser !== body.user_id) {
      return fail(401, "signature_required", "PRIVATE jobs must be signed by the user_id key");
    }
    if (this.life.jobs.activeCountForUser(body.user_id) >= LIMITS.maxPendingJobsPerUser) {
      return fail(
        429,
        "too_many_pending_jobs",
        `at most ${LIMITS.maxPendingJobsPerUser} unfinished jobs per user; wait for some to finish`,
      );
    }
    // PRIVATE work never waits for a trusted worker that is not even online: refuse before any payment.
    if (body.privacy_class === "PRIVATE" && !this.life.workers.trustedOnline(body.user_id)) {
      return this.commitOutcome(
        this.storeJob(input, now, { paymentState: "disabled", paymentRef: null, payer: null }, "no_trusted_worker"),
      );
    }
    const admitted = await this.payments.admit({
      chain: input.chain,
      tier: input.tier,
      jobType: body.job_type,
      header: input.paymentHeader,
      resourceUrl: input.resourceUrl,
      now,
    });
    if (isOutcome(admitted)) return admitted;
    const job = this.storeJob(input, Date.now(), admitted, null);
    if (job.status === "pending") this.life.pump(Date.now());
    await this.outbox.drain();
    await this.life.scheduleAlarm();
    return this.commitOutcome(this.life.jobs.get(job.id) ?? job);
  }

  private storeJob(input: CommitInput, now: number, admitted: Admitted, failWith: "no_trusted_worker" | null): JobRow {
    const { body } = input;
    const id = crypto.randomUUID();
    const job = this.life.transaction(() => {
      // A concurrent retry with the same key may have won while the payment was verified.
      const raced = input.idempotencyKey === null ? undefined : this.life.jobs.byIdempotencyKey(body.user_id, input.idempotencyKey);
      if (raced) {
        if (admitted.paymentRef) this.life.payments.release(admitted.paymentRef);
        return raced;
      }
      this.life.jobs.insert({
        id,
        jobType: body.job_type,
        tier: input.tier,
        privacyClass: body.privacy_class,
        userId: body.user_id,
        payload: body.payload,
        priceMicro: priceMicroUsd(input.tier, body.job_type),
        paymentState: admitted.paymentState,
        paymentRef: admitted.paymentRef,
        idempotencyKey: input.idempotencyKey,
        requestHash: input.requestHash,
        now,
        queueDeadline: now + LIMITS.queueDeadlineSeconds * 1000,
      });
      if (admitted.paymentRef) this.payments.attach(admitted.paymentRef, id, admitted.payer);
      if (failWith) this.life.jobs.fail(id, failWith, now);
      return this.life.jobs.get(id);
    });
    if (!job) throw new Error(`job ${id} vanished right after insert`);
    return job;
  }

  private commitOutcome(job: JobRow): Outcome<Record<string, string>> {
    if (job.reason === "no_trusted_worker") {
      return fail(422, "no_trusted_worker", "none of your trusted workers is online; pair one or try later", { job_id: job.id });
    }
    return ok(
      {
        job_id: job.id,
        status: wireStatus(job.status),
        price: priceString(job.policy, job.job_type),
        tier: job.policy,
      },
      201,
    );
  }

  async job(input: ReadInput & { waitMs: number }): Promise<Outcome<JobView>> {
    this.bind(input.chain);
    let job = this.life.jobs.get(input.jobId);
    const denied = this.readDenied(job, input.viewer);
    if (denied) return denied;
    if (job && input.waitMs > 0 && !isTerminal(job)) {
      await this.listeners.wait(job.id, input.waitMs);
      job = this.life.jobs.get(input.jobId);
    }
    if (!job) return fail(404, "job_not_found", "Job not found");
    const view = ok(toJobView(job, this.life.jobs.receipt(job.id), this.network()));
    if (job.payment_state === "settled" && job.payment_tx && job.payment_ref) {
      view.headers = paymentResponseHeaders(job.payment_tx, this.network(), this.life.payments.payer(job.payment_ref));
    }
    return view;
  }

  async receipt(input: ReadInput): Promise<Outcome<Record<string, unknown>>> {
    this.bind(input.chain);
    const job = this.life.jobs.get(input.jobId);
    const denied = this.readDenied(job, input.viewer);
    if (denied) return denied;
    const stored = job ? this.life.jobs.receipt(job.id) : undefined;
    if (!job || !stored || job.result === null) return fail(404, "not_found", "no receipt for this job yet; it has not completed");
    const receipt = {
      job_id: stored.job_id,
      provider_pubkey: stored.provider_pubkey,
      output_hash: stored.output_hash,
      completed_at: stored.completed_at,
      payment_ref: stored.payment_ref,
    };
    // Re-verified on every read against the stored output, so storage corruption cannot pass as verified.
    const output = job.status === "completed" ? (JSON.parse(job.result) as unknown) : undefined;
    const check =
      output === undefined ? { ok: false } : await verifyReceiptAsync({ receipt, signature: stored.signature, output, jobId: job.id });
    return ok({
      job_id: job.id,
      receipt,
      signature: stored.signature,
      verified: check.ok,
      output_hash: stored.output_hash,
      anchor: this.trustLayer.proof(job.id),
    });
  }

  private readDenied(job: JobRow | undefined, viewer: string | null): Outcome<never> | null {
    if (!job) return fail(404, "job_not_found", "Job not found");
    if (job.privacy_class !== "PRIVATE" || viewer === job.user_id) return null;
    if (viewer === null) return fail(401, "signature_required", "PRIVATE jobs are readable only by their owner: sign the request");
    return fail(403, "forbidden", "this PRIVATE job belongs to another user");
  }

  async trustCreate(chain: Chain, userId: string): Promise<Outcome<Record<string, string>>> {
    this.bind(chain);
    const now = Date.now();
    if (this.life.trust.createdInLastHour(userId, now) >= LIMITS.pairingCreatesPerHour) {
      return fail(429, "rate_limited", `at most ${LIMITS.pairingCreatesPerHour} pairing codes per hour; use one you have`);
    }
    const row = this.life.trust.create(userId, now);
    return ok({ pairing_code: row.pairing_code, expires_at: new Date(row.expires_at).toISOString() }, 201);
  }

  async trustClaim(chain: Chain, code: string, pubkey: string): Promise<Outcome<Record<string, string>>> {
    this.bind(chain);
    const now = Date.now();
    const result = this.life.trust.claim(code, pubkey, now);
    if (!result.ok) {
      const messages = {
        invalid_code: "no such pairing code; check it or ask the user for a new one",
        already_claimed: "this pairing code was already used; codes are single use",
        expired: "this pairing code has expired; ask the user for a new one",
      } as const;
      return fail(400, result.code, messages[result.code]);
    }
    this.life.pump(now);
    await this.life.scheduleAlarm();
    return ok({ user_id: result.userId, paired_at: new Date(result.pairedAt).toISOString() });
  }

  async trustList(chain: Chain, userId: string): Promise<{ providers: { provider_pubkey: string; paired_at: string }[] }> {
    this.bind(chain);
    return {
      providers: this.life.trust
        .list(userId)
        .map((p) => ({ provider_pubkey: p.provider_pubkey, paired_at: new Date(p.paired_at).toISOString() })),
    };
  }

  async trustRevoke(chain: Chain, userId: string, pubkey: string): Promise<Outcome<Record<string, unknown>>> {
    this.bind(chain);
    const n = this.life.trust.revoke(userId, pubkey, Date.now());
    if (n === 0) return fail(404, "not_found", "no active pairing with that provider");
    return ok({ revoked: true, provider_pubkey: pubkey });
  }

  // ---- raw requests: WebSocket upgrades and SSE ----

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const chain = url.searchParams.get("chain");
    if (chain && (CHAINS as readonly string[]).includes(chain)) this.bind(chain as Chain);
    if (url.pathname === "/ws") return this.acceptWorker();
    if (url.pathname === "/events") return this.events(url.searchParams.get("job") ?? "", request.headers.get("x-dispatch-viewer"));
    return new Response("not found", { status: 404 });
  }

  private acceptWorker(): Response {
    if (this.ctx.getWebSockets().length >= MAX_SOCKETS) {
      return Response.json({ error: "rate_limited", message: "this coordinator is full; retry later" }, { status: 503 });
    }
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    const sid = crypto.randomUUID();
    const nonce = toHex(crypto.getRandomValues(new Uint8Array(32)));
    this.ctx.acceptWebSocket(server, [socketTag(sid)]);
    setAttachment(server, { v: 1, sid, nonce, connectedAt: Date.now(), pubkey: null, verified: false });
    server.send(JSON.stringify({ type: "challenge", nonce, chain: this.chain(), protocol: "dispatch/1" }));
    return new Response(null, { status: 101, webSocket: client });
  }

  private events(jobId: string, viewer: string | null): Response {
    const job = this.life.jobs.get(jobId);
    const denied = this.readDenied(job, viewer);
    if (denied && !denied.ok) return Response.json(denied.error, { status: denied.status });
    if (!job) return Response.json({ error: "job_not_found", message: "Job not found" }, { status: 404 });
    const stream = this.listeners.openStream(job.id, statusEvent(job), isTerminal(job));
    return new Response(stream, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" },
    });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    try {
      if (await this.sessions.onMessage(ws, message)) {
        await this.outbox.drain();
        await this.life.scheduleAlarm();
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

  override async alarm(): Promise<void> {
    // The platform just consumed the alarm; forget the cached time so the next one is always set.
    this.life.forgetAlarm();
    this.life.sweep(Date.now());
    await this.outbox.drain();
    await this.life.scheduleAlarm();
  }
}
