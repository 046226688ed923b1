import type { Sql } from "./sql.ts";

/**
 * Versioned, idempotent DDL run once at Durable Object construction. Append a migration;
 * never edit one that has shipped. Times are epoch milliseconds unless a column says otherwise.
 */
/** Trigger step: add one row of `micro` to the total `name` (when `when` holds). */
function add(name: string, micro: string, when = "1"): string {
  return `INSERT INTO totals (name, n, micro) SELECT ${name}, 1, ${micro} WHERE ${when}
          ON CONFLICT(name) DO UPDATE SET n = n + 1, micro = micro + excluded.micro`;
}

/** Trigger step: take one row of `micro` off the total `name` (when `when` holds). */
function sub(name: string, micro: string, when = "1"): string {
  return `UPDATE totals SET n = n - 1, micro = micro - ${micro} WHERE name = ${name} AND ${when}`;
}

/** The totals as the tables say now: run once when the triggers are installed (and by the test that checks them). */
export const TOTALS_BACKFILL: readonly string[] = [
  "DELETE FROM totals",
  `INSERT INTO totals (name, n, micro)
   SELECT 'payment:' || payment_state, COUNT(*), COALESCE(SUM(price_micro), 0) FROM jobs GROUP BY payment_state`,
  "INSERT INTO totals (name, n, micro) SELECT 'earned', COUNT(*), COALESCE(SUM(amount_micro), 0) FROM ledger",
  `INSERT INTO totals (name, n, micro)
   SELECT 'transfer:' || kind, COUNT(*), COALESCE(SUM(amount_micro), 0) FROM transfers WHERE state = 'confirmed' GROUP BY kind`,
  "INSERT INTO totals (name, n, micro) SELECT 'unanchored', COUNT(*), 0 FROM receipts WHERE anchor_batch IS NULL",
];

/** A migration: DDL split on `;`, or statements given one by one (trigger bodies contain `;`). */
type Migration = string | readonly string[];

