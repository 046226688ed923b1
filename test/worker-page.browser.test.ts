// The /worker page in headless Chromium against the real coordinator (wrangler dev): it registers
// with a signed register, runs TASKs in a Web Worker with the Node worker's engine, pairs, and
// hands back work when its tab closes.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Chain,
  generateKeyPair,
  hashOutput,
  type JobView,
  registerSigningString,
  signSeekerRequest,
  TASK_ENGINE_VERSION,
  verifyMessage,
  verifyReceipt,
} from "../protocol/index.ts";
import { type DevCoordinator, startCoordinator } from "../scripts/dev-coordinator.ts";
import { pairingLink } from "../sdk/cli-commands.ts";
import { ComputeRouter } from "../sdk/router.ts";
import type { RunTaskRequest } from "../sdk/types.ts";
import { WorkerAgent } from "../worker-node/agent.ts";
import { workerSocketUrl } from "../worker-node/config.ts";
import { createLogger } from "../worker-node/logger.ts";
import { TaskPool } from "../worker-node/tasks/task-pool.ts";
import { CHROMIUM, CHROMIUM_ARGS, requireChromium, TEST_OUTPUT } from "./support/chromium.ts";
import { relaySockets, type SocketRelay } from "./support/socket-relay.ts";

const SCREENSHOT = path.join(TEST_OUTPUT, "worker-page-mobile.png");
let coordinator: DevCoordinator;
let context: BrowserContext;
let profile: string;
let page: Page;
let pubkey: string;
let sockets: SocketRelay;
/** Uncaught errors and console errors of every page (a CSP violation shows up here). */
const pageErrors: string[] = [];
/** The Node worker's own TASK threads: the reference the page's outputs must equal byte for byte. */
let nodeTasks: TaskPool;
let nodeWorker: WorkerAgent | undefined;

const monad = () => `${coordinator.url}/monad`;

