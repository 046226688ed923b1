import type { Sql } from "./sql.ts";

/**
 * Every accepted WebSocket with the client address it came from, registered or not. Sockets that
 * never register are reaped, and per-address counts bound what one client can hold open.
 */
export class SocketStore {
  private readonly sql: Sql;
  constructor(sql: Sql) {
    this.sql = sql;
  }

  opened(socketId: string, addr: string, now: number): void {
    this.sql.run("INSERT OR REPLACE INTO sockets (socket_id, addr, opened_at, registered) VALUES (?, ?, ?, 0)", socketId, addr, now);
  }

  registered(socketId: string): void {
    this.sql.run("UPDATE sockets SET registered = 1 WHERE socket_id = ?", socketId);
  }

  closed(socketId: string): void {
    this.sql.run("DELETE FROM sockets WHERE socket_id = ?", socketId);
  }

  counts(addr: string): { total: number; fromAddress: number; handshakesFromAddress: number } {
    const row = this.sql.first<{ total: number; addr_all: number | null; addr_handshakes: number | null }>(
      `SELECT (SELECT COUNT(*) FROM sockets) AS total,
              (SELECT COUNT(*) FROM sockets WHERE addr = ?) AS addr_all,
              (SELECT COUNT(*) FROM sockets WHERE addr = ? AND registered = 0) AS addr_handshakes`,
      addr,
      addr,
    );
    return { total: row?.total ?? 0, fromAddress: row?.addr_all ?? 0, handshakesFromAddress: row?.addr_handshakes ?? 0 };
  }

  total(): number {
    return this.sql.first<{ n: number }>("SELECT COUNT(*) AS n FROM sockets")?.n ?? 0;
  }

  /** Sockets still unregistered after the handshake window. */
  unregisteredSince(before: number, limit: number): string[] {
    return this.sql
      .all<{ socket_id: string }>("SELECT socket_id FROM sockets WHERE registered = 0 AND opened_at <= ? LIMIT ?", before, limit)
      .map((r) => r.socket_id);
  }

  all(): string[] {
    return this.sql.all<{ socket_id: string }>("SELECT socket_id FROM sockets").map((r) => r.socket_id);
  }
}
