import { readFileSync } from 'node:fs';

/** This build's product version, from package.json (found from src/ and from dist/src/ alike). */
function readProductVersion(): string {
  for (const relative of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'stagecraft' && pkg.version) return pkg.version;
    } catch {
      /* try the next */
    }
  }
  throw new Error('cannot find stagecraft package.json');
}

export const productVersion = readProductVersion();
