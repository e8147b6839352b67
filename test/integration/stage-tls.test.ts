/**
 * https stages with real TLS: a real TLS terminator (certificates generated here, client
 * certificates required) in front of a real Stagecraft. The stage's CA decides whom we trust,
 * its client certificate and key (sealed at rest, never returned) prove who we are, on every
 * request — testStage, and the stage graph.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../support/database.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../support/server.js';

type Pems = Awaited<ReturnType<typeof generate>>;

let dev: TestServer;
let qa: TestServer;
let devToken: string;
let ca: Pems;
let otherCa: Pems;
let client: Pems;
let strangerClient: Pems;
let terminator: https.Server;
let secureUrl: string;
/** Common names of the client certificates the terminator accepted. */
const clientNames: string[] = [];

const issue = (cn: string, signer: Pems, usage: 'serverAuth' | 'clientAuth') =>
  generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca: { key: signer.private, cert: signer.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', [usage]: true },
      ...(usage === 'serverAuth' ? [{ name: 'subjectAltName' as const, altNames: [{ type: 7 as const, ip: '127.0.0.1' }, { type: 2 as const, value: 'localhost' }] }] : []),
    ],
  });
const authority = (cn: string) =>
  generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });

beforeAll(async () => {
  [dev, qa] = await Promise.all([startTestServer({ env: { STAGECRAFT_STAGE: 'dev' } }), startTestServer({ env: { STAGECRAFT_STAGE: 'qa', STAGECRAFT_SEED: 'true' } })]);
  devToken = await dev.adminToken();
  [ca, otherCa] = await Promise.all([authority('Stagecraft test CA'), authority('Some other CA')]);
  const server = await issue('qa.test', ca, 'serverAuth');
  [client, strangerClient] = await Promise.all([issue('stagecraft-dev', ca, 'clientAuth'), issue('stranger', otherCa, 'clientAuth')]);

  // TLS in front of qa: only clients with a certificate from our CA get through.
  const qaUrl = new URL(qa.url);
  terminator = https.createServer({ key: server.private, cert: server.cert, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    clientNames.push(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN));
    const upstream = http.request({ host: qaUrl.hostname, port: qaUrl.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((r) => terminator.listen(0, '127.0.0.1', r));
  secureUrl = `https://127.0.0.1:${(terminator.address() as AddressInfo).port}`;
});
afterAll(async () => {
  terminator?.closeAllConnections();
  terminator?.close();
  await Promise.all([dev?.stop(), qa?.stop()]);
});

const TEST = 'mutation($i: CreateStageInput) { testStage(input: $i) { ok message remoteStage } }';
const stageInput = (tls: Record<string, string>) => ({ name: 'secure', url: secureUrl, username: 'admin', password: ADMIN_PASSWORD, ...tls });

describe('https stages', () => {
  it('fail the handshake without the right CA, and are refused without our client certificate', async () => {
    const untrusted: [string, Record<string, string>][] = [
      ['system CAs only', {}],
      ['another CA', { caCertificate: otherCa.cert }],
    ];
    for (const [what, tls] of untrusted) {
      const res = await dev.gql(TEST, { i: stageInput(tls) }, devToken);
      expect(res.errors, what).toBeUndefined();
      expect(res.data!.testStage, what).toEqual({ ok: false, message: `STAGE_UNREACHABLE: stage secure at ${secureUrl}: TLS handshake failed`, remoteStage: null });
    }
    // Refused by the stage: under TLS 1.3 a server hangs up after the handshake instead of
    // alerting, so we may only know the connection was cut ("unreachable").
    const refused: [string, Record<string, string>][] = [
      ['a client certificate the stage does not trust', { caCertificate: ca.cert, clientCertificate: strangerClient.cert, clientKey: strangerClient.private }],
      ['no client certificate', { caCertificate: ca.cert }],
    ];
    for (const [what, tls] of refused) {
      const res = await dev.gql(TEST, { i: stageInput(tls) }, devToken);
      expect(res.data!.testStage, what).toEqual({
        ok: false,
        message: expect.stringMatching(new RegExp(`^STAGE_UNREACHABLE: stage secure at ${secureUrl}: (TLS handshake failed|unreachable)$`)),
        remoteStage: null,
      });
    }
    expect(clientNames).toEqual([]); // no request got through the terminator
  });

  it('reach the stage with its CA and our client certificate, on every request', async () => {
    const ok = await dev.gql(TEST, { i: stageInput({ caCertificate: ca.cert, clientCertificate: client.cert, clientKey: client.private }) }, devToken);
    expect(ok.data!.testStage).toMatchObject({ ok: true, remoteStage: 'qa' });

    const created = await dev.gql(
      'mutation($i: CreateStageInput!) { createStage(input: $i) { name url caCertificate clientCertificate hasClientKey } }',
      { i: stageInput({ caCertificate: ca.cert, clientCertificate: client.cert, clientKey: client.private }) },
      devToken,
    );
    expect(created.errors).toBeUndefined();
    expect(created.data!.createStage).toMatchObject({ name: 'secure', url: secureUrl, hasClientKey: true, clientCertificate: expect.stringContaining('BEGIN CERTIFICATE') });
    expect(JSON.stringify(created)).not.toMatch(/PRIVATE KEY/);

    clientNames.length = 0;
    const saved = await dev.gql('mutation { testStage(name: "secure") { ok remoteStage } }', {}, devToken);
    expect(saved.data!.testStage).toEqual({ ok: true, remoteStage: 'qa' });
    const graph = await dev.gql('{ stage(name: "secure") { assets(filter: { types: [API] }) { totalCount } } }', {}, devToken);
    expect(graph.errors).toBeUndefined();
    expect(graph.data!.stage.assets.totalCount).toBeGreaterThan(0);
    expect(clientNames.length).toBeGreaterThanOrEqual(2);
    expect(new Set(clientNames)).toEqual(new Set(['stagecraft-dev']));

    // the key is sealed at rest, bound to the stage, and never logged
    const [row] = await sql(dev.databaseUrl, "SELECT sealed_client_key, client_certificate FROM stages WHERE name = 'secure'");
    expect(row.sealed_client_key).toMatch(/^sc1:\d+:/);
    expect(row.sealed_client_key).not.toContain('PRIVATE');
    expect(dev.logs.some((l) => JSON.stringify(l).includes('PRIVATE KEY'))).toBe(false);
  });

  it('keep the key across edits, drop it with the certificate, and need the password to change the CA', async () => {
    const update = (input: Record<string, unknown>) =>
      dev.gql('mutation($i: UpdateStageInput!) { updateStage(name: "secure", input: $i) { name hasClientKey clientCertificate caCertificate } }', { i: input }, devToken);
    expect((await update({ description: 'qa over TLS' })).data!.updateStage).toMatchObject({ hasClientKey: true });
    expect((await dev.gql('mutation { testStage(name: "secure") { ok } }', {}, devToken)).data!.testStage.ok).toBe(true);

    const newTrust = await update({ caCertificate: otherCa.cert });
    expect(newTrust.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password' });
    const plain = await update({ url: secureUrl.replace('https:', 'http:'), password: ADMIN_PASSWORD });
    expect(plain.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'caCertificate' });
    const wrongKey = await update({ clientKey: strangerClient.private });
    expect(wrongKey.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'clientKey' });

    const dropped = await update({ clientCertificate: null });
    expect(dropped.data!.updateStage).toMatchObject({ hasClientKey: false, clientCertificate: null });
    clientNames.length = 0;
    expect((await dev.gql('mutation { testStage(name: "secure") { ok message } }', {}, devToken)).data!.testStage).toEqual({
      ok: false,
      message: expect.stringMatching(/: (TLS handshake failed|unreachable)$/),
    });
    expect(clientNames).toEqual([]);
  });
});
