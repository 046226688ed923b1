/**
 * The dashboard's browser script, served as plain JavaScript (no build step). It lives in a
 * string, so it is checked by the browser tests (test/dashboard.browser.test.ts), not by tsc:
 * keep it free of template literals (this string is one) and of any HTML parsing.
 */
export const DASHBOARD_SCRIPT = String.raw`// Live dashboard client. Every value is set as text (textContent, append of strings) or as a
// checked attribute: worker-supplied strings (agent descriptions, model names) are hostile.
const CHAINS = ["monad", "solana"];
const STAGES = ["pending", "assigned", "settling", "completed", "failed"];
const PAYMENT_TONE = {
  settled: "ok",
  refunded: "info",
  refund_due: "warn",
  unknown: "warn",
  settling: "accent",
  verified: "accent",
  voided: "",
  disabled: "",
};
const PAYMENT_LABELS = {
  settled: "Settled",
  settling: "Settling now",
  verified: "Paid, settles on completion",
  unknown: "Settlement outcome unknown",
  refund_due: "Refund due",
  refunded: "Refunded",
  voided: "Voided (never charged)",
  disabled: "Unpaid (payments off)",
};
const MINUTE_BUCKETS = 12;

const root = document.documentElement;
let chain = CHAINS.includes(root.dataset.chain) ? root.dataset.chain : "monad";
let source = null;
let retryTimer = null;
let skewMs = 0;
let seenJobs = null;
let snapshotAt = 0;
let current = null;

const byId = (id) => document.getElementById(id);

function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function chip(text, tone, title) {
  const node = el("span", tone ? "chip " + tone : "chip", text);
  if (title) node.title = title;
  return node;
}

/** Only http(s) links, whatever a template or an id says. */
function safeHref(href) {
  try {
    const url = new URL(href, location.href);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

function link(href, text, title) {
  const checked = safeHref(href);
  if (checked === null) return el("span", null, text);
  const a = el("a", null, text);
  a.href = checked;
  if (title) a.title = title;
  if (checked.startsWith(location.origin) === false) a.rel = "noopener noreferrer";
  return a;
}

function explorerLink(template, tx, text) {
  if (!template || !tx) return el("span", "muted", text);
  return link(template.split("{tx}").join(encodeURIComponent(tx)), text, tx);
}

function short(key) {
  return typeof key === "string" && key.length > 14 ? key.slice(0, 6) + "…" + key.slice(-4) : String(key ?? "");
}

function usd(micro) {
  const d = (Number(micro) || 0) / 1e6;
  if (d === 0) return "$0";
  if (Math.abs(d) >= 1) return "$" + d.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return "$" + d.toFixed(4).replace(/0+$/, "").replace(/\.$/, "");
}

function count(n) {
  return (Number(n) || 0).toLocaleString();
}

function duration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "–";
  if (ms < 1000) return Math.round(ms) + " ms";
  if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
  const m = Math.floor(ms / 60000);
  if (m < 60) return m + "m " + Math.round((ms % 60000) / 1000) + "s";
  return Math.floor(m / 60) + "h " + (m % 60) + "m";
}

function serverNow() {
  return Date.now() + skewMs;
}

function setStatus(state, text) {
  const status = byId("status");
  status.dataset.state = state;
  byId("status-text").textContent = text;
}

function setKpi(id, value, detail, alert) {
  const card = byId("kpi-" + id);
  card.querySelector('[data-field="value"]').textContent = value;
  card.querySelector('[data-field="detail"]').textContent = detail || "\u00a0";
  card.classList.toggle("alert", Boolean(alert));
}

function sparkline(id, values) {
  const svg = byId("kpi-" + id).querySelector("svg");
  const numbers = values.map((v) => (Number.isFinite(v) ? v : 0));
  const max = Math.max(1, ...numbers);
  const w = 120;
  const h = 32;
  const step = numbers.length > 1 ? w / (numbers.length - 1) : w;
  let line = "";
  numbers.forEach((v, i) => {
    const x = (i * step).toFixed(1);
    const y = (h - 2 - (v / max) * (h - 6)).toFixed(1);
    line += (i === 0 ? "M" : "L") + x + " " + y;
  });
  svg.querySelector(".line").setAttribute("d", line);
  svg.querySelector(".area").setAttribute("d", line + "L" + w + " " + h + "L0 " + h + "Z");
}

function renderKpis(s) {
  const types = Object.entries(s.workers.by_type)
    .map(([type, n]) => type.toLowerCase() + " " + count(n))
    .join(" · ");
  setKpi("workers", count(s.workers.online), s.workers.online ? types + " · " + count(s.queue.assigned) + "/" + count(s.workers.slots) + " slots busy" : "none connected");
  setKpi("queue", count(s.queue.pending), count(s.queue.assigned) + " running · " + count(s.queue.settling) + " settling");

  const buckets = s.series.buckets;
  const lastMinute = buckets.slice(-MINUTE_BUCKETS);
  const done = lastMinute.reduce((sum, b) => sum + b.completed, 0);
  const failed = lastMinute.reduce((sum, b) => sum + b.failed, 0);
  setKpi("throughput", count(done) + " /min", failed ? count(failed) + " failed in the last minute" : "completed in the last minute", false);
  sparkline("throughput", buckets.map((b) => b.completed + b.failed));

  let latencySum = 0;
  let latencyMax = null;
  for (const b of lastMinute) {
    if (b.latency_avg_ms !== null) latencySum += b.latency_avg_ms * b.completed;
    if (b.latency_max_ms !== null) latencyMax = Math.max(latencyMax ?? 0, b.latency_max_ms);
  }
  setKpi("latency", done ? duration(latencySum / done) : "–", latencyMax !== null ? "avg, max " + duration(latencyMax) + " · commit to result" : "commit to result");
  let carry = 0;
  sparkline(
    "latency",
    buckets.map((b) => {
      carry = b.latency_avg_ms ?? carry;
      return carry;
    }),
  );

  const states = s.money.by_state;
  const settled = states.settled || { count: 0, micro: 0 };
  setKpi(
    "settled",
    usd(settled.micro),
    s.payments_mode === "disabled" ? "payments off on this coordinator" : count(settled.count) + " jobs settled",
  );
  setKpi("payouts", usd(s.money.earned_micro), "paid " + usd(s.money.paid_micro) + " · refunded " + usd(s.money.refunded_micro));
  setKpi("outbox", count(s.outbox.pending), "pending · " + (s.outbox.dead ? count(s.outbox.dead) + " dead letters" : "no dead letters"), s.outbox.dead > 0);
}

/** A table cell: its content in one block, and its column name for the stacked phone layout. */
function cell(label, className, ...children) {
  const td = el("td", className, el("div", "v", ...children));
  if (label) td.dataset.label = label;
  return td;
}

function emptyRow(columns, text) {
  const td = el("td", "empty", text);
  td.colSpan = columns;
  return el("tr", null, td);
}

function workerRow(w) {
  const tr = el("tr");
  tr.dataset.key = w.provider_pubkey;

  const key = el("span", "key", short(w.provider_pubkey));
  key.title = w.provider_pubkey;
  const who = cell(
    null,
    "who head",
    key,
    " ",
    chip(String(w.provider_type).toLowerCase(), "info"),
    w.verified ? chip("verified", "ok", "answered the signed challenge") : chip("unverified", "warn", "PUBLIC jobs only"),
  );
  if (w.agent) {
    const agent = el("div", "agent", w.agent);
    agent.title = w.agent;
    who.firstChild.append(agent);
  }

  const served = [];
  for (const m of w.models) served.push(chip(m.name, m.loaded ? "loaded" : "", m.loaded ? m.name + " (loaded)" : m.name));
  if (w.models_more > 0) served.push(el("span", "muted", "+" + count(w.models_more)));
  if (w.models.length === 0) served.push(el("span", "muted", w.capabilities.join(" · ")));
  const models = cell("Models", "models wide", ...served);

  const identity = w.agent_id
    ? cell("ERC-8004", null, chip("#" + w.agent_id, "accent", "ERC-8004 agent id, checked on-chain"), el("span", "muted", " rep " + Number(w.reputation).toFixed(1)))
    : cell("ERC-8004", null, el("span", "muted", "–"));

  const meter = el("div", w.active >= w.slots ? "meter full" : "meter", el("span"));
  meter.firstChild.style.width = Math.min(100, Math.round((100 * w.active) / Math.max(1, w.slots))) + "%";
  const load = cell("Load", "load", meter, el("small", null, count(w.active) + " / " + count(w.slots)));

  const record = cell("Jobs ✓ / ✗", "num", count(w.successes) + " / " + count(w.failures));
  const earned = cell("Earned", "num", usd(w.earned_micro), el("div", "muted", "paid " + usd(w.paid_micro)));
  tr.append(who, models, identity, load, record, earned);
  return tr;
}

function renderWorkers(s) {
  const body = byId("workers-body");
  const rows = s.workers.list.map(workerRow);
  if (s.workers.more > 0) rows.push(emptyRow(6, "and " + count(s.workers.more) + " more"));
  body.replaceChildren(...(rows.length ? rows : [emptyRow(6, "No worker online on this chain yet.")]));
  byId("workers-count").textContent = count(s.workers.online) + " online";
}

function jobRow(j, fresh) {
  const tr = el("tr", fresh ? "fresh" : null);
  if (j.id) tr.dataset.id = j.id;
  tr.dataset.stage = j.stage;

  let id;
  if (j.id) {
    id = el("span", "key", short(j.id));
    id.title = j.id;
  } else if (j.ref) {
    id = el("span", "key", j.ref);
    id.title = "job ids are not published on this coordinator: an id reads the job's result";
  } else id = chip("private", "accent", "PRIVATE job: visible to its owner only");
  const stageName = STAGES.includes(j.stage) ? j.stage : "pending";
  const idCell = cell(null, "head", id);

  const route = cell("Route", null, j.job_type === "LLM_INFER" ? chip(j.model || "any model", "", "LLM_INFER") : "TASK");
  const tier = cell("Tier", "opt", String(j.tier).toLowerCase());
  const stage = cell("Stage", null, chip(stageName, "stage-" + stageName));
  if (j.attempts > 1) stage.firstChild.append(el("span", "muted", " ×" + j.attempts));
  if (j.reason) stage.firstChild.append(el("span", "reason", j.reason));

  let elapsed;
  if (j.latency_ms !== null) elapsed = duration(j.latency_ms);
  else {
    elapsed = el("span", "age muted");
    elapsed.dataset.since = String(Date.parse(j.created_at));
    elapsed.textContent = duration(serverNow() - Date.parse(j.created_at));
  }
  const latency = cell("Latency", "num", elapsed);

  const tone = Object.hasOwn(PAYMENT_TONE, j.payment_state) ? PAYMENT_TONE[j.payment_state] : "";
  const payment = cell("Payment", null, chip(j.payment_state.replace("_", " "), tone), el("span", "muted", " " + usd(j.price_micro)));

  const proofs = [];
  if (j.id && (j.stage === "completed" || (j.stage === "failed" && j.latency_ms !== null))) {
    proofs.push(link("/" + chain + "/v1/receipts/" + encodeURIComponent(j.id), "receipt", "signed receipt, verified afresh, with its anchoring proof"));
  }
  if (j.anchor.state === "anchored") proofs.push(explorerLink(current?.explorer.anchors, j.anchor.transaction, "anchored"));
  else if (j.anchor.state === "batched") proofs.push(el("span", "muted", "anchoring…"));
  if (proofs.length === 0) proofs.push(el("span", "muted", "–"));
  const proof = cell("Proof", "proof", ...proofs);

  let by = el("span", "muted", "–");
  if (j.worker_pubkey) {
    by = el("span", "key", short(j.worker_pubkey));
    by.title = j.worker_pubkey;
  }
  const worker = cell("Worker", "opt", by);
  tr.append(idCell, route, tier, stage, latency, payment, proof, worker);
  return tr;
}

function renderJobs(s) {
  const key = (j) => j.id || j.ref;
  const ids = new Set(s.jobs.map(key).filter(Boolean));
  const rows = s.jobs.map((j) => jobRow(j, seenJobs !== null && key(j) !== null && !seenJobs.has(key(j))));
  byId("jobs-body").replaceChildren(...(rows.length ? rows : [emptyRow(8, "No jobs yet. Commit one and watch it flow.")]));
  byId("jobs-count").textContent = s.jobs.length ? "latest " + s.jobs.length : "";
  seenJobs = ids;
}

function facts(id, entries) {
  const list = byId(id);
  const nodes = [];
  for (const [label, a, b, className] of entries) {
    nodes.push(el("dt", className, label), el("dd", className, a), el("dd", className ? className + " muted" : "muted", b ?? ""));
  }
  list.replaceChildren(...nodes);
}

function renderMoney(s) {
  const rows = [];
  for (const [state, label] of Object.entries(PAYMENT_LABELS)) {
    const v = s.money.by_state[state];
    if (v) rows.push([label, count(v.count) + " jobs", usd(v.micro)]);
  }
  if (rows.length === 0) rows.push(["Jobs", "none yet", ""]);
  rows.push(
    ["Credited to workers (" + s.money.share_percent + "% share)", usd(s.money.earned_micro), "", "sum"],
    ["Paid out to workers", usd(s.money.paid_micro), ""],
    ["Refunded to payers", usd(s.money.refunded_micro), ""],
    ["Transfers in flight", count(s.money.open_transfers), ""],
  );
  facts("money-facts", rows);
  byId("money-asof").textContent = "as of " + new Date(s.money.as_of).toLocaleTimeString();
}

function renderOutbox(s) {
  const rows = [
    ["Pending", count(s.outbox.pending), s.outbox.oldest_at ? "oldest " + duration(serverNow() - Date.parse(s.outbox.oldest_at)) : "", "sum"],
    ["Dead letters", count(s.outbox.dead), s.outbox.dead ? "need an operator" : ""],
  ];
  for (const [kind, n] of Object.entries(s.outbox.by_kind)) rows.push(["· " + kind, count(n), ""]);
  rows.push(["Receipts awaiting anchoring", s.anchoring.enabled ? count(s.anchoring.unanchored) : "off", ""]);
  rows.push(["Held requests (viewers, long-polls)", count(s.streams.holds), count(s.streams.streams) + " job streams"]);
  facts("outbox-facts", rows);
}

function render(s) {
  current = s;
  snapshotAt = Date.now();
  skewMs = Date.parse(s.at) - snapshotAt;
  renderKpis(s);
  renderWorkers(s);
  renderJobs(s);
  renderMoney(s);
  renderOutbox(s);
  byId("network").textContent = s.chain + " · " + s.network + " · payments " + s.payments_mode;
  setStatus("live", "live · " + new Date(s.at).toLocaleTimeString());
}

function tickAges() {
  for (const age of document.querySelectorAll(".age[data-since]")) {
    age.textContent = duration(serverNow() - Number(age.dataset.since));
  }
  if (snapshotAt && Date.now() - snapshotAt > 20000 && source) setStatus("connecting", "waiting for data…");
}

function disconnect() {
  if (source) source.close();
  source = null;
  clearTimeout(retryTimer);
}

function connect() {
  disconnect();
  const stream = new EventSource("/" + chain + "/v1/dashboard/events");
  source = stream;
  stream.addEventListener("snapshot", (e) => {
    if (source === stream) render(JSON.parse(e.data));
  });
  stream.addEventListener("ping", (e) => {
    if (source !== stream) return;
    snapshotAt = Date.now();
    setStatus("live", "live · " + new Date(JSON.parse(e.data).at).toLocaleTimeString());
  });
  stream.addEventListener("error", () => {
    if (source !== stream) return;
    if (stream.readyState === EventSource.CLOSED) {
      // Refused (too many streams from this address) or the server is gone: try again later.
      setStatus("offline", "offline · retrying");
      retryTimer = setTimeout(connect, 5000);
    } else setStatus("connecting", "reconnecting…");
  });
}

function selectChain(next, push) {
  if (!CHAINS.includes(next)) return;
  chain = next;
  root.dataset.chain = next;
  seenJobs = null;
  current = null;
  for (const a of document.querySelectorAll(".chains a")) {
    if (a.dataset.chain === next) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  byId("json-link").href = "/" + next + "/v1/dashboard";
  byId("json-link").textContent = "/" + next + "/v1/dashboard";
  byId("api-link").href = "/" + next + "/v1/openapi.json";
  document.title = "Dispatch · " + next + " · live";
  if (push) history.pushState({ chain: next }, "", "/" + next + "/dashboard");
  setStatus("connecting", "connecting…");
  connect();
}

for (const a of document.querySelectorAll(".chains a")) {
  a.addEventListener("click", (e) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    if (a.dataset.chain !== chain) selectChain(a.dataset.chain, true);
  });
}
addEventListener("popstate", () => {
  const first = location.pathname.split("/")[1];
  selectChain(CHAINS.includes(first) ? first : "monad", false);
});
setInterval(tickAges, 1000);
connect();
`;
