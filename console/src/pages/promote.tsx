/**
 * The promote wizard: assets → dependencies (optional ones all / none / selected) → target stages
 * and options → the plan per stage → promote → live progress and the per-asset report.
 */
import { gql } from '@apollo/client';
import { useLazyQuery, useMutation, useQuery } from '@apollo/client/react';
import { useMemo, useState, type FormEvent } from 'react';
import { describeStagePlan, planHasRefusals } from '../lib/plan';
import { href } from '../lib/route';
import { optionalArguments, toggle, type OptionalMode } from '../lib/selection';
import { useStageNames } from '../stages';
import { Badge, Empty, ErrorBox, Field, Loading, PageHeader, go } from '../ui';
import { ASSETS, type AssetsData } from './catalog';
import { PromotionRun } from './progress';

const PICKED = gql`
  query ConsolePickedAssets($ids: [ID!]!) { assetsByIds(ids: $ids) { id name type version } }
`;

const CLOSURE = gql`
  query ConsoleClosure($ids: [ID!]!) {
    dependencyClosure(assetIds: $ids, optional: NONE) { id name type version dependencies { optional { id name type version } } }
  }
`;

const PLAN = gql`
  query ConsolePlan($input: PromoteInput!) {
    promotionPlan(input: $input) {
      stages { stageName error errorCode items { assetId type name action status reason comment aliasValue } }
    }
  }
`;

const PROMOTE = gql`
  mutation ConsolePromote($input: PromoteInput!) { promote(input: $input) { id name status } }
`;

interface Ref { id: string; name: string; type: string; version?: string | null }
interface PlanItem { assetId: string; type: string; name: string; action: string; status: string; reason: string | null; comment: string; aliasValue: string | null }
interface StagePlan { stageName: string; error: string | null; errorCode: string | null; items: PlanItem[] }

const STEPS = ['Assets', 'Dependencies', 'Targets', 'Plan', 'Progress'];

function Steps({ current }: { current: number }) {
  return (
    <ol className="steps">
      {STEPS.map((s, i) => <li key={s} className={i === current ? 'active' : i < current ? 'done' : ''}>{i + 1}. {s}</li>)}
    </ol>
  );
}

function AssetPicker({ picked, setPicked }: { picked: Set<string>; setPicked: (s: Set<string>) => void }) {
  const [keyword, setKeyword] = useState('');
  const [query, setQuery] = useState('');
  const { data, loading, error } = useQuery<AssetsData>(ASSETS, { variables: { filter: { keyword: query || null }, first: 50 } });
  const chosen = useQuery<{ assetsByIds: Ref[] }>(PICKED, { variables: { ids: [...picked] }, skip: picked.size === 0 });
  return (
    <>
      <form className="filters" onSubmit={(e) => { e.preventDefault(); setQuery(keyword); }}>
        <input type="search" name="q" placeholder="Search assets: petstore|orders, graph*" value={keyword} onChange={(e) => setKeyword(e.target.value)} />
        <button>Search</button>
      </form>
      <ErrorBox error={error ?? chosen.error} />
      {picked.size > 0 && (
        <div className="chips">
          {chosen.data?.assetsByIds.map((a) => (
            <span className="chip" key={a.id}>{a.type} {a.name}{a.version ? ` v${a.version}` : ''} <button className="link" aria-label={`Remove ${a.name}`} onClick={() => setPicked(toggle(picked, a.id))}>×</button></span>
          ))}
        </div>
      )}
      {loading && !data ? <Loading /> : (
        <div className="pick-list">
          {data?.assets.edges.length === 0 && <Empty title="No asset matches.">Try a wildcard (pet*) or alternatives (a|b).</Empty>}
          {data?.assets.edges.map(({ node: a }) => (
            <label key={a.id} className="pick">
              <input type="checkbox" checked={picked.has(a.id)} onChange={() => setPicked(toggle(picked, a.id))} />
              <span className="type">{a.type}</span> {a.name} {a.version && <span className="muted">v{a.version}</span>}
            </label>
          ))}
        </div>
      )}
    </>
  );
}

