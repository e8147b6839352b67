/**
 * Gateway groups (API7's model): groups and their instances, services with versions and the
 * running one, publish, roll back a service, the "Sync to other gateway group" wizard with live
 * sync progress, service registries, and instance tokens.
 */
import { gql } from '@apollo/client';
import { useApolloClient, useMutation, useQuery } from '@apollo/client/react';
import { useEffect, useState, type FormEvent } from 'react';
import { ago } from '../lib/history';
import { href } from '../lib/route';
import { parseNodes } from '../lib/selection';
import { Badge, Can, ConfirmButton, Empty, ErrorBox, Field, Loading, PageHeader, Time, go } from '../ui';

const VERSION = 'id version serviceName createdAt createdBy syncedFrom upstream routes { paths methods }';
const GROUPS = gql`
  query ConsoleGatewayGroups {
    gatewayGroups { id name description revision instances { id status } services { name runningVersion { id version } } }
  }
`;
const GROUP = gql`
  query ConsoleGatewayGroup($name: String!) {
    gatewayGroup(name: $name) {
      id name description revision
      instances { id hostname status configRevision lastSeen }
      services { name runningVersion { ${VERSION} } versions { ${VERSION} } }
    }
    gatewayGroups { id name }
  }
`;
const CREATE_GROUP = gql`mutation ConsoleCreateGroup($input: CreateGatewayGroupInput!) { createGatewayGroup(input: $input) { id name } }`;
const DELETE_GROUP = gql`mutation ConsoleDeleteGroup($name: String!, $force: Boolean!) { deleteGatewayGroup(name: $name, force: $force) }`;
const APIS = gql`query ConsoleApis { assets(filter: { types: [API] }, first: 100) { edges { node { id name version } } } }`;
const PUBLISH = gql`mutation ConsolePublish($input: PublishServiceInput!) { publishService(input: $input) { id version serviceName } }`;
const ROLLBACK_SERVICE = gql`mutation ConsoleRollbackService($group: String!, $service: String!, $version: String!) { rollbackService(gatewayGroup: $group, service: $service, version: $version) { id version } }`;
const UNPUBLISH = gql`mutation ConsoleUnpublish($group: String!, $service: String!) { unpublishService(gatewayGroup: $group, service: $service) { id } }`;
const SYNC = gql`mutation ConsoleSync($input: SyncServiceVersionInput!) { syncServiceVersion(input: $input) { id action message revision serviceVersion { id version } } }`;
const SYNC_PROGRESS = gql`subscription ConsoleSyncProgress($id: ID!, $after: Int) { syncProgress(operationId: $id, afterSequence: $after) { sequence phase message at } }`;
const REGISTRIES = gql`query ConsoleRegistries($group: String!) { serviceRegistries(gatewayGroup: $group) { id name type address refreshMs gatewayGroup } }`;
const CREATE_REGISTRY = gql`mutation ConsoleCreateRegistry($input: CreateServiceRegistryInput!) { createServiceRegistry(input: $input) { id name } }`;
const TOKENS = gql`query ConsoleTokens($group: String!) { gatewayInstanceTokens(gatewayGroup: $group) { id createdAt revokedAt instances { id hostname } } }`;
const CREATE_TOKEN = gql`mutation ConsoleCreateToken($group: String!) { createGatewayInstanceToken(gatewayGroup: $group) { id token } }`;
const REVOKE_TOKEN = gql`mutation ConsoleRevokeToken($id: ID!) { revokeGatewayInstanceToken(id: $id) { id revokedAt } }`;

interface ServiceVersion { id: string; version: string; serviceName: string; createdAt: string; createdBy: string; syncedFrom: string | null; upstream: Record<string, unknown>; routes: { paths: string[]; methods: string[] }[] }
interface GroupService { name: string; runningVersion: ServiceVersion; versions: ServiceVersion[] }
interface Group { id: string; name: string; description: string; revision: number; instances: { id: string; hostname: string; status: string; configRevision: number; lastSeen: string }[]; services: GroupService[] }

