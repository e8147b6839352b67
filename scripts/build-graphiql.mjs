// Bundles GraphiQL with its styles into dist/graphiql/, so the server can serve it with no CDN.
// Also writes dist/cli.js, the package's bin, which loads the compiled CLI.
//
// The bundle is rebuilt only when one of the files it was made from (esbuild's metafile lists
// them all, node_modules included) or this script is newer than it: `npm start` and `npm test`
// run this every time, and a bundle that is up to date costs a few hundred stat calls.
import { build } from 'esbuild';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = new URL('..', import.meta.url);
const outdir = new URL('dist/graphiql/', root);
const bundle = new URL('app.js', outdir);
// Outside dist/graphiql/, which the server serves as static files.
const inputsFile = new URL('dist/.graphiql-inputs.json', root);

const mtime = (file) => stat(file).then((s) => s.mtimeMs, () => null);

async function upToDate() {
  const built = await mtime(bundle);
  if (built === null) return false;
  let inputs;
  try {
    inputs = JSON.parse(await readFile(inputsFile, 'utf8'));
  } catch {
    return false;
  }
  const sources = [fileURLToPath(import.meta.url), ...inputs.map((input) => fileURLToPath(new URL(input, root)))];
  for (const source of sources) {
    const changed = await mtime(source);
    if (changed === null || changed > built) return false;
  }
  return true;
}

if (!(await upToDate())) {
  const result = await build({
    entryPoints: { app: fileURLToPath(new URL('src/server/graphiql/client.js', root)) },
    outdir: fileURLToPath(outdir),
    absWorkingDir: fileURLToPath(root),
    bundle: true,
    minify: true,
    format: 'iife',
    target: 'es2020',
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: { '.woff': 'dataurl', '.woff2': 'dataurl', '.ttf': 'dataurl', '.svg': 'dataurl' },
    logLevel: 'warning',
    metafile: true,
  });
  // Input paths are relative to absWorkingDir (the repository root).
  await writeFile(inputsFile, JSON.stringify(Object.keys(result.metafile.inputs)));
}

const bin = new URL('dist/cli.js', root);
await writeFile(bin, "#!/usr/bin/env node\nimport './src/cli.js';\n");
await chmod(bin, 0o755);
