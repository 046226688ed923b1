import type { CoordinatorMessage, RegisterAckMessage, RegisterMessage, WorkerMessage } from "../protocol/index.ts";
import { HEARTBEAT_FRAME, registerSigningString } from "../protocol/index.ts";
import { Backoff } from "../worker-node/backoff.ts";
import { parseCoordinatorMessage } from "../worker-node/coordinator-messages.ts";
import type { DeviceKey } from "./device-key.ts";

/** What the page says about itself at each (re)registration. */
export type Registration = Omit<RegisterMessage, "type" | "provider_pubkey" | "signature">;

export type SocketState =
  | { kind: "connecting"; attempt: number }
  | { kind: "registered"; ack: RegisterAckMessage }
  | { kind: "waiting"; retryInMs: number; reason: string }
  | { kind: "stopped"; reason: string };

export interface SocketHandlers {
  state(state: SocketState): void;
  /** Job, trust and payment traffic: everything but the handshake and heartbeats. */
  message(msg: CoordinatorMessage): void;
}

export interface CoordinatorSocketOptions {
  /** ws(s)://host/{chain}/v1/workers/ws */
  url: string;
  chain: string;
  key: DeviceKey;
  registration: () => Registration;
  handlers: SocketHandlers;
  backoff?: { baseMs: number; capMs: number };
}

/** Errors after which reconnecting cannot help: the user must change something. */
const FATAL_CODES = new Set(["REPLACED", "AUTH_FAILED", "UNVERIFIED_NOT_ALLOWED", "PUBKEY_MISMATCH"]);
const REGISTER_TIMEOUT_MS = 10_000;

/**
 * The browser's session with the coordinator, the counterpart of worker-node's WorkerSession:
 * answer the challenge with a signed register (dispatch-register-v2 over chain, the host this
 * page dialled, the nonce and the payout address), heartbeat, and reconnect with capped,
 * jittered backoff until stopped.
 */
export class CoordinatorSocket {
  readonly #opts: CoordinatorSocketOptions;
  readonly #backoff: Backoff;
  #ws: WebSocket | undefined;
  #registered = false;
  #stopped = false;
  #connects = 0;
  #lastHeard = 0;
  #lastPing = 0;
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(opts: CoordinatorSocketOptions) {
    this.#opts = opts;
    this.#backoff = new Backoff(opts.backoff ?? { baseMs: 500, capMs: 30_000 });
  }

  get registered(): boolean {
    return this.#registered;
  }

  start(): void {
    this.#stopped = false;
    this.#connect();
  }

