// The /worker page: a phone or laptop browser as a Dispatch worker. Query parameters:
//   chain=monad|solana   which chain's coordinator to work for (default monad)
//   pair=CODE            claim this trust pairing code once registered (a link a user shares)
//   autostart=1          start at once with a fresh key and no payout address (kiosks, unattended runs)
//   slots=1|2            jobs at once
import "./no-eval.ts";
import { sha256Hex, TASK_ENGINE, TASK_ENGINE_VERSION } from "../protocol/index.ts";
import { fetchAccount, isPayoutAddress } from "./account.ts";
import { BrowserAgent } from "./browser-agent.ts";
import type { SocketState } from "./coordinator-socket.ts";
import { type DeviceKey, ephemeralDeviceKey, loadOrCreateDeviceKey } from "./device-key.ts";
import { download, logLine, pageElements, showAccount, showState } from "./page-view.ts";
import { TaskRunner } from "./task-runner.ts";
import { ScreenWakeLock } from "./wake-lock.ts";

// Content-hashed asset URLs, injected by scripts/build-worker-page.ts.
declare const __TASK_WORKER_URL__: string;
declare const __WORD_VECTORS_URL__: string;

const CHAINS = ["monad", "solana"] as const;
type Chain = (typeof CHAINS)[number];
const PAYOUT_PLACEHOLDER: Record<Chain, string> = { monad: "0x… (an EVM address)", solana: "a Solana address (base58)" };
// Earnings are read on events (registered, a job accepted, a payout) and otherwise rarely: a
// chain's coordinator is one object serving every tab.
const ACCOUNT_REFRESH_MS = 300_000;
const ACCOUNT_AFTER_JOB_MS = 5_000;

const ui = pageElements();
const params = new URLSearchParams(location.search);
const autostart = params.get("autostart") === "1";
let chain: Chain = CHAINS.find((c) => c === params.get("chain")) ?? "monad";
let key: DeviceKey | undefined;
let agent: BrowserAgent | undefined;
let runner: TaskRunner | undefined;
let vectors: Promise<ArrayBuffer> | undefined;
let accountTimer: ReturnType<typeof setInterval> | undefined;
let accountSoon: ReturnType<typeof setTimeout> | undefined;
const counts = { done: 0, failed: 0 };
const wakeLock = new ScreenWakeLock((state) => {
  ui.wakeLock.textContent = {
    on: "Screen wake lock: on (the screen stays on while the worker runs).",
    off: "Screen wake lock: off.",
    unsupported: "Screen wake lock: not available in this browser; keep the screen on yourself.",
    refused: "Screen wake lock: refused by the browser (battery saver?); keep the screen on yourself.",
  }[state];
});

// A pairing code is single-use and gives its user's PRIVATE jobs to this key: keep it out of
// the address bar, history and bookmarks once read.
let pendingPair = params.get("pair")?.trim() || undefined;
if (pendingPair !== undefined) {
  params.delete("pair");
  const query = params.toString();
  history.replaceState(null, "", `${location.pathname}${query === "" ? "" : `?${query}`}`);
  ui.pairCode.value = pendingPair;
}

ui.engine.textContent = TASK_ENGINE_VERSION;
ui.chain.value = chain;
ui.slots.value = params.get("slots") === "2" ? "2" : "1";
showPayout();
void (autostart ? start() : showStoredKey());

ui.toggle.addEventListener("click", () => void (agent === undefined ? start() : stop()));
ui.chain.addEventListener("change", () => {
  chain = CHAINS.find((c) => c === ui.chain.value) ?? "monad";
  params.set("chain", chain);
  history.replaceState(null, "", `${location.pathname}?${params}`);
  showPayout();
  if (agent !== undefined) void stop().then(start);
});
ui.payout.addEventListener("change", () => {
  const value = ui.payout.value.trim();
  if (value === "" || isPayoutAddress(chain, value)) localStorage.setItem(payoutKey(), value);
  showPayout();
});
ui.pairForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const code = ui.pairCode.value.trim();
  if (code === "") return;
  pendingPair = code;
  if (agent === undefined) {
    ui.pairStatus.textContent = "The code will be claimed once the worker is online.";
    void start();
  } else {
    ui.pairStatus.textContent = "Claiming…";
    agent.claim(code);
  }
});
ui.exportKey.addEventListener("click", () => void exportKey());
document.addEventListener("visibilitychange", () => {
  if (agent !== undefined && document.visibilityState === "hidden") {
    logLine(ui, "tab hidden: the browser may pause this worker; a job it holds then goes to another worker");
  }
});
// Leaving the page: close the socket now, so the coordinator re-queues at once rather than at a
// timeout. A page kept in the back/forward cache starts again when it is shown.
let resumeOnShow = false;
addEventListener("pagehide", () => {
  if (agent === undefined) return;
  agent.abandon();
  agent = undefined;
  clearInterval(accountTimer);
  resumeOnShow = true;
});
addEventListener("pageshow", (event) => {
  if (!event.persisted || !resumeOnShow) return;
  resumeOnShow = false;
  void start();
});

