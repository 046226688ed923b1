import WebSocket from "ws";
import {
  buildReceipt,
  type CoordinatorMessage,
  type Ed25519KeyPair,
  generateKeyPair,
  type JobAssignMessage,
  registerSigningString,
  signMessage,
  signReceipt,
} from "../../protocol/index.ts";

export interface ScriptedWorker {
  key: Ed25519KeyPair;
  /** Job ids this worker was assigned, in order. */
  assigned: JobAssignMessage[];
  /** Claims a pairing code over the authenticated socket; resolves with the pairing's user. */
  claim(code: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * A signed-in worker speaking the real WebSocket protocol with fixed answers: TASK jobs get
 * `{summary: <first sentence>}`, LLM jobs stream the prompt back word by word. It lets SDK
 * integration tests run real jobs end to end without a model.
 */
export async function startScriptedWorker(chainUrl: string, opts: { tokenDelayMs?: number } = {}): Promise<ScriptedWorker> {
  const key = generateKeyPair();
  const ws = new WebSocket(`${chainUrl.replace(/^http/, "ws")}/v1/workers/ws`);
  const assigned: JobAssignMessage[] = [];
  const claims = new Map<string, (user: string) => void>();
  const failures = new Map<string, (err: Error) => void>();
  let pendingClaim: string | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;

  const send = (msg: object) => ws.send(JSON.stringify(msg));

  const registered = new Promise<void>((resolve, reject) => {
    ws.once("error", reject);
    ws.on("message", (raw) => {
      const msg = JSON.parse(String(raw)) as CoordinatorMessage;
      if (msg.type === "challenge") {
        send({
          type: "register",
          provider_pubkey: key.publicKey,
          provider_type: "DESKTOP",
          capabilities: ["LLM_INFER", "TASK"],
          signature: signMessage(
            registerSigningString({
              chain: new URL(chainUrl).pathname.includes("/solana") ? "solana" : "monad",
              host: new URL(chainUrl).host,
              nonce: msg.nonce,
            }),
            key.secretKey,
          ),
          agent: "sdk-test scripted worker",
        });
      } else if (msg.type === "register_ack") {
        // Heartbeats as a real worker sends them, so long tests never see it go stale.
        heartbeat = setInterval(() => send({ type: "heartbeat", provider_pubkey: key.publicKey }), msg.heartbeat_interval_ms);
        resolve();
      } else if (msg.type === "job_assign") {
        assigned.push(msg);
        void run(msg);
      } else if (msg.type === "trust_claim_ack" && pendingClaim) {
        claims.get(pendingClaim)?.(msg.user_id);
      } else if (msg.type === "error") {
        if (pendingClaim && ["INVALID_CODE", "ALREADY_CLAIMED", "EXPIRED"].includes(msg.code)) {
          failures.get(pendingClaim)?.(new Error(`${msg.code}: ${msg.message}`));
        } else if (msg.code === "AUTH_FAILED") reject(new Error(msg.message));
      }
    });
  });

  async function run(job: JobAssignMessage) {
    const payload = job.payload as { prompt?: string; input?: string };
    let output: unknown;
    if (job.job_type === "LLM_INFER") {
      const words = (payload.prompt ?? "").split(/(?=\s)/);
      // Give a seeker time to open its event stream before the first token.
      await new Promise((r) => setTimeout(r, opts.tokenDelayMs ?? 300));
      for (const [seq, text] of words.entries()) {
        send({ type: "job_progress", job_id: job.job_id, text, seq });
        await new Promise((r) => setTimeout(r, 10));
      }
      output = { text: payload.prompt ?? "" };
    } else {
      output = { summary: (payload.input ?? "").split(/(?<=\.)\s/)[0] };
    }
    const receipt = buildReceipt({ jobId: job.job_id, providerPubkey: key.publicKey, output, paymentRef: job.payment_ref });
    send({
      type: "job_complete",
      job_id: job.job_id,
      output,
      output_hash: receipt.output_hash,
      receipt,
      receipt_signature: signReceipt(receipt, key.secretKey),
    });
  }

  await registered;
  return {
    key,
    assigned,
    claim: (code) =>
      new Promise<string>((resolve, reject) => {
        pendingClaim = code;
        claims.set(code, resolve);
        failures.set(code, reject);
        send({ type: "trust_claim", pairing_code: code });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(heartbeat);
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once("close", () => resolve());
        ws.close(1000, "test done");
      }),
  };
}
