/** Serves a metrics registry over HTTP behind the metrics access rule (domain/metrics-access.ts). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FORWARDING_HEADERS, metricsAccess, metricsRefusal } from '../domain/metrics-access.js';

export async function serveMetrics(req: IncomingMessage, res: ServerResponse, token: string | undefined, render: () => Promise<string>, contentType: string): Promise<void> {
  const access = metricsAccess(token, {
    remoteAddress: req.socket.remoteAddress,
    authorization: req.headers.authorization,
    forwarded: FORWARDING_HEADERS.some((h) => req.headers[h] !== undefined),
  });
  if (access !== 'allowed') {
    const refusal = metricsRefusal(access);
    const text = JSON.stringify(refusal.body);
    res.writeHead(refusal.status, { ...refusal.headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
    res.end(text);
    return;
  }
  const text = await render();
  res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : text);
}
