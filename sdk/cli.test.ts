import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import QRCode from "qrcode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIMITS, verifySeekerRequest } from "../protocol/index.ts";
import { type ScriptRun as Run, runScript } from "../test/support/run-script.ts";
import { completedJob, json, pendingJob, type RecordedRequest, sse } from "./test-support/builders.ts";
import { serveHandler } from "./test-support/http-stub.ts";

const CLI = fileURLToPath(new URL("./cli.ts", import.meta.url));

/** A coordinator stub: the committed input decides which scripted job the CLI gets back. */
function coordinator(req: RecordedRequest): Response {
  const path = req.url.pathname;
  if (path === "/monad/v1/quote") {
    return json({
      price: "$0.001",
      endpoint: "/v1/jobs/commit/cheap",
      policy_resolved: "CHEAP",
      network: "eip155:10143",
      expires_at: new Date(Date.now() + 300_000).toISOString(),
      job_type: "TASK",
      chain: "monad",
      payment: { enabled: false, accepts: [] },
    });
  }
  if (req.method === "POST" && path.startsWith("/monad/v1/jobs/commit/")) {
    const body = JSON.parse(req.body) as { payload: { input?: string; prompt?: string } };
    if (body.payload.prompt) return json({ job_id: "llm-1" }, 201);
    return json({ job_id: body.payload.input === "tamper" ? "bad-1" : "job-1" }, 201);
  }
  if (path === "/monad/v1/jobs/job-1") return json(completedJob("job-1", { summary: "Short." }));
  if (path === "/monad/v1/jobs/bad-1") return json({ ...completedJob("bad-1", { summary: "Short." }), result: { summary: "Forged." } });
  if (path === "/monad/v1/jobs/pending-1") return json(pendingJob("pending-1"));
  if (path === "/monad/v1/jobs/llm-1") return json(completedJob("llm-1", { text: "Once upon a time" }));
  if (path === "/monad/v1/jobs/llm-1/events") {
    return sse([
      { event: "token", data: { type: "token", job_id: "llm-1", seq: 0, text: "Once upon" } },
      { event: "token", data: { type: "token", job_id: "llm-1", seq: 1, text: " a time" } },
      { event: "status", data: { type: "status", job_id: "llm-1", stage: "completed", status: "completed", reason: null } },
    ]);
  }
  if (path === "/monad/v1/trust/create") return json({ pairing_code: "ABCDEFGHJK", expires_at: "2030-01-01T00:00:00.000Z" }, 201);
  if (path === "/monad/v1/trust/list") return json({ providers: [] });
  return json({ error: "not_found", message: `no route ${path}` }, 404);
}

let stub: Awaited<ReturnType<typeof serveHandler>>;
let home: string;

beforeAll(async () => {
  stub = await serveHandler(coordinator);
  home = await mkdtemp(join(tmpdir(), "dispatch-cli-"));
});
afterAll(async () => {
  await stub.close();
  await rm(home, { recursive: true, force: true });
});

/** Runs the CLI as its own process, with a private HOME so no real config or key is touched. */
function dispatch(args: string[], opts: { env?: Record<string, string>; stdin?: string } = {}): Promise<Run> {
  return runScript(CLI, args, {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: home,
      XDG_CONFIG_HOME: join(home, "config"),
      DISPATCH_COORDINATOR: stub.url,
      ...opts.env,
    },
    stdin: opts.stdin ?? "",
  });
}

