// Bundles the web console (console/) into dist/console/: app.js, app.css and index.html, all
// served by the Stagecraft server at / with nothing fetched from the internet.
//
// Apollo Client needs to know which types implement the Asset interface (possibleTypes) or it
// drops fields selected through `... on ApiAsset` fragments: they are read from
// schema/schema.graphql here, so they can never drift from the schema the server emits.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildSchema, isAbstractType } from 'graphql';

const root = new URL('..', import.meta.url);
const outdir = new URL('dist/console/', root);

function possibleTypesOf(sdl) {
  const schema = buildSchema(sdl);
  const result = {};
  for (const type of Object.values(schema.getTypeMap())) {
    if (isAbstractType(type) && !type.name.startsWith('__')) result[type.name] = schema.getPossibleTypes(type).map((t) => t.name);
  }
  return result;
}

const possibleTypes = possibleTypesOf(await readFile(new URL('schema/schema.graphql', root), 'utf8'));
const result = await build({
  entryPoints: { app: fileURLToPath(new URL('console/src/main.tsx', root)) },
  outdir: fileURLToPath(outdir),
  absWorkingDir: fileURLToPath(root),
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"', __POSSIBLE_TYPES__: JSON.stringify(possibleTypes), __DEV__: 'false' },
  logLevel: 'warning',
  write: false,
});
await mkdir(outdir, { recursive: true });
const hashes = {};
for (const file of result.outputFiles) {
  await writeFile(file.path, file.contents);
  hashes[file.path.split('/').pop()] = createHash('sha256').update(file.contents).digest('hex').slice(0, 12);
}
// The page is never cached; its scripts carry their content hash, so a new build is picked up.
const html = (await readFile(new URL('console/index.html', root), 'utf8'))
  .replace('%APP_JS%', `/console/app.js?v=${hashes['app.js']}`)
  .replace('%APP_CSS%', `/console/app.css?v=${hashes['app.css']}`);
await writeFile(new URL('index.html', outdir), html);
