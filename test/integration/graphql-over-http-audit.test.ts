/**
 * GraphQL over HTTP conformance: runs graphql-http's server audits against the real server and
 * fails on any MUST requirement it does not meet (SHOULD / MAY findings are not requirements).
 */
import { serverAudits, type AuditResult } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

type AuditFail = Extract<AuditResult, { status: 'notice' | 'warn' | 'error' }>;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

/** fetch that signs every request with `token` (none = anonymous). */
function fetchWithToken(token?: string) {
  return (input: RequestInfo | URL, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (token) headers.set('authorization', `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  };
}

async function runAudits(token?: string): Promise<AuditResult[]> {
  const audits = serverAudits({ url: server.graphqlUrl, fetchFn: fetchWithToken(token) });
  expect(audits.filter((a) => a.name.startsWith('MUST')).length).toBeGreaterThan(10);
  const results: AuditResult[] = [];
  for (const audit of audits) results.push(await audit.fn());
  expect(results.map((r) => r.id)).toEqual(audits.map((a) => a.id));
  return results;
}

const isMustFailure = (r: AuditResult): r is AuditFail =>
  r.status === 'error' && (r.id.startsWith('MUST') || r.name.startsWith('MUST'));

async function bodyOf(r: AuditFail): Promise<string> {
  try {
    return await r.response.clone().text();
  } catch {
    return '<body already read>';
  }
}

async function describeFailures(failures: AuditFail[]): Promise<string> {
  const lines = await Promise.all(
    failures.map(async (r) => {
      const type = r.response.headers.get('content-type') ?? '';
      return `[${r.id}] ${r.name}\n    reason: ${r.reason}\n    response: ${r.response.status} ${type} ${(await bodyOf(r)).slice(0, 300)}`;
    }),
  );
  return lines.join('\n');
}

describe('GraphQL over HTTP (graphql-http server audits)', () => {
  it('meets every MUST requirement for a signed-in client', async () => {
    const results = await runAudits(await server.adminToken());
    const mustFailures = results.filter(isMustFailure);
    expect(mustFailures, `MUST audits failed:\n${await describeFailures(mustFailures)}`).toEqual([]);
    // An `error` status is a failed requirement, whatever its name says.
    expect(results.filter((r) => r.status === 'error').map((r) => `[${r.id}] ${r.name}`)).toEqual([]);
  });

  it('anonymously, fails MUST audits only where they use introspection, which needs a signed-in user', async () => {
    // Product rule (src/server/limits.ts checkOperation): outside development, introspection needs
    // a signed-in user. Some audits send `__type` queries; anonymously those get 401, nothing else.
    const results = await runAudits();
    const mustFailures = results.filter(isMustFailure);
    const report = await describeFailures(mustFailures);
    for (const r of mustFailures) {
      expect(r.response.status, report).toBe(401);
      const body = JSON.parse(await bodyOf(r));
      expect(body.errors?.[0], report).toMatchObject({ message: 'introspection needs a signed-in user', extensions: { code: 'UNAUTHENTICATED' } });
    }
  });
});
