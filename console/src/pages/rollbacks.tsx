/**
 * Rollbacks, read on the stage that recorded them (this one or a registered one): history with
 * filters (newest first), the report, roll back (CONFLICT explained, then force) and delete.
 */
import { gql } from '@apollo/client';
import { useMutation, useQuery } from '@apollo/client/react';
import { useState } from 'react';
import { hasCode } from '../lib/errors';
import { ago, newestFirst } from '../lib/history';
import { href } from '../lib/route';
import { useStageNames } from '../stages';
import { Badge, Can, ConfirmButton, Empty, ErrorBox, Loading, PageHeader, Time, go, useMe } from '../ui';

const FIELDS = `id name description status promotionId promotionTime rollbackTime promotedBy sourceStage report { type name status }`;

const ROLLBACKS = gql`
  query ConsoleRollbacks($stage: String!, $filter: RollbackFilter, $first: Int!) {
    stage(name: $stage) { id name rollbacks(filter: $filter, first: $first, orderBy: { field: PROMOTION_TIME, direction: DESC }) { totalCount edges { node { ${FIELDS} } } } }
  }
`;

const ROLLBACK_LOCAL = gql`mutation ConsoleRollback($id: ID!, $force: Boolean!) { rollback(id: $id, force: $force) { ${FIELDS} } }`;
const ROLLBACK_REMOTE = gql`
  mutation ConsoleRollbackRemote($promotionId: ID!, $stage: String!, $force: Boolean!) { rollbackPromotion(promotionId: $promotionId, stage: $stage, force: $force) { ${FIELDS} } }
`;
const DELETE = gql`mutation ConsoleDeleteRollback($id: ID!) { deleteRollback(id: $id) }`;

interface Rollback {
  id: string; name: string; description: string; status: string; promotionId: string; promotionTime: string; rollbackTime: string | null; promotedBy: string; sourceStage: string;
  report: { type: string; name: string; status: string }[];
}
interface Data { stage: { id: string; name: string; rollbacks: { totalCount: number; edges: { node: Rollback }[] } | null } }

function StagePicker({ value, onChange }: { value: string; onChange: (s: string) => void }) {
  const stages = useStageNames();
  return (
    <select aria-label="Stage" value={value} onChange={(e) => onChange(e.target.value)}>
      {[stages.local, ...stages.remote].filter(Boolean).map((s) => <option key={s} value={s}>{s}{s === stages.local ? ' (this stage)' : ''}</option>)}
    </select>
  );
}

