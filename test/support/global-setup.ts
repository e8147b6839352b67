/**
 * One PostgreSQL for the whole run: the machine's (DATABASE_URL) when set, else one embedded
 * cluster in a temporary directory. Each test file creates its own database on it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { createLogger } from '../../src/logger.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

let embedded: EmbeddedDatabase | undefined;
let dir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  if (process.env.DATABASE_URL) {
    project.provide('pgAdminUrl', process.env.DATABASE_URL);
    return;
  }
  dir = await mkdtemp(path.join(os.tmpdir(), 'stagecraft-test-pg-'));
  embedded = await startEmbeddedDatabase(dir, createLogger('warn'), 'postgres');
  project.provide('pgAdminUrl', embedded.adminUrl);
}

export async function teardown(): Promise<void> {
  await embedded?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}
