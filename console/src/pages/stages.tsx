/** Stages: the registered ones with their status, create / edit / test / delete. */
import { gql } from '@apollo/client';
import { useMutation, useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { Badge, Can, ConfirmButton, Empty, ErrorBox, Field, Loading, PageHeader, Time, useMe } from '../ui';

const BASE = 'id name url username description isLocal createdAt updatedAt';
/** The status fields the page shows, of those the server's status type has. */
const STATUS_FIELDS = ['reachable', 'latencyMs', 'productVersion', 'checkedAt', 'error'];
const statusSelection = (fields: string[]) => `status { ${fields.join(' ')} }`;
const stagesQuery = (fields: string[]) => gql`
  query ConsoleStages {
    serverInfo { stage productVersion }
    stages { ${BASE} ${fields.length ? statusSelection(fields) : ''} }
  }
`;
const STATUS_TYPE = gql`query ConsoleStageStatusType($name: String!) { __type(name: $name) { fields { name } } }`;
// Built once per shape: Apollo keys its cache by document identity.
const queries = new Map<string, ReturnType<typeof stagesQuery>>();
function queryFor(fields: string[]) {
  const key = fields.join(',');
  if (!queries.has(key)) queries.set(key, stagesQuery(fields));
  return queries.get(key)!;
}

/**
 * Stage.status comes with a newer server: the page asks which of its fields exist, so it works
 * before and after, whatever subset the server has.
 */
function useStatusFields(typeName: string | null): { fields: string[]; ready: boolean } {
  const { data, loading } = useQuery<{ __type: { fields: { name: string }[] } | null }>(STATUS_TYPE, { variables: { name: typeName ?? '' }, skip: !typeName });
  if (!typeName) return { fields: [], ready: true };
  const available = new Set(data?.__type?.fields.map((f) => f.name) ?? []);
  return { fields: STATUS_FIELDS.filter((f) => available.has(f)), ready: !loading || !!data };
}

const CREATE = gql`mutation ConsoleCreateStage($input: CreateStageInput!) { createStage(input: $input) { ${BASE} } }`;
const UPDATE = gql`mutation ConsoleUpdateStage($name: String!, $input: UpdateStageInput!) { updateStage(name: $name, input: $input) { ${BASE} } }`;
const DELETE = gql`mutation ConsoleDeleteStage($name: String!) { deleteStage(name: $name) }`;
const TEST = gql`mutation ConsoleTestStage($name: String!) { testStage(name: $name) { ok message latencyMs productVersion remoteStage } }`;

interface Status { reachable?: boolean; latencyMs: number | null; productVersion: string | null; checkedAt: string | null; error: string | null }
interface Stage { id: string; name: string; url: string; username: string; description: string; isLocal: boolean; createdAt: string | null; updatedAt: string | null; status?: Status | null }
interface TestResult { ok: boolean; message: string; latencyMs: number | null; productVersion: string | null; remoteStage: string | null }

function StageForm({ stage, onDone }: { stage?: Stage; onDone: () => void }) {
  const [name, setName] = useState(stage?.name ?? '');
  const [url, setUrl] = useState(stage?.url ?? 'http://');
  const [username, setUsername] = useState(stage?.username ?? '');
  const [password, setPassword] = useState('');
  const [description, setDescription] = useState(stage?.description ?? '');
  const [create, created] = useMutation(CREATE, { refetchQueries: ['ConsoleStages', 'ConsoleStageNames'] });
  const [update, updated] = useMutation(UPDATE, { refetchQueries: ['ConsoleStages', 'ConsoleStageNames'] });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      if (stage) {
        const input: Record<string, string> = {};
        if (name !== stage.name) input.name = name;
        if (url !== stage.url) input.url = url;
        if (username !== stage.username) input.username = username;
        if (description !== stage.description) input.description = description;
        if (password) input.password = password;
        await update({ variables: { name: stage.name, input } });
      } else await create({ variables: { input: { name, url, username, password, description } } });
      onDone();
    } catch {
      /* shown below */
    }
  };
  return (
    <form className="card" onSubmit={submit}>
      <h2>{stage ? `Edit ${stage.name}` : 'Register a stage'}</h2>
      <p className="muted">Another Stagecraft instance, signed in as one of its users holding MANAGE_PROMOTIONS. The password is stored encrypted and never shown again.</p>
      <div className="grid2">
        <Field label="Name"><input name="stage-name" value={name} onChange={(e) => setName(e.target.value)} required /></Field>
        <Field label="URL"><input name="stage-url" value={url} onChange={(e) => setUrl(e.target.value)} required /></Field>
        <Field label="Username"><input name="stage-username" value={username} onChange={(e) => setUsername(e.target.value)} required /></Field>
        <Field label="Password" hint={stage ? 'Leave empty to keep it (changing URL or username needs it again).' : undefined}>
          <input name="stage-password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} required={!stage} autoComplete="new-password" />
        </Field>
      </div>
      <Field label="Description"><input name="stage-description" value={description} onChange={(e) => setDescription(e.target.value)} /></Field>
      <ErrorBox error={created.error ?? updated.error} />
      <div className="wizard-nav">
        <button type="button" onClick={onDone}>Cancel</button>
        <button className="primary" disabled={created.loading || updated.loading}>{stage ? 'Save' : 'Register'}</button>
      </div>
    </form>
  );
}

