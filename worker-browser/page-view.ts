import type { WorkerAccount } from "../protocol/index.ts";
import { usdc } from "./account.ts";

/** The page's elements, looked up once. */
export function pageElements() {
  const el = <T extends HTMLElement>(id: string): T => {
    const found = document.getElementById(id);
    if (found === null) throw new Error(`worker page: #${id} is missing`);
    return found as T;
  };
  return {
    status: el("status"),
    statusDetail: el("status-detail"),
    jobsDone: el("jobs-done"),
    jobsRunning: el("jobs-running"),
    jobsFailed: el("jobs-failed"),
    earned: el("earned"),
    pending: el("pending"),
    paid: el("paid"),
    toggle: el<HTMLButtonElement>("toggle"),
    chain: el<HTMLSelectElement>("chain"),
    payout: el<HTMLInputElement>("payout"),
    payoutHint: el("payout-hint"),
    slots: el<HTMLSelectElement>("slots"),
    pairForm: el<HTMLFormElement>("pair-form"),
    pairCode: el<HTMLInputElement>("pair-code"),
    pairStatus: el("pair-status"),
    payouts: el("payouts"),
    pubkey: el("pubkey"),
    keyKind: el("key-kind"),
    exportKey: el<HTMLButtonElement>("export-key"),
    wakeLock: el("wake-lock"),
    log: el("log"),
    engine: el("engine"),
  };
}
export type PageElements = ReturnType<typeof pageElements>;

/** Page states, also on `body[data-state]` for styling (and for tests to wait on). */
export type PageState = "stopped" | "loading" | "connecting" | "online" | "waiting" | "error";

export function showState(ui: PageElements, state: PageState, title: string, detail = ""): void {
  document.body.dataset.state = state;
  ui.status.textContent = title;
  ui.statusDetail.textContent = detail;
}

export function showAccount(ui: PageElements, account: WorkerAccount): void {
  ui.earned.textContent = usdc(account.earned_micro);
  ui.pending.textContent = usdc(account.pending_micro);
  ui.paid.textContent = usdc(account.paid_micro);
  ui.payouts.replaceChildren();
  if (account.payouts.length === 0) {
    ui.payouts.append(item("None yet.", "muted"));
    return;
  }
  for (const p of account.payouts) {
    const li = item(`${usdc(p.amount_micro)} USDC for ${p.jobs} job${p.jobs === 1 ? "" : "s"}, ${p.state} `);
    if (p.explorer_url !== null) {
      const a = document.createElement("a");
      a.href = p.explorer_url;
      a.rel = "noopener noreferrer";
      a.target = "_blank";
      a.textContent = "transaction";
      li.append(a);
    } else if (p.transaction !== null) li.append(p.transaction.slice(0, 14));
    ui.payouts.append(li);
  }
}

const MAX_LOG = 40;

export function logLine(ui: PageElements, text: string): void {
  const time = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  ui.log.prepend(item(`${time} ${text}`));
  while (ui.log.children.length > MAX_LOG) ui.log.lastElementChild?.remove();
}

function item(text: string, className?: string): HTMLLIElement {
  const li = document.createElement("li");
  li.textContent = text;
  if (className !== undefined) li.className = className;
  return li;
}

/** Offers a JSON file for download without any server round trip (the key must not leave the device otherwise). */
export function download(filename: string, json: unknown): void {
  const url = URL.createObjectURL(new Blob([`${JSON.stringify(json, null, 2)}\n`], { type: "application/json" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
