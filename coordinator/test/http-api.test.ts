import { describe, expect, it } from "vitest";
import { OPERATIONS } from "../openapi.ts";
import { api, commit, json, taskBody } from "./support.ts";

describe("health and quote", () => {
  it("reports health per chain, with the payment mode", async () => {
    for (const [prefix, network] of [
      ["/monad", "eip155:10143"],
      ["/solana", "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"],
      ["", "eip155:10143"],
    ] as const) {
      const res = await api(`${prefix}/v1/health`);
      expect(res.status).toBe(200);
      const body = await json(res);
      expect(body).toMatchObject({ status: "ok", network, workers_online: 0, payments: { enabled: false, mode: "disabled" } });
    }
  });

  it("quotes the price table and resolves AUTO by job type", async () => {
    const cases = [
      ["LLM_INFER", "FAST", "$0.010", "FAST", "10000"],
      ["LLM_INFER", "CHEAP", "$0.005", "CHEAP", "5000"],
      ["TASK", "FAST", "$0.003", "FAST", "3000"],
      ["TASK", "CHEAP", "$0.001", "CHEAP", "1000"],
      ["LLM_INFER", "AUTO", "$0.010", "FAST", "10000"],
      ["TASK", "AUTO", "$0.001", "CHEAP", "1000"],
    ] as const;
    for (const [jobType, policy, price, resolved, amount] of cases) {
      const body = await json(await api(`/solana/v1/quote?job_type=${jobType}&policy=${policy}`));
      expect(body).toMatchObject({
        price,
        policy_resolved: resolved,
        endpoint: `/v1/jobs/commit/${resolved.toLowerCase()}`,
        network: "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
        payment: { enabled: false, accepts: [{ scheme: "exact", amount }] },
      });
      expect(Date.parse(String(body.expires_at))).toBeGreaterThan(Date.now());
    }
  });

  it("defaults the policy to AUTO", async () => {
    expect(await json(await api("/v1/quote?job_type=TASK"))).toMatchObject({ price: "$0.001", policy_resolved: "CHEAP" });
  });

  it("refuses unknown query values with 400 invalid_query, never guessing", async () => {
    for (const q of ["job_type=GPU", "job_type=TASK&policy=SLOW", "", "job_type=task"]) {
      const res = await api(`/v1/quote?${q}`);
      expect(res.status).toBe(400);
      expect((await json(res)).error).toBe("invalid_query");
    }
  });
});

describe("commit validation", () => {
  it("names the wrong field in a 400", async () => {
    const cases: [unknown, string, string | undefined][] = [
      ["{not json", "invalid_json", undefined],
      [[], "invalid_request", undefined],
      [taskBody({ job_type: "GPU" }), "invalid_request", "job_type"],
      [taskBody({ user_id: "" }), "invalid_request", "user_id"],
      [taskBody({ payload: { task_type: "translate", input: "x" } }), "invalid_request", "payload.task_type"],
      [taskBody({ payload: { task_type: "summarize" } }), "invalid_request", "payload.input"],
      [{ job_type: "LLM_INFER", user_id: "u", payload: { prompt: "hi", max_tokens: -1 } }, "invalid_request", "payload.max_tokens"],
      [{ job_type: "LLM_INFER", user_id: "u", payload: { prompt: "" } }, "invalid_request", "payload.prompt"],
      [taskBody({ privacy_class: "SECRET" }), "invalid_request", "privacy_class"],
      [taskBody({ payload: { job_type: "LLM_INFER", task_type: "summarize", input: "x" } }), "invalid_request", "payload.job_type"],
    ];
    for (const [body, code, field] of cases) {
      const res = await commit(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toBe(code);
      if (field) expect(res.body.field).toBe(field);
      expect(typeof res.body.message).toBe("string");
    }
  });

  it("refuses an unknown tier and an unknown chain with 404", async () => {
    expect((await commit(taskBody(), { tier: "turbo" as "fast" })).status).toBe(404);
    const res = await api("/ethereum/v1/health");
    expect(res.status).toBe(404);
    expect((await json(res)).error).toBe("unknown_chain");
  });

  it("refuses bodies over the size limit with 413", async () => {
    const res = await commit(taskBody({ payload: { task_type: "summarize", input: "x".repeat(300_000) } }));
    expect(res.status).toBe(413);
    expect(res.body.error).toBe("payload_too_large");
  });

  it("answers unknown jobs with 404 job_not_found", async () => {
    for (const id of ["nope", "00000000-0000-0000-0000-000000000000", "%00%ff"]) {
      const res = await api(`/v1/jobs/${id}`);
      expect(res.status).toBe(404);
      expect((await json(res)).error).toBe("job_not_found");
    }
  });
});

describe("idempotency", () => {
  it("returns the same job for the same Idempotency-Key and refuses reuse with another body", async () => {
    const headers = { "idempotency-key": "key-123" };
    const first = await commit(taskBody({}, "idem-user"), { headers });
    const again = await commit(taskBody({}, "idem-user"), { headers });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.job_id).toBe(first.body.job_id);
    const other = await commit(taskBody({ payload: { task_type: "classify", input: "different" } }, "idem-user"), { headers });
    expect(other.status).toBe(409);
    expect(other.body.error).toBe("idempotency_conflict");
    const otherTier = await commit(taskBody({}, "idem-user"), { headers, tier: "fast" });
    expect(otherTier.status).toBe(409);
    const noKey = await commit(taskBody({}, "idem-user"));
    expect(noKey.body.job_id).not.toBe(first.body.job_id);
  });

  it("bounds unfinished jobs per user", async () => {
    let last = { status: 0, body: {} as Record<string, unknown> };
    for (let i = 0; i < 65; i++) last = await commit(taskBody({}, "greedy-user"));
    expect(last.status).toBe(429);
    expect(last.body.error).toBe("too_many_pending_jobs");
  });
});

describe("openapi", () => {
  it("documents every route the app serves", async () => {
    const doc = await json<{ paths: Record<string, Record<string, unknown>> }>(await api("/monad/v1/openapi.json"));
    for (const op of OPERATIONS) expect(doc.paths[`/monad${op.path}`]?.[op.method], op.path).toBeDefined();
    const { createApp } = await import("../app.ts");
    const served = createApp()
      .routes.filter((r) => r.path.startsWith("/monad/v1/") || r.path.startsWith("/monad/api/"))
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`);
    const documented = OPERATIONS.map((op) => `${op.method} /monad${op.path.replace("{id}", "{id}")}`);
    for (const route of served) {
      const normalized = route.replace("{pubkey}", "{pubkey}").replace("{tier}", "{tier}");
      expect(documented, route).toContain(normalized);
    }
  });
});
