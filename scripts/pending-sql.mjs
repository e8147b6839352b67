// Prints the SQL that would bring DATABASE_URL's schema in line with the entities: the body of a new migration.
// Usage: npm run build && node scripts/pending-sql.mjs postgres://…
import { createDataSource } from '../dist/src/db/data-source.js';
const ds = createDataSource(process.argv[2]);
await ds.initialize();
const sql = await ds.driver.createSchemaBuilder().log();
for (const q of sql.upQueries) console.log(`    await q.query(${JSON.stringify(q.query)});`);
console.log('---down');
for (const q of sql.downQueries.reverse()) console.log(`    await q.query(${JSON.stringify(q.query)});`);
await ds.destroy();
