import { type Chain, NETWORKS } from "../../protocol/index.ts";
import type { Lifecycle } from "../lifecycle.ts";
import { AuthorizationCheck } from "../payments/authorization-check.ts";
import type { Payments } from "../payments/service.ts";
import { Settlement } from "../payments/settlement.ts";
import type { Settings } from "../settings.ts";
import { LedgerStore } from "../storage/ledger-store.ts";
import type { Sql } from "../storage/sql.ts";
import { Earnings } from "./earnings.ts";
import { EvmTransfers } from "./evm-transfers.ts";
import { SvmTransfers } from "./svm-transfers.ts";
import { TransferLane } from "./transfer-lane.ts";
import type { TransferSender } from "./transfer-sender.ts";

/**
 * Everything money on one chain beyond x402's verify: settling (with unknown outcomes resolved),
 * crediting workers, and the transfers that pay them and refund payers. Built once per object;
 * chain clients are created on first use (never at module scope: no I/O outside a request).
 */
export class Money {
  readonly ledger: LedgerStore;
  readonly settlement: Settlement;
  readonly transfers: TransferLane;
  readonly earnings: Earnings;
  private sender: Promise<TransferSender | null> | null = null;
  private authorizations: AuthorizationCheck | null | undefined;
  private readonly settings: () => Settings;
  private readonly chain: () => Chain;

  constructor(life: Lifecycle, sql: Sql, payments: Payments, settings: () => Settings, chain: () => Chain) {
    this.settings = settings;
    this.chain = chain;
    this.ledger = new LedgerStore(sql);
    this.transfers = new TransferLane({
      life,
      ledger: this.ledger,
      settings: () => settings().money,
      network: () => NETWORKS[chain()],
      sender: () => this.treasury(),
    });
    this.earnings = new Earnings(life, this.ledger, () => settings().money, this.transfers);
    this.settlement = new Settlement(
      life,
      payments,
      () => this.authorizationCheck(),
      (job, now) => this.earnings.onJobMoved(job, now),
    );
  }

  /** The treasury's sender on this chain, or null when no RPC, key or asset is configured. */
  private treasury(): Promise<TransferSender | null> {
    this.sender ??= (async () => {
      const { money, payments } = this.settings();
      if (!money.rpcUrl || !money.treasuryKey || !payments.asset) return null;
      if (this.chain() === "monad")
        return new EvmTransfers(money.rpcUrl, money.treasuryKey as `0x${string}`, payments.asset as `0x${string}`);
      return SvmTransfers.create(money.rpcUrl, money.treasuryKey, payments.asset);
    })();
    return this.sender;
  }

  /** EVM only: the token contract answers whether an authorization was used. */
  private authorizationCheck(): AuthorizationCheck | null {
    if (this.authorizations === undefined) {
      const rpcUrl = this.settings().money.rpcUrl;
      this.authorizations = this.chain() === "monad" && rpcUrl ? new AuthorizationCheck(rpcUrl) : null;
    }
    return this.authorizations;
  }

  /** Forgets chain clients (settings changed: the object learned which chain it serves). */
  reset(): void {
    this.sender = null;
    this.authorizations = undefined;
  }
}
