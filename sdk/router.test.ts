import { describe, expect, it } from "vitest";
import { generateKeyPair, LIMITS, verifySeekerRequest } from "../protocol/index.ts";
import { DispatchError } from "./errors.ts";
import { ComputeRouter } from "./router.ts";
import {
  completedJob,
  failedJob,
  json,
  MONAD,
  paymentRequiredHeader,
  pendingJob,
  type RecordedRequest,
  SOLANA,
  scriptedFetch,
  sse,
  workerKey,
} from "./test-support/builders.ts";

const summary = { summary: "Short." };

/** A coordinator that commits `job-1` and serves `view` for it. */
function coordinatorServing(view: ReturnType<typeof completedJob>) {
  return scriptedFetch((req) => {
    if (req.method === "POST") return json({ job_id: view.id }, 201);
    if (req.url.pathname.endsWith(`/v1/jobs/${view.id}`)) return json(view);
    return json({ error: "not_found", message: "no route" }, 404);
  });
}

async function failure(promise: Promise<unknown>): Promise<DispatchError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof DispatchError) return err;
    throw err;
  }
  throw new Error("expected the call to fail");
}

function signedBy(req: RecordedRequest, path = req.url.pathname + req.url.search) {
  return verifySeekerRequest({
    chain: req.url.pathname.startsWith("/solana") ? "solana" : "monad",
    host: req.url.host,
    method: req.method,
    path,
    body: req.body,
    headers: req.headers,
    nowSeconds: Math.floor(Date.now() / 1000),
    skewSeconds: LIMITS.signatureSkewSeconds,
  });
}

