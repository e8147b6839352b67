/**
 * Upstream nodes from service registries, as their documented APIs give them:
 * - DNS: SRV records (`_service._proto.name` or any SRV name) at the configured resolver, each
 *   target resolved to its A records; a serviceName `host:port` is an A lookup on that port.
 * - NACOS: the open API instance list (`/nacos/v1/ns/instance/list`), healthy and enabled ones.
 * - KUBERNETES: EndpointSlices of the service (`discovery.k8s.io/v1`), ready endpoints.
 */
import { lookup, Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Discovery, UpstreamNode } from './config.js';

export async function resolveNodes(discovery: Discovery, timeoutMs = 5000): Promise<UpstreamNode[]> {
  switch (discovery.registry.type) {
    case 'DNS':
      return resolveDns(discovery, timeoutMs);
    case 'NACOS':
      return resolveNacos(discovery, timeoutMs);
    case 'KUBERNETES':
      return resolveKubernetes(discovery, timeoutMs);
  }
}

async function resolveDns({ registry, serviceName }: Discovery, timeoutMs: number): Promise<UpstreamNode[]> {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  const [host, port] = registry.address.split(':') as [string, string | undefined];
  // setServers takes IP addresses only; a resolver given by name (kube-dns.kube-system:53) is looked up first
  const server = isIP(host) ? host : (await lookup(host, { family: 4 })).address;
  resolver.setServers([`${server}:${port ?? 53}`]);
  const plain = /^(.+):(\d+)$/.exec(serviceName);
  if (plain) {
    const addresses = await resolver.resolve4(plain[1]!);
    return addresses.map((address) => ({ host: address, port: Number(plain[2]), weight: 1 }));
  }
  const records = await resolver.resolveSrv(serviceName);
  const nodes: UpstreamNode[] = [];
  for (const record of records) {
    const addresses = /^\d+\.\d+\.\d+\.\d+$/.test(record.name) ? [record.name] : await resolver.resolve4(record.name);
    for (const address of addresses) nodes.push({ host: address, port: record.port, weight: Math.max(1, record.weight) });
  }
  return nodes;
}

async function fetchJson(url: string, token: string | null, timeoutMs: number): Promise<unknown> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  return res.json();
}

async function resolveNacos({ registry, namespace, serviceName }: Discovery, timeoutMs: number): Promise<UpstreamNode[]> {
  const url = new URL('/nacos/v1/ns/instance/list', registry.address);
  url.searchParams.set('serviceName', serviceName);
  if (namespace) url.searchParams.set('namespaceId', namespace);
  url.searchParams.set('healthyOnly', 'true');
  if (registry.token) url.searchParams.set('accessToken', registry.token);
  const body = (await fetchJson(url.toString(), null, timeoutMs)) as { hosts?: { ip: string; port: number; weight?: number; healthy?: boolean; enabled?: boolean }[] };
  return (body.hosts ?? [])
    .filter((h) => h.healthy !== false && h.enabled !== false)
    .map((h) => ({ host: h.ip, port: h.port, weight: Math.max(1, Math.round(h.weight ?? 1)) }));
}

async function resolveKubernetes({ registry, namespace, serviceName }: Discovery, timeoutMs: number): Promise<UpstreamNode[]> {
  const url = new URL(`/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(namespace ?? 'default')}/endpointslices`, registry.address);
  url.searchParams.set('labelSelector', `kubernetes.io/service-name=${serviceName}`);
  const body = (await fetchJson(url.toString(), registry.token, timeoutMs)) as {
    items?: { ports?: { port?: number }[]; endpoints?: { addresses?: string[]; conditions?: { ready?: boolean } }[] }[];
  };
  const nodes: UpstreamNode[] = [];
  for (const slice of body.items ?? []) {
    const port = slice.ports?.[0]?.port;
    if (!port) continue;
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false) continue;
      for (const address of endpoint.addresses ?? []) nodes.push({ host: address, port, weight: 1 });
    }
  }
  return nodes;
}
