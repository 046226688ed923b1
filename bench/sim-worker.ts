import WebSocket from "ws";
import {
  buildReceipt,
  type Ed25519KeyPair,
  generateKeyPair,
  HEARTBEAT_FRAME,
  registerSigningString,
  signMessage,
  signReceipt,
} from "../protocol/index.ts";

/**
 * How a simulated worker answers its jobs: `honest` at once with a valid receipt; the rest are
 * the hostile behaviours of the abuse benchmark: `reject` every job, report a `fault`, send
 * `poison` (output nested thousands deep), `stream` big tokens and never finish, stay `silent`;
 * `input` calls every job undoable (an input error, which fails it when no other worker could take it).
 */
export type Behaviour = "honest" | "reject" | "fault" | "input" | "poison" | "stream" | "silent";

interface Incoming {
  type: string;
  nonce?: string;
  job_id?: string;
  job_type?: string;
  code?: string;
  payment_ref?: string | null;
  payload?: { input?: string };
}

/**
 * A simulated worker for load tests: real WebSocket, real challenge-response, and a valid
 * signed receipt for every job, answered at once so the figures measure the coordinator.
 */
export class SimWorker {
  readonly key: Ed25519KeyPair;
  private ws: WebSocket | null = null;
  private streams: NodeJS.Timeout[] = [];
  completed = 0;
  /** When false the worker takes jobs and never answers (deadline and failure tests). */
  answer = true;
  behaviour: Behaviour = "honest";
  /** `error` frames received (code), for tests that expect a refusal. */
  readonly errors: string[] = [];
  /** When set, when each job's assign arrived and its answer left (performance.now()), by job id. */
  times: Map<string, { assigned: number; answered: number }> | null = null;
  /** Every other informational frame (payment_posted, feedback_posted, job_cancel), for tests. */
  readonly notices: Record<string, unknown>[] = [];

  constructor(opts: { key?: Ed25519KeyPair; behaviour?: Behaviour } = {}) {
    this.key = opts.key ?? generateKeyPair();
    this.behaviour = opts.behaviour ?? "honest";
  }

  /** Resolves on `register_ack`; rejects when the coordinator refuses the registration. */
  async connect(
    baseUrl: string,
    chain: string,
    type: "DESKTOP" | "SEEKER" = "DESKTOP",
    extra: Record<string, unknown> = {},
    opts: { localAddress?: string; signed?: boolean; payoutAddress?: string; headers?: Record<string, string> } = {},
  ): Promise<void> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/${chain}/v1/workers/ws`, {
      // The address the edge would report for this client (workerd alone sets no such header).
      ...(opts.localAddress !== undefined && { localAddress: opts.localAddress }),
      headers: { ...(opts.localAddress !== undefined && { "cf-connecting-ip": opts.localAddress }), ...opts.headers },
    });
    this.ws = ws;
    await new Promise<void>((resolve, reject) => {
      ws.once("error", reject);
      ws.once("close", (code) => reject(new Error(`closed (${code}) before register_ack: ${this.errors.join(", ")}`)));
      ws.on("message", (data) => {
        const msg = JSON.parse(data.toString()) as Incoming;
        if (msg.type === "error") this.errors.push(String(msg.code));
        if (msg.type === "payment_posted" || msg.type === "feedback_posted" || msg.type === "job_cancel") {
          this.notices.push(msg as unknown as Record<string, unknown>);
        }
        if (msg.type === "challenge") {
          const signature = signMessage(
            registerSigningString({ chain, host: new URL(baseUrl).host, nonce: msg.nonce ?? "", payoutAddress: opts.payoutAddress }),
            this.key.secretKey,
          );
          ws.send(
            JSON.stringify({
              type: "register",
              provider_pubkey: this.key.publicKey,
              provider_type: type,
              capabilities: type === "DESKTOP" ? ["LLM_INFER", "TASK"] : ["TASK"],
              ...(opts.signed !== false && { signature }),
              ...(opts.payoutAddress !== undefined && { payout_address: opts.payoutAddress }),
              ...extra,
            }),
          );
        } else if (msg.type === "register_ack") {
          resolve();
        } else if (msg.type === "job_assign" && msg.job_id && this.answer) {
          this.onJob(ws, msg);
        }
      });
    });
  }

  private onJob(ws: WebSocket, msg: Incoming): void {
    const jobId = msg.job_id ?? "";
    const assigned = performance.now();
    switch (this.behaviour) {
      case "silent":
        return;
      case "reject":
        ws.send(JSON.stringify({ type: "job_reject", job_id: jobId, reason: "never" }));
        return;
      case "stream": {
        const text = "t".repeat(16_000);
        let seq = 0;
        const timer = setInterval(() => {
          if (ws.readyState !== WebSocket.OPEN) return clearInterval(timer);
          ws.send(JSON.stringify({ type: "job_progress", job_id: jobId, text, seq: seq++ }));
        }, 20);
        this.streams.push(timer);
        return;
      }
      case "poison": {
        let deep: unknown = 1;
        for (let i = 0; i < 3000; i++) deep = [deep];
        this.complete(ws, msg, deep);
        return;
      }
      case "fault":
        this.complete(ws, msg, { error: "model crashed" });
        return;
      case "input":
        this.complete(ws, msg, { error: "this input cannot be processed", error_kind: "input" });
        return;
      case "honest":
        this.complete(ws, msg, { summary: (msg.payload?.input ?? "").slice(0, 40) });
        this.completed++;
        this.times?.set(jobId, { assigned, answered: performance.now() });
    }
  }

  private complete(ws: WebSocket, msg: Incoming, output: unknown): void {
    const receipt = buildReceipt({
      jobId: msg.job_id ?? "",
      providerPubkey: this.key.publicKey,
      output,
      paymentRef: msg.payment_ref ?? null,
    });
    ws.send(
      JSON.stringify({
        type: "job_complete",
        job_id: msg.job_id,
        output,
        output_hash: receipt.output_hash,
        receipt,
        receipt_signature: signReceipt(receipt, this.key.secretKey),
      }),
    );
  }

  /** Heartbeats as our workers send them (answered by the runtime without waking the object). */
  heartbeatEvery(ms: number): void {
    const timer = setInterval(() => {
      if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(HEARTBEAT_FRAME);
    }, ms);
    timer.unref();
    this.streams.push(timer);
  }

  close(): void {
    for (const t of this.streams) clearInterval(t);
    this.ws?.close();
  }
}