describe("dispatch CLI", () => {
  it("prints help and exits 0; a bad flag is a usage error (exit 2)", async () => {
    const help = await dispatch(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/dispatch run task summarize/);
    const bad = await dispatch(["run", "task", "--frobnicate"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/frobnicate/);
    expect(bad.stderr).toMatch(/--help/);
  });

  it("quotes a price as JSON", async () => {
    const run = await dispatch(["quote", "task", "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ price: "$0.001", policy_resolved: "CHEAP" });
  });

  it("runs a task and prints the verified result as JSON, progress on stderr", async () => {
    const run = await dispatch(["run", "task", "summarize", "A long text. More text.", "--json"]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ route: "dispatch:monad", job_id: "job-1", output: { summary: "Short." } });
    expect(run.stderr).toMatch(/job job-1 committed on monad/);
    expect(run.stderr).toMatch(/receipt verified/);
  });

  it("reads task input from stdin", async () => {
    const run = await dispatch(["run", "task", "summarize", "-"], { stdin: "Text from a pipe." });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("Short.\n");
    const commit = stub.requests.filter((r) => r.method === "POST").at(-1);
    expect(JSON.parse(commit?.body ?? "{}").payload.input).toBe("Text from a pipe.");
  });

  it("streams LLM tokens to stdout", async () => {
    const run = await dispatch(["run", "llm", "Tell me a story"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("Once upon a time\n");
  });

  it("exits 3 and prints no result when the receipt does not match the output", async () => {
    const run = await dispatch(["run", "task", "summarize", "tamper", "--json"]);
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({ error: "invalid_receipt", job_id: "bad-1" });
    expect(run.stdout).not.toMatch(/Forged/);
    expect(run.stderr).toMatch(/do not trust this result/);
  });

  it("verifies a stored receipt: exit 0 when it holds, 3 when it does not", async () => {
    const good = await dispatch(["receipt", "verify", "job-1", "--json"]);
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ valid: true, job_id: "job-1" });
    const bad = await dispatch(["receipt", "verify", "bad-1"]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/output does not hash/);
    const pending = await dispatch(["receipt", "verify", "pending-1"]);
    expect(pending.code).toBe(1);
    expect(pending.stderr).toMatch(/no receipt/);
  });

  it("shows a job's status", async () => {
    const run = await dispatch(["status", "job-1", "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ id: "job-1", status: "completed" });
    const missing = await dispatch(["status", "nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not_found/);
  });

  it("exits 4 with a hint when the coordinator is unreachable", async () => {
    const run = await dispatch(["quote", "llm"], { env: { DISPATCH_COORDINATOR: "http://127.0.0.1:9" } });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/is the coordinator running/);
  });

  it("creates a 0600 identity on first signed use and signs trust requests with it", async () => {
    const run = await dispatch(["trust", "create"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/pairing code ABCDEFGHJK/);
    const keyPath = join(home, "config", "dispatch", "identity.json");
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    const { public_key } = JSON.parse(await readFile(keyPath, "utf8"));
    const req = stub.requests.filter((r) => r.url.pathname === "/monad/v1/trust/create").at(-1) as RecordedRequest;
    const auth = verifySeekerRequest({
      chain: req.url.pathname.startsWith("/solana") ? "solana" : "monad",
      host: req.url.host,
      method: req.method,
      path: req.url.pathname + req.url.search,
      body: req.body,
      headers: req.headers,
      nowSeconds: Math.floor(Date.now() / 1000),
      skewSeconds: LIMITS.signatureSkewSeconds,
    });
    expect(auth).toMatchObject({ ok: true, userId: public_key });
    // The same key is reused, not replaced.
    const list = await dispatch(["trust", "list", "--json"]);
    expect(list.code).toBe(0);
    expect(stub.requests.at(-1)?.url.searchParams.get("user_id")).toBe(public_key);
  });

  it("prints the browser worker's pairing link, and with --qr the link as a QR code", async () => {
    const link = `${stub.url}/worker?chain=monad&pair=ABCDEFGHJK`;
    const plain = await dispatch(["trust", "create"]);
    expect(plain.stdout).toContain(`in a browser:     ${link}\n`);
    expect(plain.stdout).not.toContain("\u2580");
    const qr = await dispatch(["trust", "create", "--qr"]);
    expect(qr.code).toBe(0);
    expect(qr.stdout).toContain(await QRCode.toString(link, { type: "terminal", small: true }));
    const json = await dispatch(["trust", "create", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ pairing_code: "ABCDEFGHJK", worker_page_url: link });
  });

  it("reads the config file, and lets the environment override it", async () => {
    const configPath = join(home, "custom-config.json");
    await writeFile(configPath, JSON.stringify({ coordinator: stub.url, chains: ["monad"] }));
    const fromFile = await dispatch(["quote", "task", "--config", configPath], { env: { DISPATCH_COORDINATOR: "" } });
    expect(fromFile.code).toBe(0);
    const overridden = await dispatch(["quote", "task", "--config", configPath], {
      env: { DISPATCH_COORDINATOR: "http://127.0.0.1:9" },
    });
    expect(overridden.code).toBe(4);
    await writeFile(configPath, JSON.stringify({ coordinatr: "typo" }));
    const invalid = await dispatch(["quote", "task", "--config", configPath]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/coordinatr/);
  });
});
