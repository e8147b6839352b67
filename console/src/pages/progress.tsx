/**
 * Live progress of a promotion, per target stage, from the promotionProgress subscription. The
 * events seen are kept in sessionStorage, so a reloaded page resumes with afterSequence.
 */
import { gql } from '@apollo/client';
import { useApolloClient, useQuery } from '@apollo/client/react';
import { useEffect, useState } from 'react';
import { applyProgress, percent, restoreProgress, type ProgressEventLike, type ProgressState } from '../lib/progress';
import { href } from '../lib/route';
import { can } from '../lib/privileges';
import { Badge, ErrorBox, Time, useMe } from '../ui';

const PROGRESS = gql`
  subscription ConsolePromotionProgress($id: ID!, $after: Int) {
    promotionProgress(promotionId: $id, afterSequence: $after) { sequence phase stageName message completed total at }
  }
`;

export const PROMOTION = gql`
  query ConsolePromotion($id: ID!, $withRollback: Boolean!) {
    promotion(id: $id) {
      id name description status createdAt promotedBy assetIds optional optionalIds targetStages
      overwriteAssets overwriteAliases fixMissingVersions repromotedFrom
      stages {
        stageName status reason code startedAt finishedAt importReportId
        report { assetId type name status comment }
        # read on the target stage with its stored credentials: MANAGE_PROMOTIONS only
        rollback @include(if: $withRollback) { id name status rollbackTime }
      }
    }
  }
`;

export interface StageResult {
  stageName: string; status: string; reason: string | null; code: string | null; startedAt: string | null; finishedAt: string | null; importReportId: string | null;
  report: { assetId: string; type: string; name: string; status: string; comment: string }[];
  rollback?: { id: string; name: string; status: string; rollbackTime: string | null } | null;
}
export interface Promotion {
  id: string; name: string; description: string; status: string; createdAt: string; promotedBy: string; assetIds: string[]; optional: string; optionalIds: string[]; targetStages: string[];
  overwriteAssets: boolean; overwriteAliases: boolean; fixMissingVersions: boolean; repromotedFrom: string | null;
  stages: StageResult[];
}

const storageKey = (id: string) => `stagecraft.progress.${id}`;

export function usePromotionProgress(id: string): { state: ProgressState; error: unknown } {
  const client = useApolloClient();
  const [state, setState] = useState<ProgressState>(() => restoreProgress(sessionStorage.getItem(storageKey(id))));
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let current = restoreProgress(sessionStorage.getItem(storageKey(id)));
    setState(current);
    if (current.completed) return;
    const subscription = client
      .subscribe<{ promotionProgress: ProgressEventLike }>({ query: PROGRESS, variables: { id, after: current.lastSequence } })
      .subscribe({
        next: (result) => {
          if (result.error) return setError(result.error);
          const event = result.data?.promotionProgress;
          if (!event) return;
          current = applyProgress(current, event);
          sessionStorage.setItem(storageKey(id), JSON.stringify(current));
          setState(current);
        },
        error: setError,
      });
    return () => subscription.unsubscribe();
  }, [client, id]);
  return { state, error };
}

export function ProgressBars({ state, stages }: { state: ProgressState; stages: string[] }) {
  const names = [...new Set([...stages, ...Object.keys(state.stages)])];
  return (
    <div className="progress-list">
      {names.map((name) => {
        const s = state.stages[name] ?? { stageName: name, phase: 'QUEUED', message: 'waiting', completed: 0, total: null, done: false, failed: false };
        return (
          <div key={name} className="progress-item" data-stage={name}>
            <div className="progress-head">
              <strong>{name}</strong> <Badge value={s.phase} />
              <span className="muted">{s.total ? `${s.completed}/${s.total} assets` : ''}</span>
            </div>
            <div className={`bar ${s.failed ? 'failed' : s.done ? 'done' : ''}`}><div style={{ width: `${percent(s)}%` }} /></div>
            <div className="muted small">{s.message}</div>
          </div>
        );
      })}
      <div className="overall" data-testid="progress-overall">{state.completed ? <Badge value="COMPLETED" /> : <span className="muted">Running… (live)</span>}</div>
    </div>
  );
}

export function StageReport({ stage }: { stage: StageResult }) {
  return (
    <section className="card stage-report" data-stage={stage.stageName}>
      <h3>
        {stage.stageName} <Badge value={stage.status} /> {stage.code && <code>{stage.code}</code>}
        <small className="muted"> finished <Time iso={stage.finishedAt} /></small>
      </h3>
      {stage.reason && <p className={stage.status === 'FAILURE' ? 'error' : 'muted'}>{stage.reason}</p>}
      {stage.report.length > 0 && (
        <table className="table compact">
          <thead><tr><th>Type</th><th>Name</th><th>Status</th><th>Comment</th></tr></thead>
          <tbody>
            {stage.report.map((r) => (
              <tr key={r.assetId + r.name}><td><span className="type">{r.type}</span></td><td>{r.name}</td><td><Badge value={r.status} /></td><td className="muted">{r.comment}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** Progress while it runs, then the per-asset report of every stage. */
export function PromotionRun({ id }: { id: string }) {
  const { state, error } = usePromotionProgress(id);
  const { me } = useMe();
  const { data, error: readError, refetch } = useQuery<{ promotion: Promotion }>(PROMOTION, { variables: { id, withRollback: can(me, 'MANAGE_PROMOTIONS') } });
  const p = data?.promotion;
  const finished = !!p && p.status !== 'QUEUED' && p.status !== 'RUNNING';
  // The final event can overtake the stored result by a moment: read again until it is final.
  useEffect(() => {
    if (!state.completed || finished) return;
    void refetch();
    const timer = setInterval(() => void refetch(), 500);
    return () => clearInterval(timer);
  }, [state.completed, finished, refetch]);
  return (
    <>
      <ErrorBox error={error ?? readError} />
      {p && <p>Promotion <a href={href('promotions', p.id)}>{p.name}</a> to {p.targetStages.join(', ')}: <Badge value={p.status} /></p>}
      <ProgressBars state={state} stages={p?.targetStages ?? []} />
      {state.completed && finished && p && (
        <>
          <h2>Report</h2>
          {p.stages.map((s) => <StageReport key={s.stageName} stage={s} />)}
        </>
      )}
    </>
  );
}
