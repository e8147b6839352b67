/** Histories (promotions, rollbacks) sorted newest first, on the client: the API lists them by name. */
export function newestFirst<T>(items: readonly T[], time: (item: T) => string | null | undefined): T[] {
  const at = (item: T) => {
    const t = Date.parse(time(item) ?? '');
    return Number.isNaN(t) ? -Infinity : t;
  };
  return [...items].sort((a, b) => at(b) - at(a));
}

/** "3 min ago"-style, for tables; the exact time goes in the title attribute. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '—';
  const s = Math.round((now - t) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(t).toISOString().slice(0, 10);
}
