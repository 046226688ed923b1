/** The one way the coordinator talks to SQLite: placeholders only, and the failing query kept in the error. */
export type Row = Record<string, SqlStorageValue>;

export class SqlError extends Error {
  readonly query: string;
  constructor(query: string, cause: unknown) {
    super(`SQL failed: ${cause instanceof Error ? cause.message : String(cause)} -- in: ${query.replace(/\s+/g, " ").trim()}`, {
      cause,
    });
    this.query = query;
  }
}

const WRITE = /^\s*(INSERT|UPDATE|DELETE)\b/i;

export class Sql {
  private readonly sql: SqlStorage;
  constructor(sql: SqlStorage) {
    this.sql = sql;
  }

  all<T extends Row>(query: string, ...params: SqlStorageValue[]): T[] {
    try {
      return this.sql.exec<T>(query, ...params).toArray();
    } catch (err) {
      throw new SqlError(query, err);
    }
  }

  first<T extends Row>(query: string, ...params: SqlStorageValue[]): T | undefined {
    return this.all<T>(query, ...params)[0];
  }

  /**
   * Runs a write and returns how many rows it changed, in one statement: `RETURNING 1` yields one
   * row per changed row (not `rowsWritten`, which also counts index entries, nor a second
   * `SELECT changes()` round on every write of the hot path).
   */
  run(query: string, ...params: SqlStorageValue[]): number {
    const counted = WRITE.test(query) && !/\bRETURNING\b/i.test(query) ? `${query} RETURNING 1` : query;
    try {
      return this.sql.exec(counted, ...params).toArray().length;
    } catch (err) {
      throw new SqlError(query, err);
    }
  }

  /** Runs DDL or any statement whose change count does not matter. */
  exec(query: string, ...params: SqlStorageValue[]): void {
    try {
      this.sql.exec(query, ...params).toArray();
    } catch (err) {
      throw new SqlError(query, err);
    }
  }
}
