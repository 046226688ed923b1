import {
  ADDRESS_FORMAT,
  type Chain,
  isPayoutAddress,
  type JobProgressMessage,
  type JobType,
  LIMITS,
  type ModelsUpdateMessage,
  PROVIDER_CAPABILITIES,
  parseWorkerMessage,
  type RegisterMessage,
  registerSigningString,
  type TrustClaimMessage,
  verifyMessageAsync,
  type WorkerMessage,
} from "../protocol/index.ts";
import type { TrustLayer } from "./chain/trust-layer.ts";
import { Completions } from "./completions.ts";
import { workerRoutes } from "./job-routes.ts";
import type { Lifecycle } from "./lifecycle.ts";
import type { Listeners } from "./listeners.ts";
import { attachment, closeQuietly, type SocketAttachment, send, sendError, setAttachment } from "./sockets.ts";

export const HEARTBEAT_INTERVAL_MS = 10_000;

/** Close codes in the private range, so workers can tell why they were dropped. */
export const CLOSE = { authFailed: 4001, replaced: 4002, unverifiedRefused: 4003 } as const;

/** Handles frames from worker sockets. Never throws into `webSocketMessage`. */
export class WorkerSessions {
  private readonly life: Lifecycle;
  private readonly listeners: Listeners;
  private readonly chain: () => string;
  private readonly allowUnverified: () => boolean;
  private readonly trust: TrustLayer;
  private readonly completions: Completions;

  constructor(life: Lifecycle, listeners: Listeners, chain: () => string, allowUnverified: () => boolean, trust: TrustLayer) {
    this.life = life;
    this.listeners = listeners;
    this.chain = chain;
    this.allowUnverified = allowUnverified;
    this.trust = trust;
    this.completions = new Completions(life);
  }

  /**
   * Handles one frame. Returns whether it may have moved a deadline or queued outbox work, so
   * the caller can skip rescheduling for the frequent frames that never do (tokens, heartbeats).
   */
  async onMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<boolean> {
    const a = attachment(ws);
    if (!a) {
      closeQuietly(ws, 1011, "unknown socket");
      return false;
    }
    const parsed = parseWorkerMessage(raw);
    if (!parsed.ok) {
      sendError(ws, parsed.code, parsed.message);
      return false;
    }
    const msg: WorkerMessage = parsed.value;
    if (msg.type === "register") {
      await this.register(ws, a, msg);
      return true;
    }
    if (a.pubkey === null) {
      sendError(ws, "NOT_REGISTERED", "send `register` (answering the challenge) before anything else");
      return false;
    }
    // Tokens can arrive hundreds of times a second: they prove liveness no better than the
    // heartbeat does, so only the other frames pay for a write to `last_seen`.
    if (msg.type === "job_progress") {
      this.progress(ws, a, msg);
      return false;
    }
    const now = Date.now();
    this.life.workers.touch(a.sid, now);
    switch (msg.type) {
      case "heartbeat":
        send(ws, { type: "heartbeat_ack", status: "ok" });
        return false;
      case "job_complete":
        await this.completions.complete(ws, a, msg);
        return true;
      case "receipt_submit":
        await this.completions.receiptSubmit(ws, a, msg);
        return true;
      case "job_reject":
        this.completions.reject(ws, a, msg, now);
        return true;
      case "trust_claim":
        this.trustClaim(ws, a, msg, now);
        return true;
      case "models_update":
        this.modelsUpdate(a, msg, now);
        return false;
    }
  }