function StageRow({ stage, onEdit }: { stage: Stage; onEdit: () => void }) {
  const [test, tested] = useMutation<{ testStage: TestResult }>(TEST);
  const [remove, removed] = useMutation(DELETE, { refetchQueries: ['ConsoleStages', 'ConsoleStageNames'] });
  const result = tested.data?.testStage;
  const s = stage.status;
  return (
    <tr>
      <td><strong>{stage.name}</strong><div className="muted small">{stage.description}</div></td>
      <td className="mono small">{stage.url}</td>
      <td>{stage.username}</td>
      <td>
        {s && !result ? (
          <span title={s.error ?? ''}><Badge value={s.reachable === undefined ? (s.error ? 'UNREACHABLE' : 'UNKNOWN') : s.reachable ? 'ONLINE' : 'UNREACHABLE'} /> {s.latencyMs != null && <span className="muted">{s.latencyMs} ms</span>} {s.productVersion && <span className="muted">v{s.productVersion}</span>}</span>
        ) : result ? (
          <span title={result.message}>
            <Badge value={result.ok ? 'ONLINE' : 'UNREACHABLE'} /> <span className="muted small">{result.ok ? `${result.latencyMs} ms, v${result.productVersion}` : result.message}</span>
            {result.ok && result.remoteStage && result.remoteStage !== stage.name && <div className="warn-text small">That instance calls itself “{result.remoteStage}”.</div>}
          </span>
        ) : (
          <span className="muted">not checked</span>
        )}
        <ErrorBox error={tested.error ?? removed.error} />
      </td>
      <td><Time iso={stage.updatedAt} /></td>
      <td className="row-actions">
        <Can privilege="MANAGE_PROMOTIONS">
          <button onClick={() => test({ variables: { name: stage.name } }).catch(() => undefined)} disabled={tested.loading}>{tested.loading ? 'Testing…' : 'Test'}</button>
          <button onClick={onEdit}>Edit</button>
          <ConfirmButton onConfirm={() => remove({ variables: { name: stage.name } }).catch(() => undefined)}>Delete</ConfirmButton>
        </Can>
      </td>
    </tr>
  );
}

export function StagesPage() {
  const { features } = useMe();
  const status = useStatusFields(features.stageStatus);
  const { data, loading, error } = useQuery<{ serverInfo: { stage: string; productVersion: string }; stages: Stage[] }>(queryFor(status.fields), {
    skip: !status.ready,
    pollInterval: status.fields.length ? 15_000 : 0,
  });
  const [editing, setEditing] = useState<Stage | 'new' | null>(null);
  const remote = data?.stages.filter((s) => !s.isLocal) ?? [];
  return (
    <>
      <PageHeader title="Stages" sub={data ? `This instance is stage "${data.serverInfo.stage}" (v${data.serverInfo.productVersion}); it promotes to the stages below.` : undefined}>
        <Can privilege="MANAGE_PROMOTIONS"><button className="primary" onClick={() => setEditing('new')}>Register stage</button></Can>
      </PageHeader>
      {editing && <StageForm stage={editing === 'new' ? undefined : editing} onDone={() => setEditing(null)} />}
      <ErrorBox error={error} />
      {loading && !data ? <Loading /> : remote.length === 0 ? (
        <Empty title="No stage is registered.">Register the next stage (e.g. prod) with its URL and a user of it holding MANAGE_PROMOTIONS, then promote to it.</Empty>
      ) : (
        <table className="table">
          <thead><tr><th>Name</th><th>URL</th><th>User</th><th>Status</th><th>Updated</th><th></th></tr></thead>
          <tbody>{remote.map((s) => <StageRow key={s.id} stage={s} onEdit={() => setEditing(s)} />)}</tbody>
        </table>
      )}
    </>
  );
}
