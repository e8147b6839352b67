/** Serves the web console (bundled into dist/console by scripts/build-console.mjs) at /. */
import express, { type Router } from 'express';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// From dist/src/server, ../../console is dist/console; from src/server (tests) it would be the
// console's *sources*, so the bundle is looked for by its app.js.
const builtDir = fileURLToPath(new URL('../../console/', import.meta.url));
const sourceDir = fileURLToPath(new URL('../../dist/console/', import.meta.url));

export const consoleAssetsDir = existsSync(`${builtDir}app.js`) ? builtDir : sourceDir;

/** Same origin only: the console talks to this server's /graphql, its WebSocket and /archive. */
const csp = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data: blob:",
  "style-src 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function consoleRouter(): Router {
  const router = express.Router();
  const index = `${consoleAssetsDir}/index.html`;
  router.use('/console', express.static(consoleAssetsDir, { maxAge: '1h', index: false, fallthrough: false }));
  router.get('/', (_req, res) => {
    if (!existsSync(index)) {
      res.status(404).type('text').send('The console is not built: run `npm run build`.\n');
      return;
    }
    res.set({ 'Content-Security-Policy': csp, 'Cache-Control': 'no-cache' }).sendFile(index);
  });
  return router;
}