function PlanTable({ stage }: { stage: StagePlan }) {
  return (
    <section className="card stage-plan" data-stage={stage.stageName}>
      <h3>{stage.stageName} <small className="muted">{describeStagePlan(stage).replace(`${stage.stageName}: `, '')}</small></h3>
      {stage.error ? (
        <div className="error"><code>{stage.errorCode ?? 'REFUSED'}</code> {stage.error}</div>
      ) : (
        <table className="table compact">
          <thead><tr><th>Action</th><th>Type</th><th>Name</th><th>Alias value</th><th>Why</th></tr></thead>
          <tbody>
            {stage.items.map((i) => (
              <tr key={i.assetId} className={i.action === 'REFUSED' ? 'refused' : ''}>
                <td><Badge value={i.action} /></td>
                <td><span className="type">{i.type}</span></td>
                <td>{i.name}</td>
                <td className="mono">{i.aliasValue ?? ''}</td>
                <td className="muted">{i.reason ?? i.comment}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function PromoteWizard({ params }: { params: URLSearchParams }) {
  const run = params.get('run');
  const stages = useStageNames();
  const [step, setStep] = useState(0);
  const [picked, setPicked] = useState<Set<string>>(() => new Set(params.getAll('assets')));
  const [mode, setMode] = useState<OptionalMode>('NONE');
  const [optional, setOptional] = useState<Set<string>>(new Set());
  const [targets, setTargets] = useState<Set<string>>(() => new Set(params.getAll('stages')));
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [overwriteAssets, setOverwriteAssets] = useState(true);
  const [overwriteAliases, setOverwriteAliases] = useState(false);
  const [fixMissingVersions, setFixMissingVersions] = useState(false);
  const closure = useQuery<{ dependencyClosure: (Ref & { dependencies: { optional: Ref[] } })[] }>(CLOSURE, { variables: { ids: [...picked] }, skip: step !== 1 || picked.size === 0 });
  const [plan, planResult] = useLazyQuery<{ promotionPlan: { stages: StagePlan[] } }>(PLAN, { fetchPolicy: 'network-only' });
  const [promote, promoting] = useMutation<{ promote: { id: string } }>(PROMOTE);

  const required = closure.data?.dependencyClosure ?? [];
  const candidates = useMemo(() => {
    const inClosure = new Set(required.map((r) => r.id));
    const seen = new Map<string, Ref>();
    for (const r of required) for (const o of r.dependencies.optional) if (!inClosure.has(o.id)) seen.set(o.id, o);
    return [...seen.values()];
  }, [required]);

  if (run) {
    return (
      <>
        <PageHeader title="Promote" sub="Live progress per stage; this page can be reloaded at any time."><a className="button" href={href('promote')}>New promotion</a></PageHeader>
        <Steps current={4} />
        <PromotionRun id={run} />
      </>
    );
  }

  const input = () => ({
    name: name.trim(),
    description: description.trim() || null,
    assetIds: [...picked],
    ...optionalArguments(mode, optional),
    targetStages: [...targets],
    overwriteAssets,
    overwriteAliases,
    fixMissingVersions,
  });

  const toPlan = async (e: FormEvent) => {
    e.preventDefault();
    setStep(3);
    await plan({ variables: { input: input() } }).catch(() => undefined);
  };

  const runIt = async () => {
    try {
      const { data } = await promote({ variables: { input: input() } });
      if (data) go(href('promote', { run: data.promote.id }));
    } catch {
      /* shown below */
    }
  };

  const planStages = planResult.data?.promotionPlan.stages ?? [];
  return (
    <>
      <PageHeader title="Promote" sub="Send assets and everything they need from this stage to other stages." />
      <Steps current={step} />
      {step === 0 && (
        <section className="card">
          <h2>Which assets?</h2>
          <AssetPicker picked={picked} setPicked={setPicked} />
          <div className="wizard-nav">
            <span className="muted">{picked.size} selected</span>
            <button className="primary" disabled={picked.size === 0} onClick={() => setStep(1)}>Next: dependencies</button>
          </div>
        </section>
      )}
      {step === 1 && (
        <section className="card">
          <h2>Dependencies</h2>
          <ErrorBox error={closure.error} />
          {closure.loading && !closure.data ? <Loading /> : (
            <>
              <h3>Travel with them <small className="muted">the selection and its required dependencies</small></h3>
              <ul className="refs">{required.map((r) => <li key={r.id}><span className="type">{r.type}</span> {r.name}{r.version ? ` v${r.version}` : ''}</li>)}</ul>
              <h3>Optional dependencies</h3>
              {candidates.length === 0 ? <p className="muted">None: nothing optional is referenced.</p> : (
                <>
                  <div className="radios" role="radiogroup">
                    {(['ALL', 'NONE', 'SELECTED'] as const).map((m) => (
                      <label key={m}><input type="radio" name="optional" value={m} checked={mode === m} onChange={() => setMode(m)} /> {m === 'ALL' ? 'All' : m === 'NONE' ? 'None' : 'Selected'}</label>
                    ))}
                  </div>
                  <div className="pick-list">
                    {candidates.map((c) => (
                      <label key={c.id} className="pick">
                        <input type="checkbox" disabled={mode !== 'SELECTED'} checked={mode === 'ALL' || (mode === 'SELECTED' && optional.has(c.id))} onChange={() => setOptional(toggle(optional, c.id))} />
                        <span className="type">{c.type}</span> {c.name}
                      </label>
                    ))}
                  </div>
                </>
              )}
            </>
          )}
          <div className="wizard-nav">
            <button onClick={() => setStep(0)}>Back</button>
            <button className="primary" onClick={() => setStep(2)}>Next: targets</button>
          </div>
        </section>
      )}
      {step === 2 && (
        <form className="card" onSubmit={toPlan}>
          <h2>Where to, and how?</h2>
          <ErrorBox error={stages.error} />
          {stages.remote.length === 0 ? (
            <Empty title="No target stage is registered.">Register one on the <a href={href('stages')}>Stages</a> page first.</Empty>
          ) : (
            <div className="radios">
              {stages.remote.map((s) => (
                <label key={s}><input type="checkbox" name="stage" value={s} checked={targets.has(s)} onChange={() => setTargets(toggle(targets, s))} /> {s}</label>
              ))}
            </div>
          )}
          <div className="grid2">
            <Field label="Promotion name"><input name="name" required value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. petstore-release-42" /></Field>
            <Field label="Description"><input name="description" value={description} onChange={(e) => setDescription(e.target.value)} /></Field>
          </div>
          <div className="options">
            <label><input type="checkbox" name="overwriteAssets" checked={overwriteAssets} onChange={(e) => setOverwriteAssets(e.target.checked)} /> Overwrite assets that exist on the target</label>
            <label><input type="checkbox" name="overwriteAliases" checked={overwriteAliases} onChange={(e) => setOverwriteAliases(e.target.checked)} /> Overwrite aliases that exist on the target</label>
            <label><input type="checkbox" name="fixMissingVersions" checked={fixMissingVersions} onChange={(e) => setFixMissingVersions(e.target.checked)} /> Fix missing versions (link the promoted API versions into one chain)</label>
          </div>
          <div className="wizard-nav">
            <button type="button" onClick={() => setStep(1)}>Back</button>
            <button className="primary" disabled={targets.size === 0 || !name.trim()}>Next: plan</button>
          </div>
        </form>
      )}
      {step === 3 && (
        <section>
          <ErrorBox error={planResult.error} />
          {planResult.loading && <Loading />}
          {planStages.map((s) => <PlanTable key={s.stageName} stage={s} />)}
          {planHasRefusals(planStages) && <p className="warn-text">Some assets or stages would be refused: the run will report them as failures.</p>}
          <ErrorBox error={promoting.error} />
          <div className="wizard-nav">
            <button onClick={() => setStep(2)}>Back</button>
            <button className="primary" disabled={!planResult.data || promoting.loading} onClick={runIt}>Promote</button>
          </div>
        </section>
      )}
    </>
  );
}
