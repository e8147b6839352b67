import express, { type Router } from 'express';
import type { Services } from '../services/index.js';

/** `/healthz`: the process answers. `/readyz`: the database answers and no migration is pending. */
export function healthRouter(services: Services): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    try {
      await services.db.query('SELECT 1');
      const pending = await services.db.showMigrations();
      if (pending) {
        res.status(503).json({ status: 'not ready', reason: 'migrations pending' });
        return;
      }
      res.json({ status: 'ready' });
    } catch {
      res.status(503).json({ status: 'not ready', reason: 'database unreachable' });
    }
  });
  return router;
}
