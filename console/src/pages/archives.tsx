/**
 * Archives: export a selection (or a filter) with a passphrase as a download, import a file with
 * overwrite none / all / custom and show the report. Both use the REST endpoints
 * (POST /archive/export, POST /archive/import) with the session's token.
 */
import { gql } from '@apollo/client';
import { useQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { authHeaders } from '../client';
import { downloadName, importQuery, type Overwrite } from '../lib/archive';
import { ASSET_TYPES } from '../lib/asset-types';
import { ago } from '../lib/history';
import { toggle, type OptionalMode } from '../lib/selection';
import { Badge, Can, Empty, ErrorBox, Field, PageHeader, useMe, useRoute } from '../ui';

const pickedQuery = (withAssetId: boolean) => gql`
  query ConsoleExportPicked($ids: [ID!]!) { assetsByIds(ids: $ids) { id name type ${withAssetId ? 'assetId' : ''} } }
`;
const PICKED = { true: pickedQuery(true), false: pickedQuery(false) };
const REPORTS = gql`
  query ConsoleImportReports { importReports(first: 20) { edges { node { id status createdAt createdBy sourceStage } } } }
`;

interface TypeSummary { type: string; successful: number; unsuccessful: number; replaced: number; warnings: number; created?: number; unchanged?: number }
interface Report { id: string | null; dryRun?: boolean; status: string; createdAt: string; sourceStage: string; types: TypeSummary[]; assets: { name: string; type: string; status: string; explanation: string }[] }

/** An error from a REST endpoint (`{ error: { code, message } }`) as a thrown value ErrorBox shows. */
async function failure(res: Response) {
  const text = await res.text();
  return { bodyText: text, statusCode: res.status, message: `HTTP ${res.status}` };
}

function Export() {
  const { params } = useRoute();
  const { features } = useMe();
  const ids = params.getAll('assets');
  const picked = useQuery<{ assetsByIds: { id: string; name: string; type: string; assetId?: string }[] }>(PICKED[`${features.assetId}`], { variables: { ids }, skip: !ids.length });
  const [keyword, setKeyword] = useState('');
  const [optional, setOptional] = useState<OptionalMode>('NONE');
  const [passphrase, setPassphrase] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<{ name: string; count: string | null; url: string } | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const assets = picked.data?.assetsByIds ?? [];
      const body = ids.length
        ? { assetIds: assets.map((a) => a.assetId ?? a.id), optional: optional === 'SELECTED' ? 'NONE' : optional }
        : { filter: { keyword: keyword || null }, optional: optional === 'SELECTED' ? 'NONE' : optional };
      const res = await fetch('/archive/export', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...authHeaders() },
        body: JSON.stringify({ ...body, passphrase: passphrase || null }),
      });
      if (!res.ok) throw await failure(res);
      const blob = await res.blob();
      if (done) URL.revokeObjectURL(done.url);
      const url = URL.createObjectURL(blob);
      const name = downloadName(res.headers.get('content-disposition'));
      setDone({ name, count: res.headers.get('x-asset-count'), url });
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      a.click();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card" onSubmit={submit}>
      <h2>Export</h2>
      {ids.length ? (
        <div className="chips">{picked.data?.assetsByIds.map((a) => <span key={a.id} className="chip">{a.type} {a.name}</span>)}</div>
      ) : (
        <Field label="Assets matching" hint="Empty exports the whole catalog. Or select assets in the Catalog and choose Export selected.">
          <input name="export-keyword" value={keyword} onChange={(e) => setKeyword(e.target.value)} placeholder="petstore|orders" />
        </Field>
      )}
      <div className="radios">
        <span>Optional dependencies:</span>
        {(['NONE', 'ALL'] as const).map((m) => <label key={m}><input type="radio" name="export-optional" checked={optional === m} onChange={() => setOptional(m)} /> {m === 'ALL' ? 'All' : 'None'}</label>)}
      </div>
      <Field label="Passphrase" hint="Encrypts secure values (alias passwords …) inside the archive; needed again to import them.">
        <input name="export-passphrase" type="password" value={passphrase} onChange={(e) => setPassphrase(e.target.value)} autoComplete="new-password" />
      </Field>
      <ErrorBox error={error ?? picked.error} />
      {done && <p>Downloaded <a href={done.url} download={done.name}>{done.name}</a> ({done.count ?? '?'} assets).</p>}
      <button className="primary" disabled={busy}>{busy ? 'Exporting…' : 'Export archive'}</button>
    </form>
  );
}

function ReportView({ report }: { report: Report }) {
  return (
    <section className="card" data-testid="import-report">
      <h3>{report.dryRun ? 'Dry run: nothing was written' : 'Import report'} <Badge value={report.status} /> <small className="muted">from {report.sourceStage}, {ago(report.createdAt)}</small></h3>
      <table className="table compact">
        <thead><tr><th>Type</th><th>Successful</th><th>Unchanged</th><th>Unsuccessful</th><th>Replaced</th><th>Warnings</th></tr></thead>
        <tbody>{report.types.map((t) => <tr key={t.type}><td>{t.type}</td><td>{t.successful}</td><td>{t.unchanged ?? '—'}</td><td>{t.unsuccessful}</td><td>{t.replaced}</td><td>{t.warnings}</td></tr>)}</tbody>
      </table>
      <table className="table compact">
        <thead><tr><th>Type</th><th>Name</th><th>Status</th><th>Explanation</th></tr></thead>
        <tbody>{report.assets.map((a, i) => <tr key={i}><td><span className="type">{a.type}</span></td><td>{a.name}</td><td><Badge value={a.status} /></td><td className="muted">{a.explanation}</td></tr>)}</tbody>
      </table>
    </section>
  );
}

