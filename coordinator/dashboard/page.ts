import type { Chain } from "../../protocol/index.ts";

/** Where the page loads its script and stylesheet from (served by every chain's routes, chain-independent). */
export const ASSET_PATHS = { script: "/dashboard/app.js", style: "/dashboard/app.css" } as const;

/**
 * Scripts and styles only from this origin, no inline code of any kind: even if worker-supplied
 * text ever reached the page as markup, it could not run. Data only from this origin.
 */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const kpi = (id: string, label: string, spark = false) => `
      <article class="kpi" id="kpi-${id}">
        <h2>${label}</h2>
        <p class="value" data-field="value">–</p>
        <p class="detail" data-field="detail">&nbsp;</p>${
          spark
            ? `
        <svg class="spark" viewBox="0 0 120 32" preserveAspectRatio="none" aria-hidden="true"><path class="area" d=""/><path class="line" d=""/></svg>`
            : ""
        }
      </article>`;

/**
 * The dashboard shell. Static markup only: every value arrives over the event stream and is set
 * as text by the script. `chain` comes from the route (a closed set), never from the request.
 */
export function dashboardPage(chain: Chain): string {
  const tab = (c: Chain, label: string) =>
    `<a href="/${c}/dashboard" data-chain="${c}"${c === chain ? ' aria-current="page"' : ""}>${label}</a>`;
  return `<!doctype html>
<html lang="en" data-chain="${chain}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <title>Dispatch · ${chain} · live</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="${ASSET_PATHS.style}">
  <script type="module" src="${ASSET_PATHS.script}"></script>
</head>
<body>
  <header class="top">
    <div class="brand">
      <span class="logo" aria-hidden="true"></span>
      <h1>Dispatch</h1>
      <span class="tagline">compute network · live</span>
    </div>
    <nav class="chains" aria-label="Chain">${tab("monad", "Monad")}${tab("solana", "Solana")}</nav>
    <div class="status" id="status" data-state="connecting" role="status" aria-live="polite">
      <span class="dot" aria-hidden="true"></span><span id="status-text">connecting…</span>
    </div>
  </header>
  <main>
    <section class="kpis" aria-label="Summary">${kpi("workers", "Workers online")}${kpi("queue", "Queue")}${kpi("throughput", "Throughput", true)}${kpi("latency", "Latency", true)}${kpi("settled", "Payments settled")}${kpi("payouts", "Worker earnings")}${kpi("outbox", "Outbox")}
    </section>

    <section class="panel" aria-labelledby="workers-title">
      <header><h2 id="workers-title">Workers</h2><span class="count" id="workers-count"></span></header>
      <div class="table-wrap">
        <table class="workers stack">
          <thead><tr>
            <th>Worker</th><th>Models</th><th>ERC-8004</th><th>Load</th><th class="num">Jobs ✓ / ✗</th><th class="num">Earned</th>
          </tr></thead>
          <tbody id="workers-body"></tbody>
        </table>
      </div>
    </section>

    <section class="panel" aria-labelledby="jobs-title">
      <header><h2 id="jobs-title">Job flow</h2><span class="count" id="jobs-count"></span></header>
      <div class="table-wrap">
        <table class="jobs stack">
          <thead><tr>
            <th>Job</th><th>Route</th><th class="opt">Tier</th><th>Stage</th><th class="num">Latency</th><th>Payment</th><th>Proof</th><th class="opt">Worker</th>
          </tr></thead>
          <tbody id="jobs-body"></tbody>
        </table>
      </div>
    </section>

    <div class="split">
      <section class="panel" aria-labelledby="money-title">
        <header><h2 id="money-title">Payments and payouts</h2><span class="count" id="money-asof"></span></header>
        <dl class="facts" id="money-facts"></dl>
      </section>
      <section class="panel" aria-labelledby="outbox-title">
        <header><h2 id="outbox-title">Outbox and anchoring</h2></header>
        <dl class="facts" id="outbox-facts"></dl>
      </section>
    </div>
  </main>
  <footer class="foot">
    <span id="network"></span>
    <span>Snapshot as JSON: <a id="json-link" href="/${chain}/v1/dashboard">/${chain}/v1/dashboard</a></span>
    <span><a id="api-link" href="/${chain}/v1/openapi.json">API</a></span>
  </footer>
</body>
</html>
`;
}
