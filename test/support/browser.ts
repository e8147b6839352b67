/**
 * The Chromium every browser test launches, found the way a developer has one: the system's
 * (`chromium`, `chromium-browser`, `google-chrome` … on PATH) if there is one, otherwise the one
 * shipped inside the npm package `@sparticuz/chromium`, so `npm install && npm test` needs
 * nothing but Node and npm.
 *
 * STAGECRAFT_TEST_CHROMIUM chooses instead: `bundled` (ignore any system browser), `system`
 * (fail when there is none), or the path of a Chromium binary.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

const SYSTEM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/**
 * Flags for a closed network and a root user: without the background-networking ones Chromium
 * keeps dialling Google's hosts, which this machine refuses (see the machine notes).
 */
const COMMON_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * Flags of @sparticuz/chromium's list that would weaken what the tests check (CSP, same-origin):
 * a test that proves the page runs under its CSP must not run in a browser told to ignore it.
 */
const WEAKENING_ARGS = new Set(['--disable-web-security', '--allow-running-insecure-content']);

export interface LaunchedChromium {
  browser: Browser;
  /** Where it came from, for messages. */
  source: 'system' | 'bundled' | 'configured';
  executablePath: string;
}

const isExecutable = (file: string) => {
  try {
    return statSync(file).isFile() && (statSync(file).mode & 0o111) !== 0;
  } catch {
    return false;
  }
};

/** The first system Chromium on PATH, or null. */
export function systemChromium(pathVariable = process.env.PATH ?? ''): string | null {
  const dirs = pathVariable.split(path.delimiter).filter(Boolean);
  for (const name of SYSTEM_NAMES) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      if (isExecutable(file)) return file;
    }
  }
  return null;
}

/** The installed @sparticuz/chromium's version (its package.json is not among its exports). */
function bundledVersion(): string {
  let dir = path.dirname(createRequire(import.meta.url).resolve('@sparticuz/chromium'));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (name === '@sparticuz/chromium' && version) return version;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('@sparticuz/chromium: package.json not found');
    dir = parent;
  }
}

/**
 * @sparticuz/chromium unpacks its brotli-packed binary into os.tmpdir() and takes whatever
 * `chromium` it finds there, half-written or another version. So it unpacks into a fresh
 * directory of its own (through TMPDIR, which it reads at each call), and that directory is
 * renamed into place only when complete: parallel workers and interrupted runs stay harmless.
 */
async function bundledChromium(): Promise<string> {
  const version = bundledVersion();
  const home = path.join(os.tmpdir(), `stagecraft-chromium-${version}`);
  const binary = path.join(home, 'chromium');
  if (isExecutable(binary)) return binary;

  const staging = `${home}.partial-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const { default: packaged } = await import('@sparticuz/chromium');
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = staging;
  try {
    await packaged.executablePath();
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  }
  try {
    await rename(staging, home);
  } catch (err) {
    // Another worker finished first: use its copy.
    await rm(staging, { recursive: true, force: true });
    if (!isExecutable(binary)) throw err;
  }
  return binary;
}

async function bundledArgs(): Promise<string[]> {
  const { default: packaged } = await import('@sparticuz/chromium');
  return packaged.args.filter((arg) => !WEAKENING_ARGS.has(arg));
}

/** Finds (or unpacks) a Chromium and launches it headless. */
export async function launchChromium(): Promise<LaunchedChromium> {
  const choice = process.env.STAGECRAFT_TEST_CHROMIUM ?? '';
  let source: LaunchedChromium['source'];
  let executablePath: string;
  let extraArgs: string[] = [];
  if (choice && choice !== 'bundled' && choice !== 'system') {
    if (!existsSync(choice)) throw new Error(`STAGECRAFT_TEST_CHROMIUM=${choice}: no such file`);
    source = 'configured';
    executablePath = choice;
  } else {
    const system = choice === 'bundled' ? null : systemChromium();
    if (!system && choice === 'system') throw new Error(`STAGECRAFT_TEST_CHROMIUM=system: none of ${SYSTEM_NAMES.join(', ')} is on PATH`);
    if (system) {
      source = 'system';
      executablePath = system;
    } else {
      source = 'bundled';
      executablePath = await bundledChromium();
      extraArgs = await bundledArgs();
    }
  }
  const browser = await chromium.launch({ executablePath, headless: true, args: [...new Set([...extraArgs, ...COMMON_ARGS])] });
  return { browser, source, executablePath };
}
