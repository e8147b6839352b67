/**
 * The pure rules behind outbound calls and stage credentials: which URLs and addresses may be
 * contacted, the operator's allow-list, "is this the control plane itself", https stage TLS
 * settings, and how a promotion header is attributed.
 */
import { generate } from 'selfsigned';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AllowListError,
  checkOutboundHostPort,
  checkOutboundUrl,
  emptyAllowList,
  isSelf,
  parseAllowList,
  refusedAddress,
} from '../../src/domain/outbound-url.js';
import { attributePromotion } from '../../src/domain/promotion-claim.js';
import { checkStageTls, MAX_PEM_CHARS } from '../../src/domain/stage-tls.js';

const none = emptyAllowList();

describe('outbound URLs', () => {
  it('accept http(s) origins on loopback, private and public hosts, normalised', () => {
    for (const [text, origin] of [
      ['http://127.0.0.1:4000', 'http://127.0.0.1:4000'],
      ['https://QA.example.com:8443/', 'https://qa.example.com:8443'],
      ['http://10.1.2.3', 'http://10.1.2.3'],
      ['http://[::1]:4000', 'http://[::1]:4000'],
      ['http://localhost:4000', 'http://localhost:4000'],
    ]) {
      const checked = checkOutboundUrl(text!, none);
      expect(checked, text).toMatchObject({ ok: true, value: { origin } });
    }
  });

  it('refuse other schemes, credentials, paths, bad ports and oversize input, without repeating it', () => {
    const cases: [string, RegExp][] = [
      ['ftp://evil:21', /http or https/],
      ['javascript:alert(1)', /http or https/],
      ['http://user:pw@evil:80', /credentials/],
      ['http://evil:80/graphql', /without a path/],
      ['http://evil:80/?x=1', /without a path/],
      ['http://evil:0', /port/],
      ['http://evil:99999', /look like/],
      ['http://ev il:80', /spaces or control/],
      ['http://evil\u0000:80', /spaces or control/],
      [`http://evil${'a'.repeat(600)}.com`, /at most 500/],
      ['not an evil url', /spaces|look like/],
    ];
    for (const [text, reason] of cases) {
      const checked = checkOutboundUrl(text, none);
      expect(checked.ok, text).toBe(false);
      if (!checked.ok) {
        expect(checked.reason, text).toMatch(reason);
        expect(checked.reason).not.toContain('evil');
      }
    }
  });

  it('refuse link-local, metadata, unspecified and multicast hosts in every spelling', () => {
    for (const text of [
      'http://169.254.169.254',
      'http://169.254.10.1:8080',
      'http://2852039166', // 169.254.169.254 as one number
      'http://0xa9.0xfe.0xa9.0xfe',
      'http://[::ffff:169.254.169.254]',
      'http://[fe80::1]:80',
      'http://[fd00:ec2::254]',
      'http://100.100.100.200',
      'http://metadata.google.internal',
      'http://METADATA.google.internal.',
      'http://0.0.0.0:4000',
      'http://[::]:4000',
      'http://224.0.0.1',
    ]) {
      const checked = checkOutboundUrl(text, none);
      expect(checked.ok, text).toBe(false);
      if (!checked.ok) expect(checked.reason).toMatch(/STAGECRAFT_ALLOWED_HOSTS/);
    }
    expect(refusedAddress('169.254.169.254', none)).toBe('a cloud metadata address');
    expect(refusedAddress('169.254.1.1', none)).toBe('a link-local address');
    expect(refusedAddress('127.0.0.1', none)).toBeNull();
    expect(refusedAddress('192.168.1.1', none)).toBeNull();
  });

  it('allow what the operator lists: names, addresses and CIDRs', () => {
    const allow = parseAllowList(' metadata.google.internal, 169.254.10.0/24 ,fe80::1 ');
    expect(allow.entries).toEqual(['metadata.google.internal', '169.254.10.0/24', 'fe80::1']);
    expect(checkOutboundUrl('http://metadata.google.internal', allow).ok).toBe(true);
    expect(checkOutboundUrl('http://169.254.10.7:80', allow).ok).toBe(true);
    expect(checkOutboundUrl('http://169.254.11.7:80', allow).ok).toBe(false);
    expect(checkOutboundUrl('http://[fe80::1]', allow).ok).toBe(true);
    expect(checkOutboundUrl('http://[fe80::2]', allow).ok).toBe(false);
    for (const bad of ['http://x', '10.0.0.0/33', 'a b', '1.2.3.4/x']) expect(() => parseAllowList(bad), bad).toThrow(AllowListError);
    expect(parseAllowList('').entries).toEqual([]);
  });

  it('check upstream host:port the same way, and recognise the control plane itself', () => {
    expect(checkOutboundHostPort('10.0.0.5', 8080, none).ok).toBe(true);
    expect(checkOutboundHostPort('169.254.169.254', 80, none).ok).toBe(false);
    expect(checkOutboundHostPort('fe80::1', 80, none).ok).toBe(false);
    expect(checkOutboundHostPort('host', 70000, none).ok).toBe(false);
    expect(checkOutboundHostPort('a/b', 80, none).ok).toBe(false);
    const self = { port: 4000, hosts: ['0.0.0.0', '10.0.0.9', 'cp.internal'] };
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '0.0.0.0', '10.0.0.9', 'CP.internal']) expect(isSelf(host, 4000, self), host).toBe(true);
    expect(isSelf('127.0.0.1', 4001, self)).toBe(false);
    expect(isSelf('10.0.0.8', 4000, self)).toBe(false);
    expect(isSelf('127.0.0.1', 4000, null)).toBe(false);
  });
});

