import WebSocket from "ws";
import type {
  CoordinatorMessage,
  Ed25519KeyPair,
  ModelsUpdateMessage,
  RegisterAckMessage,
  RegisterMessage,
  WorkerMessage,
} from "../protocol/index.ts";
import { HEARTBEAT_FRAME, registerSigningString, signMessage } from "../protocol/index.ts";
import { Backoff } from "./backoff.ts";
import { MAX_COORDINATOR_FRAME_CHARS, parseCoordinatorMessage } from "./coordinator-messages.ts";
import type { Logger } from "./logger.ts";

/** What the worker says about itself at each (re)registration. */
export type Registration = Pick<
  RegisterMessage,
  "provider_type" | "capabilities" | "slots" | "agent" | "agent_id" | "payout_address" | "task_engine" | "models" | "loaded_models"
>;

export interface SessionHandlers {
  /** The coordinator accepted our registration (after every reconnect). */
  registered(ack: RegisterAckMessage): void;
  /** Job and trust traffic: everything but the handshake and heartbeats. */
  message(msg: CoordinatorMessage): void;
  /** The coordinator told us to stop (our key registered elsewhere); the session will not reconnect. */
  fatal(reason: string): void;
}

export interface SessionOptions {
  url: string;
  /** The chain this coordinator serves; the register signature names it, with the host we dialled. */
  chain: string;
  keys: Ed25519KeyPair;
  registration: () => Registration;
  handlers: SessionHandlers;
  log: Logger;
  /** Reference behaviour: give up on a register_ack after 10 s. */
  registerTimeoutMs?: number;
  /** A coordinator that sends no challenge (the reference) gets an unsigned register after this. */
  challengeTimeoutMs?: number;
  backoff?: { baseMs: number; capMs: number };
}

const MAX_FRAME_BYTES = MAX_COORDINATOR_FRAME_CHARS;

/**
 * One authenticated WebSocket session with the coordinator, kept alive forever: challenge,
 * signed register, heartbeats, and reconnection with capped jittered backoff.
 */
export class WorkerSession {
  readonly #opts: SessionOptions;
  readonly #backoff: Backoff;
  #ws: WebSocket | undefined;
  #registered = false;
  #stopped = false;
  #timers = new Set<NodeJS.Timeout>();
  #heartbeat: NodeJS.Timeout | undefined;
  #lastHeard = 0;
  #connects = 0;

  constructor(opts: SessionOptions) {
    this.#opts = opts;
    this.#backoff = new Backoff(opts.backoff ?? { baseMs: 500, capMs: 30_000 });
  }

  get registered(): boolean {
    return this.#registered;
  }

  start(): void {
    this.#connect();
  }