  /** Sends when registered; false otherwise (the caller keeps what must not be lost). */
  send(msg: WorkerMessage): boolean {
    if (!this.#registered || this.#ws?.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(JSON.stringify(msg));
    return true;
  }

  /** Stops reconnecting and closes with a normal close handshake; the coordinator re-queues anything still assigned. */
  stop(reason: string): void {
    this.#stopped = true;
    this.#clearTimers();
    this.#registered = false;
    const ws = this.#ws;
    this.#ws = undefined;
    if (ws !== undefined && ws.readyState <= WebSocket.OPEN) ws.close(1000, "worker stopping");
    this.#opts.handlers.state({ kind: "stopped", reason });
  }

  #connect(): void {
    if (this.#stopped) return;
    const attempt = ++this.#connects;
    this.#opts.handlers.state({ kind: "connecting", attempt });
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.#opts.url);
    } catch (err) {
      this.#retry(err instanceof Error ? err.message : String(err));
      return;
    }
    this.#ws = ws;
    let registerTimer: ReturnType<typeof setTimeout> | undefined;

    const register = async (nonce: string): Promise<void> => {
      const registration = this.#opts.registration();
      // Signed over the host this page dialled, never anything the peer says: a relay cannot reuse it.
      const signed = registerSigningString({
        chain: this.#opts.chain,
        host: new URL(this.#opts.url).host,
        nonce,
        payoutAddress: registration.payout_address,
      });
      const signature = await this.#opts.key.sign(signed);
      if (this.#ws !== ws || ws.readyState !== WebSocket.OPEN) return;
      const msg: RegisterMessage = { type: "register", provider_pubkey: this.#opts.key.publicKey, ...registration, signature };
      ws.send(JSON.stringify(msg));
    };

    ws.onopen = () => {
      this.#lastHeard = Date.now();
      // One deadline for the whole handshake, from the open: a coordinator that never challenges,
      // or never acknowledges, is left; a repeated challenge does not start a second timer.
      registerTimer = this.#after(REGISTER_TIMEOUT_MS, () => this.#abandon(ws, "no register_ack in time"));
    };
    ws.onmessage = (event) => {
      if (this.#ws !== ws || typeof event.data !== "string") return;
      this.#lastHeard = Date.now();
      const parsed = parseCoordinatorMessage(event.data);
      if (!parsed.ok) return;
      const msg = parsed.message;
      switch (msg.type) {
        case "challenge":
          if (!this.#registered)
            register(msg.nonce).catch((err: unknown) => this.#abandon(ws, `could not sign the register: ${String(err)}`));
          return;
        case "register_ack":
          if (registerTimer !== undefined) this.#clear(registerTimer);
          this.#registered = true;
          this.#backoff.reset();
          this.#startHeartbeat(ws, msg.heartbeat_interval_ms);
          this.#opts.handlers.state({ kind: "registered", ack: msg });
          return;
        case "heartbeat_ack":
          return;
        case "error":
          if (FATAL_CODES.has(msg.code) && (!this.#registered || msg.code === "REPLACED")) {
            this.#opts.handlers.message(msg);
            this.stop(`${msg.code}: ${msg.message}`);
            return;
          }
          this.#opts.handlers.message(msg);
          return;
        default:
          this.#opts.handlers.message(msg);
      }
    };
    ws.onclose = (event) => {
      if (registerTimer !== undefined) this.#clear(registerTimer);
      if (this.#ws !== ws) return;
      this.#registered = false;
      this.#stopHeartbeat();
      this.#retry(event.reason || `connection closed (${event.code})`);
    };
  }

  /**
   * Gives up on a connection that stopped answering. A dead link can take a browser minutes to
   * report as closed, so the socket is dropped at once and a new one dialled after the backoff.
   */
  #abandon(ws: WebSocket, reason: string): void {
    if (this.#ws !== ws) return;
    this.#ws = undefined;
    this.#registered = false;
    this.#stopHeartbeat();
    ws.close(4000, reason);
    this.#retry(reason);
  }

  #retry(reason: string): void {
    if (this.#stopped) return;
    const delay = this.#backoff.next();
    this.#opts.handlers.state({ kind: "waiting", retryInMs: delay, reason });
    this.#after(delay, () => this.#connect());
  }

  #startHeartbeat(ws: WebSocket, intervalMs: number): void {
    this.#stopHeartbeat();
    this.#lastPing = 0;
    this.#heartbeat = setInterval(() => {
      // Dead when the last heartbeat got no answer within two intervals (a phone that slept, a
      // network switch), even if the browser has not noticed. Judged from our own heartbeat, not
      // from the clock: a hidden tab's timers may fire only once a minute, and a late tick is
      // not a dead coordinator.
      const now = Date.now();
      if (this.#lastPing > 0 && this.#lastHeard < this.#lastPing && now - this.#lastPing > intervalMs * 2) {
        this.#abandon(ws, "coordinator silent");
        return;
      }
      if (this.#lastPing === 0 || this.#lastHeard >= this.#lastPing) this.#lastPing = now;
      // The exact frame the coordinator answers without waking its object, as the Node worker sends.
      if (this.#registered && ws.readyState === WebSocket.OPEN) ws.send(HEARTBEAT_FRAME);
    }, intervalMs);
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #after(ms: number, fn: () => void): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
    return t;
  }

  #clear(t: ReturnType<typeof setTimeout>): void {
    clearTimeout(t);
    this.#timers.delete(t);
  }

  #clearTimers(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#stopHeartbeat();
  }
}
