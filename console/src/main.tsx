/** The Stagecraft console: sign-in, then a left navigation by area and one page per workflow. */
import { gql } from '@apollo/client';
import { ApolloProvider, useMutation, useQuery } from '@apollo/client/react';
import { useEffect, useState, type FormEvent } from 'react';
import { createRoot } from 'react-dom/client';
import './app.css';
import { client, resetSession, session } from './client';
import { can, type Me } from './lib/privileges';
import { href } from './lib/route';
import { ArchivesPage } from './pages/archives';
import { AssetPage } from './pages/asset';
import { CatalogPage } from './pages/catalog';
import { DriftPage } from './pages/drift';
import { GatewayGroupPage, GatewayGroupsPage } from './pages/gateway';
import { PromotionPage, PromotionsPage } from './pages/promotions';
import { PromoteWizard } from './pages/promote';
import { RollbackPage, RollbacksPage } from './pages/rollbacks';
import { StagesPage } from './pages/stages';
import { ErrorBox, Field, Loading, MeContext, useRoute, type Features } from './ui';

const ME = gql`
  query ConsoleMe {
    me { id username role privileges }
    serverInfo { stage productVersion }
    stageType: __type(name: "Stage") { fields { name type { name ofType { name } } } }
    assetType: __type(name: "Asset") { fields { name } }
  }
`;

const LOGIN = gql`
  mutation ConsoleLogin($username: String!, $password: String!) {
    login(username: $username, password: $password) { token user { id username role privileges } }
  }
`;

const LOGOUT = gql`mutation ConsoleLogout { logout }`;

function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [login, { loading, error }] = useMutation<{ login: { token: string } }>(LOGIN);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const { data } = await login({ variables: { username, password } });
      if (data) {
        await resetSession(data.login.token);
        onSignedIn();
      }
    } catch {
      /* shown below */
    }
  };
  return (
    <div className="signin">
      <form onSubmit={submit} className="card">
        <h1>Stagecraft</h1>
        <p className="sub">Sign in to the console</p>
        <Field label="Username">
          <input name="username" value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="username" required />
        </Field>
        <Field label="Password">
          <input name="password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" autoFocus required />
        </Field>
        <ErrorBox error={error} />
        <button className="primary" disabled={loading}>{loading ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </div>
  );
}

const NAV: { to: string; label: string; area: string }[] = [
  { to: 'catalog', label: 'Catalog', area: 'catalog' },
  { to: 'promote', label: 'Promote', area: 'promote' },
  { to: 'promotions', label: 'Promotions', area: 'promotions' },
  { to: 'rollbacks', label: 'Rollbacks', area: 'rollbacks' },
  { to: 'drift', label: 'Drift', area: 'drift' },
  { to: 'stages', label: 'Stages', area: 'stages' },
  { to: 'gateway', label: 'Gateway groups', area: 'gateway' },
  { to: 'archives', label: 'Archives', area: 'archives' },
];

function UserMenu({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const [open, setOpen] = useState(false);
  const [logout] = useMutation(LOGOUT);
  // Closes on a click anywhere else, like any menu.
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (!(e.target as Element).closest('.user-menu')) setOpen(false);
    };
    document.addEventListener('click', close);
    return () => document.removeEventListener('click', close);
  }, [open]);
  return (
    <div className="user-menu">
      <button className="link" onClick={() => setOpen(!open)} aria-expanded={open}>
        {me.username} <span className="role">{me.role}</span> ▾
      </button>
      {open && (
        <div className="menu">
          <div className="menu-info">Privileges: {me.privileges.length ? me.privileges.join(', ') : 'read only'}</div>
          <a href="/graphql" target="_blank" rel="noreferrer">GraphiQL</a>
          <button
            className="link"
            onClick={async () => {
              await logout().catch(() => undefined);
              onSignOut();
            }}
          >
            Sign out
          </button>
        </div>
      )}
    </div>
  );
}

function Page({ me }: { me: Me }) {
  const { parts, params } = useRoute();
  const [area = 'catalog', id] = parts;
  switch (area) {
    case 'assets':
      return id ? <AssetPage key={id} id={id} /> : <CatalogPage params={params} />;
    case 'promote':
      return can(me, 'MANAGE_PROMOTIONS') ? <PromoteWizard params={params} /> : <ErrorBox error={{ code: 'FORBIDDEN', message: 'Promoting needs the MANAGE_PROMOTIONS privilege.' }} />;
    case 'promotions':
      return id ? <PromotionPage key={id} id={id} /> : <PromotionsPage params={params} />;
    case 'rollbacks':
      return id ? <RollbackPage key={id} id={id} stage={params.get('stage')} /> : <RollbacksPage params={params} />;
    case 'drift':
      return <DriftPage params={params} />;
    case 'stages':
      return <StagesPage />;
    case 'gateway':
      return id ? <GatewayGroupPage key={id} name={id} /> : <GatewayGroupsPage />;
    case 'archives':
      return <ArchivesPage />;
    default:
      return <CatalogPage params={params} />;
  }
}

interface FieldInfo {
  name: string;
  type: { name: string | null; ofType: { name: string | null } | null };
}

interface MeData {
  me: Me | null;
  serverInfo: { stage: string; productVersion: string };
  stageType: { fields: FieldInfo[] } | null;
  assetType: { fields: { name: string }[] } | null;
}

/** The type of `Stage.status` when the server has it (a newer server adds it), else null. */
function statusTypeOf(fields: FieldInfo[] | undefined): string | null {
  const field = fields?.find((f) => f.name === 'status');
  return field ? (field.type.name ?? field.type.ofType?.name ?? null) : null;
}

function Shell() {
  const [signedIn, setSignedIn] = useState(!!session.token());
  const { data, loading, error, refetch } = useQuery<MeData>(ME, { skip: !signedIn, fetchPolicy: 'network-only' });
  const { parts } = useRoute();
  const signOut = async () => {
    await resetSession(null);
    setSignedIn(false);
  };
  if (!signedIn) return <SignIn onSignedIn={() => { setSignedIn(true); void refetch(); }} />;
  if (loading && !data) return <Loading />;
  if (error || !data?.me) {
    // An expired or revoked token: back to the sign-in page.
    if (!error || /UNAUTHENTICATED/.test(JSON.stringify(error))) {
      void signOut();
      return null;
    }
    return <ErrorBox error={error} />;
  }
  const features: Features = {
    stageStatus: statusTypeOf(data.stageType?.fields),
    assetId: !!data.assetType?.fields.some((f) => f.name === 'assetId'),
  };
  const me = data.me;
  const area = parts[0] === 'assets' ? 'catalog' : (parts[0] ?? 'catalog');
  return (
    <MeContext.Provider value={{ me, stage: data.serverInfo.stage, features }}>
      <div className="shell">
        <nav className="sidebar">
          <div className="brand">
            Stagecraft <span className="stage-pill" title="The stage this console manages">{data.serverInfo.stage}</span>
          </div>
          {NAV.filter((n) => n.area !== 'promote' || can(me, 'MANAGE_PROMOTIONS')).map((n) => (
            <a key={n.to} href={href(n.to)} className={area === n.area ? 'active' : ''}>
              {n.label}
            </a>
          ))}
          <div className="version">v{data.serverInfo.productVersion}</div>
        </nav>
        <div className="main">
          <div className="topbar">
            <UserMenu me={me} onSignOut={signOut} />
          </div>
          <main>
            <Page me={me} />
          </main>
        </div>
      </div>
    </MeContext.Provider>
  );
}

createRoot(document.getElementById('root')!).render(
  <ApolloProvider client={client}>
    <Shell />
  </ApolloProvider>,
);
