import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { migrations } from '../../migrations/index.js';
import { entities } from '../entities/index.js';
import { StatementCounter } from './statement-counter.js';

/** The TypeORM data source for one database. Schema changes come only from migrations. */
export function createDataSource(url: string, options: { poolSize?: number; applicationName?: string } = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities,
    migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    // gen_random_uuid() is built into PostgreSQL 13+, so no extension is needed.
    uuidExtension: 'pgcrypto',
    logger: new StatementCounter(),
    poolSize: options.poolSize ?? 10,
    applicationName: options.applicationName ?? 'stagecraft',
  });
}

export const statementCounter = (dataSource: DataSource) => dataSource.logger as StatementCounter;

/** Runs pending migrations; returns the names applied. */
export async function migrate(dataSource: DataSource): Promise<string[]> {
  const applied = await dataSource.runMigrations({ transaction: 'each' });
  return applied.map((m) => m.name);
}

/**
 * The SQL TypeORM would run to make the database match the entities. Empty when the migrated
 * schema and the entities agree; the drift test asserts exactly that.
 */
export async function pendingSchemaChanges(dataSource: DataSource): Promise<string[]> {
  const sql = await dataSource.driver.createSchemaBuilder().log();
  return sql.upQueries.map((q) => q.query);
}
