/** The dashboard's stylesheet: light and dark from the system setting, one column on a phone. */
export const DASHBOARD_STYLE = `
:root {
  --bg: #f6f7f9; --panel: #ffffff; --text: #14171f; --muted: #667085; --line: #e4e7ec;
  --accent: #6d4aff; --accent-soft: #efeaff; --ok: #12805c; --ok-soft: #e3f6ee; --warn: #b54708; --warn-soft: #fef0e1;
  --bad: #c01048; --bad-soft: #fde8ef; --info: #1d5bd8; --info-soft: #e6efff; --chip: #f0f2f5;
  --radius: 12px; --shadow: 0 1px 2px rgba(16, 24, 40, .06);
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e1016; --panel: #161922; --text: #e6e8ee; --muted: #98a2b3; --line: #262b38;
    --accent: #9b87ff; --accent-soft: #262046; --ok: #4ccf95; --ok-soft: #11301f; --warn: #f5a35c; --warn-soft: #3a2612;
    --bad: #ff7a9b; --bad-soft: #3d1422; --info: #7aa7ff; --info-soft: #142446; --chip: #222633;
    --shadow: none;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.mono, .key { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.muted { color: var(--muted); }

.top {
  position: sticky; top: 0; z-index: 2; display: flex; flex-wrap: wrap; align-items: center; gap: 12px 20px;
  padding: 12px clamp(12px, 3vw, 32px); background: color-mix(in srgb, var(--bg) 88%, transparent);
  backdrop-filter: blur(8px); border-bottom: 1px solid var(--line);
}
.brand { display: flex; align-items: baseline; gap: 10px; margin-right: auto; }
.brand h1 { margin: 0; font-size: 18px; letter-spacing: -.01em; }
.tagline { color: var(--muted); font-size: 13px; }
.logo {
  align-self: center; width: 18px; height: 18px; border-radius: 6px;
  background: linear-gradient(135deg, var(--accent), var(--info));
}
.chains { display: inline-flex; padding: 3px; border-radius: 999px; background: var(--chip); }
.chains a { padding: 5px 14px; border-radius: 999px; color: var(--muted); font-weight: 500; }
.chains a:hover { text-decoration: none; color: var(--text); }
.chains a[aria-current="page"] { background: var(--panel); color: var(--text); box-shadow: var(--shadow); }
.status { display: inline-flex; align-items: center; gap: 8px; color: var(--muted); font-size: 13px; min-width: 9em; }
.status .dot { width: 8px; height: 8px; border-radius: 50%; background: var(--warn); }
.status[data-state="live"] .dot { background: var(--ok); box-shadow: 0 0 0 3px var(--ok-soft); }
.status[data-state="offline"] .dot { background: var(--bad); }

main { padding: 20px clamp(12px, 3vw, 32px) 8px; display: grid; gap: 20px; max-width: 1480px; margin: 0 auto; }

.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; }
.kpi {
  position: relative; overflow: hidden; padding: 14px 16px; min-height: 104px;
  background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); box-shadow: var(--shadow);
}
.kpi h2 { margin: 0; font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.kpi .value { margin: 6px 0 2px; font-size: 26px; font-weight: 650; letter-spacing: -.02em; font-variant-numeric: tabular-nums; }
.kpi .detail { margin: 0; color: var(--muted); font-size: 12.5px; position: relative; z-index: 1; }
.kpi.alert { border-color: var(--bad); }
.kpi.alert .value { color: var(--bad); }
.spark { position: absolute; left: 0; right: 0; bottom: 0; width: 100%; height: 38px; pointer-events: none; }
.spark .line { fill: none; stroke: var(--accent); stroke-width: 1.5; vector-effect: non-scaling-stroke; }
.spark .area { fill: var(--accent-soft); opacity: .8; }

.panel { background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); box-shadow: var(--shadow); min-width: 0; }
.panel > header { display: flex; align-items: baseline; gap: 10px; padding: 14px 16px 8px; }
.panel h2 { margin: 0; font-size: 15px; }
.panel .count { color: var(--muted); font-size: 12.5px; }
.split { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 20px; }

.table-wrap { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th {
  text-align: left; font-size: 11.5px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .04em;
  padding: 8px 12px; border-bottom: 1px solid var(--line); white-space: nowrap;
}
td { padding: 9px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
tbody tr:last-child td { border-bottom: 0; }
.num { text-align: right; white-space: nowrap; }
td.empty { text-align: center; color: var(--muted); padding: 22px 12px; }
tr.fresh td { animation: fresh 2.4s ease-out; }
@keyframes fresh { from { background: var(--accent-soft); } to { background: transparent; } }

.who .agent { color: var(--muted); font-size: 12.5px; margin-top: 2px; max-width: 34ch; overflow-wrap: anywhere; }
.chip {
  display: inline-block; margin: 1px 4px 1px 0; padding: 1px 8px; border-radius: 999px; background: var(--chip);
  font-size: 11.5px; line-height: 18px; white-space: nowrap; max-width: 24ch; overflow: hidden; text-overflow: ellipsis; vertical-align: middle;
}
.chip.ok { background: var(--ok-soft); color: var(--ok); }
.chip.warn { background: var(--warn-soft); color: var(--warn); }
.chip.bad { background: var(--bad-soft); color: var(--bad); }
.chip.info { background: var(--info-soft); color: var(--info); }
.chip.accent { background: var(--accent-soft); color: var(--accent); }
.chip.loaded { box-shadow: inset 0 0 0 1px var(--ok); }
.models { max-width: 30ch; }

.meter { width: 72px; height: 6px; border-radius: 999px; background: var(--chip); overflow: hidden; margin: 6px 0 3px; }
.meter > span { display: block; height: 100%; background: var(--accent); border-radius: inherit; }
.meter.full > span { background: var(--warn); }
.load small { color: var(--muted); }

.stage-pending { background: var(--chip); color: var(--muted); }
.stage-assigned { background: var(--info-soft); color: var(--info); }
.stage-settling { background: var(--accent-soft); color: var(--accent); }
.stage-completed { background: var(--ok-soft); color: var(--ok); }
.stage-failed { background: var(--bad-soft); color: var(--bad); }
.reason { display: block; color: var(--bad); font-size: 12px; margin-top: 2px; }
.proof a + a, .proof a + span { margin-left: 8px; }

.facts { display: grid; grid-template-columns: 1fr auto auto; gap: 0; margin: 0; padding: 0 16px 12px; }
.facts dt, .facts dd { margin: 0; padding: 7px 0; border-bottom: 1px solid var(--line); font-variant-numeric: tabular-nums; }
.facts dt { color: var(--muted); }
.facts dd { text-align: right; padding-left: 16px; }
.facts .sum { font-weight: 600; }

.foot {
  display: flex; flex-wrap: wrap; gap: 8px 24px; justify-content: center; padding: 18px 16px 28px; color: var(--muted); font-size: 12.5px;
}

@media (max-width: 720px) {
  body { font-size: 13.5px; }
  .tagline { display: none; }
  .status { min-width: 0; }
  .kpis { grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 10px; }
  .kpi { min-height: 96px; padding: 12px; }
  .kpi .value { font-size: 22px; }
  .split { grid-template-columns: minmax(0, 1fr); }
  /* Tables become one card per row: the first cell is its title, the others label: value lines. */
  table.stack thead { display: none; }
  table.stack, table.stack tbody { display: block; }
  table.stack tr {
    display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); column-gap: 18px;
    padding: 10px 14px; border-bottom: 1px solid var(--line);
  }
  table.stack td.head, table.stack td.wide, table.stack td.empty { grid-column: 1 / -1; }
  table.stack tbody tr:last-child { border-bottom: 0; }
  table.stack td { display: flex; gap: 12px; justify-content: space-between; align-items: baseline; padding: 3px 0; border: 0; text-align: right; }
  table.stack td::before { content: attr(data-label); flex: none; color: var(--muted); font-size: 12px; text-align: left; }
  table.stack td.head { display: block; text-align: left; padding-bottom: 6px; }
  table.stack td.head::before, table.stack td.empty::before { content: none; }
  table.stack td.empty { display: block; text-align: center; }
  table.stack td.opt { display: none; }
  table.stack .v { min-width: 0; overflow-wrap: anywhere; }
  .who .agent, .models { max-width: none; }
  .meter { display: inline-block; vertical-align: middle; margin: 0 8px 0 0; }
}
`;