async function start(): Promise<void> {
  if (agent !== undefined) return;
  const payout = payoutAddress();
  ui.toggle.disabled = true;
  try {
    showState(ui, "loading", "Loading the task engine…", "wink-nlp and the word vectors, about 4 MB the first time");
    key ??= autostart ? await ephemeralDeviceKey() : (await loadOrCreateDeviceKey()).key;
    showKey(key);
    runner ??= new TaskRunner({
      slots: Number(ui.slots.value),
      spawn: () => new Worker(__TASK_WORKER_URL__),
      vectors: await loadVectors(),
    });
    await runner.ready();
  } catch (err) {
    runner?.close();
    runner = undefined;
    showState(ui, "error", "Could not start", err instanceof Error ? err.message : String(err));
    ui.toggle.disabled = false;
    return;
  }
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  agent = new BrowserAgent({
    url: `${scheme}://${location.host}/${chain}/v1/workers/ws`,
    chain,
    key,
    ...(payout !== undefined && { payoutAddress: payout }),
    slots: Number(ui.slots.value),
    runner,
    agent: `dispatch-browser/0.1.0 ${navigator.userAgent.match(/(Chrome|Firefox|Safari)\/[\d.]+/)?.[0] ?? "browser"}`,
    events: agentEvents(chain),
  });
  if (pendingPair !== undefined) agent.claim(pendingPair);
  agent.start();
  ui.toggle.textContent = "Stop";
  ui.toggle.disabled = false;
  void wakeLock.hold();
  accountTimer = setInterval(() => void refreshAccount(), ACCOUNT_REFRESH_MS);
}

async function stop(): Promise<void> {
  const running = agent;
  if (running === undefined) return;
  ui.toggle.disabled = true;
  showState(ui, "loading", "Stopping…", "finishing the running job and delivering its result");
  await running.stop();
  agent = undefined;
  // A fresh set of Web Workers next time: the slot count may have changed.
  runner?.close();
  runner = undefined;
  clearInterval(accountTimer);
  await wakeLock.release();
  showState(ui, "stopped", "Stopped");
  ui.toggle.textContent = "Start";
  ui.toggle.disabled = false;
  ui.jobsRunning.textContent = "0";
}

function agentEvents(forChain: Chain): ConstructorParameters<typeof BrowserAgent>[0]["events"] {
  return {
    state: (state) => showSocketState(state, forChain),
    jobStarted: (jobId, taskType) => {
      ui.jobsRunning.textContent = String(agent?.running ?? 1);
      logLine(ui, `running ${taskType} ${jobId.slice(0, 12)}`);
    },
    jobAccepted: (jobId, failed) => {
      if (failed) counts.failed++;
      else counts.done++;
      ui.jobsDone.textContent = String(counts.done);
      ui.jobsFailed.textContent = String(counts.failed);
      ui.jobsRunning.textContent = String(agent?.running ?? 0);
      logLine(ui, `${failed ? "reported a failed" : "delivered"} job ${jobId.slice(0, 12)}`);
      scheduleAccountRefresh();
    },
    jobDropped: (jobId, reason) => {
      ui.jobsRunning.textContent = String(agent?.running ?? 0);
      logLine(ui, `job ${jobId.slice(0, 12)} dropped: ${reason}`);
    },
    paired: (userId) => {
      pendingPair = undefined;
      ui.pairCode.value = "";
      ui.pairStatus.textContent = `Paired with user ${userId.slice(0, 16)}…: their PRIVATE jobs can come here.`;
      logLine(ui, `paired with ${userId.slice(0, 16)}…`);
    },
    pairingRefused: (code, message) => {
      pendingPair = undefined;
      ui.pairStatus.textContent = `Code refused (${code}): ${message}`;
    },
    paid: (msg) => {
      logLine(ui, `paid ${msg.amount} USDC for ${msg.job_ids.length} job(s)`);
      void refreshAccount();
    },
    note: (text) => logLine(ui, text),
  };
}

