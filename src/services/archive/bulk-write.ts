/**
 * The import's writes, set-based: asset rows, their references, in multi-row statements, so an
 * import of N assets costs O(N / batch) statements rather than one per asset and per reference.
 * Asset rows travel as one JSON array per statement, unpacked by `json_to_recordset`: one
 * JSON.stringify, where an array parameter per column made the driver escape every element of
 * every column (specs included) into PostgreSQL's array syntax — most of the import's CPU in the
 * driver. Everything here runs inside the import's one transaction; every check (natural keys,
 * references, overwrite rules) was made in memory beforehand by the import's decision, so these
 * statements only store what was decided.
 */
import type { EntityManager } from 'typeorm';
import { isUniqueViolation } from '../../db/errors.js';
import { conflict } from '../../errors.js';
import type { StoredAssetRow } from '../assets.js';

/** Rows per statement at most… */
export const ROWS_PER_STATEMENT = 1000;
/**
 * …but references are small (three ids), and the report of a large import is built while the
 * first reference statement runs: long statements keep PostgreSQL busy meanwhile.
 */
const REFERENCES_PER_STATEMENT = 20_000;
/** …and characters of row JSON per statement at most (a spec alone may be 256 K). */
const CHARS_PER_STATEMENT = 8 * 1024 * 1024;

export interface AssetRowWrite {
  row: StoredAssetRow;
  /** The natural key the asset holds on this stage now; null when it is new here. */
  currentKey: string | null;
}

export interface ReferenceRow {
  fromId: string;
  toId: string;
  kind: string;
}

/** The stored columns, their types in the recordset, and where each comes from in a row. */
const COLUMNS: readonly (readonly [column: string, type: string, value: (r: StoredAssetRow) => unknown])[] = [
  ['id', 'uuid', (r) => r.id],
  ['type', 'varchar', (r) => r.type],
  ['name', 'varchar', (r) => r.name],
  ['description', 'text', (r) => r.description],
  ['team', 'varchar', (r) => r.team],
  ['version', 'varchar', (r) => r.version],
  ['natural_key', 'varchar', (r) => r.naturalKey],
  ['spec', 'jsonb', (r) => r.spec],
  ['sealed_secret', 'text', (r) => r.sealedSecret],
  ['secret_digest', 'varchar', (r) => r.secretDigest],
  ['checksum', 'text', (r) => r.checksum],
  ['version_set_id', 'uuid', (r) => r.versionSetId],
  ['system_version', 'int', (r) => r.systemVersion],
  ['search_text', 'text', (r) => r.searchText],
  ['created_by', 'varchar', (r) => r.createdBy],
  ['updated_by', 'varchar', (r) => r.updatedBy],
];

const recordset = `json_to_recordset($1::json) AS u(${COLUMNS.map(([c, type]) => `${c} ${type}`).join(', ')})`;

const INSERT_ASSETS = `INSERT INTO assets (${COLUMNS.map(([c]) => c).join(', ')}) SELECT ${COLUMNS.map(([c]) => `u.${c}`).join(', ')} FROM ${recordset}`;
// created_by stays what it was; updated_at is the transaction's time.
const UPDATE_ASSETS = `UPDATE assets a SET ${COLUMNS.filter(([c]) => c !== 'id' && c !== 'created_by')
  .map(([c]) => `${c} = u.${c}`)
  .join(', ')}, updated_at = now() FROM ${recordset} WHERE a.id = u.id`;

/** One row as an element of a statement's JSON array: an object keyed by column. */
function rowJson(row: StoredAssetRow): string {
  const record: Record<string, unknown> = {};
  for (const [column, , value] of COLUMNS) record[column] = value(row) ?? null;
  return JSON.stringify(record);
}

/** The statement's one parameter: the rows as a JSON array. */
const rowsParameter = (rows: readonly string[]): [string] => [`[${rows.join(',')}]`];

/** Slices of `items` holding at most `rows` items and about CHARS_PER_STATEMENT characters by `size`. */
export function batches<T>(items: readonly T[], size: (item: T) => number = () => 0, rows = ROWS_PER_STATEMENT): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let chars = 0;
  for (const item of items) {
    const n = size(item);
    if (current.length && (current.length >= rows || chars + n > CHARS_PER_STATEMENT)) {
      out.push(current);
      current = [];
      chars = 0;
    }
    current.push(item);
    chars += n;
  }
  if (current.length) out.push(current);
  return out;
}

/**
 * Stores the rows: replaced ones first, then new ones, so a natural key given up by a replaced
 * asset is free before a new asset takes it. PostgreSQL checks a unique index row by row, so
 * replaced assets whose key changes first park theirs on a placeholder no natural key can equal
 * (keys start with a type), which lets keys move between them in any order within a statement.
 * A unique violation here means a writer outside this import took a key meanwhile: CONFLICT.
 */
