/** What is still running on this machine, for tests that must leave nothing behind. */
import { readdirSync, readFileSync } from 'node:fs';

/** Processes whose command line mentions `dir` (a PostgreSQL serving a cluster in it, say). */
export function processesUsing(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(dir)) found.push(`${pid}: ${cmdline}`);
    } catch {
      /* gone meanwhile */
    }
  }
  return found;
}
