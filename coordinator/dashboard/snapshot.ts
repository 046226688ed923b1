import {
  type Chain,
  DASHBOARD_LIMITS,
  type DashboardJob,
  type DashboardSnapshot,
  type DashboardWorker,
  NETWORKS,
} from "../../protocol/index.ts";
import { routeModel } from "../job-routes.ts";
import type { Listeners } from "../listeners.ts";
import type { Settings } from "../settings.ts";
import type { DashboardStore, JobLine, WorkerLine } from "../storage/dashboard-store.ts";
import type { LedgerStore } from "../storage/ledger-store.ts";
import { Series } from "./series.ts";

/** Money figures aggregate whole tables (jobs within retention, the ledger): refreshed this often, not every snapshot. */
const MONEY_EVERY_MS = 5_000;

export interface SnapshotSources {
  store: DashboardStore;
  ledger: LedgerStore;
  listeners: Listeners;
  chain: () => Chain;
  settings: () => Settings;
  /** Explorer template for anchor transactions (they are on the EVM chain, whichever chain this is). */
  anchorExplorer: () => string | null;
}

interface MoneyCache {
  at: number;
  money: DashboardSnapshot["money"];
  earnings: Map<string, { earned: number; paid: number }>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Builds one bounded dashboard snapshot from SQL; what every viewer of a chain is sent. */
export class SnapshotBuilder {
  private readonly sources: SnapshotSources;
  private readonly series: Series;
  private moneyCache: MoneyCache | null = null;

  constructor(sources: SnapshotSources) {
    this.sources = sources;
    this.series = new Series(sources.store, DASHBOARD_LIMITS.bucketMs, DASHBOARD_LIMITS.buckets);
  }

  build(now: number): DashboardSnapshot {
    const { store, listeners } = this.sources;
    const settings = this.sources.settings();
    const chain = this.sources.chain();
    const money = this.money(now);
    const fleet = store.fleet();
    const online = fleet.reduce((sum, f) => sum + f.n, 0);
    const list = this.workers(money.earnings);
    const outbox = store.outbox();
    const streams = listeners.stats();
    return {
      chain,
      network: NETWORKS[chain],
      at: iso(now),
      interval_ms: DASHBOARD_LIMITS.intervalMs,
      payments_mode: settings.payments.mode,
      queue: store.queue(),
      workers: {
        online,
        by_type: Object.fromEntries(fleet.map((f) => [f.provider_type, f.n])),
        slots: fleet.reduce((sum, f) => sum + f.slots, 0),
        more: Math.max(0, online - list.length),
        list,
      },
      jobs: store.recentJobs(DASHBOARD_LIMITS.jobs).map((j) => toJob(j, settings.dashboardJobIds)),
      series: { bucket_ms: DASHBOARD_LIMITS.bucketMs, buckets: this.series.read(now) },
      money: money.money,
      outbox: {
        pending: outbox.pending,
        dead: outbox.dead,
        by_kind: outbox.byKind,
        oldest_at: outbox.oldest === null ? null : iso(outbox.oldest),
      },
      anchoring: { enabled: settings.onchain?.receiptAnchor != null, unanchored: store.unanchored() },
      streams: { holds: streams.holds, streams: streams.streams },
      explorer: { payments: settings.money.explorerTxUrl, anchors: this.sources.anchorExplorer() },
    };
  }

  private workers(earnings: Map<string, { earned: number; paid: number }>): DashboardWorker[] {
    const { store } = this.sources;
    const models = new Map<string, { names: { name: string; loaded: boolean }[]; total: number }>();
    for (const m of store.models(DASHBOARD_LIMITS.workers, DASHBOARD_LIMITS.modelsPerWorker)) {
      const entry = models.get(m.socket_id) ?? { names: [], total: m.total };
      entry.names.push({ name: routeModel(m.route) ?? m.route, loaded: m.loaded === 1 });
      models.set(m.socket_id, entry);
    }
    return store.workers(DASHBOARD_LIMITS.workers).map((w: WorkerLine) => {
      const served = models.get(w.socket_id);
      const earned = earnings.get(w.pubkey);
      return {
        provider_pubkey: w.pubkey,
        provider_type: w.provider_type,
        agent: w.agent,
        models: served?.names ?? [],
        models_more: served ? served.total - served.names.length : 0,
        capabilities: JSON.parse(w.capabilities) as string[],
        verified: w.verified === 1,
        agent_id: w.agent_id,
        reputation: w.reputation,
        successes: w.successes,
        failures: w.failures,
        slots: w.slots,
        active: w.active,
        earned_micro: earned?.earned ?? 0,
        paid_micro: earned?.paid ?? 0,
        connected_at: iso(w.connected_at),
      };
    });
  }

  private money(now: number): MoneyCache {
    if (this.moneyCache && now - this.moneyCache.at < MONEY_EVERY_MS) return this.moneyCache;
    const { store, ledger } = this.sources;
    const totals = ledger.totals();
    this.moneyCache = {
      at: now,
      money: {
        share_percent: this.sources.settings().money.workerSharePercent,
        by_state: Object.fromEntries(store.paymentStates().map((s) => [s.payment_state, { count: s.n, micro: s.micro }])),
        earned_micro: totals.earned,
        paid_micro: totals.paid,
        refunded_micro: totals.refunded,
        open_transfers: store.openTransfers(),
        as_of: iso(now),
      },
      earnings: new Map(store.earnings(DASHBOARD_LIMITS.workers).map((e) => [e.pubkey, { earned: e.earned, paid: e.paid }])),
    };
    return this.moneyCache;
  }
}

/**
 * One job as every viewer sees it. A PUBLIC job's id lets anyone read its result, so it is shown
 * only when the operator publishes ids; otherwise an 8-character reference stands in for it.
 */
export function toJob(j: JobLine, publishIds: boolean): DashboardJob {
  const isPrivate = j.privacy_class === "PRIVATE";
  const finished = j.completed_at !== null && (j.status === "completed" || j.status === "failed");
  return {
    id: isPrivate || !publishIds ? null : j.id,
    ref: isPrivate ? null : j.id.slice(0, 8),
    job_type: j.job_type,
    tier: j.policy,
    privacy_class: j.privacy_class,
    model: routeModel(j.route),
    stage: j.status,
    reason: j.reason,
    attempts: j.attempts,
    payment_state: j.payment_state,
    price_micro: j.price_micro,
    worker_pubkey: isPrivate ? null : j.worker_pubkey,
    created_at: iso(j.created_at),
    completed_at: j.completed_at === null ? null : iso(j.completed_at),
    latency_ms: finished && j.completed_at !== null ? Math.max(0, j.completed_at - j.created_at) : null,
    anchor: {
      state: j.anchor_tx !== null ? "anchored" : j.anchor_batch !== null ? "batched" : "none",
      transaction: j.anchor_tx,
    },
  };
}