export async function writeAssetRows(manager: EntityManager, writes: readonly AssetRowWrite[]): Promise<void> {
  const updates = writes.filter((w) => w.currentKey !== null);
  const inserts = writes.filter((w) => w.currentKey === null);
  try {
    const moving = updates.filter((w) => w.currentKey !== w.row.naturalKey).map((w) => w.row.id);
    for (const ids of batches(moving)) {
      await manager.query(`UPDATE assets SET natural_key = '#moving:' || id WHERE id = ANY($1::uuid[])`, [ids]);
    }
    for (const batch of batches(updates.map((w) => rowJson(w.row)), (json) => json.length)) await manager.query(UPDATE_ASSETS, rowsParameter(batch));
    for (const batch of batches(inserts.map((w) => rowJson(w.row)), (json) => json.length)) await manager.query(INSERT_ASSETS, rowsParameter(batch));
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('another writer took the name of an imported asset while the import ran; import again', { field: 'archive' });
    throw err;
  }
}

/** The first streamed statement's rows; each next one doubles, up to ROWS_PER_STATEMENT. */
const FIRST_STREAMED_ROWS = 125;

/**
 * Statements of one transaction sent one after another without the caller awaiting each: the
 * next goes out as soon as the previous one finishes, while the caller goes on. (pg 8 would queue
 * them itself, but that is deprecated and pg 9 refuses a query while one runs.) After a failure
 * nothing more is sent, and `done` rejects with that first failure. The transaction must not end
 * while a statement is queued: one sent after its ROLLBACK would run, and commit, on its own.
 * Whoever fails meanwhile calls `stop` and waits for it before the transaction ends.
 */
export class StatementQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly manager: EntityManager) {}

  add(sql: string, parameters: unknown[]): void {
    this.tail = this.tail.then(() => {
      if (this.stopped) throw new Error('the import stopped before this statement was sent');
      return this.manager.query(sql, parameters);
    });
    // Awaited in done() or stop(); until then a failure must not count as unhandled.
    this.tail.catch(() => undefined);
  }

  async done(): Promise<void> {
    await this.tail;
  }

  /** Sends nothing more; resolves once the statement in flight, if any, has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.tail.catch(() => undefined);
  }
}

/**
 * New rows sent as the import decides them, a statement per full batch, so PostgreSQL stores one
 * batch while the next is decided. Only for an import that replaces nothing (no natural key
 * moves between its assets, so nothing needs the updates-first order of writeAssetRows). The
 * first batches are small, so PostgreSQL starts early (with 1,000-row batches, a 1,000-asset
 * import stored nothing until everything was decided). A statement goes out when the one before
 * it finishes, which the event loop must get a turn to see: the deciding loop gives it one now
 * and then (when `add` sent a statement, at least), or the statements wait for the deciding, not
 * for PostgreSQL. `finish` sends the rest and waits for all.
 */
export class StreamedInserts {
  /** The rows not sent yet, as JSON. */
  private pending: string[] = [];
  private chars = 0;
  private batchRows = FIRST_STREAMED_ROWS;

  constructor(private readonly queue: StatementQueue) {}

  /** Adds a row; true when that sent a statement. */
  add(write: AssetRowWrite): boolean {
    const json = rowJson(write.row);
    const full = this.pending.length > 0 && (this.pending.length >= this.batchRows || this.chars + json.length > CHARS_PER_STATEMENT);
    if (full) this.send();
    this.pending.push(json);
    this.chars += json.length;
    return full;
  }

  private send(): void {
    this.queue.add(INSERT_ASSETS, rowsParameter(this.pending));
    this.pending = [];
    this.chars = 0;
    this.batchRows = Math.min(2 * this.batchRows, ROWS_PER_STATEMENT);
  }

  async finish(): Promise<void> {
    if (this.pending.length) this.send();
    try {
      await this.queue.done();
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('another writer took the name of an imported asset while the import ran; import again', { field: 'archive' });
      throw err;
    }
  }
}

/**
 * Replaces the references of `fromIds` (the replaced assets) and adds `rows`, set-based, queued
 * on `queue`: PostgreSQL takes one statement after another, each when the event loop sees the
 * one before finish, while the caller goes on until it awaits the result.
 */
export function replaceReferences(queue: StatementQueue, fromIds: readonly string[], rows: readonly ReferenceRow[]): Promise<void> {
  for (const ids of batches(fromIds)) queue.add('DELETE FROM asset_references WHERE from_id = ANY($1::uuid[])', [ids]);
  for (const batch of batches(rows, () => 0, REFERENCES_PER_STATEMENT)) {
    queue.add('INSERT INTO asset_references (from_id, to_id, kind) SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::varchar[])', [
      batch.map((r) => r.fromId),
      batch.map((r) => r.toId),
      batch.map((r) => r.kind),
    ]);
  }
  return queue.done();
}
