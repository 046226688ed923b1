import type { Lifecycle } from "../lifecycle.ts";
import type { MoneySettings } from "../settings.ts";
import { send } from "../sockets.ts";
import type { LedgerStore, TransferRow } from "../storage/ledger-store.ts";
import type { TransferSender } from "./transfer-sender.ts";

/** How soon the lane looks again while a transfer waits for its confirmation. */
const CONFIRM_POLL_MS = 1_000;

export interface TransferLaneDeps {
  life: Lifecycle;
  ledger: LedgerStore;
  settings: () => MoneySettings;
  network: () => string;
  /** The treasury sender on this chain, or null when no RPC or key is configured (transfers wait). */
  sender: () => Promise<TransferSender | null>;
}

/**
 * Money going out: worker payouts (a worker's unpaid earnings batched into one transfer once
 * they reach the minimum or the oldest has waited the interval) and refunds (a job whose price
 * was settled but whose work was not delivered). One transfer at a time, oldest first: the
 * signed transaction is stored before it is broadcast, and a transfer is signed anew only once
 * the chain shows the old one can never land, so nothing is ever paid twice or lost on restart.
 */
export class TransferLane {
  private readonly deps: TransferLaneDeps;

  constructor(deps: TransferLaneDeps) {
    this.deps = deps;
  }

  /** Asks the outbox to run the lane at `at` (now, by default). */
  kick(now: number, at = now): void {
    this.deps.life.outbox.schedule("transfers", "lane", at);
  }

  /**
   * One pass: plan new transfers, then drive the open ones. Returns when the lane wants to run
   * again (a transfer waiting on the chain, or the next payout falling due), or null.
   */
  async run(): Promise<number | null> {
    const sender = await this.deps.sender();
    const now = Date.now();
    this.plan(now);
    if (!sender) return null;
    for (const transfer of this.deps.ledger.open(20)) {
      // Still on its way: come back soon, and keep later transfers waiting (nonce order).
      if (!(await this.drive(sender, transfer))) return Date.now() + CONFIRM_POLL_MS;
    }
    const next = this.nextPayoutAt();
    return next === null ? null : Math.max(next, now + CONFIRM_POLL_MS);
  }

  /** Decides new transfers: refunds owed, and payouts of workers whose earnings are due. */
  private plan(now: number): void {
    const { life, ledger, settings } = this.deps;
    const money = settings();
    life.transaction(() => {
      for (const job of life.jobs.refundsWithoutTransfer(50)) {
        const payer = job.payment_ref ? life.payments.payer(job.payment_ref) : null;
        if (payer) ledger.createRefund(`refund-${job.id}`, job.id, payer, job.price_micro, now);
      }
      const due = new Map(ledger.payable(money.payoutMinMicro, 50).map((w) => [w.pubkey, w]));
      for (const w of ledger.stale(now - money.payoutIntervalMs, 50)) due.set(w.pubkey, w);
      for (const w of due.values()) ledger.createPayout(`payout-${now}-${w.pubkey.slice(0, 16)}`, w.pubkey, w.address, now);
    });
  }

  /** When the oldest unpaid earning (of a worker with an address) reaches the payout interval. */
  private nextPayoutAt(): number | null {
    const oldest = this.deps.ledger.oldestUnpaid();
    return oldest === null ? null : oldest + this.deps.settings().payoutIntervalMs;
  }

  /** Moves one transfer forward; true when it is settled one way or the other (the lane may go on). */
  private async drive(sender: TransferSender, t: TransferRow): Promise<boolean> {
    const { ledger } = this.deps;
    if (t.state === "created") {
      const signed = await sender.sign(t.to_address, t.amount_micro, t.transfer_id);
      // Stored before it leaves: from here on a retry resends this very transaction.
      ledger.signed(t.transfer_id, signed.tx, signed.raw, signed.meta);
      await sender.broadcast(signed);
      return false;
    }
    const signed = { tx: t.tx ?? "", raw: t.raw_tx ?? "", meta: JSON.parse(t.meta ?? "{}") as Record<string, string | number> };
    const status = await sender.status(signed);
    if (status.state === "pending") {
      await sender.broadcast(signed);
      return false;
    }
    if (status.state === "dropped") {
      console.warn(`transfer ${t.transfer_id}: ${status.reason}; signing it anew`);
      ledger.resign(t.transfer_id, status.reason);
      return false;
    }
    this.confirmed(t, Date.now());
    return true;
  }

  private confirmed(t: TransferRow, now: number): void {
    const { life, ledger, settings, network } = this.deps;
    const tx = t.tx ?? "";
    const after = life.transaction(() => {
      ledger.confirmed(t.transfer_id, now);
      if (t.kind === "refund" && t.job_id) life.jobs.refunded(t.job_id, tx);
      return t.job_id ? life.jobs.get(t.job_id) : undefined;
    });
    if (after) life.announce(after);
    if (t.kind !== "payout" || !t.pubkey) return;
    const conn = life.workers.connectionByPubkey(t.pubkey);
    const ws = conn ? life.socket(conn.socket_id) : undefined;
    const template = settings().explorerTxUrl;
    if (ws) {
      send(ws, {
        type: "payment_posted",
        job_ids: ledger.jobsOf(t.transfer_id, 500),
        tx_hash: tx,
        amount: (t.amount_micro / 1_000_000).toFixed(6),
        amount_micro: t.amount_micro,
        network: network(),
        explorer_url: template ? template.replace("{tx}", tx) : null,
      });
    }
  }
}