  /** Sends when registered; returns false otherwise (the caller keeps what must not be lost). */
  send(msg: WorkerMessage | ModelsUpdateMessage): boolean {
    if (!this.#registered || this.#ws?.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(JSON.stringify(msg));
    return true;
  }

  /** Stops reconnecting and closes the socket with a normal close handshake. */
  async close(): Promise<void> {
    this.#stopped = true;
    this.#clearTimers();
    const ws = this.#ws;
    if (ws === undefined || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2_000);
      ws.once("close", () => {
        clearTimeout(force);
        resolve();
      });
      ws.close(1000, "worker shutting down");
    });
  }

  #connect(): void {
    if (this.#stopped) return;
    const log = this.#opts.log;
    const attempt = ++this.#connects;
    log.debug("connecting", { url: this.#opts.url, attempt });
    const ws = new WebSocket(this.#opts.url, { maxPayload: MAX_FRAME_BYTES, handshakeTimeout: 10_000 });
    this.#ws = ws;
    let challengeTimer: NodeJS.Timeout | undefined;
    let registerTimer: NodeJS.Timeout | undefined;

    const register = (nonce: string | undefined): void => {
      if (challengeTimer) this.#clear(challengeTimer);
      const registration = this.#opts.registration();
      // Signed over the host we dialled, not anything the peer says: a relay cannot reuse it.
      const signed = (n: string) =>
        registerSigningString({
          chain: this.#opts.chain,
          host: new URL(this.#opts.url).host,
          nonce: n,
          payoutAddress: registration.payout_address,
        });
      const msg: RegisterMessage = {
        type: "register",
        provider_pubkey: this.#opts.keys.publicKey,
        ...registration,
        ...(nonce !== undefined && { signature: signMessage(signed(nonce), this.#opts.keys.secretKey) }),
      };
      ws.send(JSON.stringify(msg));
      // A late challenge can cause a second (signed) register: only the newest one is timed.
      if (registerTimer) this.#clear(registerTimer);
      registerTimer = this.#after(this.#opts.registerTimeoutMs ?? 10_000, () => {
        log.warn("no register_ack in time; reconnecting", { timeout_ms: this.#opts.registerTimeoutMs ?? 10_000 });
        ws.terminate();
      });
    };

    ws.on("open", () => {
      this.#lastHeard = Date.now();
      challengeTimer = this.#after(this.#opts.challengeTimeoutMs ?? 3_000, () => {
        log.warn("coordinator sent no challenge; registering unsigned (reference coordinator?)");
        register(undefined);
      });
    });

    ws.on("message", (data, isBinary) => {
      // A socket we already gave up on (say, a REPLACED notice racing our reconnect) speaks for nobody.
      if (this.#ws !== ws || isBinary) return;
      this.#lastHeard = Date.now();
      const parsed = parseCoordinatorMessage(data.toString());
      if (!parsed.ok) {
        if (parsed.ignored) log.debug("ignoring message", { reason: parsed.reason });
        else log.warn("malformed message from coordinator", { reason: parsed.reason });
        return;
      }
      const msg = parsed.message;
      switch (msg.type) {
        case "challenge":
          if (!this.#registered) register(msg.nonce);
          return;
        case "register_ack":
          if (registerTimer) this.#clear(registerTimer);
          this.#registered = true;
          this.#backoff.reset();
          this.#startHeartbeat(ws, msg.heartbeat_interval_ms);
          this.#opts.handlers.registered(msg);
          return;
        case "heartbeat_ack":
          return;
        case "error":
          if (msg.code === "REPLACED") {
            this.#stopped = true;
            this.#opts.handlers.fatal(`coordinator: ${msg.message || "another worker registered with this key"}`);
            return;
          }
          if (
            !this.#registered &&
            (msg.code === "AUTH_FAILED" || msg.code === "UNVERIFIED_NOT_ALLOWED" || msg.code === "PUBKEY_MISMATCH")
          ) {
            log.error("registration refused", { code: msg.code, message: msg.message });
          }
          this.#opts.handlers.message(msg);
          return;
        default:
          this.#opts.handlers.message(msg);
      }
    });

    ws.on("error", (err) => {
      log.debug("socket error", { error: err.message });
    });

    ws.on("close", (code, reason) => {
      if (challengeTimer) this.#clear(challengeTimer);
      if (registerTimer) this.#clear(registerTimer);
      const wasRegistered = this.#registered;
      if (this.#ws === ws) {
        this.#registered = false;
        this.#stopHeartbeat();
      }
      if (this.#stopped) return;
      const delay = this.#backoff.next();
      const fields = { code, reason: reason.toString() || undefined, retry_in_ms: delay };
      if (wasRegistered) log.warn("disconnected from coordinator", fields);
      else log.info("could not connect to coordinator", fields);
      this.#after(delay, () => this.#connect());
    });
  }

  #startHeartbeat(ws: WebSocket, intervalMs: number): void {
    this.#stopHeartbeat();
    this.#heartbeat = setInterval(() => {
      // Three silent intervals: the socket is dead even if TCP has not noticed yet.
      if (Date.now() - this.#lastHeard > intervalMs * 3) {
        this.#opts.log.warn("coordinator silent; reconnecting", { silent_ms: Date.now() - this.#lastHeard });
        ws.terminate();
        return;
      }
      // The exact frame the coordinator answers without waking its object (HEARTBEAT_FRAME).
      if (this.#registered && ws.readyState === WebSocket.OPEN) ws.send(HEARTBEAT_FRAME);
    }, intervalMs);
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #after(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
    return t;
  }

  #clear(t: NodeJS.Timeout): void {
    clearTimeout(t);
    this.#timers.delete(t);
  }

  #clearTimers(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#stopHeartbeat();
  }
}
