/** Small shared pieces: errors with their code, empty states, badges, buttons, tables. */
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { errorsOf } from './lib/errors';
import { can, type Me, type Privilege } from './lib/privileges';
import { parseRoute, type Route } from './lib/route';

export const MeContext = createContext<{ me: Me; stage: string; features: Features } | null>(null);

/** Fields the server may not have yet (other branches add them); probed once after sign-in. */
export interface Features {
  /** The type name of Stage.status, or null while the server has none. */
  stageStatus: string | null;
  assetId: boolean;
}

export function useMe() {
  const value = useContext(MeContext);
  if (!value) throw new Error('useMe outside a signed-in page');
  return value;
}

/** Renders its children only when the user holds the privilege: no button a user cannot use. */
export function Can({ privilege, children }: { privilege: Privilege; children: ReactNode }) {
  const { me } = useMe();
  return can(me, privilege) ? <>{children}</> : null;
}

export function useRoute(): Route {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return parseRoute(hash);
}

export const go = (to: string) => {
  location.hash = to;
};

export function ErrorBox({ error }: { error: unknown }) {
  const shown = errorsOf(error);
  if (!shown.length) return null;
  return (
    <div className="error" role="alert">
      {shown.map((e, i) => (
        <div key={i}>
          <code>{e.code}</code> {e.message}
        </div>
      ))}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <strong>{title}</strong>
      {children && <div>{children}</div>}
    </div>
  );
}

const TONE: Record<string, string> = {
  SUCCESS: 'ok', COMPLETED: 'ok', SUCCEEDED: 'ok', IN_SYNC: 'ok', ONLINE: 'ok', CREATED: 'ok', CREATE: 'ok', AVAILABLE: 'ok', RESTORED: 'ok', REACTIVATED: 'ok',
  UPDATE: 'info', REPLACED: 'info', RUNNING: 'info', STARTED: 'info', QUEUED: 'muted', UNCHANGED: 'muted', ROLLED_BACK: 'muted', REMOVED: 'muted', UPSTREAM_CHANGED: 'info',
  DRIFTED: 'warn', WARNING: 'warn', MISSING: 'warn', PARTIAL_SUCCESS: 'warn', OFFLINE: 'warn', UNKNOWN: 'warn',
  FAILURE: 'bad', FAILED: 'bad', REFUSED: 'bad', UNREACHABLE: 'bad',
};

export function Badge({ value }: { value: string | null | undefined }) {
  if (!value) return null;
  return <span className={`badge ${TONE[value] ?? 'muted'}`}>{value}</span>;
}

export function Loading() {
  return <div className="loading">Loading…</div>;
}

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <>—</>;
  const d = new Date(iso);
  return <time dateTime={iso} title={iso}>{d.toLocaleString()}</time>;
}

export function Field({ label, children, hint }: { label: string; children: ReactNode; hint?: string }) {
  return (
    <label className="field">
      <span>{label}</span>
      {children}
      {hint && <small>{hint}</small>}
    </label>
  );
}

/** A modal-free confirmation: the first click arms the button, the second runs it. */
export function ConfirmButton({ onConfirm, children, className = 'danger', disabled }: { onConfirm: () => void; children: ReactNode; className?: string; disabled?: boolean }) {
  const [armed, setArmed] = useState(false);
  useEffect(() => {
    if (!armed) return;
    const t = setTimeout(() => setArmed(false), 4000);
    return () => clearTimeout(t);
  }, [armed]);
  return (
    <button
      type="button"
      className={className}
      disabled={disabled}
      onClick={() => {
        if (armed) {
          setArmed(false);
          onConfirm();
        } else setArmed(true);
      }}
    >
      {armed ? 'Click again to confirm' : children}
    </button>
  );
}

export function PageHeader({ title, children, sub }: { title: ReactNode; children?: ReactNode; sub?: ReactNode }) {
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {sub && <p className="sub">{sub}</p>}
      </div>
      <div className="actions">{children}</div>
    </header>
  );
}
