import { describe, expect, it } from 'vitest';
import type { GatewayConfig, RouteConfig, ServiceConfig } from '../../src/dataplane/config.js';
import { compileRoutes, normaliseHost } from '../../src/dataplane/router.js';

function service(name: string, routes: Partial<RouteConfig>[]): ServiceConfig {
  return {
    name,
    version: '1.0.0',
    serviceVersionId: `sv-${name}`,
    routes: routes.map((r, i) => ({ id: `${name}-r${i}`, methods: [], paths: [], host: null, ...r })),
    upstream: { nodes: [{ host: '127.0.0.1', port: 1, weight: 1 }], discovery: null, scheme: 'http', timeoutMs: 1000, retries: 0, passiveHealth: { failures: 3, ejectMs: 1000 } },
  };
}

const config = (...services: ServiceConfig[]): GatewayConfig => ({ group: 'g', revision: 1, services });

/** Which service and route answer; null when nothing matches. */
function matcher(cfg: GatewayConfig) {
  const table = compileRoutes(cfg);
  return (method: string, path: string, host: string | null = null) => {
    const m = table.match(method, path, host);
    return m ? `${m.service.name}:${m.route.id}` : null;
  };
}

describe('route table', () => {
  it('matches exact paths', () => {
    const match = matcher(config(service('pets', [{ paths: ['/store/inventory'] }])));
    expect(match('GET', '/store/inventory')).toBe('pets:pets-r0');
    expect(match('GET', '/store/inventory/')).toBeNull();
    expect(match('GET', '/store')).toBeNull();
    expect(match('GET', '/store/inventory/x')).toBeNull();
  });

  it('matches one segment per parameter and decodes the values', () => {
    const table = compileRoutes(config(service('pets', [{ paths: ['/pet/{petId}', '/user/{name}/orders/{orderId}'] }])));
    expect(table.match('GET', '/pet/42', null)?.params).toEqual({ petId: '42' });
    expect(table.match('GET', '/pet/a%20b', null)?.params).toEqual({ petId: 'a b' });
    expect(table.match('GET', '/pet/%zz', null)?.params).toEqual({ petId: '%zz' });
    expect(table.match('GET', '/user/ann/orders/7', null)?.params).toEqual({ name: 'ann', orderId: '7' });
    expect(table.match('GET', '/pet/', null)).toBeNull();
    expect(table.match('GET', '/pet/1/2', null)).toBeNull();
    expect(table.match('GET', '/pet', null)).toBeNull();
  });

  it('matches prefixes, the bare prefix included', () => {
    const match = matcher(config(service('web', [{ paths: ['/static/*'] }])));
    expect(match('GET', '/static/')).toBe('web:web-r0');
    expect(match('GET', '/static')).toBe('web:web-r0');
    expect(match('GET', '/static/css/site.css')).toBe('web:web-r0');
    expect(match('GET', '/statics')).toBeNull();
  });

  it('prefers exact over parameterised over prefix', () => {
    const match = matcher(
      config(
        service('prefix', [{ paths: ['/pet/*'] }]),
        service('param', [{ paths: ['/pet/{petId}'] }]),
        service('exact', [{ paths: ['/pet/findByStatus'] }]),
      ),
    );
    expect(match('GET', '/pet/findByStatus')).toBe('exact:exact-r0');
    expect(match('GET', '/pet/12')).toBe('param:param-r0');
    expect(match('GET', '/pet/12/uploadImage')).toBe('prefix:prefix-r0');
    expect(match('GET', '/pet')).toBe('prefix:prefix-r0');
  });

  it('prefers the longest prefix, whatever the declaration order', () => {
    const match = matcher(config(service('all', [{ paths: ['/*'] }]), service('api', [{ paths: ['/api/*'] }]), service('v2', [{ paths: ['/api/v2/*'] }])));
    expect(match('GET', '/api/v2/pets')).toBe('v2:v2-r0');
    expect(match('GET', '/api/v1/pets')).toBe('api:api-r0');
    expect(match('GET', '/other')).toBe('all:all-r0');
    expect(match('GET', '/')).toBe('all:all-r0');
  });

  it('prefers a literal segment over a parameter at the first difference', () => {
    const match = matcher(config(service('generic', [{ paths: ['/{kind}/{id}/photos'] }]), service('pets', [{ paths: ['/pet/{id}/photos'] }])));
    expect(match('GET', '/pet/1/photos')).toBe('pets:pets-r0');
    expect(match('GET', '/dog/1/photos')).toBe('generic:generic-r0');
  });

  it('matches methods; an empty list means any, and a listed method wins over any', () => {
    const match = matcher(config(service('any', [{ paths: ['/pet'] }]), service('writes', [{ paths: ['/pet'], methods: ['POST', 'PUT'] }])));
    expect(match('POST', '/pet')).toBe('writes:writes-r0');
    expect(match('PUT', '/pet')).toBe('writes:writes-r0');
    expect(match('GET', '/pet')).toBe('any:any-r0');
    const only = matcher(config(service('writes', [{ paths: ['/pet', '/pet/{id}', '/files/*'], methods: ['POST'] }])));
    expect(only('GET', '/pet')).toBeNull();
    expect(only('GET', '/pet/1')).toBeNull();
    expect(only('GET', '/files/a')).toBeNull();
    expect(only('POST', '/files/a')).toBe('writes:writes-r0');
  });

  it('falls through to a less specific path when the method does not match', () => {
    const match = matcher(config(service('exact', [{ paths: ['/pet/findByStatus'], methods: ['GET'] }]), service('param', [{ paths: ['/pet/{id}'] }])));
    expect(match('GET', '/pet/findByStatus')).toBe('exact:exact-r0');
    expect(match('DELETE', '/pet/findByStatus')).toBe('param:param-r0');
  });

  it('matches hosts without port and case, and prefers host routes over host-less ones', () => {
    const match = matcher(
      config(service('plain', [{ paths: ['/pet/findByStatus'] }]), service('hosted', [{ paths: ['/*'], host: 'API.example.com' }]), service('other', [{ paths: ['/pet/*'], host: 'other.example.com' }])),
    );
    expect(match('GET', '/pet/findByStatus', 'api.example.com:8080')).toBe('hosted:hosted-r0');
    expect(match('GET', '/anything', 'Api.Example.Com')).toBe('hosted:hosted-r0');
    expect(match('GET', '/pet/findByStatus', 'unknown.example.com')).toBe('plain:plain-r0');
    expect(match('GET', '/pet/findByStatus', null)).toBe('plain:plain-r0');
    expect(match('GET', '/anything', null)).toBeNull();
    // A host's routes come first, but host-less routes still serve what they do not match.
    expect(match('GET', '/pet/findByStatus', 'other.example.com')).toBe('other:other-r0');
    expect(match('GET', '/store', 'other.example.com')).toBeNull();
  });

  it('keeps declaration order for equal routes', () => {
    const match = matcher(config(service('first', [{ paths: ['/x'] }]), service('second', [{ paths: ['/x'] }])));
    expect(match('GET', '/x')).toBe('first:first-r0');
  });

  it('skips bad paths and says why, keeping the rest', () => {
    const table = compileRoutes(config(service('s', [{ paths: ['no-slash', '/a/*/b', '/a{b}', '/x*', '/{id}/{id}', '/ok'] }])));
    expect(table.problems).toHaveLength(5);
    expect(table.problems[0]).toContain('must start with /');
    expect(table.match('GET', '/ok', null)?.route.id).toBe('s-r0');
  });

  it('normalises hosts', () => {
    expect(normaliseHost('Example.COM:8080')).toBe('example.com');
    expect(normaliseHost('example.com.')).toBe('example.com');
    expect(normaliseHost('[::1]:8080')).toBe('[::1]');
    expect(normaliseHost('127.0.0.1')).toBe('127.0.0.1');
  });
});
