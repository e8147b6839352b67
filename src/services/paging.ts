/**
 * The one way lists page here: alphabetical by name, then id (stable under ties), with an opaque
 * cursor holding the last row's (name, id), and a total count of the filtered list.
 */
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { isUuid } from '../db/ids.js';
import { badInput } from '../errors.js';

export interface Page<T> {
  nodes: T[];
  totalCount: number;
  hasNextPage: boolean;
}

export const encodeCursor = (row: { name: string; id: string }) => Buffer.from(JSON.stringify([row.name, row.id])).toString('base64url');

function decodeCursor(cursor: string): [string, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    // The id goes into a uuid comparison: a forged cursor with another shape must not reach SQL.
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && isUuid(value[1])) return [value[0], value[1].toLowerCase()];
  } catch {
    /* fall through */
  }
  throw badInput('after is not a cursor from this listing', { field: 'after' });
}

/**
 * Runs a filtered query (alias `alias`) as one page of `first` rows after `after`, in one
 * statement: the total count rides along as an uncorrelated subquery (evaluated once) on every
 * row of the page. Only an empty page needs a second statement for the count.
 */
export function pageByName<T extends ObjectLiteral>(query: SelectQueryBuilder<T>, alias: string, first: number, after: string | null | undefined, maxPage: number): Promise<Page<T>> {
  return fetchPage(query, alias, first, after, maxPage, async (q) => {
    const { entities, raw } = await q.take(first + 1).getRawAndEntities();
    return { rows: entities, raw: raw as Record<string, unknown>[] };
  });
}

/**
 * Like pageByName, but the query's own select list is kept and each raw row is turned into a node
 * by `toNode` (no entity hydration): for hot listings that read only some columns.
 */
export function pageRowsByName<T extends ObjectLiteral, R>(
  query: SelectQueryBuilder<T>,
  alias: string,
  first: number,
  after: string | null | undefined,
  maxPage: number,
  toNode: (row: Record<string, unknown>) => R,
): Promise<Page<R>> {
  return fetchPage(query, alias, first, after, maxPage, async (q) => {
    const raw: Record<string, unknown>[] = await q.limit(first + 1).getRawMany();
    return { rows: raw.map(toNode), raw };
  });
}

async function fetchPage<T extends ObjectLiteral, R>(
  query: SelectQueryBuilder<T>,
  alias: string,
  first: number,
  after: string | null | undefined,
  maxPage: number,
  fetch: (query: SelectQueryBuilder<T>) => Promise<{ rows: R[]; raw: Record<string, unknown>[] }>,
): Promise<Page<R>> {
  if (!Number.isInteger(first) || first < 0 || first > maxPage) throw badInput(`first must be between 0 and ${maxPage}`, { field: 'first' });
  // The filter without the cursor: what totalCount counts. Its parameters are the page's too.
  const counting = query.clone();
  const countSql = counting.clone().select('COUNT(*)').orderBy().getQuery();
  if (after) {
    const [name, id] = decodeCursor(after);
    query.andWhere(`(${alias}.name, ${alias}.id) > (:cursorName, :cursorId)`, { cursorName: name, cursorId: id });
  }
  const { rows, raw } = await fetch(
    query
      .addSelect(`(${countSql})`, 'page_total_count')
      .orderBy(`${alias}.name`, 'ASC')
      .addOrderBy(`${alias}.id`, 'ASC'),
  );
  const totalCount = raw.length ? Number(raw[0].page_total_count as string | number) : await counting.getCount();
  return { nodes: rows.slice(0, first), totalCount, hasNextPage: rows.length > first };
}
