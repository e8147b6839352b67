/** The archive endpoints' request shapes: export body and import query string. */
export type Overwrite = 'none' | 'all' | 'custom';

export function importQuery(overwrite: Overwrite, types: readonly string[], fixMissingVersions: boolean, dryRun = false): string {
  const q = new URLSearchParams({ overwrite });
  if (overwrite === 'custom') q.set('types', [...types].sort().join(','));
  if (fixMissingVersions) q.set('fixMissingVersions', 'true');
  if (dryRun) q.set('dryRun', 'true');
  return q.toString();
}

/** The file name the server chose (Content-Disposition), else a sensible one. */
export function downloadName(contentDisposition: string | null, fallback = 'stagecraft-archive.zip'): string {
  const m = /filename="([^"]+)"/.exec(contentDisposition ?? '');
  return m?.[1] ?? fallback;
}