describe("ComputeRouter.runTask", () => {
  it("returns the verified output and says which route served it", async () => {
    const { fetch, requests } = coordinatorServing(completedJob("job-1", summary));
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    const result = await router.runTask({ task_type: "summarize", input: "A long text. With sentences." });
    expect(result.route).toBe("dispatch:monad");
    expect(result.output).toEqual(summary);
    expect(result.receipt?.provider_pubkey).toBe(workerKey.publicKey);
    const commit = requests[0];
    expect(commit?.url.pathname).toBe("/monad/v1/jobs/commit/cheap");
    expect(JSON.parse(commit?.body ?? "")).toMatchObject({
      job_type: "TASK",
      privacy_class: "PUBLIC",
      payload: { task_type: "summarize", job_type: "TASK" },
    });
    expect(commit?.headers.get("idempotency-key")).toMatch(/^[0-9a-f-]{36}$/);
    // Long-polls rather than spinning.
    expect(Number(requests[1]?.url.searchParams.get("wait"))).toBeGreaterThan(0);
  });

  it("asks the commit to wait and takes a finished job from it, in one request", async () => {
    const view = completedJob("job-1", summary);
    const { fetch, requests } = scriptedFetch((req) => (req.method === "POST" ? json(view, 200) : json({ error: "not_found" }, 404)));
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    const result = await router.runTask({ task_type: "summarize", input: "A long text." });
    expect(result.output).toEqual(summary);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.url.searchParams.get("wait")).toBe("30");
  });

  it("still verifies the receipt of a job the commit returned finished", async () => {
    const view = completedJob("job-1", summary);
    const { fetch } = scriptedFetch(() => json({ ...view, result: { summary: "Tampered." } }, 200));
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    expect((await failure(router.runTask({ task_type: "summarize", input: "text" }))).code).toBe("invalid_receipt");
  });

  it("long-polls after a commit that answered 202 (still running when its wait ended)", async () => {
    const { fetch, requests } = scriptedFetch((req) => {
      if (req.method === "POST") return json({ job_id: "job-1", status: "assigned" }, 202);
      return json(completedJob("job-1", summary));
    });
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    expect((await router.runTask({ task_type: "summarize", input: "text" })).output).toEqual(summary);
    expect(requests.map((r) => `${r.method} ${r.url.pathname}`)).toEqual(["POST /monad/v1/jobs/commit/cheap", "GET /monad/v1/jobs/job-1"]);
  });

  it("rejects a result whose output was changed after signing", async () => {
    const view = completedJob("job-1", summary);
    const { fetch } = coordinatorServing({ ...view, result: { summary: "Something else." } });
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    const err = await failure(router.runTask({ task_type: "summarize", input: "text" }));
    expect(err.code).toBe("invalid_receipt");
    expect(err.message).toMatch(/output/);
  });

  it("rejects a receipt signed by a key other than the worker it names", async () => {
    const impostor = generateKeyPair();
    const { fetch } = coordinatorServing(completedJob("job-1", summary, { signWith: impostor.secretKey }));
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    const err = await failure(router.runTask({ task_type: "summarize", input: "text" }));
    expect(err.code).toBe("invalid_receipt");
    expect(err.message).toMatch(/signature/);
  });

  it("rejects a validly signed receipt for another job", async () => {
    const { fetch } = coordinatorServing(completedJob("job-1", summary, { receipt: { job_id: "job-0" } }));
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    const err = await failure(router.runTask({ task_type: "summarize", input: "text" }));
    expect(err.code).toBe("invalid_receipt");
    expect(err.message).toMatch(/another job/);
  });

  it("rejects a completed job that carries no receipt, even if the coordinator calls it verified", async () => {
    const { fetch } = coordinatorServing({ ...completedJob("job-1", summary), receipt: null });
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    expect((await failure(router.runTask({ task_type: "summarize", input: "text" }))).code).toBe("invalid_receipt");
  });

  it("reports a failed job with its reason as the error code", async () => {
    const { fetch } = coordinatorServing(failedJob("job-1", "worker_timeout"));
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    const err = await failure(router.runTask({ task_type: "classify", input: "I love it" }));
    expect(err.code).toBe("worker_timeout");
    expect(err.jobId).toBe("job-1");
  });

  it("passes on the worker's own explanation of a failed task", async () => {
    const { fetch } = coordinatorServing(failedJob("job-1", "worker_error", { result: { error: "labels must be distinct" } }));
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    const err = await failure(router.runTask({ task_type: "classify", input: "x", labels: ["a", "b"] }));
    expect(err.code).toBe("worker_error");
    expect(err.message).toMatch(/labels must be distinct/);
  });

  it("times out after the per-type deadline and names the job to wait on", async () => {
    const { fetch } = scriptedFetch(async (req) => {
      if (req.method === "POST") return json({ job_id: "slow" }, 201);
      await new Promise((r) => setTimeout(r, 20));
      return json(pendingJob("slow"));
    });
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch, timeouts: { TASK: 300 } });
    const started = Date.now();
    const err = await failure(router.runTask({ task_type: "summarize", input: "text" }));
    expect(err.code).toBe("timeout");
    expect(err.jobId).toBe("slow");
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("checks the payload before sending anything", async () => {
    const { fetch, requests } = scriptedFetch(() => json({}, 500));
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    const err = await failure(router.runTask({ task_type: "classify", input: "x", labels: ["only-one"] }));
    expect(err.code).toBe("invalid_request");
    expect(err.field).toBe("payload.labels");
    expect(requests).toHaveLength(0);
  });

  it("keeps the coordinator's error code, status and field", async () => {
    const { fetch } = scriptedFetch(() =>
      json({ error: "too_many_pending_jobs", message: "wait for some to finish", field: "user_id" }, 429),
    );
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    const err = await failure(router.runTask({ task_type: "summarize", input: "text" }));
    expect(err).toMatchObject({ code: "too_many_pending_jobs", status: 429, field: "user_id" });
    expect(err.message).toMatch(/wait for some to finish/);
  });

  it("tries the next chain when the first has no eligible worker", async () => {
    const { fetch, requests } = scriptedFetch((req) => {
      const chain = req.url.pathname.split("/")[1];
      if (req.method === "POST") return json({ job_id: `${chain}-job` }, 201);
      return json(chain === "monad" ? failedJob("monad-job", "no_eligible_worker") : completedJob("solana-job", summary));
    });
    const router = new ComputeRouter({ coordinators: { monad: MONAD, solana: SOLANA }, chainPreference: ["monad", "solana"], fetch });
    const result = await router.runTask({ task_type: "summarize", input: "text" });
    expect(result.route).toBe("dispatch:solana");
    expect(requests.filter((r) => r.method === "POST").map((r) => r.url.pathname.split("/")[1])).toEqual(["monad", "solana"]);
  });
});

