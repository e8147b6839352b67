/**
 * The one way lists page here (Relay cursor connections): forward (`first`/`after`) or backward
 * (`last`/`before`) through a filtered query in one of the listing's orderings, ties broken by id
 * so the order is total. A cursor is opaque: it holds the ordering's name and the row's sort
 * values and id; a cursor of another ordering or a forged one is BAD_USER_INPUT. Names sort
 * case-insensitively; times compare at PostgreSQL's microsecond precision (a JavaScript Date
 * would round them to milliseconds and skip or repeat rows).
 */
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { isUuid } from '../db/ids.js';
import { badInput } from '../errors.js';

export interface Page<T> {
  nodes: T[];
  /** One cursor per node. */
  cursors: string[];
  totalCount: number;
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

export interface PageRequest {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** A sort key: a text expression (compared as is) or a timestamp column. */
export interface SortKey {
  sql: string;
  kind: 'text' | 'time';
}

/** A named ordering of a listing: its keys (then id), all in one direction. */
export interface Ordering {
  name: string;
  keys: SortKey[];
  direction: 'ASC' | 'DESC';
}

/** Pages when neither first nor last is given. */
export const DEFAULT_PAGE = 20;
const MAX_CURSOR_CHARS = 4096;

const encodeCursor = (values: string[]) => Buffer.from(JSON.stringify(values)).toString('base64url');

/** The sort values and id a cursor holds, checked against the ordering; BAD_USER_INPUT otherwise. */
function decodeCursor(field: 'after' | 'before', cursor: string, ordering: Ordering): { values: string[]; id: string } {
  try {
    if (cursor.length <= MAX_CURSOR_CHARS) {
      const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
      // Values go into SQL comparisons as parameters: each must have its key's shape, the id a UUID.
      if (
        Array.isArray(value) &&
        value.length === ordering.keys.length + 2 &&
        value[0] === ordering.name &&
        ordering.keys.every((k, i) => typeof value[i + 1] === 'string' && (k.kind === 'text' ? !value[i + 1].includes('\u0000') : /^-?\d{1,18}$/.test(value[i + 1]))) &&
        isUuid(value.at(-1))
      ) {
        return { values: value.slice(1, -1) as string[], id: (value.at(-1) as string).toLowerCase() };
      }
    }
  } catch {
    /* fall through */
  }
  throw badInput(`${field} is not a cursor of this listing in this order`, { field });
}

/**
 * The SQL a key is selected as for a cursor: times as whole microseconds since the epoch. In
 * parentheses, so TypeORM takes it for an expression, not for the entity's own column (whose
 * selection an alias would replace, leaving the entity without it).
 */
const selected = (key: SortKey) => (key.kind === 'time' ? `floor(extract(epoch from ${key.sql}) * 1000000)::bigint::text` : `(${key.sql})`);
/** The SQL a cursor value is compared as. */
const compared = (key: SortKey, param: string) => (key.kind === 'time' ? `(TIMESTAMPTZ 'epoch' + (:${param})::bigint * INTERVAL '1 microsecond')` : `:${param}`);

/** `(keys…, id) <op> (cursor)` with the cursor's values as parameters. */
function beyond(query: SelectQueryBuilder<ObjectLiteral>, alias: string, ordering: Ordering, cursor: { values: string[]; id: string }, op: string, tag: string): void {
  const params: Record<string, string> = { [`${tag}Id`]: cursor.id };
  const right = ordering.keys.map((k, i) => {
    params[`${tag}${i}`] = cursor.values[i]!;
    return compared(k, `${tag}${i}`);
  });
  query.andWhere(`(${[...ordering.keys.map((k) => k.sql), `${alias}.id`].join(', ')}) ${op} (${[...right, `:${tag}Id`].join(', ')})`, params);
}

/**
 * Runs a filtered query (alias `alias`) as one page, in one statement for the rows and the total
 * count (an uncorrelated subquery, evaluated once); only an empty page, or a page with a cursor
 * (is there anything on the other side of it?), needs a second one. `fetch` reads the page's rows
 * and turns them into nodes; each raw row carries `page_k<i>` and `page_id` for its cursor.
 */
export async function fetchPage<T extends ObjectLiteral, R>(
  query: SelectQueryBuilder<T>,
  alias: string,
  request: PageRequest,
  ordering: Ordering,
  maxPage: number,
  fetch: (query: SelectQueryBuilder<T>, limit: number) => Promise<{ rows: R[]; raw: Record<string, unknown>[] }>,
): Promise<Page<R>> {
  const { first, last, after, before } = request;
  if (first != null && last != null) throw badInput('give first or last, not both', { field: 'last' });
  const backward = last != null;
  const size = backward ? last : (first ?? DEFAULT_PAGE);
  const field = backward ? 'last' : 'first';
  if (!Number.isInteger(size) || size < 0 || size > maxPage) throw badInput(`${field} must be between 0 and ${maxPage}`, { field });
  const afterCursor = after ? decodeCursor('after', after, ordering) : null;
  const beforeCursor = before ? decodeCursor('before', before, ordering) : null;

  // The filter without the cursors: what totalCount counts. Its parameters are the page's too.
  const counting = query.clone();
  const countSql = counting.clone().select('COUNT(*)').orderBy().getQuery();
  // In the listing's order, "after" is `>` when ascending; backward pages read the order reversed.
  const forwardOp = ordering.direction === 'ASC' ? '>' : '<';
  const backOp = forwardOp === '>' ? '<' : '>';
  if (afterCursor) beyond(query as SelectQueryBuilder<ObjectLiteral>, alias, ordering, afterCursor, forwardOp, 'after');
  if (beforeCursor) beyond(query as SelectQueryBuilder<ObjectLiteral>, alias, ordering, beforeCursor, backOp, 'before');
  const direction = backward === (ordering.direction === 'ASC') ? 'DESC' : 'ASC';
  query.addSelect(`(${countSql})`, 'page_total_count').addSelect(`(${alias}.id)`, 'page_id');
  ordering.keys.forEach((k, i) => query.addSelect(selected(k), `page_k${i}`));
  query.orderBy();
  for (const k of ordering.keys) query.addOrderBy(k.sql, direction);
  query.addOrderBy(`${alias}.id`, direction);

  const { rows, raw } = await fetch(query, size + 1);
  const more = rows.length > size;
  const take = (list: unknown[]) => (backward ? list.slice(0, size).reverse() : list.slice(0, size));
  const nodes = take(rows) as R[];
  const cursors = (take(raw) as Record<string, unknown>[]).map((r) => encodeCursor([ordering.name, ...ordering.keys.map((_, i) => String(r[`page_k${i}`])), String(r.page_id)]));
  const totalCount = raw.length ? Number(raw[0]!.page_total_count as string | number) : await counting.getCount();

  // Rows at or beyond the cursor the page started from, on the other side of the page (the
  // cursor's own row counts; it may be gone).
  const otherSide = async (cursor: { values: string[]; id: string } | null, op: string) => {
    if (!cursor) return false;
    const other = counting.clone();
    beyond(other as SelectQueryBuilder<ObjectLiteral>, alias, ordering, cursor, op, 'other');
    return other.getExists();
  };
  return backward
    ? { nodes, cursors, totalCount, hasPreviousPage: more, hasNextPage: await otherSide(beforeCursor, `${forwardOp}=`) }
    : { nodes, cursors, totalCount, hasNextPage: more, hasPreviousPage: await otherSide(afterCursor, `${backOp}=`) };
}

/** A page of entities (the query's entity, hydrated). */
export function pageEntities<T extends ObjectLiteral>(query: SelectQueryBuilder<T>, alias: string, request: PageRequest, ordering: Ordering, maxPage: number): Promise<Page<T>> {
  return fetchPage(query, alias, request, ordering, maxPage, async (q, limit) => {
    const { entities, raw } = await q.take(limit).getRawAndEntities();
    return { rows: entities, raw: raw as Record<string, unknown>[] };
  });
}

/**
 * A page of raw rows (the query's own select list, no entity hydration), each turned into a node
 * by `toNode`: for hot listings that read only some columns.
 */
export function pageRows<T extends ObjectLiteral, R>(
  query: SelectQueryBuilder<T>,
  alias: string,
  request: PageRequest,
  ordering: Ordering,
  maxPage: number,
  toNode: (row: Record<string, unknown>) => R,
): Promise<Page<R>> {
  return fetchPage(query, alias, request, ordering, maxPage, async (q, limit) => {
    const raw: Record<string, unknown>[] = await q.limit(limit).getRawMany();
    return { rows: raw.map(toNode), raw };
  });
}

/**
 * The ordering a listing's `orderBy` names: the field's keys, in the direction asked. Its name (in
 * every cursor) names the listing too, so a cursor of another listing in the same order is refused.
 */
export function orderingOf<F extends string>(listing: string, keys: Record<F, SortKey[]>, order: { field: F; direction: 'ASC' | 'DESC' }): Ordering {
  return { name: `${listing}:${order.field}:${order.direction}`, keys: keys[order.field], direction: order.direction };
}

/** Names sort case-insensitively (a "Zeta" after "alpha"). */
export const byName = (alias: string): SortKey => ({ sql: `lower(${alias}.name)`, kind: 'text' });

/** A `from` ≤ column < `to` filter, either bound optional; from after to is BAD_USER_INPUT. */
export function timeRange(query: SelectQueryBuilder<ObjectLiteral>, column: string, range: { from?: Date | null; to?: Date | null }): void {
  if (range.from && range.to && range.from > range.to) throw badInput('from must not be after to', { field: 'from' });
  if (range.from) query.andWhere(`${column} >= :rangeFrom`, { rangeFrom: range.from });
  if (range.to) query.andWhere(`${column} < :rangeTo`, { rangeTo: range.to });
}