function showSocketState(state: SocketState, forChain: Chain): void {
  switch (state.kind) {
    case "connecting":
      showState(ui, "connecting", "Connecting…", `to the ${forChain} coordinator${state.attempt > 1 ? ` (attempt ${state.attempt})` : ""}`);
      return;
    case "registered": {
      const privacy = state.ack.verified ? "verified key: PUBLIC jobs, and PRIVATE jobs of users you paired with" : "unverified";
      showState(ui, "online", "Online, waiting for jobs", `${forChain}, ${privacy}`);
      logLine(ui, `registered on ${forChain}`);
      void refreshAccount();
      return;
    }
    case "waiting":
      showState(ui, "waiting", `Reconnecting in ${Math.ceil(state.retryInMs / 1000)} s`, state.reason);
      return;
    case "stopped":
      if (state.reason !== "stopped" && state.reason !== "page closed") {
        const why = state.reason.startsWith("REPLACED")
          ? "another tab or device started working with this key; this one stopped"
          : state.reason;
        showState(ui, "error", "Stopped by the coordinator", why);
        agent = undefined;
        ui.toggle.textContent = "Start";
      }
      return;
  }
}

/** The word vectors, fetched once and checked against the engine version: other vectors would give other outputs. */
function loadVectors(): Promise<ArrayBuffer> {
  vectors ??= (async () => {
    const res = await fetch(__WORD_VECTORS_URL__);
    if (!res.ok) throw new Error(`word vectors: HTTP ${res.status}`);
    const bytes = await res.arrayBuffer();
    const sha = sha256Hex(new Uint8Array(bytes));
    if (!sha.startsWith(TASK_ENGINE.wordVectorsSha256)) {
      throw new Error(`word vectors have SHA-256 ${sha.slice(0, 12)}, the engine expects ${TASK_ENGINE.wordVectorsSha256}`);
    }
    return bytes;
  })();
  vectors.catch(() => {
    vectors = undefined;
  });
  return vectors;
}

async function refreshAccount(): Promise<void> {
  if (key === undefined) return;
  try {
    showAccount(ui, await fetchAccount(location.origin, chain, key.publicKey));
  } catch (err) {
    logLine(ui, err instanceof Error ? err.message : String(err));
  }
}

/** At most one read per few seconds however many jobs finish. */
function scheduleAccountRefresh(): void {
  if (accountSoon !== undefined) return;
  accountSoon = setTimeout(() => {
    accountSoon = undefined;
    void refreshAccount();
  }, ACCOUNT_AFTER_JOB_MS);
}

async function showStoredKey(): Promise<void> {
  try {
    key = (await loadOrCreateDeviceKey()).key;
    showKey(key);
    void refreshAccount();
    // A shared pairing link: start and claim in one tap.
    if (pendingPair !== undefined) ui.pairStatus.textContent = "Press Claim (or Start) to pair with the user who sent this link.";
  } catch (err) {
    ui.keyKind.textContent = `No stored key: ${err instanceof Error ? err.message : String(err)}`;
  }
}

function showKey(k: DeviceKey): void {
  ui.pubkey.textContent = k.publicKey;
  ui.pubkey.dataset.pubkey = k.publicKey;
  ui.keyKind.textContent = autostart
    ? "A fresh key for this visit only (autostart): it is not stored."
    : k.kind === "webcrypto"
      ? "Ed25519 key held by the browser (WebCrypto), stored in IndexedDB."
      : "Ed25519 key stored in IndexedDB (this browser has no WebCrypto Ed25519 here).";
  ui.exportKey.disabled = false;
}

async function exportKey(): Promise<void> {
  if (key === undefined) return;
  if (!confirm("The file holds this worker's secret key: anyone with it can work, and be paid, as you. Export it?")) return;
  download(`dispatch-worker-${key.publicKey.slice(0, 8)}.json`, await key.exportKeyFile());
}

function payoutKey(): string {
  return `dispatch-worker.payout.${chain}`;
}

/** The stored payout address for the current chain (never in autostart: kiosks earn nothing to anyone). */
function payoutAddress(): string | undefined {
  if (autostart) return undefined;
  const value = localStorage.getItem(payoutKey()) ?? "";
  return isPayoutAddress(chain, value) ? value : undefined;
}

function showPayout(): void {
  ui.payout.placeholder = PAYOUT_PLACEHOLDER[chain];
  const stored = autostart ? "" : (localStorage.getItem(payoutKey()) ?? "");
  if (document.activeElement !== ui.payout) ui.payout.value = stored;
  const typed = ui.payout.value.trim();
  ui.payoutHint.textContent =
    typed !== "" && !isPayoutAddress(chain, typed)
      ? `That is not a ${chain} address.`
      : typed === ""
        ? "Without an address your earnings wait on the coordinator's ledger. The address is covered by your signature, so nobody in between can redirect it."
        : `Earnings on ${chain} are paid here (takes effect at the next start).`;
}
