import type { JobType, ProviderType, WorkersResponse } from "../../protocol/index.ts";
import type { WorkerRoute } from "../job-routes.ts";
import type { Sql } from "./sql.ts";

export interface ConnectionRow {
  [key: string]: SqlStorageValue;
  socket_id: string;
  pubkey: string;
  provider_type: ProviderType;
  capabilities: string;
  verified: number;
  slots: number;
  connected_at: number;
  last_seen: number;
  /** Jobs are offered only from this time on (a grace for reference workers); 0 once offered. */
  offer_after: number;
  addr: string;
  /** `TASK_ENGINE_VERSION` the worker named at register (null: none, or a reference worker). */
  task_engine: string | null;
}

/** A registered socket that could take a job now, with what matching scores it on. */
export interface Candidate {
  [key: string]: SqlStorageValue;
  socket_id: string;
  pubkey: string;
  provider_type: ProviderType;
  verified: number;
  slots: number;
  active: number;
  successes: number;
  failures: number;
  reputation: number;
  unhealthy_until: number;
  last_assigned_at: number;
  last_seen: number;
  /** 1 when the job's model is loaded on this socket now. */
  loaded: number;
}

/** How long a registered socket may stay silent (no heartbeat or message) before it is dropped. */
export const STALE_AFTER_MS = 45_000;
/** A failure benches a worker this long, times its failure ratio (up to 16x): repeat offenders sit out longer. */
export const BENCH_MS = 60_000;
/** A rejection benches a worker briefly: it said it cannot take work now. */
export const REJECT_BENCH_MS = 10_000;

/** Registered worker sockets (`connections`) and per-key history (`workers`). */
export class WorkerStore {
  private readonly sql: Sql;
  constructor(sql: Sql) {
    this.sql = sql;
  }

  connectionByPubkey(pubkey: string): ConnectionRow | undefined {
    return this.sql.first<ConnectionRow>("SELECT * FROM connections WHERE pubkey = ?", pubkey);
  }

  connection(socketId: string): ConnectionRow | undefined {
    return this.sql.first<ConnectionRow>("SELECT * FROM connections WHERE socket_id = ?", socketId);
  }

  connections(): ConnectionRow[] {
    return this.sql.all<ConnectionRow>("SELECT * FROM connections");
  }

