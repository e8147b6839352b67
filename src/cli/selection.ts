/**
 * Which assets a command works on, from the command line — `--asset ID…` or a filter
 * (`--keyword`, `--type`, `--team`) — and which optional dependencies come along. `export` and
 * `promote` read their flags with this one function, so both select alike; the server matches a
 * filter the same way for `POST /archive/export` and for `Query.assets`.
 */
import { CliError, EXIT, printable, usageError } from './command.js';
import { rawKey } from '../graphql/node-id.js';
import { graphqlRequest, unexpectedResponse } from './graphql.js';
import type { Connection } from './http.js';

export const selectionOptions = {
  asset: { type: 'string', multiple: true },
  keyword: { type: 'string' },
  type: { type: 'string', multiple: true },
  team: { type: 'string', multiple: true },
  optional: { type: 'string' },
  'optional-id': { type: 'string', multiple: true },
} as const;

export const selectionUsage = '(--asset ID... | [--keyword K] [--type TYPE]... [--team NAME]...) [--optional all|none|selected] [--optional-id ID]...';

export const selectionHelp = `Select by --asset ids (repeat the flag or separate with commas), or by a filter: --keyword K
(\`*\` wildcards, \`a|b\` alternatives, matched against every text attribute), --type TYPE and
--team NAME (both repeatable; an asset must match all given). Required dependencies always come
along; --optional all|none|selected picks the optional ones (--optional-id ID implies selected).`;

/** Repeatable flags that also take comma-separated lists, without repeats. */
export const list = (values: string[] | undefined) => [
  ...new Set(
    (values ?? [])
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean),
  ),
];

export interface AssetFilter {
  keyword?: string;
  types?: string[];
  teams?: string[];
}

export interface AssetSelection {
  assetIds?: string[];
  filter?: AssetFilter;
  optional: 'ALL' | 'NONE' | 'SELECTED';
  optionalIds: string[];
}

export interface SelectionValues {
  asset?: string[];
  keyword?: string;
  type?: string[];
  team?: string[];
  optional?: string;
  'optional-id'?: string[];
}

/** Ids or a filter (never both, never neither) plus the optional-dependency choice. */
export function assetSelection(values: SelectionValues, usage: string, verb: string): AssetSelection {
  const assetIds = list(values.asset);
  const keyword = values.keyword?.trim();
  const types = list(values.type).map((t) => t.toUpperCase());
  // Team names may contain commas: one per flag.
  const teams = [...new Set((values.team ?? []).map((t) => t.trim()).filter(Boolean))];
  const filtered = Boolean(keyword) || types.length > 0 || teams.length > 0;
  if (assetIds.length && filtered) throw usageError('give --asset or a filter (--keyword, --type, --team), not both', usage);
  if (!assetIds.length && !filtered) throw usageError(`choose what to ${verb}: --asset ID, or a filter (--keyword, --type, --team)`, usage);

  const optionalIds = list(values['optional-id']);
  const optional = (values.optional ?? (optionalIds.length ? 'selected' : 'none')).toUpperCase();
  if (!['ALL', 'NONE', 'SELECTED'].includes(optional)) throw usageError(`--optional must be all, none or selected (got "${values.optional}")`, usage);
  if (optional === 'SELECTED' && !optionalIds.length) throw usageError('--optional selected needs --optional-id ID', usage);
  if (optional !== 'SELECTED' && optionalIds.length) throw usageError('--optional-id goes with --optional selected', usage);

  return {
    ...(assetIds.length ? { assetIds } : {}),
    ...(filtered ? { filter: { ...(keyword ? { keyword } : {}), ...(types.length ? { types } : {}), ...(teams.length ? { teams } : {}) } } : {}),
    optional: optional as AssetSelection['optional'],
    optionalIds,
  };
}

/** A page well under any sensible STAGECRAFT_MAX_PAGE_SIZE (default 500), which refuses larger ones. */
const PAGE = 100;

const MATCHING = `query StagecraftAssetsMatching($filter: AssetFilter!, $first: Int!, $after: String) {
  assets(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } }
}`;

interface AssetPage {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { node: { id: string } }[];
}

/**
 * The ids of the assets a filter matches on the server, all pages, in the server's order. A
 * filter that matches nothing is a failed selection (exit 1), not a promotion of nothing.
 */
export async function assetIdsMatching(conn: Connection, filter: AssetFilter): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  let total: number | null = null;
  for (;;) {
    const { assets }: { assets: AssetPage } = await graphqlRequest<{ assets: AssetPage }>(conn, MATCHING, { filter, first: PAGE, after });
    if (!assets || !Array.isArray(assets.edges) || !assets.pageInfo) throw unexpectedResponse('a page of assets');
    ids.push(...assets.edges.map((e) => rawKey(e.node.id)));
    // The count of the first page bounds the walk, and a cursor never repeats: a confused (or
    // hostile) server cannot keep the command paging forever.
    total ??= typeof assets.totalCount === 'number' ? assets.totalCount : 0;
    const next: string | null = assets.pageInfo.endCursor;
    if (!assets.pageInfo.hasNextPage || !next || !assets.edges.length || next === after || ids.length >= total) break;
    after = next;
  }
  if (!ids.length) throw new CliError(EXIT.INCOMPLETE, 'NOTHING_SELECTED', `no asset matches ${describeFilter(filter)}`);
  return [...new Set(ids)];
}

export function describeFilter(filter: AssetFilter): string {
  const parts = [
    filter.keyword !== undefined ? `--keyword "${printable(filter.keyword)}"` : null,
    filter.types?.length ? `--type ${filter.types.map(printable).join(',')}` : null,
    ...(filter.teams ?? []).map((t) => `--team "${printable(t)}"`),
  ];
  return parts.filter(Boolean).join(' ');
}