function Import({ onImported }: { onImported: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [overwrite, setOverwrite] = useState<Overwrite>('none');
  const [types, setTypes] = useState<Set<string>>(new Set());
  const [fix, setFix] = useState(false);
  const [dryRun, setDryRun] = useState(false);
  const [passphrase, setPassphrase] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [report, setReport] = useState<Report | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    setReport(null);
    try {
      const res = await fetch(`/archive/import?${importQuery(overwrite, [...types], fix, dryRun)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/zip', ...authHeaders(), ...(passphrase ? { 'x-archive-passphrase': passphrase } : {}) },
        body: file,
      });
      if (!res.ok) throw await failure(res);
      setReport((await res.json()) as Report);
      if (!dryRun) onImported();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card" onSubmit={submit}>
      <h2>Import</h2>
      <Field label="Archive (.zip)"><input name="import-file" type="file" accept=".zip,application/zip" onChange={(e) => setFile(e.target.files?.[0] ?? null)} required /></Field>
      <div className="radios" role="radiogroup">
        <span>Overwrite existing assets:</span>
        {(['none', 'all', 'custom'] as const).map((m) => <label key={m}><input type="radio" name="overwrite" checked={overwrite === m} onChange={() => setOverwrite(m)} /> {m === 'none' ? 'None' : m === 'all' ? 'All' : 'Only these types'}</label>)}
      </div>
      {overwrite === 'custom' && (
        <div className="type-grid">{ASSET_TYPES.map((t) => <label key={t}><input type="checkbox" checked={types.has(t)} onChange={() => setTypes(toggle(types, t))} /> {t}</label>)}</div>
      )}
      <div className="options">
        <label className="inline"><input type="checkbox" checked={fix} onChange={(e) => setFix(e.target.checked)} /> Fix missing versions</label>
        <label className="inline"><input type="checkbox" name="dry-run" checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} /> Dry run: report what would happen, write nothing</label>
      </div>
      <Field label="Passphrase" hint="The one the archive was exported with, if it carries secure values.">
        <input name="import-passphrase" type="password" value={passphrase} onChange={(e) => setPassphrase(e.target.value)} autoComplete="off" />
      </Field>
      <ErrorBox error={error} />
      <button className="primary" disabled={busy || !file || (overwrite === 'custom' && types.size === 0)}>{busy ? 'Importing…' : 'Import archive'}</button>
      {report && <ReportView report={report} />}
    </form>
  );
}

export function ArchivesPage() {
  const reports = useQuery<{ importReports: { edges: { node: { id: string; status: string; createdAt: string; createdBy: string; sourceStage: string } }[] } }>(REPORTS);
  const [opened, setOpened] = useState<string | null>(null);
  return (
    <>
      <PageHeader title="Archives" sub="Move assets between instances as files: export here, import there." />
      <Can privilege="EXPORT_IMPORT">
        <div className="grid2">
          <Export />
          <Import onImported={() => void reports.refetch()} />
        </div>
        <section className="card">
          <h2>Import history</h2>
          <ErrorBox error={reports.error} />
          {!reports.data?.importReports.edges.length ? <Empty title="Nothing imported yet." /> : (
            <table className="table compact">
              <thead><tr><th>When</th><th>Status</th><th>From</th><th>By</th><th></th></tr></thead>
              <tbody>
                {reports.data.importReports.edges.map(({ node: r }) => (
                  <tr key={r.id}>
                    <td title={r.createdAt}>{ago(r.createdAt)}</td><td><Badge value={r.status} /></td><td>{r.sourceStage}</td><td>{r.createdBy}</td>
                    <td><button className="link" onClick={() => setOpened(opened === r.id ? null : r.id)}>{opened === r.id ? 'Hide' : 'Report'}</button> · <a href={`/archive/import-reports/${r.id}.csv`} onClick={(e) => { e.preventDefault(); void downloadCsv(r.id); }}>CSV</a></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {opened && <StoredReport id={opened} />}
        </section>
      </Can>
      <NoArchiveRights />
    </>
  );
}

function NoArchiveRights() {
  const { me } = useMe();
  if (me.privileges.includes('EXPORT_IMPORT')) return null;
  return <Empty title="Archives need the EXPORT_IMPORT privilege.">Ask an administrator for the API_PROVIDER role.</Empty>;
}

const STORED = gql`
  query ConsoleImportReport($id: ID!) {
    importReport(id: $id) { id status createdAt sourceStage types { type successful unchanged unsuccessful replaced warnings } assets { name type status explanation } }
  }
`;

function StoredReport({ id }: { id: string }) {
  const { data, error } = useQuery<{ importReport: Report }>(STORED, { variables: { id } });
  return <><ErrorBox error={error} />{data && <ReportView report={data.importReport} />}</>;
}

/** The CSV needs the bearer token, so it is fetched and handed over as a blob. */
async function downloadCsv(id: string) {
  const res = await fetch(`/archive/import-reports/${id}.csv`, { headers: authHeaders() });
  if (!res.ok) return;
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `import-report-${id}.csv`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