function CreateGroup({ onDone }: { onDone: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [create, { loading, error }] = useMutation(CREATE_GROUP, { refetchQueries: ['ConsoleGatewayGroups'] });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await create({ variables: { input: { name, description } } });
      onDone();
    } catch { /* shown below */ }
  };
  return (
    <form className="card" onSubmit={submit}>
      <h2>Create a gateway group</h2>
      <div className="grid2">
        <Field label="Name"><input name="group-name" value={name} onChange={(e) => setName(e.target.value)} required placeholder="Production Group" /></Field>
        <Field label="Description"><input name="group-description" value={description} onChange={(e) => setDescription(e.target.value)} /></Field>
      </div>
      <ErrorBox error={error} />
      <div className="wizard-nav"><button type="button" onClick={onDone}>Cancel</button><button className="primary" disabled={loading}>Create</button></div>
    </form>
  );
}

export function GatewayGroupsPage() {
  const { data, loading, error } = useQuery<{ gatewayGroups: Group[] }>(GROUPS, { pollInterval: 10_000 });
  const [creating, setCreating] = useState(false);
  return (
    <>
      <PageHeader title="Gateway groups" sub="Gateway instances join a group with a token and serve its services.">
        <Can privilege="MANAGE_GATEWAY_GROUPS"><button className="primary" onClick={() => setCreating(true)}>Create group</button></Can>
      </PageHeader>
      {creating && <CreateGroup onDone={() => setCreating(false)} />}
      <ErrorBox error={error} />
      {loading && !data ? <Loading /> : !data?.gatewayGroups.length ? (
        <Empty title="No gateway group yet.">Create one, then start a gateway instance with one of its tokens.</Empty>
      ) : (
        <table className="table">
          <thead><tr><th>Group</th><th>Instances</th><th>Services</th><th>Revision</th></tr></thead>
          <tbody>
            {data.gatewayGroups.map((g) => {
              const online = g.instances.filter((i) => i.status === 'ONLINE').length;
              return (
                <tr key={g.id}>
                  <td><a href={href('gateway', g.name)}>{g.name}</a><div className="muted small">{g.description}</div></td>
                  <td>{online ? <Badge value="ONLINE" /> : null} {online}/{g.instances.length} online</td>
                  <td>{g.services.map((s) => `${s.name} ${s.runningVersion.version}`).join(', ') || <span className="muted">none</span>}</td>
                  <td>{g.revision}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}

function Publish({ group, onDone }: { group: string; onDone: () => void }) {
  const apis = useQuery<{ assets: { edges: { node: { id: string; name: string; version: string | null } }[] } }>(APIS);
  const [assetId, setAssetId] = useState('');
  const [version, setVersion] = useState('');
  const [nodes, setNodes] = useState('');
  const [publish, { loading, error }] = useMutation(PUBLISH, { refetchQueries: ['ConsoleGatewayGroup'] });
  const parsed = parseNodes(nodes);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await publish({ variables: { input: { assetId, gatewayGroup: group, version: version || null, upstream: { nodes: parsed.nodes } } } });
      onDone();
    } catch { /* shown below */ }
  };
  return (
    <form className="card" onSubmit={submit}>
      <h2>Publish a service to {group}</h2>
      <div className="grid2">
        <Field label="API">
          <select name="publish-api" value={assetId} onChange={(e) => setAssetId(e.target.value)} required>
            <option value="">Choose an API…</option>
            {apis.data?.assets.edges.map(({ node }) => <option key={node.id} value={node.id}>{node.name}{node.version ? ` v${node.version}` : ''}</option>)}
          </select>
        </Field>
        <Field label="Version" hint="Empty: the next patch version."><input name="publish-version" value={version} onChange={(e) => setVersion(e.target.value)} placeholder="1.0.0" /></Field>
      </div>
      <Field label="Upstream nodes" hint="host:port[:weight], one per line.">
        <textarea name="publish-nodes" rows={2} value={nodes} onChange={(e) => setNodes(e.target.value)} required />
      </Field>
      {parsed.bad.length > 0 && <div className="error"><code>BAD_USER_INPUT</code> Not host:port: {parsed.bad.join(', ')}</div>}
      <ErrorBox error={error ?? apis.error} />
      <div className="wizard-nav"><button type="button" onClick={onDone}>Cancel</button><button className="primary" disabled={loading || !assetId || !parsed.nodes.length || parsed.bad.length > 0}>Publish</button></div>
    </form>
  );
}

interface SyncEvent { sequence: number; phase: string; message: string; at: string }

function SyncProgress({ operationId }: { operationId: string }) {
  const client = useApolloClient();
  const [events, setEvents] = useState<SyncEvent[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const sub = client.subscribe<{ syncProgress: SyncEvent }>({ query: SYNC_PROGRESS, variables: { id: operationId, after: 0 } }).subscribe({
      next: (r) => {
        if (r.error) return setError(r.error);
        const e = r.data?.syncProgress;
        if (e) setEvents((all) => (all.some((x) => x.sequence === e.sequence) ? all : [...all, e]));
      },
      error: setError,
    });
    return () => sub.unsubscribe();
  }, [client, operationId]);
  const last = events.at(-1);
  return (
    <div className="sync-progress">
      <ErrorBox error={error} />
      <div data-testid="sync-phase">{last ? <Badge value={last.phase} /> : <span className="muted">waiting for the instances…</span>}</div>
      <ul className="event-log">{events.map((e) => <li key={e.sequence}><Badge value={e.phase} /> {e.message}</li>)}</ul>
    </div>
  );
}

/** "Sync to other gateway group": target group, then nodes or service discovery, then live progress. */
function SyncWizard({ group, version, groups, onClose }: { group: string; version: ServiceVersion; groups: string[]; onClose: () => void }) {
  const targets = groups.filter((g) => g !== group);
  const [target, setTarget] = useState(targets[0] ?? '');
  const [mode, setMode] = useState<'nodes' | 'discovery'>('nodes');
  const [nodes, setNodes] = useState(() => ((version.upstream.nodes as { host: string; port: number; weight?: number }[] | undefined) ?? []).map((n) => `${n.host}:${n.port}`).join('\n'));
  const [registry, setRegistry] = useState('');
  const [namespace, setNamespace] = useState('public');
  const [serviceName, setServiceName] = useState('');
  const registries = useQuery<{ serviceRegistries: { id: string; name: string; type: string }[] }>(REGISTRIES, { variables: { group: target }, skip: !target || mode !== 'discovery' });
  const [sync, { data, loading, error }] = useMutation<{ syncServiceVersion: { id: string; action: string; message: string; revision: number } }>(SYNC, { refetchQueries: ['ConsoleGatewayGroup'] });
  const parsed = parseNodes(nodes);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const upstream = mode === 'nodes' ? { nodes: parsed.nodes } : { discovery: { registry, namespace: namespace || null, serviceName } };
    await sync({ variables: { input: { serviceVersionId: version.id, targetGroup: target, upstream } } }).catch(() => undefined);
  };
  const op = data?.syncServiceVersion;
  return (
    <div className="card sync-wizard">
      <h2>Sync {version.serviceName} {version.version} to other gateway group</h2>
      {!op ? (
        <form onSubmit={submit}>
          {targets.length === 0 ? <Empty title="No other group.">Create the target group first (e.g. Production Group).</Empty> : (
            <Field label="Target group">
              <select name="sync-target" value={target} onChange={(e) => setTarget(e.target.value)}>{targets.map((g) => <option key={g}>{g}</option>)}</select>
            </Field>
          )}
          <div className="radios" role="radiogroup">
            <label><input type="radio" name="upstream-mode" checked={mode === 'nodes'} onChange={() => setMode('nodes')} /> Use Nodes</label>
            <label><input type="radio" name="upstream-mode" checked={mode === 'discovery'} onChange={() => setMode('discovery')} /> Use Service Discovery</label>
          </div>
          {mode === 'nodes' ? (
            <Field label="Nodes" hint="host:port[:weight], one per line.">
              <textarea name="sync-nodes" rows={2} value={nodes} onChange={(e) => setNodes(e.target.value)} />
            </Field>
          ) : (
            <div className="grid3">
              <Field label="Registry">
                <select name="sync-registry" value={registry} onChange={(e) => setRegistry(e.target.value)} required>
                  <option value="">Choose…</option>
                  {registries.data?.serviceRegistries.map((r) => <option key={r.id} value={r.name}>{r.name} ({r.type})</option>)}
                </select>
              </Field>
              <Field label="Namespace"><input name="sync-namespace" value={namespace} onChange={(e) => setNamespace(e.target.value)} /></Field>
              <Field label="Service name"><input name="sync-service" value={serviceName} onChange={(e) => setServiceName(e.target.value)} required /></Field>
            </div>
          )}
          {mode === 'discovery' && registries.data?.serviceRegistries.length === 0 && <p className="muted">{target} has no service registry: add one below on its page.</p>}
          {mode === 'nodes' && parsed.bad.length > 0 && <div className="error"><code>BAD_USER_INPUT</code> Not host:port: {parsed.bad.join(', ')}</div>}
          <ErrorBox error={error ?? registries.error} />
          <div className="wizard-nav">
            <button type="button" onClick={onClose}>Cancel</button>
            <button className="primary" disabled={loading || !target || (mode === 'nodes' && (!parsed.nodes.length || parsed.bad.length > 0))}>Sync</button>
          </div>
        </form>
      ) : (
        <>
          <p><Badge value={op.action} /> {op.message} <span className="muted">(revision {op.revision})</span></p>
          <SyncProgress operationId={op.id} />
          <div className="wizard-nav"><a className="button" href={href('gateway', target)}>Open {target}</a><button onClick={onClose}>Close</button></div>
        </>
      )}
    </div>
  );
}

function ServiceCard({ group, service, groups }: { group: string; service: GroupService; groups: string[] }) {
  const [syncing, setSyncing] = useState(false);
  const [rollback, rolling] = useMutation(ROLLBACK_SERVICE, { refetchQueries: ['ConsoleGatewayGroup'] });
  const [unpublish, unpublishing] = useMutation(UNPUBLISH, { refetchQueries: ['ConsoleGatewayGroup'] });
  const running = service.runningVersion;
  const upstream = (v: ServiceVersion) => {
    const u = v.upstream as { nodes?: { host: string; port: number }[]; discovery?: { registry: string; serviceName: string } };
    return u.nodes ? u.nodes.map((n) => `${n.host}:${n.port}`).join(', ') : u.discovery ? `${u.discovery.registry}: ${u.discovery.serviceName}` : '';
  };
  return (
    <section className="card service" data-service={service.name}>
      <h3>
        {service.name} <span className="muted">running</span> <Badge value={running.version} />
        <Can privilege="MANAGE_GATEWAY_GROUPS">
          <span className="push"><ConfirmButton onConfirm={() => unpublish({ variables: { group, service: service.name } }).catch(() => undefined)}>Unpublish</ConfirmButton></span>
        </Can>
      </h3>
      <table className="table compact">
        <thead><tr><th>Version</th><th>Upstream</th><th>Routes</th><th>Published</th><th></th></tr></thead>
        <tbody>
          {[...service.versions].reverse().map((v) => (
            <tr key={v.id} className={v.id === running.id ? 'current' : ''}>
              <td>{v.version} {v.id === running.id && <Badge value="RUNNING" />} {v.syncedFrom && <span className="muted small">synced</span>}</td>
              <td className="mono small">{upstream(v)}</td>
              <td className="mono small">{[...new Set(v.routes.flatMap((r) => r.paths))].slice(0, 4).join(' ')}</td>
              <td title={v.createdAt}>{ago(v.createdAt)} by {v.createdBy}</td>
              <td className="row-actions">
                <Can privilege="MANAGE_GATEWAY_GROUPS">
                  {v.id === running.id ? (
                    <button className="primary" onClick={() => setSyncing(true)}>Sync to other gateway group</button>
                  ) : (
                    <ConfirmButton className="" onConfirm={() => rollback({ variables: { group, service: service.name, version: v.version } }).catch(() => undefined)}>Roll back to {v.version}</ConfirmButton>
                  )}
                </Can>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ErrorBox error={rolling.error ?? unpublishing.error} />
      {syncing && <SyncWizard group={group} version={running} groups={groups} onClose={() => setSyncing(false)} />}
    </section>
  );
}

function Registries({ group }: { group: string }) {
  const { data, error } = useQuery<{ serviceRegistries: { id: string; name: string; type: string; address: string; refreshMs: number }[] }>(REGISTRIES, { variables: { group } });
  const [form, setForm] = useState({ name: '', type: 'NACOS', address: '', refreshMs: '5000', token: '' });
  const [open, setOpen] = useState(false);
  const [create, created] = useMutation(CREATE_REGISTRY, { refetchQueries: ['ConsoleRegistries'] });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await create({ variables: { input: { gatewayGroup: group, name: form.name, type: form.type, address: form.address, refreshMs: Number(form.refreshMs) || null, token: form.token || null } } });
      setOpen(false);
    } catch { /* shown below */ }
  };
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  return (
    <section className="card">
      <h2>Service registries <Can privilege="MANAGE_GATEWAY_GROUPS"><button className="small-button" onClick={() => setOpen(!open)}>Add registry</button></Can></h2>
      <ErrorBox error={error} />
      {data?.serviceRegistries.length ? (
        <table className="table compact">
          <thead><tr><th>Name</th><th>Type</th><th>Address</th><th>Refresh</th></tr></thead>
          <tbody>{data.serviceRegistries.map((r) => <tr key={r.id}><td>{r.name}</td><td>{r.type}</td><td className="mono small">{r.address}</td><td>{r.refreshMs} ms</td></tr>)}</tbody>
        </table>
      ) : <p className="muted">None: add one to sync services with service discovery.</p>}
      {open && (
        <form onSubmit={submit} className="grid3">
          <Field label="Name"><input name="registry-name" value={form.name} onChange={set('name')} required /></Field>
          <Field label="Type"><select name="registry-type" value={form.type} onChange={set('type')}>{['NACOS', 'DNS', 'KUBERNETES'].map((t) => <option key={t}>{t}</option>)}</select></Field>
          <Field label="Address" hint="DNS: resolver host:port; Nacos/Kubernetes: base URL"><input name="registry-address" value={form.address} onChange={set('address')} required /></Field>
          <Field label="Refresh (ms)"><input name="registry-refresh" value={form.refreshMs} onChange={set('refreshMs')} /></Field>
          <Field label="Token" hint="Write-only, stored encrypted."><input name="registry-token" type="password" value={form.token} onChange={set('token')} autoComplete="off" /></Field>
          <div><ErrorBox error={created.error} /><button className="primary" disabled={created.loading}>Add</button></div>
        </form>
      )}
    </section>
  );
}

function Tokens({ group }: { group: string }) {
  const { data, error } = useQuery<{ gatewayInstanceTokens: { id: string; createdAt: string; revokedAt: string | null; instances: { id: string; hostname: string }[] }[] }>(TOKENS, { variables: { group } });
  const [create, created] = useMutation<{ createGatewayInstanceToken: { id: string; token: string } }>(CREATE_TOKEN, { refetchQueries: ['ConsoleTokens'] });
  const [revoke, revoked] = useMutation(REVOKE_TOKEN, { refetchQueries: ['ConsoleTokens'] });
  const secret = created.data?.createGatewayInstanceToken;
  return (
    <section className="card">
      <h2>Instance tokens <Can privilege="MANAGE_GATEWAY_GROUPS"><button className="small-button" onClick={() => create({ variables: { group } }).catch(() => undefined)}>Create token</button></Can></h2>
      {secret && (
        <div className="secret">
          Shown once — start a gateway instance with it:
          <pre className="code" data-testid="instance-token">stagecraft gateway --control-plane {location.origin} --group "{group}" --token {secret.token}</pre>
        </div>
      )}
      <ErrorBox error={error ?? created.error ?? revoked.error} />
      {data?.gatewayInstanceTokens.length ? (
        <table className="table compact">
          <thead><tr><th>Token</th><th>Created</th><th>Instances</th><th>State</th><th></th></tr></thead>
          <tbody>
            {data.gatewayInstanceTokens.map((t) => (
              <tr key={t.id}>
                <td className="mono small" title={t.id}>…{t.id.slice(-8)}</td>
                <td><Time iso={t.createdAt} /></td>
                <td>{t.instances.map((i) => i.hostname).join(', ') || '—'}</td>
                <td>{t.revokedAt ? <Badge value="REVOKED" /> : <Badge value="ACTIVE" />}</td>
                <td>{!t.revokedAt && <Can privilege="MANAGE_GATEWAY_GROUPS"><ConfirmButton onConfirm={() => revoke({ variables: { id: t.id } }).catch(() => undefined)}>Revoke</ConfirmButton></Can>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : <p className="muted">No token: create one to let a gateway instance join.</p>}
    </section>
  );
}

export function GatewayGroupPage({ name }: { name: string }) {
  const { data, loading, error } = useQuery<{ gatewayGroup: Group; gatewayGroups: { id: string; name: string }[] }>(GROUP, { variables: { name }, pollInterval: 5000 });
  const [publishing, setPublishing] = useState(false);
  const [remove, removing] = useMutation(DELETE_GROUP, { refetchQueries: ['ConsoleGatewayGroups'] });
  if (loading && !data) return <Loading />;
  if (!data) return <ErrorBox error={error} />;
  const g = data.gatewayGroup;
  const groups = data.gatewayGroups.map((x) => x.name);
  const online = g.instances.some((i) => i.status === 'ONLINE');
  return (
    <>
      <PageHeader title={g.name} sub={`${g.description || 'Gateway group'} · revision ${g.revision}`}>
        <Can privilege="MANAGE_GATEWAY_GROUPS">
          <button className="primary" onClick={() => setPublishing(true)}>Publish service</button>
          <ConfirmButton onConfirm={async () => {
            try { await remove({ variables: { name: g.name, force: online } }); go(href('gateway')); } catch { /* shown below */ }
          }}>{online ? 'Delete (instances stop serving)' : 'Delete group'}</ConfirmButton>
        </Can>
      </PageHeader>
      <ErrorBox error={error ?? removing.error} />
      {publishing && <Publish group={g.name} onDone={() => setPublishing(false)} />}
      <section className="card">
        <h2>Instances</h2>
        {g.instances.length === 0 ? <p className="muted">No instance has joined: an administrator creates a token below and runs <code>stagecraft gateway</code> with it.</p> : (
          <table className="table compact" data-testid="instances">
            <thead><tr><th>Hostname</th><th>Status</th><th>Revision</th><th>Last seen</th></tr></thead>
            <tbody>{g.instances.map((i) => <tr key={i.id}><td>{i.hostname}</td><td><Badge value={i.status} /></td><td>{i.configRevision}{i.configRevision < g.revision && <span className="muted"> (behind)</span>}</td><td title={i.lastSeen}>{ago(i.lastSeen)}</td></tr>)}</tbody>
          </table>
        )}
      </section>
      <h2>Services</h2>
      {g.services.length === 0 ? <Empty title="No service runs in this group.">Publish an API here, or sync one from another group.</Empty> : g.services.map((s) => <ServiceCard key={s.name} group={g.name} service={s} groups={groups} />)}
      <Registries group={g.name} />
      {/* join tokens are read and written with MANAGE_GATEWAY_GROUPS only */}
      <Can privilege="MANAGE_GATEWAY_GROUPS"><Tokens group={g.name} /></Can>
    </>
  );
}
