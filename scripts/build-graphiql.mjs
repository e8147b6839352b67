// Bundles GraphiQL with its styles into dist/graphiql/, so the server can serve it with no CDN.
// Also writes dist/cli.js, the package's bin, which loads the compiled CLI.
import { build } from 'esbuild';
import { chmod, writeFile } from 'node:fs/promises';

const root = new URL('..', import.meta.url);

await build({
  entryPoints: { app: new URL('src/server/graphiql/client.js', root).pathname },
  outdir: new URL('dist/graphiql/', root).pathname,
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  define: { 'process.env.NODE_ENV': '"production"' },
  loader: { '.woff': 'dataurl', '.woff2': 'dataurl', '.ttf': 'dataurl', '.svg': 'dataurl' },
  logLevel: 'warning',
});

const bin = new URL('dist/cli.js', root);
await writeFile(bin, "#!/usr/bin/env node\nimport './src/cli.js';\n");
await chmod(bin, 0o755);
