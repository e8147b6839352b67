/** Drift: every asset (or a filtered set) against every registered stage, with a promote action per cell. */
import { gql } from '@apollo/client';
import { useQuery } from '@apollo/client/react';
import { useState } from 'react';
import { ASSET_TYPES } from '../lib/asset-types';
import { href } from '../lib/route';
import { useStageNames } from '../stages';
import { Badge, Empty, ErrorBox, Loading, PageHeader, go, useMe } from '../ui';
import { can } from '../lib/privileges';
import type { MatrixCell } from './asset';

const MATRIX = gql`
  query ConsoleDrift($filter: AssetFilter, $stages: [String!]!) {
    assetMatrix(filter: $filter, stages: $stages) { assetId name type cells { stageName state version error lastPromotion { id name at } } }
  }
`;

interface Row { assetId: string; name: string; type: string; cells: MatrixCell[] }

export function DriftPage({ params }: { params: URLSearchParams }) {
  const { me } = useMe();
  const stages = useStageNames();
  const keyword = params.get('q') ?? '';
  const type = params.get('type') ?? '';
  const onlyDrift = params.get('only') === 'drift';
  const [draft, setDraft] = useState(keyword);
  const { data, loading, error } = useQuery<{ assetMatrix: Row[] }>(MATRIX, {
    variables: { filter: { keyword: keyword || null, types: type ? [type] : null }, stages: stages.remote },
    skip: stages.remote.length === 0 || !can(me, 'MANAGE_PROMOTIONS'),
    fetchPolicy: 'network-only',
  });
  const nav = (changes: Record<string, string>) => go(href('drift', { q: keyword, type, only: onlyDrift ? 'drift' : '', ...changes }));
  const rows = (data?.assetMatrix ?? []).filter((r) => !onlyDrift || r.cells.some((c) => c.state !== 'IN_SYNC'));
  const mayPromote = can(me, 'MANAGE_PROMOTIONS');
  return (
    <>
      <PageHeader title="Drift" sub={`Each asset of ${stages.local} compared with its copy on every registered stage.`} />
      <form className="filters" onSubmit={(e) => { e.preventDefault(); nav({ q: draft }); }}>
        <input type="search" placeholder="Search assets" value={draft} onChange={(e) => setDraft(e.target.value)} />
        <select aria-label="Type" value={type} onChange={(e) => nav({ type: e.target.value })}>
          <option value="">All types</option>
          {ASSET_TYPES.map((t) => <option key={t}>{t}</option>)}
        </select>
        <label className="inline"><input type="checkbox" checked={onlyDrift} onChange={(e) => nav({ only: e.target.checked ? 'drift' : '' })} /> Only differences</label>
        <button>Compare</button>
      </form>
      <ErrorBox error={error ?? stages.error} />
      {!can(me, 'MANAGE_PROMOTIONS') ? (
        <Empty title="The drift grid needs the MANAGE_PROMOTIONS privilege.">It reads the other stages with their stored credentials; ask an administrator, or compare assets in the catalog.</Empty>
      ) : stages.remote.length === 0 && !stages.loading ? (
        <Empty title="No other stage to compare with.">Register a stage on the <a href={href('stages')}>Stages</a> page.</Empty>
      ) : loading && !data ? <Loading /> : rows.length === 0 ? (
        <Empty title={onlyDrift ? 'Every asset is in sync.' : 'No asset matches.'} />
      ) : (
        <table className="table matrix">
          <thead><tr><th>Asset</th><th>Type</th>{stages.remote.map((s) => <th key={s}>{s}</th>)}</tr></thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.assetId}>
                <td><a href={href('assets', r.assetId)}>{r.name}</a></td>
                <td><span className="type">{r.type}</span></td>
                {r.cells.map((c) => (
                  <td key={c.stageName} className={`cell ${c.state.toLowerCase()}`} title={c.error ?? (c.lastPromotion ? `last promoted by ${c.lastPromotion.name}` : '')}>
                    <Badge value={c.state} /> {c.version && <span className="muted small">v{c.version}</span>}
                    {mayPromote && (c.state === 'MISSING' || c.state === 'DRIFTED') && (
                      <a className="small cell-action" href={href('promote', { assets: [r.assetId], stages: [c.stageName] })}>promote</a>
                    )}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