  private async register(ws: WebSocket, prior: SocketAttachment, msg: RegisterMessage): Promise<void> {
    let verified = false;
    if (msg.signature !== undefined) {
      const signed = registerSigningString({
        chain: this.chain(),
        host: prior.host,
        nonce: prior.nonce,
        payoutAddress: msg.payout_address,
      });
      if (!(await verifyMessageAsync(signed, msg.signature, msg.provider_pubkey))) {
        sendError(
          ws,
          "AUTH_FAILED",
          `the signature does not answer this connection's challenge for that key (dispatch-register-v2 over chain ${this.chain()}, host ${prior.host}, the nonce and the payout address)`,
        );
        closeQuietly(ws, CLOSE.authFailed, "auth failed");
        return;
      }
      verified = true;
    } else if (!this.allowUnverified()) {
      sendError(ws, "UNVERIFIED_NOT_ALLOWED", "this coordinator requires a signed register: answer the challenge nonce");
      closeQuietly(ws, CLOSE.unverifiedRefused, "unverified workers not allowed");
      return;
    } else if (this.life.workers.proven(msg.provider_pubkey)) {
      // Once a key has proven itself here, an unsigned claim to it is an impersonation: it would
      // pile failures on the real worker's record and reset its agent id while it is offline.
      sendError(ws, "AUTH_FAILED", "this key has registered with a signature before; sign the challenge to use it");
      closeQuietly(ws, CLOSE.authFailed, "proof required for this key");
      return;
    }
    // An ERC-8004 agent id is trusted only from a verified key whose agent publishes that key on-chain.
    let agentId: string | null = null;
    if (msg.agent_id !== undefined && verified) {
      const link = await this.trust.checkIdentity(msg.agent_id, msg.provider_pubkey);
      if (link === "not_linked") {
        sendError(
          ws,
          "AUTH_FAILED",
          `agent ${msg.agent_id} does not publish this key on-chain; link it with the worker's register-identity command`,
        );
        closeQuietly(ws, CLOSE.authFailed, "identity link refused");
        return;
      }
      if (link === "linked") agentId = msg.agent_id;
    }
    // Read again after the await: another frame on this socket may have registered meanwhile.
    const a = attachment(ws) ?? prior;
    const now = Date.now();
    if (a.pubkey !== null && a.pubkey !== msg.provider_pubkey) {
      sendError(ws, "PUBKEY_MISMATCH", "this socket is registered with another key; open a new connection");
      return;
    }
    const existing = this.life.workers.connectionByPubkey(msg.provider_pubkey);
    if (existing && existing.socket_id !== a.sid) {
      // An unproven claim to a key must not be able to knock its proven owner offline.
      if (existing.verified === 1 && !verified) {
        sendError(ws, "PUBKEY_MISMATCH", "that key is connected with a verified session; sign the challenge to replace it");
        closeQuietly(ws, CLOSE.authFailed, "key in use");
        return;
      }
      const old = this.life.socket(existing.socket_id);
      if (old) {
        sendError(old, "REPLACED", "this key registered again on a newer connection");
        closeQuietly(old, CLOSE.replaced, "replaced by a newer connection");
      }
      this.life.socketGone(existing.socket_id, now);
    }
    if (msg.payout_address !== undefined && !isPayoutAddress(this.chain(), msg.payout_address)) {
      sendError(
        ws,
        "INVALID_MESSAGE",
        `payout_address is not a ${this.chain()} address (${ADDRESS_FORMAT[this.chain() as Chain]?.what ?? "?"})`,
      );
      return;
    }
    const allowed = PROVIDER_CAPABILITIES[msg.provider_type];
    const capabilities = [...new Set(msg.capabilities.filter((c) => allowed.includes(c)))];
    const slots = Math.min(msg.slots ?? 1, LIMITS.maxWorkerSlots);
    const taskEngine = capabilities.includes("TASK") ? (msg.task_engine ?? null) : null;
    this.life.transaction(() => {
      this.life.workers.removeConnection(a.sid);
      this.life.workers.register({
        socketId: a.sid,
        pubkey: msg.provider_pubkey,
        providerType: msg.provider_type,
        capabilities,
        // Only a key that proved itself audits others: a verdict against a worker must rest on accountable keys.
        routes: workerRoutes(capabilities, msg.models, msg.loaded_models, verified ? taskEngine : null),
        verified,
        slots,
        agentId,
        addr: a.addr,
        // Reference workers attach their job handler only after their own start-up steps, so
        // an offer in the same breath as the ack would be dropped: give them the reference's 2 s.
        offerAfter: verified ? 0 : now + LIMITS.unverifiedFirstOfferMs,
        taskEngine,
        now,
      });
      this.life.workers.describe(a.sid, msg.agent ?? null);
      this.life.sockets.registered(a.sid);
      // Only a signed register names where earnings go: the signature covers the address.
      if (verified && msg.payout_address !== undefined) {
        this.life.workers.setPayoutAddress(msg.provider_pubkey, msg.payout_address);
        // Earnings may have waited for an address: let the transfer lane look.
        this.life.outbox.schedule("transfers", "lane", now);
      }
    });
    if (agentId) this.trust.onRegistered(msg.provider_pubkey, now);
    setAttachment(ws, { ...a, pubkey: msg.provider_pubkey, verified });
    send(ws, {
      type: "register_ack",
      status: "ok",
      worker_id: msg.provider_pubkey,
      verified,
      chain: this.chain(),
      privacy: verified ? ["PUBLIC", "PRIVATE"] : ["PUBLIC"],
      heartbeat_interval_ms: HEARTBEAT_INTERVAL_MS,
      accepts: ["models_update"],
    });
    this.life.fillWorkers([a.sid], now);
  }

  /** The worker pulled, loaded or unloaded a model: route by its new lists, and let it take what it now can. */
  private modelsUpdate(a: SocketAttachment, msg: ModelsUpdateMessage, now: number): void {
    const conn = this.life.workers.connection(a.sid);
    if (!conn) return;
    const capabilities = JSON.parse(conn.capabilities) as JobType[];
    const auditEngine = conn.verified === 1 ? conn.task_engine : null;
    this.life.workers.setRoutes(a.sid, workerRoutes(capabilities, msg.models, msg.loaded_models, auditEngine));
    this.life.fillWorkers([a.sid], now);
  }

  private progress(ws: WebSocket, a: SocketAttachment, msg: JobProgressMessage): void {
    const job = this.life.jobs.get(msg.job_id);
    if (job?.status !== "assigned" || job.worker_socket !== a.sid) {
      sendError(ws, "NOT_ASSIGNED", "progress for a job not assigned to this connection", msg.job_id);
      return;
    }
    this.listeners.emit({ type: "token", job_id: job.id, seq: msg.seq ?? 0, text: msg.text });
  }

  private trustClaim(ws: WebSocket, a: SocketAttachment, msg: TrustClaimMessage, now: number): void {
    if (!a.verified || a.pubkey === null) {
      sendError(ws, "AUTH_FAILED", "claim pairings over a verified session (sign the register challenge)");
      return;
    }
    const result = this.life.trust.claim(msg.pairing_code, a.pubkey, now);
    if (!result.ok) {
      const codes = {
        invalid_code: "INVALID_CODE",
        expired: "EXPIRED",
        already_claimed: "ALREADY_CLAIMED",
        too_many_pairings: "TOO_MANY_PAIRINGS",
      } as const;
      const code = codes[result.code];
      sendError(ws, code, `pairing code refused: ${result.code}`);
      return;
    }
    send(ws, { type: "trust_claim_ack", user_id: result.userId, paired_at: new Date(result.pairedAt).toISOString() });
    this.life.fillWorkers([a.sid], now);
  }
}
