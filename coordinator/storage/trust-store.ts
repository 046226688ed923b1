import { LIMITS } from "../../protocol/index.ts";
import type { Sql } from "./sql.ts";

export interface PairingRow {
  [key: string]: SqlStorageValue;
  pairing_code: string;
  user_id: string;
  provider_pubkey: string | null;
  created_at: number;
  expires_at: number;
  claimed_at: number | null;
  revoked_at: number | null;
}

// Crockford base32: no I, L, O, U, so codes survive being read aloud or retyped.
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** 10 symbols x 5 bits = 50 bits of entropy from the platform CSPRNG. */
export function newPairingCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  let code = "";
  for (const b of bytes) code += ALPHABET[b & 31];
  return code;
}

export function normalizeCode(code: string): string {
  return code.trim().toUpperCase().replace(/[-\s]/g, "").replace(/O/g, "0").replace(/[IL]/g, "1");
}

export type ClaimResult =
  | { ok: true; userId: string; pairedAt: number }
  | { ok: false; code: "invalid_code" | "already_claimed" | "expired" | "too_many_pairings" };

export class TrustStore {
  private readonly sql: Sql;
  constructor(sql: Sql) {
    this.sql = sql;
  }

  createdInLastHour(userId: string, now: number): number {
    return (
      this.sql.first<{ n: number }>(
        "SELECT COUNT(*) AS n FROM trust_pairings WHERE user_id = ? AND created_at > ?",
        userId,
        now - 3_600_000,
      )?.n ?? 0
    );
  }

  create(userId: string, now: number): PairingRow {
    const row: PairingRow = {
      pairing_code: newPairingCode(),
      user_id: userId,
      provider_pubkey: null,
      created_at: now,
      expires_at: now + LIMITS.pairingTtlSeconds * 1000,
      claimed_at: null,
      revoked_at: null,
    };
    this.sql.run(
      "INSERT INTO trust_pairings (pairing_code, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
      row.pairing_code,
      row.user_id,
      row.created_at,
      row.expires_at,
    );
    return row;
  }

  /** Single use: the guarded UPDATE lets exactly one claimant win. */
  claim(rawCode: string, pubkey: string, now: number): ClaimResult {
    const code = normalizeCode(rawCode);
    const row = this.sql.first<PairingRow>("SELECT * FROM trust_pairings WHERE pairing_code = ?", code);
    if (!row || row.revoked_at !== null) return { ok: false, code: "invalid_code" };
    if (row.claimed_at !== null) return { ok: false, code: "already_claimed" };
    if (row.expires_at <= now) return { ok: false, code: "expired" };
    // Matching walks a worker's pairings for every free slot: keep that walk short.
    if (this.activeForProvider(pubkey) >= LIMITS.maxPairingsPerWorker) return { ok: false, code: "too_many_pairings" };
    const changed = this.sql.run(
      "UPDATE trust_pairings SET provider_pubkey = ?, claimed_at = ? WHERE pairing_code = ? AND claimed_at IS NULL",
      pubkey,
      now,
      code,
    );
    if (changed !== 1) return { ok: false, code: "already_claimed" };
    return { ok: true, userId: row.user_id, pairedAt: now };
  }

  activeForProvider(pubkey: string): number {
    return (
      this.sql.first<{ n: number }>(
        "SELECT COUNT(*) AS n FROM trust_pairings WHERE provider_pubkey = ? AND claimed_at IS NOT NULL AND revoked_at IS NULL",
        pubkey,
      )?.n ?? 0
    );
  }

  /** Pairing codes never claimed that expired before `before`, and revoked pairings revoked before it. */
  prune(before: number, limit: number): number {
    return this.sql.run(
      `DELETE FROM trust_pairings WHERE pairing_code IN (SELECT pairing_code FROM trust_pairings
         WHERE (claimed_at IS NULL AND expires_at < ?) OR (revoked_at IS NOT NULL AND revoked_at < ?) LIMIT ?)`,
      before,
      before,
      limit,
    );
  }

  /** Active pairings of a user, one row per provider (the earliest pairing time). */
  list(userId: string): { provider_pubkey: string; paired_at: number }[] {
    return this.sql.all<{ provider_pubkey: string; paired_at: number }>(
      `SELECT provider_pubkey, MIN(claimed_at) AS paired_at FROM trust_pairings
       WHERE user_id = ? AND claimed_at IS NOT NULL AND revoked_at IS NULL
       GROUP BY provider_pubkey ORDER BY paired_at LIMIT 1000`,
      userId,
    );
  }

  revoke(userId: string, pubkey: string, now: number): number {
    return this.sql.run(
      "UPDATE trust_pairings SET revoked_at = ? WHERE user_id = ? AND provider_pubkey = ? AND revoked_at IS NULL",
      now,
      userId,
      pubkey,
    );
  }
}