describe('https stage TLS settings', () => {
  let ca: Awaited<ReturnType<typeof generate>>;
  let client: Awaited<ReturnType<typeof generate>>;
  let other: Awaited<ReturnType<typeof generate>>;
  beforeAll(async () => {
    ca = await generate([{ name: 'commonName', value: 'unit CA' }], { keyType: 'ec', algorithm: 'sha256' });
    client = await generate([{ name: 'commonName', value: 'unit client' }], { keyType: 'ec', algorithm: 'sha256', ca: { key: ca.private, cert: ca.cert } });
    other = await generate([{ name: 'commonName', value: 'other' }], { keyType: 'ec', algorithm: 'sha256' });
  });

  it('accept a CA bundle and a matching client certificate and key', () => {
    const checked = checkStageTls('https:', { caCertificate: `Bag Attributes: junk\n${ca.cert}\n${other.cert}`, clientCertificate: client.cert, clientKey: client.private });
    expect(checked.ok).toBe(true);
    if (checked.ok) expect(checked.value.caCertificate).toBe(`${ca.cert.trim()}\n${other.cert.trim()}\n`);
    expect(checkStageTls('https:', {}).ok).toBe(true);
    expect(checkStageTls('http:', { caCertificate: null, clientKey: '  ' }).ok).toBe(true);
  });

  it('refuse settings that would do nothing or cannot work, naming the field and not the input', () => {
    const refused = (protocol: 'http:' | 'https:', input: Parameters<typeof checkStageTls>[1]) => {
      const checked = checkStageTls(protocol, input);
      if (checked.ok) throw new Error('accepted');
      expect(checked.reason).not.toMatch(/secret|PRIVATE/);
      return checked.field;
    };
    expect(refused('http:', { caCertificate: ca.cert })).toBe('caCertificate');
    expect(refused('https:', { caCertificate: 'secret junk' })).toBe('caCertificate');
    expect(refused('https:', { caCertificate: `${ca.cert}\u0000` })).toBe('caCertificate');
    expect(refused('https:', { caCertificate: 'x'.repeat(MAX_PEM_CHARS + 1) })).toBe('caCertificate');
    expect(refused('https:', { clientCertificate: client.cert })).toBe('clientKey');
    expect(refused('https:', { clientKey: client.private })).toBe('clientCertificate');
    expect(refused('https:', { clientCertificate: client.cert, clientKey: other.private })).toBe('clientKey');
    expect(refused('https:', { clientCertificate: client.cert, clientKey: 'secret junk' })).toBe('clientKey');
  });
});

describe('promotion header attribution', () => {
  const claim = { id: '8c7e1d1e-8f1a-4a57-9d3e-5b1c6f7a8b9c', name: 'p', description: '', promotedBy: 'alice' };

  it('records the claim next to the authenticated promoter, or the caller alone', () => {
    expect(attributePromotion(claim, { username: 'promoter', privileges: ['MANAGE_PROMOTIONS', 'EXPORT_IMPORT'] })?.promotedBy).toBe('alice via promoter');
    expect(attributePromotion(claim, { username: 'importer', privileges: ['EXPORT_IMPORT'] })?.promotedBy).toBe('importer');
    // " via " cannot be smuggled in to look like someone else signed in
    expect(attributePromotion({ ...claim, promotedBy: 'cto via admin' }, { username: 'mallory', privileges: ['MANAGE_PROMOTIONS'] })?.promotedBy).toBe('mallory');
    expect(attributePromotion(null, { username: 'x', privileges: [] })).toBeNull();
  });
});
