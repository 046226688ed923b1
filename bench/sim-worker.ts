import WebSocket from "ws";
import { buildReceipt, type Ed25519KeyPair, generateKeyPair, registerSigningString, signMessage, signReceipt } from "../protocol/index.ts";

/**
 * A simulated worker for load tests: real WebSocket, real challenge-response, and a valid
 * signed receipt for every job, answered at once so the figures measure the coordinator.
 */
export class SimWorker {
  readonly key: Ed25519KeyPair = generateKeyPair();
  private ws: WebSocket | null = null;
  completed = 0;
  /** When false the worker takes jobs and never answers (deadline and failure tests). */
  answer = true;
  /** `error` frames received (code), for tests that expect a refusal. */
  readonly errors: string[] = [];

  /** Resolves on `register_ack`; rejects when the coordinator refuses the registration. */
  async connect(
    baseUrl: string,
    chain: string,
    type: "DESKTOP" | "SEEKER" = "DESKTOP",
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/${chain}/v1/workers/ws`);
    this.ws = ws;
    await new Promise<void>((resolve, reject) => {
      ws.once("error", reject);
      ws.once("close", (code) => reject(new Error(`closed (${code}) before register_ack: ${this.errors.join(", ")}`)));
      ws.on("message", (data) => {
        const msg = JSON.parse(data.toString()) as {
          type: string;
          nonce?: string;
          job_id?: string;
          code?: string;
          payment_ref?: string | null;
          payload?: { input?: string };
        };
        if (msg.type === "error") this.errors.push(String(msg.code));
        if (msg.type === "challenge") {
          ws.send(
            JSON.stringify({
              type: "register",
              provider_pubkey: this.key.publicKey,
              provider_type: type,
              capabilities: type === "DESKTOP" ? ["LLM_INFER", "TASK"] : ["TASK"],
              signature: signMessage(
                registerSigningString({ chain, host: new URL(baseUrl).host, nonce: msg.nonce ?? "" }),
                this.key.secretKey,
              ),
              ...extra,
            }),
          );
        } else if (msg.type === "register_ack") {
          resolve();
        } else if (msg.type === "job_assign" && msg.job_id && this.answer) {
          const output = { summary: (msg.payload?.input ?? "").slice(0, 40) };
          const receipt = buildReceipt({
            jobId: msg.job_id,
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
          this.completed++;
        }
      });
    });
  }

  close(): void {
    this.ws?.close();
  }
}
