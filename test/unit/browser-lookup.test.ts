/** The browser tests' system-Chromium lookup: PATH only, executables only, in PATH order. */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemChromium } from '../support/browser.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'stagecraft-browser-lookup-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function dirWith(name: string, files: Record<string, number>): Promise<string> {
  const dir = path.join(root, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir);
  for (const [file, mode] of Object.entries(files)) {
    await writeFile(path.join(dir, file), '#!/bin/sh\n');
    await chmod(path.join(dir, file), mode);
  }
  return dir;
}

describe('systemChromium', () => {
  it('finds the first executable chromium on PATH and nothing when PATH has none', async () => {
    const empty = await dirWith('empty', {});
    const notExecutable = await dirWith('plain', { chromium: 0o644 });
    const browser = await dirWith('browser', { 'chromium-browser': 0o755 });
    const chrome = await dirWith('chrome', { 'google-chrome': 0o755, chromium: 0o755 });
    expect(systemChromium([empty, notExecutable].join(path.delimiter))).toBeNull();
    expect(systemChromium('')).toBeNull();
    expect(systemChromium([empty, notExecutable, browser].join(path.delimiter))).toBe(path.join(browser, 'chromium-browser'));
    // `chromium` is preferred over other names, wherever it is on PATH
    expect(systemChromium([browser, chrome].join(path.delimiter))).toBe(path.join(chrome, 'chromium'));
  });
});
