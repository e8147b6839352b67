/** The catalog: search (`a|b`, `graph*`), type and team filters, paging, selection to promote or export. */
import { gql } from '@apollo/client';
import { useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { ASSET_TYPES } from '../lib/asset-types';
import { ago } from '../lib/history';
import { href } from '../lib/route';
import { toggle } from '../lib/selection';
import { Can, Empty, ErrorBox, Loading, PageHeader, go } from '../ui';

const PAGE_SIZE = 20;

export const ASSETS = gql`
  query ConsoleAssets($filter: AssetFilter, $first: Int!, $after: String) {
    assets(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { id name type version team description updatedAt ... on Alias { stage } } }
    }
  }
`;

const TEAMS = gql`
  query ConsoleTeams { assets(filter: { types: [TEAM] }, first: 100) { edges { node { id name } } } }
`;

export interface AssetRow {
  id: string;
  name: string;
  type: string;
  version: string | null;
  team: string | null;
  description: string;
  updatedAt: string;
  /** Aliases: the stage a variant is bound to. */
  stage?: string | null;
}
export interface AssetsData {
  assets: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: AssetRow }[] };
}

export function CatalogPage({ params }: { params: URLSearchParams }) {
  const keyword = params.get('q') ?? '';
  const type = params.get('type') ?? '';
  const team = params.get('team') ?? '';
  // Cursors of the pages before this one, so "Previous" works with a forward-only connection.
  const cursors = params.getAll('page');
  const after = cursors.at(-1) ?? null;
  const [draft, setDraft] = useState(keyword);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const filter = { keyword: keyword || null, types: type ? [type] : null, teams: team ? [team] : null };
  const { data, loading, error } = useQuery<AssetsData>(ASSETS, { variables: { filter, first: PAGE_SIZE, after } });
  const teams = useQuery<{ assets: { edges: { node: { id: string; name: string } }[] } }>(TEAMS);
  const nav = (changes: Record<string, string | string[] | null>) => {
    const next = { q: keyword, type, team, page: cursors as string[] | string | null, ...changes };
    go(href('catalog', next as Record<string, string | string[]>));
  };
  const search = (e: FormEvent) => {
    e.preventDefault();
    nav({ q: draft, page: null });
  };
  const rows = data?.assets.edges.map((e) => e.node) ?? [];
  const start = cursors.length * PAGE_SIZE;
  return (
    <>
      <PageHeader title="Catalog" sub="Every asset of this stage. Search matches any text; use * as a wildcard and | for alternatives.">
        {selected.size > 0 && (
          <>
            <span className="muted">{selected.size} selected</span>
            <Can privilege="MANAGE_PROMOTIONS">
              <a className="button primary" href={href('promote', { assets: [...selected] })}>Promote selected</a>
            </Can>
            <Can privilege="EXPORT_IMPORT">
              <a className="button" href={href('archives', { assets: [...selected] })}>Export selected</a>
            </Can>
          </>
        )}
      </PageHeader>
      <form className="filters" onSubmit={search}>
        <input type="search" name="q" placeholder="Search: petstore|orders, graph*" value={draft} onChange={(e) => setDraft(e.target.value)} />
        <select name="type" value={type} onChange={(e) => nav({ type: e.target.value, page: null })} aria-label="Type">
          <option value="">All types</option>
          {ASSET_TYPES.map((t) => <option key={t}>{t}</option>)}
        </select>
        <select name="team" value={team} onChange={(e) => nav({ team: e.target.value, page: null })} aria-label="Team">
          <option value="">All teams</option>
          {teams.data?.assets.edges.map(({ node }) => <option key={node.id}>{node.name}</option>)}
        </select>
        <button>Search</button>
        {(keyword || type || team) && <button type="button" className="link" onClick={() => { setDraft(''); go(href('catalog')); }}>Clear</button>}
      </form>
      <ErrorBox error={error} />
      {loading && !data ? (
        <Loading />
      ) : rows.length === 0 ? (
        <Empty title={keyword || type || team ? 'No asset matches these filters.' : 'The catalog is empty.'}>
          {keyword || type || team ? 'Try a shorter keyword, a wildcard (pet*) or clear the filters.' : 'Create assets through the API, import an archive (Archives), or start the server with --seed for the demo catalog.'}
        </Empty>
      ) : (
        <>
          <table className="table">
            <thead>
              <tr><th className="check"></th><th>Name</th><th>Type</th><th>Version / stage</th><th>Team</th><th>Description</th><th>Updated</th></tr>
            </thead>
            <tbody>
              {rows.map((a) => (
                <tr key={a.id}>
                  <td className="check"><input type="checkbox" aria-label={`Select ${a.name}`} checked={selected.has(a.id)} onChange={() => setSelected(toggle(selected, a.id))} /></td>
                  <td><a href={href('assets', a.id)}>{a.name}</a></td>
                  <td><span className="type">{a.type}</span></td>
                  <td>{a.version ?? ''}{a.type === 'ALIAS' && <span className="muted small">{a.stage ? `for ${a.stage}` : 'unbound'}</span>}</td>
                  <td>{a.team ?? ''}</td>
                  <td className="muted ellipsis">{a.description}</td>
                  <td title={a.updatedAt}>{ago(a.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="pager">
            <span className="muted">{start + 1}–{start + rows.length} of {data!.assets.totalCount}</span>
            <button disabled={cursors.length === 0} onClick={() => nav({ page: cursors.slice(0, -1) })}>Previous</button>
            <button disabled={!data!.assets.pageInfo.hasNextPage} onClick={() => nav({ page: [...cursors, data!.assets.pageInfo.endCursor!] })}>Next</button>
          </div>
        </>
      )}
    </>
  );
}
