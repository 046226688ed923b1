import type { Sql } from "./sql.ts";

/** Seeker request nonces, remembered until their signature would be stale anyway: each signature is good once. */
export class NonceStore {
  private readonly sql: Sql;
  constructor(sql: Sql) {
    this.sql = sql;
  }

  /** Spends a nonce; false when it was already spent (a replay). */
  consume(userId: string, nonce: string, expiresAt: number): boolean {
    return (
      this.sql.run(
        "INSERT INTO seen_nonces (user_id, nonce, expires_at) VALUES (?, ?, ?) ON CONFLICT(user_id, nonce) DO NOTHING",
        userId,
        nonce,
        expiresAt,
      ) === 1
    );
  }

  prune(now: number, limit: number): number {
    return this.sql.run("DELETE FROM seen_nonces WHERE rowid IN (SELECT rowid FROM seen_nonces WHERE expires_at < ? LIMIT ?)", now, limit);
  }

  earliestExpiry(): number | null {
    return this.sql.first<{ t: number | null }>("SELECT MIN(expires_at) AS t FROM seen_nonces")?.t ?? null;
  }
}
