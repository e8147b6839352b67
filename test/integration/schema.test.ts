import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataSource, migrate, pendingSchemaChanges } from '../../src/db/data-source.js';
import { printPossibleTypes, printSDL } from '../../src/graphql/schema.js';
import { createTestDatabase } from '../support/database.js';

describe('schema/schema.graphql', () => {
  it('matches the SDL the code emits (run `npm run schema` after changing the API)', async () => {
    const committed = await readFile(new URL('../../schema/schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(await printSDL());
  });

  it('comes with schema/possible-types.json, every interface with its implementations (`npm run schema` writes both)', async () => {
    const committed = await readFile(new URL('../../schema/possible-types.json', import.meta.url), 'utf8');
    expect(committed).toBe(await printPossibleTypes());
    expect(JSON.parse(committed).Asset).toContain('ApiAsset');
  });
});

describe('migrations', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.drop());

  it('produce exactly the schema the entities describe, and roll back cleanly', async () => {
    const ds = createDataSource(db.url);
    await ds.initialize();
    try {
      expect((await migrate(ds)).length).toBeGreaterThan(0);
      expect(await pendingSchemaChanges(ds)).toEqual([]);
      expect(await ds.showMigrations()).toBe(false);
      // every migration can be undone and redone
      for (let i = 0; i < ds.migrations.length; i++) await ds.undoLastMigration();
      const tables = await ds.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations'");
      expect(tables).toEqual([]);
      await migrate(ds);
      expect(await pendingSchemaChanges(ds)).toEqual([]);
    } finally {
      await ds.destroy();
    }
  });
});
