/**
 * The generated password of the first `admin`, handed to the operator once: on stderr (stdout
 * is the JSON log's) and in DATA_DIR/initial-admin-password, readable by the owner only, for
 * when stderr scrolled away or went to a service manager. `serve` and `seed` both create the
 * admin on a fresh database and both announce it here.
 */
import { mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';

export const INITIAL_ADMIN_PASSWORD_FILE = 'initial-admin-password';

/** Writes the password to the data dir (mode 0600) and returns the file's path. */
export async function saveInitialAdminPassword(dataDir: string, password: string): Promise<string> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = path.resolve(dataDir, INITIAL_ADMIN_PASSWORD_FILE);
  // Removed and created exclusively: an old file keeps no wider mode, and a planted symlink is
  // not followed (O_EXCL refuses it).
  await rm(file, { force: true });
  const handle = await open(file, 'wx', 0o600);
  try {
    await handle.writeFile(`${password}\n`);
  } finally {
    await handle.close();
  }
  return file;
}

/**
 * Tells the operator the password on `stderr`, then saves it; returns the file's path, or null
 * when it could not be saved (said on stderr too: the password was shown, so start-up goes on).
 */
export async function announceInitialAdminPassword(dataDir: string, password: string, stderr: NodeJS.WritableStream = process.stderr): Promise<string | null> {
  stderr.write(`\nCreated user "admin" with password: ${password}\nIt is shown only this once.\n`);
  try {
    const file = await saveInitialAdminPassword(dataDir, password);
    stderr.write(`It is also in ${file} (mode 0600): delete that file once you have signed in.\n\n`);
    return file;
  } catch (err) {
    stderr.write(`It could not be saved in ${dataDir}: ${(err as Error).message}\n\n`);
    return null;
  }
}
