// The live dashboard in a real browser (Debian's Chromium driven by playwright-core) against the
// real coordinator under `wrangler dev`, with workers on real sockets. Screenshots go to
// .tmp/test-output/ for a human to look at.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { SimWorker } from "../bench/sim-worker.ts";
import { generateKeyPair } from "../protocol/index.ts";
import { type DevCoordinator, startCoordinator } from "../scripts/dev-coordinator.ts";
import { CHROMIUM, CHROMIUM_ARGS, requireChromium, TEST_OUTPUT } from "./support/chromium.ts";

const HOSTILE_AGENT = "<img src=x onerror=alert(1)><script>alert(2)</script> & co";
// Model names are limited by the protocol to [A-Za-z0-9._:/-] (markup is refused at register):
// the most hostile name a worker can advertise is a URL scheme, which must never become a link.
const HOSTILE_MODEL = "javascript:alert";

let coordinator: DevCoordinator;
let browser: Browser;
let desktop: BrowserContext;
let page: Page;
const workers: SimWorker[] = [];
/** Everything a page logged as an error, threw, or tried to show as a dialog. */
const problems: string[] = [];
const dialogs: string[] = [];

function watch(p: Page): Page {
  p.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  p.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  p.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  return p;
}

async function commitTask(tier: "fast" | "cheap", input: string): Promise<string> {
  const res = await fetch(`${coordinator.url}/monad/v1/jobs/commit/${tier}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ job_type: "TASK", user_id: "browser-test", payload: { task_type: "summarize", input } }),
  });
  expect(res.status).toBe(201);
  return String(((await res.json()) as { job_id: string }).job_id);
}

async function live(p: Page): Promise<void> {
  await p.locator('#status[data-state="live"]').waitFor({ timeout: 10_000 });
}

beforeAll(async () => {
  requireChromium();
  await mkdir(TEST_OUTPUT, { recursive: true });
  // Playwright gives every launch a fresh, throwaway --user-data-dir of its own.
  [coordinator, browser] = await Promise.all([
    startCoordinator(),
    chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS }),
  ]);
  desktop = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  page = watch(await desktop.newPage());
});

afterAll(async () => {
  for (const w of workers) w.close();
  await browser?.close();
  await coordinator?.stop();
});

describe("live dashboard in a browser", () => {
  it("shows a worker that connects and a job that appears and completes, without a reload", async () => {
    await page.goto(`${coordinator.url}/dashboard`);
    await live(page);
    await expect(page.locator("#workers-body").textContent()).resolves.toContain("No worker online");
    // A reload would lose this mark.
    await page.evaluate(() => {
      (window as unknown as { mark: string }).mark = "same page";
    });

    // Committed over HTTP while the page is open, with no worker yet: it waits in the queue.
    const jobId = await commitTask("cheap", "The dashboard watches this job. It waits for a worker.");
    await page.locator(`#jobs-body tr[data-id="${jobId}"][data-stage="pending"]`).waitFor({ timeout: 5_000 });
    await expect(page.locator("#kpi-queue [data-field=value]").textContent()).resolves.toBe("1");

    const worker = new SimWorker();
    workers.push(worker);
    await worker.connect(coordinator.url, "monad", "DESKTOP", {
      agent: HOSTILE_AGENT,
      models: ["llama3.2", HOSTILE_MODEL],
      loaded_models: ["llama3.2"],
      slots: 2,
    });
    await page.locator(`#workers-body tr[data-key="${worker.key.publicKey}"]`).waitFor({ timeout: 5_000 });
    // The worker takes the queued job at once and answers it: the same row turns completed.
    const row = page.locator(`#jobs-body tr[data-id="${jobId}"][data-stage="completed"]`);
    await row.waitFor({ timeout: 5_000 });
    const receipt = await row.locator("a", { hasText: "receipt" }).getAttribute("href");
    expect(receipt).toBe(`${coordinator.url}/monad/v1/receipts/${jobId}`);
    const proof = (await (await fetch(receipt ?? "")).json()) as { verified: boolean; job_id: string };
    expect(proof).toMatchObject({ verified: true, job_id: jobId });
    await expect(page.evaluate(() => (window as unknown as { mark?: string }).mark)).resolves.toBe("same page");
  });

  it("shows worker-supplied markup as literal text: no element is created and no dialog opens", async () => {
    const worker = workers[0];
    if (!worker) throw new Error("the first test connects the worker");
    const row = page.locator(`#workers-body tr[data-key="${worker.key.publicKey}"]`);
    await expect(row.locator(".agent").textContent()).resolves.toBe(HOSTILE_AGENT);
    await expect(row.locator(".models").textContent()).resolves.toContain(HOSTILE_MODEL);
    const injected = await page.evaluate(() => ({
      elements: document.body.querySelectorAll("img, script, iframe, object, embed").length,
      scriptLinks: [...document.querySelectorAll("a")].filter((a) => !/^https?:/.test(a.href)).length,
    }));
    expect(injected).toEqual({ elements: 0, scriptLinks: 0 });
    expect(dialogs).toEqual([]);
  });

  it("never lists a worker whose model name is markup: the coordinator refuses its register", async () => {
    const key = generateKeyPair();
    const ws = new WebSocket(`${coordinator.url.replace(/^http/, "ws")}/monad/v1/workers/ws`);
    const frames: { type: string; code?: string }[] = [];
    ws.on("message", (data) => frames.push(JSON.parse(data.toString()) as { type: string; code?: string }));
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    const until = async (type: string) => {
      for (let i = 0; i < 100 && !frames.some((f) => f.type === type); i++) await new Promise((r) => setTimeout(r, 20));
      return frames.find((f) => f.type === type);
    };
    await until("challenge");
    ws.send(
      JSON.stringify({
        type: "register",
        provider_pubkey: key.publicKey,
        provider_type: "DESKTOP",
        capabilities: ["LLM_INFER"],
        agent: HOSTILE_AGENT,
        models: [HOSTILE_AGENT],
      }),
    );
    await expect(until("error")).resolves.toMatchObject({ code: "INVALID_MESSAGE" });
    ws.close();
    // A snapshot later (the interval is 1.5 s) the page still does not know that key.
    await page.waitForTimeout(1_600);
    await expect(page.locator(`#workers-body tr[data-key="${key.publicKey}"]`).count()).resolves.toBe(0);
    expect(await page.evaluate(() => document.body.querySelectorAll("img, script").length)).toBe(0);
  });

  it("switches chains in place and back", async () => {
    const worker = workers[0];
    if (!worker) throw new Error("the first test connects the worker");
    await page.locator('.chains a[data-chain="solana"]').click();
    await page.waitForURL(`${coordinator.url}/solana/dashboard`);
    await page.locator('html[data-chain="solana"] #workers-body td.empty').waitFor({ timeout: 5_000 });
    await live(page);
    await page.locator('.chains a[data-chain="monad"]').click();
    await page.locator(`#workers-body tr[data-key="${worker.key.publicKey}"]`).waitFor({ timeout: 5_000 });
    expect(page.url()).toBe(`${coordinator.url}/monad/dashboard`);
  });

  it("fits a laptop and a phone, light and dark (screenshots in .tmp/test-output)", async () => {
    const seeker = new SimWorker();
    workers.push(seeker);
    await seeker.connect(coordinator.url, "monad", "SEEKER", { agent: "dispatch-worker/0.1 seeker (tasks)" });
    const ids = await Promise.all(
      ["Short note. Nothing more.", "A longer text to summarize. It has three sentences. Here is the third.", "Fast lane. Please."].map(
        (input, i) => commitTask(i === 2 ? "fast" : "cheap", input),
      ),
    );
    const last = ids.at(-1) ?? "";
    await page.locator(`#jobs-body tr[data-id="${last}"][data-stage="completed"]`).waitFor({ timeout: 5_000 });
    await page.screenshot({ path: path.join(TEST_OUTPUT, "dashboard-desktop.png"), fullPage: true });

    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    try {
      const small = watch(await phone.newPage());
      await small.goto(`${coordinator.url}/monad/dashboard`);
      await small.locator(`#jobs-body tr[data-id="${last}"]`).waitFor({ timeout: 5_000 });
      // Tables turn into cards; nothing makes the page itself scroll sideways.
      const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await small.screenshot({ path: path.join(TEST_OUTPUT, "dashboard-phone.png"), fullPage: true });
      await small.emulateMedia({ colorScheme: "dark" });
      await small.screenshot({ path: path.join(TEST_OUTPUT, "dashboard-phone-dark.png"), fullPage: true });
    } finally {
      await phone.close();
    }
  });

  it("logged no console error, threw nothing and opened no dialog on any page", () => {
    expect(problems).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