async function commitTask(payload: Record<string, unknown>, wait = 0, chain: Chain = "monad"): Promise<JobView & { job_id?: string }> {
  const res = await fetch(`${coordinator.url}/${chain}/v1/jobs/commit/cheap${wait > 0 ? `?wait=${wait}` : ""}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ job_type: "TASK", user_id: "browser-test", payload }),
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return (await res.json()) as JobView & { job_id?: string };
}

async function readJob(id: string, wait = 30, chain: Chain = "monad"): Promise<JobView> {
  return (await (await fetch(`${coordinator.url}/${chain}/v1/jobs/${id}?wait=${wait}`)).json()) as JobView;
}

/** Opens the page on a phone-sized viewport and waits until its worker is registered. */
async function openWorkerPage(
  query: string,
  opts: { holdCompletions?: boolean } = {},
): Promise<{ page: Page; pubkey: string; sockets: SocketRelay }> {
  const p = await context.newPage();
  p.on("pageerror", (err) => pageErrors.push(err.message));
  p.on("console", (msg) => {
    if (msg.type() === "error") pageErrors.push(`${msg.text()} @ ${JSON.stringify(msg.location())} ${msg.args().length}`);
  });
  const relay = await relaySockets(p, opts);
  await p.goto(`${coordinator.url}/worker?${query}`);
  await waitForState(p, "online");
  const key = await p.locator("#pubkey").getAttribute("data-pubkey");
  if (key === null) throw new Error("the page shows no worker key");
  return { page: p, pubkey: key, sockets: relay };
}

async function waitForState(p: Page, state: string): Promise<void> {
  await p.waitForSelector(`body[data-state="${state}"]`, { timeout: 30_000 });
}

async function onlineWorkers(): Promise<{ provider_pubkey: string; provider_type: string; verified: boolean }[]> {
  return ((await (await fetch(`${monad()}/v1/workers`)).json()) as { workers: [] }).workers;
}

describe("the browser worker page", () => {
  beforeAll(async () => {
    requireChromium();
    nodeTasks = new TaskPool(1);
    profile = await mkdtemp(path.join(tmpdir(), "dispatch-chromium-"));
    // Independent start-ups, side by side: the coordinator, Chromium, and the Node engine's thread.
    [coordinator, context] = await Promise.all([
      startCoordinator(),
      chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 2,
        isMobile: true,
        hasTouch: true,
      }),
      nodeTasks.ready(),
    ]);
  }, 90_000);

  afterAll(async () => {
    await context?.close();
    await nodeWorker?.shutdown("test finished");
    await nodeTasks?.close();
    await coordinator?.stop();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it("registers from /worker?autostart=1 as a verified SEEKER running the Node worker's task engine", async () => {
    ({ page, pubkey, sockets } = await openWorkerPage("chain=monad&autostart=1"));
    const register = sockets.sent.find((f) => f.type === "register");
    expect(register).toMatchObject({
      provider_pubkey: pubkey,
      provider_type: "SEEKER",
      capabilities: ["TASK"],
      task_engine: TASK_ENGINE_VERSION,
      slots: 1,
    });
    // autostart: a fresh key and no payout address.
    expect(register).not.toHaveProperty("payout_address");
    expect(await onlineWorkers()).toContainEqual(
      expect.objectContaining({ provider_pubkey: pubkey, provider_type: "SEEKER", verified: true }),
    );
    // Signed as every worker signs: dispatch-register-v2 over chain, the host dialled, the nonce, no payout address.
    const challenge = sockets.received.find((f) => f.type === "challenge");
    const signed = registerSigningString({ chain: "monad", host: new URL(coordinator.url).host, nonce: String(challenge?.nonce) });
    expect(verifyMessage(signed, String(register?.signature), pubkey)).toBe(true);
    expect(await page.locator("#engine").textContent()).toBe(TASK_ENGINE_VERSION);
    expect(pageErrors).toEqual([]);
  });

  it("runs summarize and classify jobs whose receipts verify and whose outputs are byte-identical to the Node worker's", async () => {
    const router = new ComputeRouter({ coordinators: { monad: monad() } });
    const payloads: RunTaskRequest[] = [
      {
        task_type: "summarize",
        input:
          "The city council met on Tuesday to discuss the new bus routes. Residents complained that the buses were always late. " +
          "The mayor promised to add ten buses by spring. A local bakery won a national award for its bread. " +
          "Council members agreed to review the bus schedule every month.",
        max_sentences: 2,
      },
      {
        task_type: "classify",
        input: "The striker scored twice and the team won the cup final.",
        labels: ["sports", "politics", "cooking"],
      },
      { task_type: "classify", input: "I love this phone, the battery lasts for days and the screen is wonderful!" },
    ];
    for (const payload of payloads) {
      // The SDK verifies the receipt (signature, job id, output hash) before it returns.
      const result = await router.runTask(payload);
      expect(result.receipt?.provider_pubkey).toBe(pubkey);
      const receipt = result.receipt;
      if (receipt === null || result.job_id === null) throw new Error("no receipt");
      const { signature, verified: _verified, ...fields } = receipt;
      expect(verifyReceipt({ receipt: fields, signature, output: result.output, jobId: result.job_id, providerPubkey: pubkey })).toEqual({
        ok: true,
      });
      // The same payload through the Node worker's engine gives the same bytes.
      const node = await nodeTasks.run(payload, { timeoutMs: 10_000 });
      expect("error" in node).toBe(false);
      expect(JSON.stringify(result.output)).toBe(JSON.stringify(node));
      expect(receipt.output_hash).toBe(hashOutput(node));
    }
    await expect.poll(() => page.locator("#jobs-done").textContent()).toBe("3");
    // Phone layout: nothing wider than the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    await mkdir(TEST_OUTPUT, { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it("takes its user's PRIVATE jobs once a pairing code is claimed in the page", async () => {
    const seeker = generateKeyPair();
    const router = new ComputeRouter({ coordinators: { monad: monad() }, identity: seeker });
    const privateCommit = async (): Promise<Response> => {
      const url = `${monad()}/v1/jobs/commit/cheap?wait=20`;
      const body = JSON.stringify({
        job_type: "TASK",
        user_id: seeker.publicKey,
        privacy_class: "PRIVATE",
        payload: { task_type: "extract_json", input: 'invoice {"id": 42, "total": 9.5}' },
      });
      const headers = signSeekerRequest({ chain: "monad", method: "POST", url, body, ...seeker });
      return fetch(url, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body });
    };
    // Unpaired, the page is not eligible: the only worker online is not trusted by this user.
    const refused = await privateCommit();
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ error: "no_trusted_worker" });

    const { pairing_code } = await router.trust.create();
    await page.locator("#pair-code").fill(pairing_code);
    await page.locator("#pair-claim").click();
    await expect.poll(() => page.locator("#pair-status").textContent()).toContain(`Paired with user ${seeker.publicKey.slice(0, 16)}`);

    const done = await privateCommit();
    expect(done.status).toBe(200);
    const job = (await done.json()) as JobView;
    expect(job).toMatchObject({ status: "completed", privacy_class: "PRIVATE", result: { objects: [{ id: 42, total: 9.5 }] } });
    expect(job.receipt?.provider_pubkey).toBe(pubkey);
  });

  it("kills a TASK past the Node worker's 10 s CPU budget, reports it as an input error, and keeps serving", async () => {
    // A backtracking schema pattern: ajv's regex runs for minutes on this input.
    const schema = { type: "object", properties: { s: { type: "string", pattern: "^(a+)+$" } } };
    const stuck = await commitTask({ task_type: "extract_json", input: JSON.stringify({ s: `${"a".repeat(40)}!` }), schema }, 28);
    expect(stuck).toMatchObject({ status: "failed", result: { error: "task exceeded its 10000 ms time limit", error_kind: "input" } });
    expect(stuck.receipt?.provider_pubkey).toBe(pubkey);
    // A fresh Web Worker took the killed one's place.
    const next = await commitTask({ task_type: "classify", input: "What a lovely, happy day." }, 20);
    expect(next).toMatchObject({ status: "completed", result: { label: "positive" } });
    expect(next.receipt?.provider_pubkey).toBe(pubkey);
  });

  it("reconnects with the same key when its connection drops, and stops cleanly", async () => {
    const registers = () => sockets.sent.filter((f) => f.type === "register");
    expect(registers()).toHaveLength(1);
    await sockets.cut();
    await expect.poll(() => registers().length, { timeout: 15_000 }).toBe(2);
    await waitForState(page, "online");
    expect(registers()[1]?.provider_pubkey).toBe(pubkey);
    const job = await commitTask({ task_type: "classify", input: "This is terrible and I hate it." }, 20);
    expect(job).toMatchObject({ status: "completed", result: { label: "negative" } });
    expect(job.receipt?.provider_pubkey).toBe(pubkey);

    await page.locator("#toggle").click();
    await waitForState(page, "stopped");
    await expect.poll(async () => (await onlineWorkers()).some((w) => w.provider_pubkey === pubkey)).toBe(false);
  });

  it("on Solana, opened from a pairing link: hands a job to another worker when its tab closes before delivering", async () => {
    await page.close();
    // A second page whose completions never reach the coordinator, as if the tab died mid-job. It
    // opens from a pairing link, which it claims and then takes out of the address bar.
    // This one works for the other chain.
    const solana = `${coordinator.url}/solana`;
    const seeker = new ComputeRouter({ coordinators: { solana }, identity: generateKeyPair() });
    const { pairing_code } = await seeker.trust.create({ chain: "solana" });
    // The link `dispatch trust create` prints (and shows as a QR code with --qr).
    const link = new URL(pairingLink(solana, "solana", pairing_code));
    expect(`${link.origin}${link.pathname}`).toBe(`${coordinator.url}/worker`);
    const second = await openWorkerPage(`${link.searchParams}&autostart=1`, { holdCompletions: true });
    await expect.poll(() => second.page.locator("#pair-status").textContent()).toContain("Paired with user");
    expect(second.page.url()).not.toContain("pair=");
    const payload = { task_type: "summarize", input: "Rain fell all night. The river rose by a metre. Schools stayed closed on Monday." };
    const { job_id } = await commitTask(payload, 0, "solana");
    if (job_id === undefined) throw new Error("no job id");
    await expect.poll(() => second.sockets.held.at(0)?.job_id, { timeout: 15_000 }).toBe(job_id);
    expect((await readJob(job_id, 0, "solana")).status).toBe("assigned");
    await second.page.close();

    // Another worker (the Node worker agent, over its own socket) comes online and gets the re-queued job.
    const keys = generateKeyPair();
    nodeWorker = new WorkerAgent({
      url: workerSocketUrl(coordinator.url, "solana"),
      chain: "solana",
      keys,
      providerType: "SEEKER",
      capabilities: ["TASK"],
      slots: 1,
      agent: "browser-test node worker",
      deps: { tasks: nodeTasks, llm: undefined },
      log: createLogger({ level: "error", format: "json" }),
    });
    nodeWorker.start();
    const job = await readJob(job_id, 40, "solana");
    expect(job.status).toBe("completed");
    expect(job.receipt?.provider_pubkey).toBe(keys.publicKey);
    // The tab had computed the very same bytes.
    expect(job.receipt?.output_hash).toBe(second.sockets.held.at(0)?.output_hash);
  });
});
