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

  /** Runs a write and returns how many rows it changed. */
  run(query: string, ...params: SqlStorageValue[]): number {
    try {
      this.sql.exec(query, ...params).toArray();
      // Not `rowsWritten`: that also counts index entries, so one updated row can read as several.
      return this.sql.exec<{ n: number }>("SELECT changes() AS n").one().n;
    } catch (err) {
      throw new SqlError(query, err);
    }
  }
}
