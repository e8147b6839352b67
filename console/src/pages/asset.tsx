/** One asset: spec, versions, dependencies, aliases with their value per stage, and its drift row. */
import { gql } from '@apollo/client';
import { useQuery } from '@apollo/client/react';
import { useMemo } from 'react';
import { href } from '../lib/route';
import { useStageNames } from '../stages';
import { can } from '../lib/privileges';
import { Badge, Can, Empty, ErrorBox, Loading, PageHeader, Time, useMe } from '../ui';

const ASSET = gql`
  query ConsoleAsset($id: ID!) {
    asset(id: $id) {
      id name type version team description checksum createdAt createdBy updatedAt updatedBy spec
      dependencies { required { id name type } optional { id name type } }
      dependents { id name type }
      ... on ApiAsset { basePath systemVersion versions { id version systemVersion } }
      ... on Alias { value secure stage }
    }
  }
`;

const ALIAS_VARIANTS = gql`
  query ConsoleAliasVariants($keyword: String!) {
    assets(filter: { keyword: $keyword, types: [ALIAS] }, first: 100) {
      edges { node { id name ... on Alias { stage value secure } } }
    }
  }
`;

const MATRIX = gql`
  query ConsoleAssetDrift($ids: [ID!]!, $stages: [String!]!) {
    assetMatrix(assetIds: $ids, stages: $stages) { assetId name type cells { stageName state version error lastPromotion { id name at } } }
  }
`;

interface Ref { id: string; name: string; type: string }
interface AssetData {
  asset: (Ref & {
    version: string | null; team: string | null; description: string; checksum: string; createdAt: string; createdBy: string; updatedAt: string; updatedBy: string;
    spec: Record<string, unknown>;
    dependencies: { required: Ref[]; optional: Ref[] };
    dependents: Ref[];
    basePath?: string; systemVersion?: number | null; versions?: { id: string; version: string; systemVersion: number | null }[];
    value?: string | null; secure?: boolean; stage?: string | null;
  }) | null;
}
interface Variant { id: string; name: string; stage: string | null; value: string | null; secure: boolean }
export interface MatrixCell { stageName: string; state: string; version: string | null; error: string | null; lastPromotion: { id: string; name: string; at: string } | null }