  register(args: {
    socketId: string;
    pubkey: string;
    providerType: ProviderType;
    capabilities: readonly JobType[];
    /** Routes this socket serves: its job types, and `LLM_INFER:<model>` per model. */
    routes: readonly WorkerRoute[];
    verified: boolean;
    slots: number;
    agentId: string | null;
    addr: string;
    offerAfter: number;
    taskEngine: string | null;
    now: number;
  }): void {
    this.sql.run(
      `INSERT INTO workers (pubkey, provider_type, agent_id, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(pubkey) DO UPDATE SET provider_type = excluded.provider_type,
         agent_id = excluded.agent_id, last_seen = excluded.last_seen,
         reputation = CASE WHEN excluded.agent_id IS workers.agent_id THEN workers.reputation ELSE 0 END`,
      args.pubkey,
      args.providerType,
      args.agentId,
      args.now,
      args.now,
    );
    if (args.verified) this.sql.run("UPDATE workers SET proven = 1 WHERE pubkey = ?", args.pubkey);
    this.sql.run(
      `INSERT INTO connections (socket_id, pubkey, provider_type, capabilities, verified, slots, connected_at, last_seen, offer_after, addr,
         task_engine)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      args.socketId,
      args.pubkey,
      args.providerType,
      JSON.stringify(args.capabilities),
      args.verified ? 1 : 0,
      args.slots,
      args.now,
      args.now,
      args.offerAfter,
      args.addr,
      args.taskEngine,
    );
    this.setRoutes(args.socketId, args.routes);
  }

  /** What the worker says it runs (`agent` in its register): free text for the dashboard, never used for a decision. */
  describe(socketId: string, agent: string | null): void {
    this.sql.run("UPDATE connections SET agent = ? WHERE socket_id = ?", agent, socketId);
  }

  /** Replaces what one socket serves (register, or a `models_update`). */
  setRoutes(socketId: string, routes: readonly WorkerRoute[]): void {
    this.sql.run("DELETE FROM connection_routes WHERE socket_id = ?", socketId);
    for (const r of routes) {
      this.sql.run(
        "INSERT OR IGNORE INTO connection_routes (socket_id, route, loaded) VALUES (?, ?, ?)",
        socketId,
        r.route,
        r.loaded ? 1 : 0,
      );
    }
  }

  /** Whether any registered socket serves this route (busy or not). */
  servesRoute(route: string): boolean {
    return this.sql.first("SELECT 1 AS one FROM connection_routes WHERE route = ? LIMIT 1", route) !== undefined;
  }

  /** Whether a registered socket of a key other than `except` (at most a few) serves this route, busy or not. */
  servesRouteExcept(route: string, except: readonly string[]): boolean {
    const keys = except.slice(0, 8);
    return (
      this.sql.first(
        `SELECT 1 AS one FROM connection_routes r JOIN connections c ON c.socket_id = r.socket_id
         WHERE r.route = ? ${keys.length > 0 ? `AND c.pubkey NOT IN (${keys.map(() => "?").join(", ")})` : ""} LIMIT 1`,
        route,
        ...keys,
      ) !== undefined
    );
  }

  /** Models served on this chain now: route, how many sockets serve it, how many have it loaded. */
  modelRoutes(limit = 500): { route: string; workers: number; loaded: number }[] {
    return this.sql.all<{ route: string; workers: number; loaded: number }>(
      `SELECT route, COUNT(*) AS workers, SUM(loaded) AS loaded FROM connection_routes
       WHERE route LIKE 'LLM_INFER:%' GROUP BY route ORDER BY route LIMIT ?`,
      limit,
    );
  }

  removeConnection(socketId: string): void {
    this.sql.run("DELETE FROM connections WHERE socket_id = ?", socketId);
    this.sql.run("DELETE FROM connection_routes WHERE socket_id = ?", socketId);
  }

  routes(socketId: string): string[] {
    return this.sql.all<{ route: string }>("SELECT route FROM connection_routes WHERE socket_id = ?", socketId).map((r) => r.route);
  }

  /** Whether this key has ever answered a challenge here: from then on, only proof registers it. */
  proven(pubkey: string): boolean {
    return this.sql.first<{ proven: number }>("SELECT proven FROM workers WHERE pubkey = ?", pubkey)?.proven === 1;
  }

  /** Free job slots of one socket, derived from the jobs table so it cannot drift. */
  freeSlots(socketId: string): number {
    return (
      this.sql.first<{ n: number }>(
        `SELECT c.slots - (SELECT COUNT(*) FROM jobs j WHERE j.worker_socket = c.socket_id AND j.status = 'assigned') AS n
         FROM connections c WHERE c.socket_id = ?`,
        socketId,
      )?.n ?? 0
    );
  }

  /** Sockets whose first-offer grace has passed. */
  offersDue(now: number): ConnectionRow[] {
    return this.sql.all<ConnectionRow>("SELECT * FROM connections WHERE offer_after > 0 AND offer_after <= ?", now);
  }

  offerMade(socketId: string): void {
    this.sql.run("UPDATE connections SET offer_after = 0 WHERE socket_id = ?", socketId);
  }

  /** Connected sockets of one key (a pairing just made it eligible for more work). */
  socketsOf(pubkey: string): string[] {
    return this.sql.all<{ socket_id: string }>("SELECT socket_id FROM connections WHERE pubkey = ?", pubkey).map((r) => r.socket_id);
  }

  touch(socketId: string, now: number): void {
    this.sql.run("UPDATE connections SET last_seen = ? WHERE socket_id = ?", now, socketId);
  }

  staleConnections(now: number, limit: number): ConnectionRow[] {
    return this.sql.all<ConnectionRow>("SELECT * FROM connections WHERE last_seen <= ? LIMIT ?", now - STALE_AFTER_MS, limit);
  }

  /**
   * Sockets that may take this job now: registered and past their first-offer grace, serving
   * the job's route, a free slot, not excluded for this job; PRIVATE jobs only to verified
   * sockets of keys the owner has paired with. Busy-ness is derived from the jobs table, so it
   * can never drift from the truth. `busyToo` also counts busy sockets (is anyone able at all?).
   */
  candidates(args: {
    jobId: string;
    route: string;
    private: boolean;
    userId: string;
    allowUnverified: boolean;
    now: number;
    busyToo?: boolean;
    limit?: number;
  }): Candidate[] {
    const privacyFilter = args.private
      ? `AND c.verified = 1 AND EXISTS (SELECT 1 FROM trust_pairings t WHERE t.user_id = ? AND t.provider_pubkey = c.pubkey
           AND t.claimed_at IS NOT NULL AND t.revoked_at IS NULL)`
      : args.allowUnverified
        ? ""
        : "AND c.verified = 1";
    const params: SqlStorageValue[] = [args.route, args.now, args.jobId];
    if (args.private) params.push(args.userId);
    params.push(args.limit ?? 256);
    return this.sql.all<Candidate>(
      `SELECT c.socket_id, c.pubkey, c.provider_type, c.verified, c.slots, c.last_seen, r.loaded,
              (SELECT COUNT(*) FROM jobs j WHERE j.worker_socket = c.socket_id AND j.status = 'assigned') AS active,
              w.successes, w.failures, w.reputation, w.unhealthy_until, w.last_assigned_at
       FROM connection_routes r JOIN connections c ON c.socket_id = r.socket_id JOIN workers w ON w.pubkey = c.pubkey
       WHERE r.route = ? AND c.offer_after <= ?
         AND NOT EXISTS (SELECT 1 FROM job_exclusions x WHERE x.job_id = ? AND x.provider_pubkey = c.pubkey)
         ${privacyFilter}
         ${args.busyToo ? "" : "AND active < c.slots"}
       LIMIT ?`,
      ...params,
    );
  }

  /** Whether any verified socket of a key paired with `userId` is online (busy or not). */
  trustedOnline(userId: string): boolean {
    return (
      this.sql.first(
        `SELECT 1 AS one FROM connections c JOIN trust_pairings t ON t.provider_pubkey = c.pubkey
         WHERE c.verified = 1 AND t.user_id = ? AND t.claimed_at IS NOT NULL AND t.revoked_at IS NULL LIMIT 1`,
        userId,
      ) !== undefined
    );
  }

  /** Records where a verified worker is paid on this chain (from its signed register). */
  setPayoutAddress(pubkey: string, address: string): void {
    this.sql.run("UPDATE workers SET payout_address = ? WHERE pubkey = ?", address, pubkey);
  }

  payoutAddress(pubkey: string): string | null {
    return this.sql.first<{ a: string | null }>("SELECT payout_address AS a FROM workers WHERE pubkey = ?", pubkey)?.a ?? null;
  }

  agentId(pubkey: string): string | null {
    return this.sql.first<{ agent_id: string | null }>("SELECT agent_id FROM workers WHERE pubkey = ?", pubkey)?.agent_id ?? null;
  }

  setReputation(pubkey: string, reputation: number, now: number): void {
    this.sql.run("UPDATE workers SET reputation = ?, reputation_at = ? WHERE pubkey = ?", reputation, now, pubkey);
  }

  noteAssigned(pubkey: string, now: number): void {
    this.sql.run("UPDATE workers SET last_assigned_at = ? WHERE pubkey = ?", now, pubkey);
  }

  noteSuccess(pubkey: string): void {
    this.sql.run("UPDATE workers SET successes = successes + 1 WHERE pubkey = ?", pubkey);
  }

  /**
   * A failure counts against the key and benches it: it takes no job while a healthy worker
   * could, and its free slots are not filled until the bench ends (then the alarm refills them).
   */
  noteFailure(pubkey: string, now: number): void {
    this.sql.run(
      `UPDATE workers SET failures = failures + 1,
         unhealthy_until = ? + ? * MIN(16, 1 + (failures + 1) / (successes + 1)) WHERE pubkey = ?`,
      now,
      BENCH_MS,
      pubkey,
    );
    this.scheduleRefill(pubkey);
  }

  /** A rejection is no failure, but the worker said it cannot take work: prefer others for a while. */
  noteRejected(pubkey: string, now: number): void {
    this.sql.run("UPDATE workers SET unhealthy_until = MAX(unhealthy_until, ?) WHERE pubkey = ?", now + REJECT_BENCH_MS, pubkey);
    this.scheduleRefill(pubkey);
  }

  private scheduleRefill(pubkey: string): void {
    this.sql.run(
      "UPDATE connections SET refill_at = (SELECT unhealthy_until FROM workers WHERE pubkey = ?) WHERE pubkey = ?",
      pubkey,
      pubkey,
    );
  }

  /** Until when a key is benched (0 when it is not). */
  benchedUntil(pubkey: string): number {
    return this.sql.first<{ t: number }>("SELECT unhealthy_until AS t FROM workers WHERE pubkey = ?", pubkey)?.t ?? 0;
  }

  /** Sockets whose bench has ended: their free slots may take the queue again. */
  refillsDue(now: number): string[] {
    return this.sql
      .all<{ socket_id: string }>("SELECT socket_id FROM connections WHERE refill_at > 0 AND refill_at <= ?", now)
      .map((r) => r.socket_id);
  }

  refilled(socketId: string): void {
    this.sql.run("UPDATE connections SET refill_at = 0 WHERE socket_id = ?", socketId);
  }

  /** Whether a worker that is not benched serves this route (busy or not): then a benched one should wait. */
  healthyServing(route: string, now: number): boolean {
    return (
      this.sql.first(
        `SELECT 1 AS one FROM connection_routes r JOIN connections c ON c.socket_id = r.socket_id JOIN workers w ON w.pubkey = c.pubkey
         WHERE r.route = ? AND w.unhealthy_until <= ? LIMIT 1`,
        route,
        now,
      ) !== undefined
    );
  }

  /** The online directory, bounded. */
  online(limit = 500): WorkersResponse["workers"] {
    return this.sql
      .all<ConnectionRow & { agent_id: string | null; reputation: number; successes: number; failures: number; active: number }>(
        `SELECT c.*, w.agent_id, w.reputation, w.successes, w.failures,
           (SELECT COUNT(*) FROM jobs j WHERE j.worker_socket = c.socket_id AND j.status = 'assigned') AS active
         FROM connections c JOIN workers w ON w.pubkey = c.pubkey ORDER BY c.connected_at LIMIT ?`,
        limit,
      )
      .map((r) => ({
        provider_pubkey: r.pubkey,
        provider_type: r.provider_type,
        capabilities: JSON.parse(r.capabilities) as string[],
        verified: r.verified === 1,
        slots: r.slots,
        active: r.active,
        agent_id: r.agent_id,
        reputation: r.reputation,
        successes: r.successes,
        failures: r.failures,
      }));
  }

  onlineByType(): Record<string, number> {
    const rows = this.sql.all<{ provider_type: string; n: number }>(
      "SELECT provider_type, COUNT(*) AS n FROM connections GROUP BY provider_type",
    );
    return Object.fromEntries(rows.map((r) => [r.provider_type, r.n]));
  }
}
