import { afterEach, describe, expect, it } from "vitest";
import { generateKeyPair } from "../../protocol/index.ts";
import { api, closeAll, commit, connectWorker, getJob, json, signed, signHeaders, sqlIn, type TestWorker, taskBody } from "./support.ts";

const workers: TestWorker[] = [];
afterEach(() => closeAll(workers));

const worker = (opts: ConstructorParameters<typeof TestWorker>[0] = {}) => connectWorker(workers, opts);

async function pairingCode(user: ReturnType<typeof generateKeyPair>, chain = "monad"): Promise<string> {
  const res = await signed(user, "POST", `/${chain}/v1/trust/create`, { user_id: user.publicKey });
  expect(res.status).toBe(201);
  const body = await json<{ pairing_code: string; expires_at: string }>(res);
  expect(body.pairing_code).toMatch(/^[0-9A-HJKMNP-TV-Z]{10}$/);
  return body.pairing_code;
}

/** Pairs a connected worker with `user` over the worker's authenticated socket. */
async function pair(user: ReturnType<typeof generateKeyPair>, w: TestWorker): Promise<void> {
  w.send({ type: "trust_claim", pairing_code: await pairingCode(user) });
  expect(await w.next("trust_claim_ack")).toMatchObject({ user_id: user.publicKey });
}

async function commitPrivate(user: ReturnType<typeof generateKeyPair>, extra: Record<string, unknown> = {}) {
  const body = taskBody({ privacy_class: "PRIVATE", ...extra }, user.publicKey);
  const path = "/monad/v1/jobs/commit/cheap";
  const text = JSON.stringify(body);
  return commit(text, { headers: signHeaders(user, "POST", path, text) });
}

describe("PRIVATE jobs", () => {
  it("refuses an unsigned PRIVATE commit with 401", async () => {
    const user = generateKeyPair();
    const res = await commit(taskBody({ privacy_class: "PRIVATE" }, user.publicKey));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe("signature_required");
  });

  it("refuses a PRIVATE commit signed by another key, or over another body", async () => {
    const user = generateKeyPair();
    const other = generateKeyPair();
    const body = JSON.stringify(taskBody({ privacy_class: "PRIVATE" }, user.publicKey));
    const path = "/monad/v1/jobs/commit/cheap";
    expect((await commit(body, { headers: signHeaders(other, "POST", path, body) })).status).toBe(403);
    expect((await commit(body, { headers: signHeaders(user, "POST", path, `${body} `) })).body.error).toBe("invalid_signature");
    const stale = signHeaders(user, "POST", path, body, { now: new Date(Date.now() - 3_600_000) });
    expect((await commit(body, { headers: stale })).body.error).toBe("stale_signature");
  });

  it("answers 422 no_trusted_worker when no trusted worker is online", async () => {
    const user = generateKeyPair();
    await worker();
    const res = await commitPrivate(user);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: "no_trusted_worker" });
    const job = await getJob(String(res.body.job_id), { key: user });
    expect(job).toMatchObject({ status: "failed", result: { error: "no_trusted_worker" } });
  });

  it("routes a PRIVATE job to the paired verified worker", async () => {
    const user = generateKeyPair();
    const stranger = await worker();
    const unverified = await worker({ signed: false });
    const trusted = await worker();
    await pair(user, trusted);
    const res = await commitPrivate(user);
    expect(res.status).toBe(201);
    const id = String(res.body.job_id);
    expect(await trusted.next("job_assign")).toMatchObject({ job_id: id, privacy_class: "PRIVATE", user_id: user.publicKey });
    await stranger.nothing("job_assign");
    await unverified.nothing("job_assign", 10);
  });

  it("waits for a busy trusted worker and never sends the job to an unpaired or unverified one", async () => {
    const user = generateKeyPair();
    const trusted = await worker();
    await pair(user, trusted);
    const busy = await commit(taskBody({}, "fill-trusted"));
    expect((await trusted.next("job_assign")).job_id).toBe(busy.body.job_id);
    const stranger = await worker();
    const unverified = await worker({ signed: false, key: generateKeyPair() });
    const res = await commitPrivate(user);
    expect(res.status).toBe(201);
    const id = String(res.body.job_id);
    await stranger.nothing("job_assign");
    await unverified.nothing("job_assign");
    expect((await getJob(id, { key: user })).stage).toBe("pending");
    trusted.complete(String(busy.body.job_id));
    expect((await trusted.next("job_assign")).job_id).toBe(id);
  });

  it("lets only the owner read a PRIVATE job", async () => {
    const user = generateKeyPair();
    const trusted = await worker();
    await pair(user, trusted);
    const { body } = await commitPrivate(user);
    const id = String(body.job_id);
    await trusted.next("job_assign");
    trusted.complete(id, { label: "positive" });
    await trusted.next("job_complete_ack");
    const anon = await api(`/monad/v1/jobs/${id}`);
    expect(anon.status).toBe(401);
    const other = await signed(generateKeyPair(), "GET", `/monad/v1/jobs/${id}`);
    expect(other.status).toBe(403);
    expect(await getJob(id, { key: user })).toMatchObject({ status: "completed", result: { label: "positive" } });
    expect((await api(`/monad/v1/receipts/${id}`)).status).toBe(401);
    expect((await api(`/monad/v1/jobs/${id}/events`)).status).toBe(401);
  });
});