/** Exact-name variants of each alias the asset uses (the keyword search also matches other text). */
function AliasValues({ names, stages }: { names: string[]; stages: string[] }) {
  const keyword = names.join('|');
  const { data, error, loading } = useQuery<{ assets: { edges: { node: Variant }[] } }>(ALIAS_VARIANTS, { variables: { keyword }, skip: !names.length });
  if (!names.length) return <Empty title="This asset uses no alias." />;
  if (loading && !data) return <Loading />;
  const variants = data?.assets.edges.map((e) => e.node).filter((v) => names.includes(v.name)) ?? [];
  // The value a promotion to each stage sends: the variant bound to it, else the unbound one.
  const valueFor = (name: string, stage: string) => {
    const mine = variants.filter((v) => v.name === name);
    return mine.find((v) => v.stage === stage) ?? mine.find((v) => v.stage === null) ?? null;
  };
  return (
    <>
      <ErrorBox error={error} />
      <table className="table compact">
        <thead><tr><th>Alias</th>{stages.map((s) => <th key={s}>{s}</th>)}</tr></thead>
        <tbody>
          {names.map((name) => (
            <tr key={name}>
              <td>{name}</td>
              {stages.map((stage) => {
                const v = valueFor(name, stage);
                return (
                  <td key={stage} className="mono">
                    {!v ? <Badge value="MISSING" /> : v.secure ? <span className="muted">•••• secure</span> : v.value}
                    {v && <small className="muted"> {v.stage ? `(bound to ${v.stage})` : '(unbound)'}</small>}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function DriftRow({ id, stages }: { id: string; stages: string[] }) {
  const { me } = useMe();
  const allowed = can(me, 'MANAGE_PROMOTIONS');
  const { data, error, loading } = useQuery<{ assetMatrix: { cells: MatrixCell[] }[] }>(MATRIX, { variables: { ids: [id], stages }, skip: !stages.length || !allowed, fetchPolicy: 'network-only' });
  if (!allowed) return <Empty title="Comparing with other stages needs the MANAGE_PROMOTIONS privilege.">Other stages are read with their stored credentials.</Empty>;
  if (!stages.length) return <Empty title="No other stage is registered.">Add one on the Stages page to compare this asset across stages.</Empty>;
  if (loading && !data) return <Loading />;
  if (error) return <ErrorBox error={error} />;
  const cells = data?.assetMatrix[0]?.cells ?? [];
  return (
    <div className="drift-row">
      {cells.map((c) => (
        <div key={c.stageName} className="drift-cell">
          <div className="muted">{c.stageName}</div>
          <Badge value={c.state} />
          {c.version && <div className="muted">v{c.version}</div>}
          {c.error && <div className="muted small">{c.error}</div>}
          {c.lastPromotion && <a className="small" href={href('promotions', c.lastPromotion.id)}>{c.lastPromotion.name}</a>}
          {c.state !== 'IN_SYNC' && c.state !== 'UNKNOWN' && (
            <Can privilege="MANAGE_PROMOTIONS">
              <a className="small" href={href('promote', { assets: [id], stages: [c.stageName] })}>Promote to {c.stageName}</a>
            </Can>
          )}
        </div>
      ))}
    </div>
  );
}

function RefList({ refs, empty }: { refs: Ref[]; empty: string }) {
  if (!refs.length) return <p className="muted">{empty}</p>;
  return (
    <ul className="refs">
      {refs.map((r) => (
        <li key={r.id}><span className="type">{r.type}</span> <a href={href('assets', r.id)}>{r.name}</a></li>
      ))}
    </ul>
  );
}

export function AssetPage({ id }: { id: string }) {
  const { data, loading, error } = useQuery<AssetData>(ASSET, { variables: { id } });
  const stages = useStageNames();
  const a = data?.asset;
  const aliasNames = useMemo(() => {
    if (!a) return [];
    const deps = [...a.dependencies.required, ...a.dependencies.optional].filter((d) => d.type === 'ALIAS').map((d) => d.name);
    if (a.type === 'ALIAS') deps.push(a.name);
    return [...new Set(deps)];
  }, [a]);
  if (loading && !data) return <Loading />;
  if (error) return <ErrorBox error={error} />;
  if (!a) return <Empty title="No such asset on this stage.">It may have been deleted; go back to the <a href={href('catalog')}>catalog</a>.</Empty>;
  return (
    <>
      <PageHeader title={<>{a.name} {a.version && <span className="muted">v{a.version}</span>}</>} sub={a.description}>
        <Can privilege="MANAGE_PROMOTIONS">
          <a className="button primary" href={href('promote', { assets: [a.id] })}>Promote…</a>
        </Can>
        <Can privilege="EXPORT_IMPORT">
          <a className="button" href={href('archives', { assets: [a.id] })}>Export…</a>
        </Can>
      </PageHeader>
      <div className="grid2">
        <section className="card">
          <h2>Details</h2>
          <dl className="props">
            <dt>Type</dt><dd><span className="type">{a.type}</span></dd>
            <dt>Team</dt><dd>{a.team ?? '—'}</dd>
            {a.basePath !== undefined && <><dt>Base path</dt><dd className="mono">{a.basePath}</dd></>}
            <dt>Checksum</dt><dd className="mono small">{a.checksum.slice(0, 16)}…</dd>
            <dt>Created</dt><dd><Time iso={a.createdAt} /> by {a.createdBy}</dd>
            <dt>Updated</dt><dd><Time iso={a.updatedAt} /> by {a.updatedBy}</dd>
          </dl>
        </section>
        <section className="card">
          <h2>Dependencies</h2>
          <h3>Required <small className="muted">always travel with it</small></h3>
          <RefList refs={a.dependencies.required} empty="None." />
          <h3>Optional <small className="muted">travel when chosen</small></h3>
          <RefList refs={a.dependencies.optional} empty="None." />
          <h3>Used by</h3>
          <RefList refs={a.dependents} empty="Nothing references it." />
        </section>
      </div>
      {a.versions && (
        <section className="card">
          <h2>Versions</h2>
          <table className="table compact">
            <thead><tr><th>System version</th><th>Version</th></tr></thead>
            <tbody>
              {a.versions.map((v) => (
                <tr key={v.id} className={v.id === a.id ? 'current' : ''}><td>{v.systemVersion ?? '—'}</td><td><a href={href('assets', v.id)}>{v.version}</a>{v.id === a.id && ' (this one)'}</td></tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      <section className="card">
        <h2>Aliases by stage <small className="muted">the value a promotion to each stage sends; secure values are never shown</small></h2>
        <AliasValues names={aliasNames} stages={[stages.local, ...stages.remote].filter(Boolean)} />
      </section>
      <section className="card">
        <h2>Drift across stages <small className="muted">compared with this stage's copy</small></h2>
        <DriftRow id={a.id} stages={stages.remote} />
      </section>
      <section className="card">
        <h2>Spec</h2>
        <pre className="code">{JSON.stringify(a.spec, null, 2)}</pre>
      </section>
    </>
  );
}
