/** Promotion history (filters, newest first) and one promotion: report, repromote, roll back, delete. */
import { gql } from '@apollo/client';
import { useMutation, useQuery } from '@apollo/client/react';
import { useEffect, useState, type FormEvent } from 'react';
import { hasCode } from '../lib/errors';
import { ago, newestFirst } from '../lib/history';
import { href } from '../lib/route';
import { toggle } from '../lib/selection';
import { useStageNames } from '../stages';
import { can } from '../lib/privileges';
import { Badge, Can, ConfirmButton, Empty, ErrorBox, Field, Loading, PageHeader, Time, go, useMe } from '../ui';
import { PROMOTION, PromotionRun, StageReport, type Promotion, type StageResult } from './progress';

const PROMOTIONS = gql`
  query ConsolePromotions($filter: PromotionFilter, $first: Int!) {
    promotions(filter: $filter, first: $first, orderBy: { field: CREATED_AT, direction: DESC }) {
      totalCount
      edges { node { id name description status createdAt promotedBy targetStages assetIds } }
    }
  }
`;

const REPROMOTE = gql`
  mutation ConsoleRepromote($promotionId: ID!, $name: String!, $targetStages: [String!]!, $overwriteAssets: Boolean, $overwriteAliases: Boolean, $fixMissingVersions: Boolean) {
    repromote(promotionId: $promotionId, name: $name, targetStages: $targetStages, overwriteAssets: $overwriteAssets, overwriteAliases: $overwriteAliases, fixMissingVersions: $fixMissingVersions) { id }
  }
`;

const DELETE = gql`mutation ConsoleDeletePromotion($id: ID!) { deletePromotion(id: $id) }`;

const ROLLBACK_PROMOTION = gql`
  mutation ConsoleRollbackPromotion($promotionId: ID!, $stage: String!, $force: Boolean!) {
    rollbackPromotion(promotionId: $promotionId, stage: $stage, force: $force) { id status rollbackTime report { type name status } }
  }
`;

/** The newest 200 (the API's page cap), newest first as the API orders them. */
const HISTORY_LIMIT = 200;

type Row = Pick<Promotion, 'id' | 'name' | 'description' | 'status' | 'createdAt' | 'promotedBy' | 'targetStages' | 'assetIds'>;