describe("payments", () => {
  const paymentRequired = () => json({ error: "payment_required", message: "pay" }, 402, { "PAYMENT-REQUIRED": paymentRequiredHeader() });

  it("pays a 402 once and retries with the same Idempotency-Key and payment after a network failure", async () => {
    let posts = 0;
    const { fetch, requests } = scriptedFetch((req) => {
      if (req.method === "POST") {
        posts++;
        if (posts === 1) return paymentRequired();
        if (posts === 2) throw new TypeError("fetch failed: connection reset");
        return json({ job_id: "paid-job" }, 201);
      }
      return json(completedJob("paid-job", summary));
    });
    let payments = 0;
    const x402Client = {
      async createPaymentHeaders(res: Response) {
        payments++;
        expect(res.headers.get("PAYMENT-REQUIRED")).toBeTruthy();
        return { "PAYMENT-SIGNATURE": `signed-${payments}` };
      },
    };
    const progress: string[] = [];
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch, x402Client });
    const result = await router.runTask({ task_type: "summarize", input: "text", onProgress: (e) => progress.push(e.type) });
    expect(result.job_id).toBe("paid-job");
    expect(payments).toBe(1);
    const commits = requests.filter((r) => r.method === "POST");
    expect(commits).toHaveLength(3);
    expect(new Set(commits.map((r) => r.headers.get("idempotency-key"))).size).toBe(1);
    expect(commits.map((r) => r.headers.get("payment-signature"))).toEqual([null, "signed-1", "signed-1"]);
    expect(progress).toContain("paying");
  });

  it("never pays twice when the paid retry is refused", async () => {
    const { fetch } = scriptedFetch(() => paymentRequired());
    let payments = 0;
    const router = new ComputeRouter({
      coordinators: { monad: MONAD },
      fetch,
      x402Client: { createPaymentHeaders: async () => ({ "PAYMENT-SIGNATURE": `p${++payments}` }) },
    });
    const err = await failure(router.runTask({ task_type: "summarize", input: "text" }));
    expect(err.code).toBe("payment_failed");
    expect(payments).toBe(1);
  });

  it("does not fall back to another chain once a payment was sent", async () => {
    const { fetch, requests } = scriptedFetch((req) => {
      if (req.method === "POST") {
        return req.headers.get("payment-signature") ? json({ job_id: "j" }, 201) : paymentRequired();
      }
      return json(failedJob("j", "no_eligible_worker"));
    });
    const router = new ComputeRouter({
      coordinators: { monad: MONAD, solana: SOLANA },
      fetch,
      x402Client: { createPaymentHeaders: async () => ({ "PAYMENT-SIGNATURE": "p" }) },
    });
    const err = await failure(router.runTask({ task_type: "summarize", input: "text" }));
    expect(err.code).toBe("no_eligible_worker");
    expect(requests.some((r) => r.url.pathname.startsWith("/solana"))).toBe(false);
  });

  it("explains a 402 when no x402 client is configured", async () => {
    const { fetch } = scriptedFetch(() => paymentRequired());
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    const err = await failure(router.runTask({ task_type: "summarize", input: "text" }));
    expect(err).toMatchObject({ code: "payment_required", status: 402 });
    expect(err.message).toMatch(/x402Client/);
  });
});

