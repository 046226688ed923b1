import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { api, closeAll, commit, TestWorker } from "./support.ts";

const workers: TestWorker[] = [];
afterEach(() => closeAll(workers));

// Values shaped like our messages, so the generator reaches deep into validation rather than
// stopping at "not an object" every time.
const jsonish = fc.jsonValue({ maxDepth: 3 });
const field = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null), jsonish);
const commitLike = fc.record(
  {
    job_type: fc.oneof(fc.constantFrom("TASK", "LLM_INFER"), field),
    user_id: field,
    privacy_class: fc.oneof(fc.constantFrom("PUBLIC", "PRIVATE"), field),
    payload: fc.oneof(
      fc.record(
        {
          task_type: fc.oneof(fc.constantFrom("summarize", "classify", "extract_json"), field),
          input: field,
          labels: field,
          schema: field,
        },
        { requiredKeys: [] },
      ),
      fc.record({ prompt: field, max_tokens: field, temperature: field }, { requiredKeys: [] }),
      field,
    ),
  },
  { requiredKeys: [] },
);
const frameLike = fc.record(
  {
    type: fc.oneof(fc.constantFrom("register", "heartbeat", "job_complete", "job_reject", "job_progress", "trust_claim"), field),
    provider_pubkey: fc.oneof(fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 64, maxLength: 64 }), field),
    provider_type: fc.oneof(fc.constantFrom("DESKTOP", "SEEKER"), field),
    capabilities: fc.oneof(fc.array(fc.constantFrom("TASK", "LLM_INFER")), field),
    job_id: field,
    output: jsonish,
    output_hash: field,
    receipt: fc.oneof(
      jsonish,
      fc.record({ job_id: field, provider_pubkey: field, output_hash: field, completed_at: field, payment_ref: field }),
    ),
    receipt_signature: field,
    text: field,
    pairing_code: field,
    signature: field,
  },
  { requiredKeys: [] },
);

describe("property: hostile input never causes a 500", () => {
  it("answers random commit bodies with 201 or a 4xx carrying a code", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          commitLike.map((b) => JSON.stringify(b)),
          fc.string({ maxLength: 200 }),
        ),
        fc.constantFrom("fast", "cheap"),
        async (body, tier) => {
          const res = await commit(body, { tier });
          expect(res.status === 201 || (res.status >= 400 && res.status < 500), `${res.status} for ${body}`).toBe(true);
          if (res.status !== 201) expect(typeof res.body.error).toBe("string");
        },
      ),
      { numRuns: 150 },
    );
  });

  it("answers random query strings and paths without a 500", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 60 }),
        fc.constantFrom("/v1/quote?", "/v1/jobs/", "/v1/receipts/", "/v1/trust/list?", "/solana/v1/jobs/"),
        async (s, prefix) => {
          const res = await api(`${prefix}${encodeURIComponent(s)}`);
          expect(res.status, `${prefix}${s}`).toBeLessThan(500);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("answers random frames without crashing the object", async () => {
    const w = new TestWorker();
    workers.push(w);
    await w.connect();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          frameLike.map((f) => JSON.stringify(f)),
          fc.string({ maxLength: 100 }),
        ),
        async (frame) => {
          w.send(frame);
        },
      ),
      { numRuns: 200 },
    );
    // Whatever those frames did, the object is alive and the socket (or a fresh one) is served.
    const probe = new TestWorker();
    workers.push(probe);
    await probe.connect();
    probe.send({ type: "heartbeat" });
    expect(await probe.next("heartbeat_ack")).toBeDefined();
    expect(w.inbox.filter((m) => m.type === "error" && m.code === "INTERNAL")).toEqual([]);
    expect((await api("/monad/v1/health")).status).toBe(200);
  });
});