export function PromotionsPage({ params }: { params: URLSearchParams }) {
  const text = params.get('text') ?? '';
  const stage = params.get('stage') ?? '';
  const status = params.get('status') ?? '';
  const [draft, setDraft] = useState(text);
  const stages = useStageNames();
  const { data, loading, error, startPolling, stopPolling } = useQuery<{ promotions: { totalCount: number; edges: { node: Row }[] } }>(PROMOTIONS, {
    variables: { filter: { text: text || null, stage: stage || null, status: status || null }, first: HISTORY_LIMIT },
  });
  const nav = (changes: Record<string, string>) => go(href('promotions', { text, stage, status, ...changes }));
  const rows = newestFirst(data?.promotions.edges.map((e) => e.node) ?? [], (p) => p.createdAt);
  // Statuses move without a reload while something runs.
  const running = rows.some((p) => p.status === 'QUEUED' || p.status === 'RUNNING');
  useEffect(() => {
    if (!running) return;
    startPolling(2000);
    return () => stopPolling();
  }, [running, startPolling, stopPolling]);
  return (
    <>
      <PageHeader title="Promotions" sub="Newest first.">
        <Can privilege="MANAGE_PROMOTIONS"><a className="button primary" href={href('promote')}>New promotion</a></Can>
      </PageHeader>
      <form className="filters" onSubmit={(e) => { e.preventDefault(); nav({ text: draft }); }}>
        <input type="search" placeholder="Name or description" value={draft} onChange={(e) => setDraft(e.target.value)} />
        <select value={stage} onChange={(e) => nav({ stage: e.target.value })} aria-label="Target stage">
          <option value="">All stages</option>
          {stages.remote.map((s) => <option key={s}>{s}</option>)}
        </select>
        <select value={status} onChange={(e) => nav({ status: e.target.value })} aria-label="Status">
          <option value="">Any status</option>
          {['QUEUED', 'RUNNING', 'SUCCESS', 'FAILURE'].map((s) => <option key={s}>{s}</option>)}
        </select>
        <button>Filter</button>
      </form>
      <ErrorBox error={error} />
      {loading && !data ? <Loading /> : rows.length === 0 ? (
        <Empty title={text || stage || status ? 'No promotion matches.' : 'No promotion yet.'}>Start one with the <a href={href('promote')}>promote wizard</a>, or from an asset's page.</Empty>
      ) : (
        <table className="table">
          <thead><tr><th>Name</th><th>Status</th><th>Targets</th><th>Assets</th><th>By</th><th>When</th></tr></thead>
          <tbody>
            {rows.map((p) => (
              <tr key={p.id}>
                <td><a href={href('promotions', p.id)}>{p.name}</a><div className="muted small ellipsis">{p.description}</div></td>
                <td><Badge value={p.status} /></td>
                <td>{p.targetStages.join(', ')}</td>
                <td>{p.assetIds.length}</td>
                <td>{p.promotedBy}</td>
                <td title={p.createdAt}>{ago(p.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {data && data.promotions.totalCount > HISTORY_LIMIT && <p className="muted">Showing {HISTORY_LIMIT} of {data.promotions.totalCount}: narrow the filters.</p>}
    </>
  );
}

/** Rolls a stage's import back; CONFLICT (later promotions built on it) is explained and can be forced. */
function RollbackStage({ promotionId, stage, onDone }: { promotionId: string; stage: StageResult; onDone: () => void }) {
  const [rollback, { loading, error, data, reset }] = useMutation<{ rollbackPromotion: { id: string; status: string } }>(ROLLBACK_PROMOTION);
  const conflict = hasCode(error, 'CONFLICT');
  const act = async (force: boolean) => {
    reset();
    try {
      await rollback({ variables: { promotionId, stage: stage.stageName, force } });
      onDone();
    } catch {
      /* shown below */
    }
  };
  if (!stage.rollback) return null;
  if (stage.rollback.status !== 'AVAILABLE') {
    return (
      <div className="rollback-action muted">
        <span>Rollback on {stage.stageName}: <Badge value={stage.rollback.status} /> <Time iso={stage.rollback.rollbackTime} /> · <a href={href('rollbacks', stage.rollback.id, { stage: stage.stageName })}>report</a></span>
      </div>
    );
  }
  return (
    <div className="rollback-action">
      <ConfirmButton disabled={loading} onConfirm={() => act(false)}>Roll back {stage.stageName}</ConfirmButton>
      {data && <Badge value={data.rollbackPromotion.status} />}
      <ErrorBox error={error} />
      {conflict && (
        <div className="explain">
          Later promotions changed some of these assets on {stage.stageName} after this one. Rolling back restores the state from before this
          promotion and undoes their changes to those assets too.
          <ConfirmButton onConfirm={() => act(true)}>Force roll back</ConfirmButton>
        </div>
      )}
    </div>
  );
}

function Repromote({ p }: { p: Promotion }) {
  const stages = useStageNames();
  const [name, setName] = useState(`${p.name}-again`);
  const [targets, setTargets] = useState<Set<string>>(new Set(p.targetStages));
  const [repromote, { loading, error }] = useMutation<{ repromote: { id: string } }>(REPROMOTE);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const { data } = await repromote({
        variables: { promotionId: p.id, name, targetStages: [...targets], overwriteAssets: p.overwriteAssets, overwriteAliases: p.overwriteAliases, fixMissingVersions: p.fixMissingVersions },
      });
      if (data) go(href('promote', { run: data.repromote.id }));
    } catch {
      /* shown below */
    }
  };
  return (
    <form className="card" onSubmit={submit}>
      <h2>Repromote <small className="muted">the same assets, with their current contents</small></h2>
      <Field label="New name"><input name="repromote-name" value={name} onChange={(e) => setName(e.target.value)} required /></Field>
      <div className="radios">
        {stages.remote.map((s) => <label key={s}><input type="checkbox" checked={targets.has(s)} onChange={() => setTargets(toggle(targets, s))} /> {s}</label>)}
      </div>
      <ErrorBox error={error} />
      <button className="primary" disabled={loading || targets.size === 0}>Repromote</button>
    </form>
  );
}

export function PromotionPage({ id }: { id: string }) {
  const { me } = useMe();
  const { data, loading, error, refetch } = useQuery<{ promotion: Promotion }>(PROMOTION, { variables: { id, withRollback: can(me, 'MANAGE_PROMOTIONS') } });
  const [remove, removing] = useMutation(DELETE);
  const [showRepromote, setShowRepromote] = useState(false);
  if (loading && !data) return <Loading />;
  if (!data) return <ErrorBox error={error} />;
  const p = data.promotion;
  const running = p.status === 'QUEUED' || p.status === 'RUNNING';
  return (
    <>
      <PageHeader title={<>{p.name} <Badge value={p.status} /></>} sub={p.description}>
        <Can privilege="MANAGE_PROMOTIONS">
          <button onClick={() => setShowRepromote(!showRepromote)}>Repromote…</button>
          <ConfirmButton disabled={running || removing.loading} onConfirm={async () => {
            try {
              await remove({ variables: { id: p.id } });
              go(href('promotions'));
            } catch { /* shown below */ }
          }}>Delete</ConfirmButton>
        </Can>
      </PageHeader>
      <ErrorBox error={error ?? removing.error} />
      <section className="card">
        <dl className="props">
          <dt>Promoted</dt><dd><Time iso={p.createdAt} /> by {p.promotedBy}</dd>
          <dt>Targets</dt><dd>{p.targetStages.join(', ')}</dd>
          <dt>Assets</dt><dd>{p.assetIds.length} selected; optional dependencies {p.optional}{p.optionalIds.length ? ` (${p.optionalIds.length})` : ''}</dd>
          <dt>Options</dt><dd>{[p.overwriteAssets && 'overwrite assets', p.overwriteAliases && 'overwrite aliases', p.fixMissingVersions && 'fix missing versions'].filter(Boolean).join(', ') || 'none'}</dd>
          {p.repromotedFrom && <><dt>Repeats</dt><dd><a href={href('promotions', p.repromotedFrom)}>an earlier promotion</a></dd></>}
        </dl>
      </section>
      {showRepromote && <Repromote p={p} />}
      {running ? <PromotionRun id={p.id} /> : p.stages.map((s) => (
        <div key={s.stageName}>
          <StageReport stage={s} />
          <Can privilege="MANAGE_PROMOTIONS"><RollbackStage promotionId={p.id} stage={s} onDone={() => void refetch()} /></Can>
        </div>
      ))}
    </>
  );
}