describe("trust pairing", () => {
  it("requires a signature to create and list pairings", async () => {
    const user = generateKeyPair();
    const unsigned = await api("/monad/v1/trust/create", { method: "POST", body: JSON.stringify({ user_id: user.publicKey }) });
    expect(unsigned.status).toBe(401);
    const forOther = await signed(user, "POST", "/monad/v1/trust/create", { user_id: generateKeyPair().publicKey });
    expect(forOther.status).toBe(403);
    expect((await api(`/monad/v1/trust/list?user_id=${user.publicKey}`)).status).toBe(401);
  });

  it("pairs over the reference HTTP claim, single use, listed and revocable", async () => {
    const user = generateKeyPair();
    const provider = generateKeyPair().publicKey;
    const code = await pairingCode(user);
    const claim = (pubkey: string, c = code) =>
      api("/monad/v1/trust/claim", { method: "POST", body: JSON.stringify({ pairing_code: c, provider_pubkey: pubkey }) });
    const first = await claim(provider);
    expect(first.status).toBe(200);
    expect(await json(first)).toMatchObject({ user_id: user.publicKey });
    const second = await claim(generateKeyPair().publicKey);
    expect(second.status).toBe(400);
    expect((await json(second)).error).toBe("already_claimed");
    expect((await json(await claim(provider, "ZZZZZZZZZZ"))).error).toBe("invalid_code");
    // Codes tolerate case and separators when read aloud and retyped.
    const code2 = await pairingCode(user);
    expect((await claim(generateKeyPair().publicKey, `${code2.slice(0, 5).toLowerCase()}-${code2.slice(5)}`)).status).toBe(200);

    const list = await json<{ providers: { provider_pubkey: string }[] }>(
      await signed(user, "GET", `/monad/v1/trust/list?user_id=${user.publicKey}`),
    );
    expect(list.providers.map((p) => p.provider_pubkey)).toContain(provider);
    expect(list.providers).toHaveLength(2);

    expect((await signed(user, "DELETE", `/monad/v1/trust/${provider}`)).status).toBe(200);
    expect((await signed(user, "DELETE", `/monad/v1/trust/${provider}`)).status).toBe(404);
    const after = await json<{ providers: { provider_pubkey: string }[] }>(
      await signed(user, "GET", `/monad/v1/trust/list?user_id=${user.publicKey}`),
    );
    expect(after.providers.map((p) => p.provider_pubkey)).not.toContain(provider);
  });

  it("refuses an expired code", async () => {
    const user = generateKeyPair();
    const code = await pairingCode(user);
    await sqlIn("monad", "UPDATE trust_pairings SET expires_at = ? WHERE pairing_code = ?", Date.now() - 1, code);
    const res = await api("/monad/v1/trust/claim", {
      method: "POST",
      body: JSON.stringify({ pairing_code: code, provider_pubkey: generateKeyPair().publicKey }),
    });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toBe("expired");
  });

  it("stops routing PRIVATE jobs to a revoked worker", async () => {
    const user = generateKeyPair();
    const trusted = await worker();
    await pair(user, trusted);
    expect((await signed(user, "DELETE", `/monad/v1/trust/${trusted.pubkey}`)).status).toBe(200);
    const res = await commitPrivate(user);
    expect(res.status).toBe(422);
    await trusted.nothing("job_assign");
  });

  it("refuses pairing claims from unverified sockets and rate-limits code creation", async () => {
    const user = generateKeyPair();
    const unverified = await worker({ signed: false });
    unverified.send({ type: "trust_claim", pairing_code: await pairingCode(user) });
    expect(await unverified.next("error")).toMatchObject({ code: "AUTH_FAILED" });
    let status = 0;
    for (let i = 0; i < 21 && status !== 429; i++)
      status = (await signed(user, "POST", "/monad/v1/trust/create", { user_id: user.publicKey })).status;
    expect(status).toBe(429);
  });
});