const MIGRATIONS: readonly Migration[] = [
  // v1: jobs, receipts, trust pairings, workers and live connections.
  `
  CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    job_type TEXT NOT NULL,
    policy TEXT NOT NULL,
    privacy_class TEXT NOT NULL,
    user_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    result TEXT,
    reason TEXT,
    worker_pubkey TEXT,
    worker_socket TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_failure TEXT,
    price_micro INTEGER NOT NULL,
    payment_state TEXT NOT NULL,
    payment_ref TEXT,
    payment_tx TEXT,
    idempotency_key TEXT,
    request_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    queue_deadline INTEGER NOT NULL,
    assigned_at INTEGER,
    exec_deadline INTEGER,
    completed_at INTEGER
  );
  CREATE UNIQUE INDEX IF NOT EXISTS jobs_idempotency ON jobs(user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
  CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs(status, created_at);
  CREATE INDEX IF NOT EXISTS jobs_by_user ON jobs(user_id, status);
  CREATE INDEX IF NOT EXISTS jobs_by_socket ON jobs(worker_socket, status);

  CREATE TABLE IF NOT EXISTS job_exclusions (
    job_id TEXT NOT NULL,
    provider_pubkey TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (job_id, provider_pubkey)
  );

  CREATE TABLE IF NOT EXISTS receipts (
    job_id TEXT PRIMARY KEY,
    provider_pubkey TEXT NOT NULL,
    output_hash TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    payment_ref TEXT,
    signature TEXT NOT NULL,
    verified INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE IF NOT EXISTS trust_pairings (
    pairing_code TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    provider_pubkey TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    claimed_at INTEGER,
    revoked_at INTEGER
  );
  CREATE INDEX IF NOT EXISTS trust_by_user ON trust_pairings(user_id, provider_pubkey);

  CREATE TABLE IF NOT EXISTS workers (
    pubkey TEXT PRIMARY KEY,
    provider_type TEXT NOT NULL,
    successes INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0,
    reputation REAL NOT NULL DEFAULT 0,
    agent_id TEXT,
    unhealthy_until INTEGER NOT NULL DEFAULT 0,
    last_assigned_at INTEGER NOT NULL DEFAULT 0,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
  );

  CREATE TABLE IF NOT EXISTS connections (
    socket_id TEXT PRIMARY KEY,
    pubkey TEXT NOT NULL UNIQUE,
    provider_type TEXT NOT NULL,
    capabilities TEXT NOT NULL,
    verified INTEGER NOT NULL,
    slots INTEGER NOT NULL,
    connected_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
  );

  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `,
  // v2: x402 payments (one payment pays one job) and the outbox of external writes.
  `
  CREATE TABLE IF NOT EXISTS payments (
    payment_id TEXT PRIMARY KEY,
    job_id TEXT,
    network TEXT NOT NULL,
    payer TEXT,
    amount TEXT NOT NULL,
    requirements TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS payments_by_job ON payments(job_id);

  CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    ref TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '{}',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    done_at INTEGER
  );
  CREATE UNIQUE INDEX IF NOT EXISTS outbox_by_ref ON outbox(kind, ref);
  CREATE INDEX IF NOT EXISTS outbox_due ON outbox(done_at, next_attempt_at);
  `,
  // v3: receipt anchoring batches and reputation freshness.
  `
  ALTER TABLE receipts ADD COLUMN anchor_batch TEXT;
  CREATE INDEX IF NOT EXISTS receipts_unanchored ON receipts(anchor_batch, created_at);
  CREATE TABLE IF NOT EXISTS anchor_batches (
    batch_id TEXT PRIMARY KEY,
    root TEXT NOT NULL,
    leaves TEXT NOT NULL,
    count INTEGER NOT NULL,
    tx TEXT,
    created_at INTEGER NOT NULL,
    anchored_at INTEGER
  );
  ALTER TABLE workers ADD COLUMN reputation_at INTEGER NOT NULL DEFAULT 0;
  `,
  // v4: abuse bounds. Matching per worker slot by route (job type, or job type and model),
  // quotas split by signed identity and client address, single-use seeker nonces, every socket
  // (registered or not) with its address, receipts that arrive after their completion, proven
  // worker keys, outbox dead letters.
  `
  ALTER TABLE jobs ADD COLUMN route TEXT NOT NULL DEFAULT '';
  ALTER TABLE jobs ADD COLUMN signed INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE jobs ADD COLUMN client_addr TEXT;
  ALTER TABLE jobs ADD COLUMN rejects INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE jobs ADD COLUMN last_error TEXT;
  ALTER TABLE jobs ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
  UPDATE jobs SET route = job_type WHERE route = '';
  UPDATE jobs SET expires_at = created_at + 240000 WHERE expires_at = 0;
  CREATE INDEX IF NOT EXISTS jobs_public_queue ON jobs(status, privacy_class, route, created_at);
  CREATE INDEX IF NOT EXISTS jobs_private_queue ON jobs(status, privacy_class, user_id, created_at);
  CREATE INDEX IF NOT EXISTS jobs_by_addr ON jobs(client_addr, signed, status);
  DROP INDEX IF EXISTS jobs_by_user;
  CREATE INDEX IF NOT EXISTS jobs_by_user ON jobs(user_id, signed, status);
  CREATE INDEX IF NOT EXISTS jobs_finished ON jobs(completed_at);
  CREATE INDEX IF NOT EXISTS jobs_queue_deadline ON jobs(status, queue_deadline);
  CREATE INDEX IF NOT EXISTS jobs_exec_deadline ON jobs(status, exec_deadline);
  CREATE INDEX IF NOT EXISTS trust_by_provider ON trust_pairings(provider_pubkey, claimed_at);
  CREATE INDEX IF NOT EXISTS trust_by_expiry ON trust_pairings(expires_at);

  CREATE TABLE IF NOT EXISTS sockets (
    socket_id TEXT PRIMARY KEY,
    addr TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    registered INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX IF NOT EXISTS sockets_by_addr ON sockets(addr, registered);
  CREATE INDEX IF NOT EXISTS sockets_handshake ON sockets(registered, opened_at);

  CREATE TABLE IF NOT EXISTS connection_routes (
    socket_id TEXT NOT NULL,
    route TEXT NOT NULL,
    loaded INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (socket_id, route)
  );
  CREATE INDEX IF NOT EXISTS routes_by_route ON connection_routes(route, socket_id);
  INSERT OR IGNORE INTO connection_routes (socket_id, route) SELECT c.socket_id, j.value FROM connections c, json_each(c.capabilities) j;
  ALTER TABLE connections ADD COLUMN offer_after INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE connections ADD COLUMN refill_at INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX IF NOT EXISTS connections_by_last_seen ON connections(last_seen);
  CREATE INDEX IF NOT EXISTS connections_by_offer ON connections(offer_after);
  CREATE INDEX IF NOT EXISTS connections_by_refill ON connections(refill_at);
  ALTER TABLE connections ADD COLUMN addr TEXT NOT NULL DEFAULT '';
  ALTER TABLE workers ADD COLUMN proven INTEGER NOT NULL DEFAULT 0;

  CREATE TABLE IF NOT EXISTS seen_nonces (
    user_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, nonce)
  );
  CREATE INDEX IF NOT EXISTS seen_nonces_expiry ON seen_nonces(expires_at);

  CREATE TABLE IF NOT EXISTS partial_completions (
    job_id TEXT PRIMARY KEY,
    socket_id TEXT NOT NULL,
    pubkey TEXT NOT NULL,
    output TEXT,
    output_hash TEXT,
    receipt TEXT,
    signature TEXT,
    received_at INTEGER NOT NULL
  );

  ALTER TABLE outbox ADD COLUMN dead_at INTEGER;
  CREATE INDEX IF NOT EXISTS outbox_finished ON outbox(done_at);
  `,
  // v5: money that is always right. Refund transactions, a ledger of what each worker earned,
  // and outgoing transfers (worker payouts, refunds) persisted before they are broadcast.
  `
  ALTER TABLE jobs ADD COLUMN refund_tx TEXT;
  CREATE INDEX IF NOT EXISTS jobs_by_payment_state ON jobs(payment_state);
  ALTER TABLE workers ADD COLUMN payout_address TEXT;

  CREATE TABLE IF NOT EXISTS ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pubkey TEXT NOT NULL,
    job_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount_micro INTEGER NOT NULL,
    transfer_id TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS ledger_by_job ON ledger(job_id, kind);
  CREATE INDEX IF NOT EXISTS ledger_unpaid ON ledger(pubkey, transfer_id);

  CREATE TABLE IF NOT EXISTS transfers (
    transfer_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    pubkey TEXT,
    job_id TEXT,
    to_address TEXT NOT NULL,
    amount_micro INTEGER NOT NULL,
    job_count INTEGER NOT NULL,
    state TEXT NOT NULL,
    tx TEXT,
    raw_tx TEXT,
    meta TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    confirmed_at INTEGER
  );
  CREATE INDEX IF NOT EXISTS transfers_by_worker ON transfers(pubkey, created_at);
  CREATE INDEX IF NOT EXISTS transfers_open ON transfers(state, created_at);
  CREATE UNIQUE INDEX IF NOT EXISTS transfers_refund ON transfers(job_id) WHERE kind = 'refund';
  `,
  // v6: the live dashboard. What a worker says it is (`agent`, shown as text, never trusted),
  // and indexes so a snapshot every second or two reads recent jobs and dead letters by seek.
  `
  ALTER TABLE connections ADD COLUMN agent TEXT;
  CREATE INDEX IF NOT EXISTS jobs_by_created ON jobs(created_at);
  CREATE INDEX IF NOT EXISTS outbox_dead ON outbox(dead_at);
  `,
  // v7: spot-check audits. Each connection's TASK engine (audits route only to the same engine),
  // audit runs as internal jobs naming the job they check (`audit_of`), and one audit per
  // checked job with the output hashes of its runs.
  `
  ALTER TABLE connections ADD COLUMN task_engine TEXT;
  ALTER TABLE jobs ADD COLUMN audit_of TEXT;
  CREATE INDEX IF NOT EXISTS jobs_audit_runs ON jobs(audit_of) WHERE audit_of IS NOT NULL;

  CREATE TABLE IF NOT EXISTS audits (
    job_id TEXT PRIMARY KEY,
    engine TEXT NOT NULL,
    original_pubkey TEXT NOT NULL,
    original_hash TEXT NOT NULL,
    auditor_job TEXT NOT NULL,
    auditor_pubkey TEXT,
    auditor_hash TEXT,
    referee_job TEXT,
    referee_pubkey TEXT,
    referee_hash TEXT,
    state TEXT NOT NULL,
    culprit TEXT,
    created_at INTEGER NOT NULL,
    decided_at INTEGER
  );
  CREATE INDEX IF NOT EXISTS audits_by_state ON audits(state);
  `,
  // v8: running money totals for the dashboard, kept exact by triggers in the same transaction as
  // every write to jobs, ledger, transfers and receipts, so a snapshot reads a few rows instead
  // of aggregating tables that grow with every job (the ledger is never pruned). Names:
  // `payment:<state>` (jobs by payment state), `earned` (ledger), `transfer:<kind>` (confirmed
  // payouts and refunds), `unanchored` (receipts not yet in an anchor batch).
  // Also: the deadline indexes on connections, which v4 gained after it had shipped (an object
  // already past v4 never ran them), and the dashboard's oldest-first walk of connections.
  [
    "CREATE INDEX IF NOT EXISTS connections_by_last_seen ON connections(last_seen)",
    "CREATE INDEX IF NOT EXISTS connections_by_offer ON connections(offer_after)",
    "CREATE INDEX IF NOT EXISTS connections_by_refill ON connections(refill_at)",
    "CREATE INDEX IF NOT EXISTS connections_by_age ON connections(connected_at, pubkey)",
    "CREATE TABLE IF NOT EXISTS totals (name TEXT PRIMARY KEY, n INTEGER NOT NULL, micro INTEGER NOT NULL)",
    ...TOTALS_BACKFILL,
    `CREATE TRIGGER IF NOT EXISTS totals_job_insert AFTER INSERT ON jobs BEGIN
       ${add("'payment:' || NEW.payment_state", "NEW.price_micro")};
     END`,
    `CREATE TRIGGER IF NOT EXISTS totals_job_update AFTER UPDATE OF payment_state, price_micro ON jobs
     WHEN OLD.payment_state IS NOT NEW.payment_state OR OLD.price_micro IS NOT NEW.price_micro BEGIN
       ${sub("'payment:' || OLD.payment_state", "OLD.price_micro")};
       ${add("'payment:' || NEW.payment_state", "NEW.price_micro")};
     END`,
    `CREATE TRIGGER IF NOT EXISTS totals_job_delete AFTER DELETE ON jobs BEGIN
       ${sub("'payment:' || OLD.payment_state", "OLD.price_micro")};
     END`,
    `CREATE TRIGGER IF NOT EXISTS totals_ledger_insert AFTER INSERT ON ledger BEGIN
       ${add("'earned'", "NEW.amount_micro")};
     END`,
    `CREATE TRIGGER IF NOT EXISTS totals_ledger_update AFTER UPDATE OF amount_micro ON ledger
     WHEN OLD.amount_micro IS NOT NEW.amount_micro BEGIN
       ${sub("'earned'", "OLD.amount_micro")};
       ${add("'earned'", "NEW.amount_micro")};
     END`,
    `CREATE TRIGGER IF NOT EXISTS totals_ledger_delete AFTER DELETE ON ledger BEGIN
       ${sub("'earned'", "OLD.amount_micro")};
     END`,
    `CREATE TRIGGER IF NOT EXISTS totals_transfer_insert AFTER INSERT ON transfers WHEN NEW.state = 'confirmed' BEGIN
       ${add("'transfer:' || NEW.kind", "NEW.amount_micro")};
     END`,
    `CREATE TRIGGER IF NOT EXISTS totals_transfer_update AFTER UPDATE OF state, kind, amount_micro ON transfers
     WHEN (OLD.state = 'confirmed' OR NEW.state = 'confirmed')
       AND (OLD.state IS NOT NEW.state OR OLD.kind IS NOT NEW.kind OR OLD.amount_micro IS NOT NEW.amount_micro) BEGIN
       ${sub("'transfer:' || OLD.kind", "OLD.amount_micro", "OLD.state = 'confirmed'")};
       ${add("'transfer:' || NEW.kind", "NEW.amount_micro", "NEW.state = 'confirmed'")};
     END`,
    `CREATE TRIGGER IF NOT EXISTS totals_transfer_delete AFTER DELETE ON transfers WHEN OLD.state = 'confirmed' BEGIN
       ${sub("'transfer:' || OLD.kind", "OLD.amount_micro")};
     END`,
    `CREATE TRIGGER IF NOT EXISTS totals_receipt_insert AFTER INSERT ON receipts WHEN NEW.anchor_batch IS NULL BEGIN
       ${add("'unanchored'", "0")};
     END`,
    `CREATE TRIGGER IF NOT EXISTS totals_receipt_update AFTER UPDATE OF anchor_batch ON receipts
     WHEN (OLD.anchor_batch IS NULL) <> (NEW.anchor_batch IS NULL) BEGIN
       ${sub("'unanchored'", "0", "OLD.anchor_batch IS NULL")};
       ${add("'unanchored'", "0", "NEW.anchor_batch IS NULL")};
     END`,
    `CREATE TRIGGER IF NOT EXISTS totals_receipt_delete AFTER DELETE ON receipts WHEN OLD.anchor_batch IS NULL BEGIN
       ${sub("'unanchored'", "0")};
     END`,
  ],
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function migrate(sql: Sql): void {
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const current = sql.first<{ version: number }>("SELECT version FROM schema_version")?.version ?? 0;
  if (current === 0) sql.run("INSERT INTO schema_version (version) VALUES (0)");
  for (let v = current; v < MIGRATIONS.length; v++) {
    const migration = MIGRATIONS[v] ?? "";
    for (const statement of typeof migration === "string" ? splitStatements(migration) : migration) sql.exec(statement);
    sql.run("UPDATE schema_version SET version = ?", v + 1);
  }
}

function splitStatements(ddl: string): string[] {
  return ddl
    .split(";")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
