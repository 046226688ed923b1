import { priceMicroUsd, type WorkerAccount } from "../../protocol/index.ts";
import type { Lifecycle } from "../lifecycle.ts";
import type { MoneySettings } from "../settings.ts";
import type { JobRow } from "../storage/job-store.ts";
import type { LedgerStore } from "../storage/ledger-store.ts";
import type { TransferLane } from "./transfer-lane.ts";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * Idle hardware earns: each job that is both completed and settled credits the worker that
 * delivered it with its share of the price (the rest is the coordinator's fee); the transfer
 * lane pays the credits out. Refunds owed wake the lane too.
 */
export class Earnings {
  private readonly life: Lifecycle;
  private readonly ledger: LedgerStore;
  private readonly settings: () => MoneySettings;
  private readonly lane: TransferLane;

  constructor(life: Lifecycle, ledger: LedgerStore, settings: () => MoneySettings, lane: TransferLane) {
    this.life = life;
    this.ledger = ledger;
    this.settings = settings;
    this.lane = lane;
  }

  /** Call inside the transaction that moved the job: credits its worker when it is completed and settled. */
  onJobMoved(job: JobRow, now: number): void {
    if (job.payment_state === "refund_due") {
      this.lane.kick(now);
      return;
    }
    if (job.status !== "completed" || job.payment_state !== "settled" || !job.worker_pubkey) return;
    const share = Math.floor((job.price_micro * this.settings().workerSharePercent) / 100);
    if (share > 0 && this.ledger.credit(job.worker_pubkey, job.id, share, now)) this.lane.kick(now);
  }

  /**
   * What one spot-check run earns: the worker share of a CHEAP TASK (900 micro-USD at 90 %), paid
   * by the coordinator out of its fees. The seeker of the checked job never pays for it.
   */
  auditCreditMicro(): number {
    return Math.floor((priceMicroUsd("CHEAP", "TASK") * this.settings().workerSharePercent) / 100);
  }

  /** Call inside the audit's transaction: credits a run whose output the verdict agrees with. */
  creditAudit(pubkey: string, runJobId: string, now: number): void {
    const amount = this.auditCreditMicro();
    if (amount > 0 && this.ledger.credit(pubkey, runJobId, amount, now, "audit")) this.lane.kick(now);
  }

  account(pubkey: string, network: string): WorkerAccount {
    const balance = this.ledger.balance(pubkey);
    const template = this.settings().explorerTxUrl;
    return {
      provider_pubkey: pubkey,
      online: this.life.workers.connectionByPubkey(pubkey) !== undefined,
      payout_address: this.life.workers.payoutAddress(pubkey),
      network,
      share_percent: this.settings().workerSharePercent,
      earned_micro: balance.earned,
      paid_micro: balance.paid,
      pending_micro: balance.unpaid + balance.in_flight,
      audit_micro: this.ledger.auditCredits(pubkey),
      payouts: this.ledger.transfersOf(pubkey, 20).map((t) => ({
        id: t.transfer_id,
        amount_micro: t.amount_micro,
        jobs: t.job_count,
        state: t.state,
        transaction: t.tx,
        explorer_url: t.tx && template ? template.replace("{tx}", t.tx) : null,
        created_at: iso(t.created_at) ?? "",
        confirmed_at: iso(t.confirmed_at),
      })),
    };
  }
}
