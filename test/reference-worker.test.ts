// A worker written the way existing Dispatch clients are (plain `ws`, no challenge answer,
// connecting to the bare chain URL) against the real coordinator under `wrangler dev`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { buildReceipt, generateKeyPair, signReceipt, signSeekerRequest } from "../protocol/index.ts";
import { type DevCoordinator, startCoordinator } from "../scripts/dev-coordinator.ts";

interface Assign {
  type: "job_assign";
  job_id: string;
  privacy_class: string;
  payload: { input?: string };
}

class ReferenceWorker {
  readonly key = generateKeyPair();
  readonly assigned: Assign[] = [];
  private ws!: WebSocket;

  async connect(baseUrl: string): Promise<void> {
    this.ws = new WebSocket(baseUrl.replace(/^http/, "ws"));
    await new Promise<void>((resolve, reject) => {
      this.ws.once("error", reject);
      this.ws.once("open", () =>
        this.ws.send(
          JSON.stringify({
            type: "register",
            provider_pubkey: this.key.publicKey,
            provider_type: "DESKTOP",
            capabilities: ["LLM_INFER", "TASK"],
          }),
        ),
      );
      this.ws.on("message", (data) => {
        const msg = JSON.parse(data.toString()) as { type: string; job_id?: string };
        if (msg.type === "register_ack") resolve();
        if (msg.type === "job_assign") this.answer(msg as unknown as Assign);
        // Unknown types (challenge, job_complete_ack) are ignored, as reference workers do.
      });
    });
    this.ws.send(JSON.stringify({ type: "heartbeat", provider_pubkey: this.key.publicKey, metrics: {} }));
  }

  private answer(job: Assign): void {
    this.assigned.push(job);
    const output = { summary: String(job.payload.input ?? "").split(".")[0] };
    const receipt = buildReceipt({ jobId: job.job_id, providerPubkey: this.key.publicKey, output });
    this.ws.send(
      JSON.stringify({
        type: "job_complete",
        job_id: job.job_id,
        output,
        output_hash: receipt.output_hash,
        receipt,
        receipt_signature: signReceipt(receipt, this.key.secretKey),
      }),
    );
  }

  close(): void {
    this.ws.close();
  }
}

let coordinator: DevCoordinator;
beforeAll(async () => {
  coordinator = await startCoordinator();
}, 60_000);
afterAll(async () => {
  await coordinator?.stop();
});

describe("reference worker against wrangler dev", () => {
  for (const chain of ["monad", "solana"] as const) {
    it(`completes PUBLIC jobs on ${chain} and never receives a PRIVATE one`, async () => {
      const base = `${coordinator.url}/${chain}`;
      const worker = new ReferenceWorker();
      await worker.connect(base);
      try {
        const ids: string[] = [];
        for (const input of ["First job. It has two sentences.", "Second job. Also two."]) {
          const res = await fetch(`${base}/v1/jobs/commit/cheap`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ job_type: "TASK", user_id: "reference-seeker", payload: { task_type: "summarize", input } }),
          });
          expect(res.status).toBe(201);
          ids.push(((await res.json()) as { job_id: string }).job_id);
        }
        for (const [i, id] of ids.entries()) {
          const job = (await (await fetch(`${base}/v1/jobs/${id}?wait=10`)).json()) as Record<string, unknown>;
          expect(job).toMatchObject({ status: "completed", result: { summary: i === 0 ? "First job" : "Second job" } });
          expect(job.receipt).toMatchObject({ provider_pubkey: worker.key.publicKey, verified: true });
        }

        // Even when paired through the reference HTTP claim, an unverified socket gets no PRIVATE work.
        const user = generateKeyPair();
        const sign = (method: string, path: string, body: string) =>
          signSeekerRequest({
            chain,
            method,
            url: `${coordinator.url}${path}`,
            body,
            secretKey: user.secretKey,
            publicKey: user.publicKey,
          });
        const createBody = JSON.stringify({ user_id: user.publicKey });
        const created = await fetch(`${base}/v1/trust/create`, {
          method: "POST",
          body: createBody,
          headers: sign("POST", `/${chain}/v1/trust/create`, createBody),
        });
        const { pairing_code } = (await created.json()) as { pairing_code: string };
        const claimed = await fetch(`${base}/v1/trust/claim`, {
          method: "POST",
          body: JSON.stringify({ pairing_code, provider_pubkey: worker.key.publicKey }),
        });
        expect(claimed.status).toBe(200);
        const privateBody = JSON.stringify({
          job_type: "TASK",
          user_id: user.publicKey,
          privacy_class: "PRIVATE",
          payload: { task_type: "classify", input: "secret" },
        });
        const privateRes = await fetch(`${base}/v1/jobs/commit/cheap`, {
          method: "POST",
          body: privateBody,
          headers: sign("POST", `/${chain}/v1/jobs/commit/cheap`, privateBody),
        });
        expect(privateRes.status).toBe(422);
        expect(await privateRes.json()).toMatchObject({ error: "no_trusted_worker" });
        await new Promise((r) => setTimeout(r, 300));
        expect(worker.assigned.map((a) => a.privacy_class)).toEqual(["PUBLIC", "PUBLIC"]);
      } finally {
        worker.close();
      }
    });
  }
});
