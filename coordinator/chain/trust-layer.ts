import { type Hex32, merkleTree, NETWORKS, receiptLeaf } from "../../protocol/index.ts";
import type { Lifecycle } from "../lifecycle.ts";
import type { OnChainSettings } from "../settings.ts";
import { send } from "../sockets.ts";
import { type AnchorProof, AnchorStore } from "../storage/anchor-store.ts";
import type { JobRow } from "../storage/job-store.ts";
import type { OutboxRow } from "../storage/outbox-store.ts";
import type { Sql } from "../storage/sql.ts";
import { Evm } from "./evm.ts";

/** Reputation is re-read this often for connected workers. */
const REPUTATION_REFRESH_MS = 5 * 60_000;

export type IdentityCheck = "linked" | "not_linked" | "unavailable" | "disabled";

interface FeedbackBody {
  agentId: string;
  success: boolean;
  /** Null: no response-time entry (audit verdicts). */
  responseMs: number | null;
  hash: Hex32;
  pubkey: string;
  /** The job the feedback is about, when the outbox ref is not the job id (audit verdicts). */
  jobId?: string;
}

/**
 * ERC-8004 and receipt anchoring for one chain object. Every chain write goes through the
 * outbox (persisted with the state change that needs it); reads that steer matching are cached.
 */
export class TrustLayer {
  readonly anchors: AnchorStore;
  private readonly life: Lifecycle;
  private readonly settings: () => OnChainSettings | null;
  private evmClient: Evm | null = null;

  /** Explorer link for a trust-layer transaction (the EVM chain's), or null. */
  private readonly explorer: (tx: string) => string | null;

  constructor(life: Lifecycle, sql: Sql, settings: () => OnChainSettings | null, explorer: (tx: string) => string | null) {
    this.life = life;
    this.anchors = new AnchorStore(sql);
    this.settings = settings;
    this.explorer = explorer;
  }

  get enabled(): boolean {
    return this.settings() !== null;
  }

  private evm(): Evm {
    const s = this.settings();
    if (!s) throw new Error("on-chain settings are not configured");
    this.evmClient ??= new Evm(s);
    return this.evmClient;
  }

  /** Whether the agent id a worker names really publishes its key (set by the agent's owner on-chain). */
  async checkIdentity(agentId: string, pubkey: string): Promise<IdentityCheck> {
    if (!this.enabled) return "disabled";
    try {
      return (await this.evm().identityLinked(BigInt(agentId), pubkey)) ? "linked" : "not_linked";
    } catch (err) {
      console.warn(`identity check for agent ${agentId} failed`, err);
      return "unavailable";
    }
  }

  onRegistered(pubkey: string, now: number): void {
    if (this.enabled) this.life.outbox.schedule("reputation", pubkey, now);
  }

  /** Queues feedback for a finished job whose worker has a linked agent id. Call inside the job's transaction. */
  onJobFinished(job: JobRow, success: boolean, outputHash: string | null, now: number): void {
    // A new receipt may fill an anchoring batch: the next drain seals it.
    if (this.settings()?.receiptAnchor) this.life.outbox.nudge();
    if (!this.enabled || !job.worker_pubkey) return;
    const agentId = this.life.workers.agentId(job.worker_pubkey);
    if (!agentId) return;
    const body: FeedbackBody = {
      agentId,
      success,
      responseMs: job.assigned_at === null ? 0 : now - job.assigned_at,
      hash: `0x${outputHash ?? "0".repeat(64)}`,
      pubkey: job.worker_pubkey,
    };
    this.life.outbox.enqueue("feedback", job.id, now, body);
  }

  /**
   * Negative feedback for a worker whose output a spot-check audit outvoted, on the job it got
   * wrong: its own outbox item (the job's ordinary feedback may have gone out already). Call
   * inside the audit's transaction.
   */
  onAuditLost(pubkey: string, jobId: string, outputHash: string, now: number): void {
    if (!this.enabled) return;
    const agentId = this.life.workers.agentId(pubkey);
    if (!agentId) return;
    const body: FeedbackBody = { agentId, success: false, responseMs: null, hash: `0x${outputHash}`, pubkey, jobId };
    this.life.outbox.enqueue("feedback", `audit:${jobId}`, now, body);
  }

