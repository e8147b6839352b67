/**
 * A tiny Swagger Petstore upstream for the walkthrough: answers as petstore.swagger.io does for
 * the few calls the demo makes (GET /pet/{petId}, GET /pet/findByStatus, GET /store/inventory).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PETSTORE_DOG } from '../services/seed.js';

/**
 * Pet `id`: the seed's Dog with that id. Pet 1 is the seed's record itself and serialises to
 * the same bytes (the id keeps its place as the first key).
 */
export const dog = (id: number) => ({ ...PETSTORE_DOG, id });

export interface RunningUpstream {
  port: number;
  /** Requests served, for checks that traffic went through. */
  served(): number;
  close(): Promise<void>;
}

export async function startPetstore(port = 0, host = '127.0.0.1'): Promise<RunningUpstream> {
  let served = 0;
  const server = http.createServer((req, res) => {
    served++;
    const url = new URL(req.url ?? '/', 'http://petstore');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-upstream-port': String((server.address() as AddressInfo).port) });
      res.end(JSON.stringify(body));
    };
    const pet = /^\/pet\/(\d+)$/.exec(url.pathname);
    if (req.method === 'GET' && pet) return send(200, dog(Number(pet[1])));
    if (req.method === 'GET' && url.pathname === '/pet/findByStatus') return send(200, [dog(1), dog(2)]);
    if (req.method === 'GET' && url.pathname === '/store/inventory') return send(200, { available: 2, pending: 0, sold: 0 });
    send(404, { code: 404, type: 'error', message: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    served: () => served,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * A registry answering Nacos' open API instance list (`GET /nacos/v1/ns/instance/list`) for
 * the services it is given; enough for the walkthrough's service-discovery step.
 */
export async function startNacosRegistry(
  instances: Record<string, { ip: string; port: number; weight?: number }[]>,
  host = '127.0.0.1',
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://nacos');
    if (url.pathname !== '/nacos/v1/ns/instance/list') {
      res.writeHead(404).end();
      return;
    }
    const name = url.searchParams.get('serviceName') ?? '';
    const hosts = (instances[name] ?? []).map((i) => ({ ...i, weight: i.weight ?? 1, healthy: true, enabled: true, valid: true, serviceName: name }));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ name, groupName: 'DEFAULT_GROUP', clusters: '', cacheMillis: 10000, hosts }));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
