/** Serves GraphiQL (bundled into dist/graphiql at build time) at GET /graphql for browsers. */
import express, { type Request, type Router } from 'express';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

const assetsDir = fileURLToPath(new URL('../../../graphiql/', import.meta.url)); // dist/src/server/graphiql → dist/graphiql
const sourceAssetsDir = fileURLToPath(new URL('../../../dist/graphiql/', import.meta.url)); // src/server/graphiql → dist/graphiql

export const graphiqlAssetsDir = existsSync(assetsDir) ? assetsDir : sourceAssetsDir;

const csp = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "frame-ancestors 'none'",
].join('; ');

const escapeJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

function page(stage: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Stagecraft · ${stage}</title>
  <link rel="stylesheet" href="/graphiql/app.css">
  <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script type="application/json" id="stagecraft-settings">${escapeJson({ path: '/graphql', stage })}</script>
  <script src="/graphiql/app.js"></script>
</body>
</html>`;
}

/** A browser navigating to /graphql (Accept: text/html), not a GraphQL GET request. */
export function wantsGraphiQL(req: Request): boolean {
  return req.method === 'GET' && req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) === 'text/html' && !req.query.query;
}

export function graphiqlRouter(stage: string): Router {
  const router = express.Router();
  const html = page(stage);
  router.use('/graphiql', express.static(graphiqlAssetsDir, { maxAge: '1h', fallthrough: false }));
  router.get('/graphql', (req, res, next) => {
    if (!wantsGraphiQL(req)) return next();
    res.set('Content-Security-Policy', csp).type('html').send(html);
  });
  return router;
}
