/**
 * One data dir, one owner. The process that starts the embedded PostgreSQL of a data directory
 * owns it and says so in `<dataDir>/owner.json`: its pid, the kernel's start time of that pid
 * (so a recycled pid is not mistaken for the owner), its command and, once up, the cluster's
 * port. Another process finds a live owner and either uses the running cluster (migrate, seed)
 * or refuses (serve); it never stops that cluster. An owner file whose process is gone is stale:
 * its postmaster, if still running, is an orphan to recover, as before.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface DataDirOwner {
  pid: number;
  /** The pid's start time from /proc (clock ticks since boot); null where /proc is absent. */
  started: string | null;
  command: string;
  /** Port of the cluster, once the owner has started it. */
  port: number | null;
}

export interface OwnedDataDir {
  /** Announces the cluster's port to other processes. */
  setPort(port: number): Promise<void>;
  /** Gives the data dir up (only if the file still names this process). */
  release(): Promise<void>;
}

export type DataDirClaim = { owned: true; dir: OwnedDataDir } | { owned: false; owner: DataDirOwner };

const ownerFile = (dataDir: string) => path.join(dataDir, 'owner.json');

/** Start time of `pid` as the kernel reports it (field 22 of /proc/<pid>/stat), or null. */
async function startTimeOf(pid: number): Promise<string | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (!stat) return null;
  // The command name (field 2) may hold spaces and parentheses: fields after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

/** The owner's process still runs (and is the same process, not a reused pid). */
export async function ownerIsAlive(owner: DataDirOwner): Promise<boolean> {
  if (!Number.isInteger(owner.pid) || owner.pid <= 0 || !processExists(owner.pid)) return false;
  if (owner.started === null) return true;
  const now = await startTimeOf(owner.pid);
  return now === null || now === owner.started;
}

export async function readOwner(dataDir: string): Promise<DataDirOwner | undefined> {
  const text = await readFile(ownerFile(dataDir), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<DataDirOwner>;
    if (typeof parsed.pid !== 'number') return { pid: 0, started: null, command: 'unknown', port: null };
    return { pid: parsed.pid, started: parsed.started ?? null, command: parsed.command ?? 'unknown', port: typeof parsed.port === 'number' ? parsed.port : null };
  } catch {
    // Only ever written whole (link/rename), so unreadable means damaged: treat as stale.
    return { pid: 0, started: null, command: 'unknown', port: null };
  }
}

/** Writes `content` to `target` atomically: whole or not at all; `exclusive` fails if it exists. */
async function writeWhole(target: string, content: string, exclusive: boolean): Promise<void> {
  const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, content, { mode: 0o644 });
  try {
    if (exclusive) await link(tmp, target);
    else await rename(tmp, target);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/**
 * Makes this process the owner of `dataDir`, or names the live process that is. A stale owner
 * file (its process gone) is replaced.
 */
export async function claimDataDir(dataDir: string, command: string): Promise<DataDirClaim> {
  const me: DataDirOwner = { pid: process.pid, started: await startTimeOf(process.pid), command, port: null };
  const file = ownerFile(dataDir);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await writeWhole(file, `${JSON.stringify(me)}\n`, true);
      return { owned: true, dir: ownedBy(file, me) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = await readOwner(dataDir);
    if (!owner) continue; // released meanwhile: try again
    if (await ownerIsAlive(owner)) return { owned: false, owner };
    // Stale. Remove it only if it is still the same stale file (another claimer may have won).
    const again = await readOwner(dataDir);
    if (again && again.pid === owner.pid && again.started === owner.started) await unlink(file).catch(() => undefined);
  }
  const owner = await readOwner(dataDir);
  if (owner) return { owned: false, owner };
  throw new Error(`could not claim the data directory ${dataDir}`);
}

function ownedBy(file: string, me: DataDirOwner): OwnedDataDir {
  const stillMine = async () => {
    const text = await readFile(file, 'utf8').catch(() => '');
    try {
      const now = JSON.parse(text) as DataDirOwner;
      return now.pid === me.pid && now.started === me.started;
    } catch {
      return false;
    }
  };
  return {
    async setPort(port) {
      me.port = port;
      if (await stillMine()) await writeWhole(file, `${JSON.stringify(me)}\n`, false);
    },
    async release() {
      if (await stillMine()) await unlink(file).catch(() => undefined);
    },
  };
}