describe("signed requests", () => {
  const identity = generateKeyPair();

  it("signs PRIVATE commits and reads as the identity, over the full path with query", async () => {
    const { fetch, requests } = coordinatorServing(completedJob("job-1", summary, { view: { privacy_class: "PRIVATE" } }));
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch, identity });
    await router.runTask({ task_type: "summarize", input: "secret text", privacy: "PRIVATE" });
    const [commit, read] = requests;
    expect(JSON.parse(commit?.body ?? "")).toMatchObject({ user_id: identity.publicKey, privacy_class: "PRIVATE" });
    expect(signedBy(commit as RecordedRequest)).toMatchObject({ ok: true, userId: identity.publicKey });
    expect(read?.url.search).toMatch(/wait=/);
    expect(signedBy(read as RecordedRequest)).toMatchObject({ ok: true, userId: identity.publicKey });
    // The signature covers the chain prefix: the same request under another path must not verify.
    expect(signedBy(read as RecordedRequest, read?.url.pathname ?? "").ok).toBe(false);
  });

  it("refuses a PRIVATE job without an identity before sending anything", async () => {
    const { fetch, requests } = scriptedFetch(() => json({}, 500));
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    const err = await failure(router.runTask({ task_type: "summarize", input: "text", privacy: "PRIVATE" }));
    expect(err.code).toBe("identity_required");
    expect(requests).toHaveLength(0);
  });

  it("surfaces no_trusted_worker for a PRIVATE job and does not try another chain", async () => {
    const { fetch, requests } = scriptedFetch(() =>
      json({ error: "no_trusted_worker", message: "pair a worker first", job_id: "p-1" }, 422),
    );
    const router = new ComputeRouter({ coordinators: { monad: MONAD, solana: SOLANA }, fetch, identity });
    const err = await failure(router.runTask({ task_type: "summarize", input: "text", privacy: "PRIVATE" }));
    expect(err).toMatchObject({ code: "no_trusted_worker", status: 422, jobId: "p-1" });
    expect(requests).toHaveLength(1);
  });

  it("creates, lists and revokes trust pairings with signed requests", async () => {
    const provider = generateKeyPair().publicKey;
    const { fetch, requests } = scriptedFetch((req) => {
      if (req.url.pathname.endsWith("/create")) return json({ pairing_code: "ABCDEFGH12", expires_at: "2030-01-01T00:00:00Z" }, 201);
      if (req.url.pathname.endsWith("/list"))
        return json({ providers: [{ provider_pubkey: provider, paired_at: "2030-01-01T00:00:00Z" }] });
      return json({ revoked: true });
    });
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch, identity });
    expect((await router.trust.create()).pairing_code).toBe("ABCDEFGH12");
    expect((await router.trust.list()).providers[0]?.provider_pubkey).toBe(provider);
    await router.trust.revoke(provider);
    expect(requests.map((r) => `${r.method} ${r.url.pathname}`)).toEqual([
      "POST /monad/v1/trust/create",
      "GET /monad/v1/trust/list",
      `DELETE /monad/v1/trust/${provider}`,
    ]);
    expect(requests[1]?.url.searchParams.get("user_id")).toBe(identity.publicKey);
    for (const req of requests) expect(signedBy(req)).toMatchObject({ ok: true, userId: identity.publicKey });
  });
});

describe("streaming", () => {
  it("hands streamed tokens to onToken and still verifies the final receipt", async () => {
    const output = { text: "Once upon a time" };
    const { fetch } = scriptedFetch((req) => {
      if (req.method === "POST") return json({ job_id: "llm-1" }, 201);
      if (req.url.pathname.endsWith("/events")) {
        return sse([
          { event: "status", data: { type: "status", job_id: "llm-1", stage: "assigned", status: "pending", reason: null } },
          { event: "token", data: { type: "token", job_id: "llm-1", seq: 0, text: "Once upon" } },
          { event: "token", data: { type: "token", job_id: "llm-1", seq: 1, text: " a time" } },
          { event: "status", data: { type: "status", job_id: "llm-1", stage: "completed", status: "completed", reason: null } },
        ]);
      }
      return json(completedJob("llm-1", output, { view: { job_type: "LLM_INFER", policy: "FAST" } }));
    });
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    const tokens: string[] = [];
    const result = await router.runLLM({ prompt: "Tell a story", onToken: (t) => tokens.push(t) });
    expect(tokens).toEqual(["Once upon", " a time"]);
    expect(result.text).toBe("Once upon a time");
    expect(result.route).toBe("dispatch:monad");
  });

  it("falls back to long-polling when the coordinator has no event stream", async () => {
    const { fetch, requests } = scriptedFetch((req) => {
      if (req.method === "POST") return json({ job_id: "llm-2" }, 201);
      if (req.url.pathname.endsWith("/events")) return json({ error: "not_found", message: "no" }, 404);
      return json(completedJob("llm-2", "plain text answer"));
    });
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    const result = await router.runLLM({ prompt: "hi", onToken: () => {} });
    expect(result.text).toBe("plain text answer");
    expect(requests.at(-1)?.url.searchParams.get("wait")).not.toBeNull();
  });

  it("stream() yields status and token events and ends at the terminal status", async () => {
    const { fetch } = scriptedFetch(() =>
      sse([
        { event: "token", data: { type: "token", job_id: "s", seq: 0, text: "a" } },
        { event: "status", data: { type: "status", job_id: "s", stage: "failed", status: "failed", reason: "worker_error" } },
        { event: "token", data: { type: "token", job_id: "s", seq: 1, text: "never seen" } },
      ]),
    );
    const router = new ComputeRouter({ coordinators: { monad: MONAD }, fetch });
    const seen = [];
    for await (const event of router.stream("s")) seen.push(event.type === "token" ? event.text : event.status);
    expect(seen).toEqual(["a", "failed"]);
  });
});