export function RollbacksPage({ params }: { params: URLSearchParams }) {
  const { stage: local } = useMe();
  const stage = params.get('stage') || local;
  const text = params.get('text') ?? '';
  const status = params.get('status') ?? '';
  const [draft, setDraft] = useState(text);
  const { data, loading, error } = useQuery<Data>(ROLLBACKS, { variables: { stage, filter: { text: text || null, status: status || null }, first: 200 } });
  const nav = (changes: Record<string, string>) => go(href('rollbacks', { stage, text, status, ...changes }));
  const rows = newestFirst(data?.stage.rollbacks?.edges.map((e) => e.node) ?? [], (r) => r.rollbackTime ?? r.promotionTime);
  return (
    <>
      <PageHeader title="Rollbacks" sub="Every import a promotion made is recorded on its target stage and can be undone there. Newest first." />
      <form className="filters" onSubmit={(e) => { e.preventDefault(); nav({ text: draft }); }}>
        <StagePicker value={stage} onChange={(s) => nav({ stage: s })} />
        <input type="search" placeholder="Promotion name" value={draft} onChange={(e) => setDraft(e.target.value)} />
        <select aria-label="Status" value={status} onChange={(e) => nav({ status: e.target.value })}>
          <option value="">Any status</option>
          {['AVAILABLE', 'ROLLED_BACK', 'FAILED'].map((s) => <option key={s}>{s}</option>)}
        </select>
        <button>Filter</button>
      </form>
      <ErrorBox error={error} />
      {loading && !data ? <Loading /> : rows.length === 0 ? (
        <Empty title={`No rollback recorded on ${stage}.`}>Rollbacks appear on a stage when a promotion imports into it; pick the target stage above.</Empty>
      ) : (
        <table className="table">
          <thead><tr><th>Promotion</th><th>Status</th><th>From</th><th>Promoted</th><th>Rolled back</th><th>Assets</th></tr></thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id}>
                <td><a href={href('rollbacks', r.id, { stage })}>{r.name}</a></td>
                <td><Badge value={r.status} /></td>
                <td>{r.sourceStage}</td>
                <td title={r.promotionTime}>{ago(r.promotionTime)} by {r.promotedBy}</td>
                <td>{r.rollbackTime ? ago(r.rollbackTime) : '—'}</td>
                <td>{r.report.length}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export function RollbackPage({ id, stage: stageParam }: { id: string; stage: string | null }) {
  const { stage: local } = useMe();
  const stage = stageParam || local;
  const isLocal = stage === local;
  const { data, loading, error, refetch } = useQuery<Data>(ROLLBACKS, { variables: { stage, filter: null, first: 200 } });
  const [rollback, rolling] = useMutation(isLocal ? ROLLBACK_LOCAL : ROLLBACK_REMOTE);
  const [remove, removing] = useMutation(DELETE);
  if (loading && !data) return <Loading />;
  const r = data?.stage.rollbacks?.edges.map((e) => e.node).find((n) => n.id === id);
  if (!r) return <><ErrorBox error={error} /><Empty title="No such rollback.">It may have been deleted; see the <a href={href('rollbacks', { stage })}>rollbacks of {stage}</a>.</Empty></>;
  const act = async (force: boolean) => {
    rolling.reset();
    try {
      await rollback({ variables: isLocal ? { id: r.id, force } : { promotionId: r.promotionId, stage, force } });
      await refetch();
    } catch {
      /* shown below */
    }
  };
  return (
    <>
      <PageHeader title={<>{r.name} <Badge value={r.status} /></>} sub={`Recorded on ${stage} by the import of a promotion from ${r.sourceStage}.`}>
        <Can privilege="MANAGE_PROMOTIONS">
          {r.status === 'AVAILABLE' && <ConfirmButton disabled={rolling.loading} onConfirm={() => act(false)}>Roll back</ConfirmButton>}
          {isLocal && <ConfirmButton disabled={removing.loading} onConfirm={async () => {
            try { await remove({ variables: { id: r.id } }); go(href('rollbacks', { stage })); } catch { /* shown below */ }
          }}>Delete</ConfirmButton>}
        </Can>
      </PageHeader>
      <ErrorBox error={rolling.error ?? removing.error} />
      {hasCode(rolling.error, 'CONFLICT') && (
        <div className="explain">
          Later promotions changed some of these assets on {stage} after this one. Rolling back restores the state from before this promotion and
          undoes their changes to those assets too.
          <ConfirmButton onConfirm={() => act(true)}>Force roll back</ConfirmButton>
        </div>
      )}
      <section className="card">
        <dl className="props">
          <dt>Promotion</dt><dd>{r.sourceStage === local ? <a href={href('promotions', r.promotionId)}>{r.name}</a> : r.name} {r.description && <span className="muted">— {r.description}</span>}</dd>
          <dt>Promoted</dt><dd><Time iso={r.promotionTime} /> by {r.promotedBy}</dd>
          <dt>Rolled back</dt><dd><Time iso={r.rollbackTime} /></dd>
        </dl>
      </section>
      <section className="card">
        <h2>Report</h2>
        <table className="table compact">
          <thead><tr><th>Type</th><th>Name</th><th>Status</th></tr></thead>
          <tbody>{r.report.map((e, i) => <tr key={i}><td><span className="type">{e.type}</span></td><td>{e.name}</td><td><Badge value={e.status} /></td></tr>)}</tbody>
        </table>
      </section>
    </>
  );
}