  /** Seals a batch when enough receipts wait, or the oldest has waited the interval. */
  maybeBatch(now: number): void {
    const s = this.settings();
    if (!s?.receiptAnchor) return;
    const { count, oldest } = this.anchors.unanchoredStats();
    if (count === 0 || (count < s.anchorBatchSize && oldest !== null && now - oldest < s.anchorIntervalMs)) return;
    const receipts = this.anchors.unanchored(s.anchorBatchSize);
    const leaves = receipts.map((r) => receiptLeaf(r));
    const { root } = merkleTree(leaves);
    const batchId = `batch-${now}-${root.slice(2, 10)}`;
    this.life.transaction(() => {
      this.anchors.createBatch(
        batchId,
        root,
        receipts.map((r) => r.job_id),
        leaves,
        now,
      );
      this.life.outbox.enqueue("anchor", batchId, now);
    });
  }

  /** When the alarm must next look at unanchored receipts. */
  nextBatchAt(): number | null {
    const s = this.settings();
    if (!s?.receiptAnchor) return null;
    const { oldest } = this.anchors.unanchoredStats();
    return oldest === null ? null : oldest + s.anchorIntervalMs;
  }

  proof(jobId: string): AnchorProof | null {
    const batchId = this.anchors.batchOf(jobId);
    if (!batchId) return null;
    const batch = this.anchors.batch(batchId);
    if (!batch) return null;
    const index = batch.entries.findIndex(([id]) => id === jobId);
    const { proofs } = merkleTree(batch.entries.map(([, leaf]) => leaf));
    return {
      batch_id: batchId,
      root: batch.root,
      leaf: batch.entries[index]?.[1] ?? "",
      proof: proofs[index] ?? [],
      transaction: batch.tx,
      anchored_at: batch.anchoredAt === null ? null : new Date(batch.anchoredAt).toISOString(),
    };
  }

  /**
   * Feedback for a batch of finished jobs in one go (pipelined transactions), then each job's
   * worker hears of it (`feedback_posted`) if it is connected. Rows whose feedback landed are
   * done; the rows that failed are returned, alone, for the outbox to retry.
   */
  async feedbackBatch(rows: readonly OutboxRow[]): Promise<{ row: OutboxRow; error: Error }[]> {
    const bodies = rows.map((row) => JSON.parse(row.body) as FeedbackBody);
    const results = await this.evm().giveFeedbackBatch(
      bodies.map((b) => ({ agentId: BigInt(b.agentId), success: b.success, responseMs: b.responseMs, hash: b.hash })),
    );
    const txs = results.map((r) => (r instanceof Error ? undefined : r));
    const failed = rows.flatMap((row, i) => {
      const r = results[i];
      return r instanceof Error ? [{ row, error: r }] : [];
    });
    const now = Date.now();
    this.life.transaction(() => {
      for (const [i, row] of rows.entries()) {
        if (txs[i] === undefined) continue;
        this.life.outbox.done(row.id, now);
        const pubkey = bodies[i]?.pubkey;
        if (pubkey) this.life.outbox.schedule("reputation", pubkey, now);
      }
    });
    for (const [i, row] of rows.entries()) {
      const tx = txs[i];
      const conn = this.life.workers.connectionByPubkey(bodies[i]?.pubkey ?? "");
      const ws = conn ? this.life.socket(conn.socket_id) : undefined;
      if (ws && tx)
        send(ws, {
          type: "feedback_posted",
          job_id: bodies[i]?.jobId ?? row.ref,
          tx_hash: tx,
          network: NETWORKS.monad,
          explorer_url: this.explorer(tx),
        });
    }
    return failed;
  }

  async handle(row: OutboxRow): Promise<void> {
    const now = Date.now();
    // Feedback rows go through feedbackBatch (outbox-drain.ts), never here.
    if (row.kind === "reputation") {
      const agentId = this.life.workers.agentId(row.ref);
      const online = this.life.workers.connectionByPubkey(row.ref) !== undefined;
      if (agentId) this.life.workers.setReputation(row.ref, await this.evm().reputation(BigInt(agentId)), now);
      this.life.transaction(() => {
        this.life.outbox.done(row.id, now);
        if (online && agentId) this.life.outbox.schedule("reputation", row.ref, now + REPUTATION_REFRESH_MS);
      });
    } else if (row.kind === "anchor") {
      const batch = this.anchors.batch(row.ref);
      if (batch && batch.tx === null) {
        const tx = await this.evm().anchor(batch.root, batch.entries.length, row.ref);
        this.anchors.anchored(row.ref, tx, Date.now());
      }
      this.life.outbox.done(row.id, Date.now());
    }
  }
}
