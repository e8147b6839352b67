import type { Logger as TypeOrmLogger } from 'typeorm';

export interface RecordedStatement {
  query: string;
  parameters: unknown[];
}

/**
 * Counts the SQL statements TypeORM sends (and keeps the most recent ones). Cheap enough to be
 * always on; the N+1 test and the catalog benchmark read it to see what a request costs.
 */
export class StatementCounter implements TypeOrmLogger {
  count = 0;
  private readonly recent: RecordedStatement[] = [];
  private recording = false;

  logQuery(query: string, parameters?: unknown[]): void {
    this.count++;
    if (this.recording) this.recent.push({ query, parameters: parameters ?? [] });
  }

  /** Runs `fn`, returning the statements it sent (whatever else ran meanwhile is included too). */
  async record<T>(fn: () => Promise<T>): Promise<{ result: T; statements: RecordedStatement[] }> {
    this.recent.length = 0;
    this.recording = true;
    try {
      const result = await fn();
      return { result, statements: [...this.recent] };
    } finally {
      this.recording = false;
    }
  }

  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}
