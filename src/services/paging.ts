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
export async function pageByName<T extends ObjectLiteral>(query: SelectQueryBuilder<T>, alias: string, first: number, after: string | null | undefined, maxPage: number): Promise<Page<T>> {
  if (!Number.isInteger(first) || first < 0 || first > maxPage) throw badInput(`first must be between 0 and ${maxPage}`, { field: 'first' });
  // The filter without the cursor: what totalCount counts. Its parameters are the page's too.
  const counting = query.clone();
  const countSql = counting.clone().select('COUNT(*)').orderBy().getQuery();
  if (after) {
    const [name, id] = decodeCursor(after);
    query.andWhere(`(${alias}.name, ${alias}.id) > (:cursorName, :cursorId)`, { cursorName: name, cursorId: id });
  }
  const { entities, raw } = await query
    .addSelect(`(${countSql})`, 'page_total_count')
    .orderBy(`${alias}.name`, 'ASC')
    .addOrderBy(`${alias}.id`, 'ASC')
    .take(first + 1)
    .getRawAndEntities();
  const totalCount = raw.length ? Number((raw[0] as { page_total_count: string | number }).page_total_count) : await counting.getCount();
  return { nodes: entities.slice(0, first), totalCount, hasNextPage: entities.length > first };
}
