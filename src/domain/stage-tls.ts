/**
 * TLS settings of an https stage, checked before they are stored: a trusted CA (PEM, one or
 * more certificates) to verify the stage's certificate, and an optional client certificate and
 * unencrypted private key for mutual TLS. Messages name the field and never repeat the input.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';

export interface StageTls {
  caCertificate: string | null;
  clientCertificate: string | null;
  clientKey: string | null;
}

export const MAX_PEM_CHARS = 64 * 1024;
const MAX_CA_CERTIFICATES = 50;

export type TlsCheck = { ok: true; value: StageTls } | { ok: false; field: keyof StageTls; reason: string };

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function certificates(pem: string): X509Certificate[] | null {
  const blocks = pem.match(CERT_BLOCK) ?? [];
  if (!blocks.length || blocks.length > MAX_CA_CERTIFICATES) return null;
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch {
    return null;
  }
}

const blank = (v: string | null | undefined) => (v === undefined || v === null || v.trim() === '' ? null : v.trim() + '\n');

export function checkStageTls(protocol: 'http:' | 'https:', input: Partial<StageTls>): TlsCheck {
  const tls: StageTls = { caCertificate: blank(input.caCertificate), clientCertificate: blank(input.clientCertificate), clientKey: blank(input.clientKey) };
  const given = (Object.keys(tls) as (keyof StageTls)[]).filter((k) => tls[k] !== null);
  if (protocol === 'http:' && given.length) return { ok: false, field: given[0]!, reason: 'is for https stages only (the url is http)' };
  for (const field of given) {
    if (tls[field]!.length > MAX_PEM_CHARS) return { ok: false, field, reason: `must be at most ${MAX_PEM_CHARS} characters of PEM` };
    if (tls[field]!.includes('\u0000')) return { ok: false, field, reason: 'must not contain NUL characters' };
  }
  if (tls.caCertificate && !certificates(tls.caCertificate)) {
    return { ok: false, field: 'caCertificate', reason: `must be 1 to ${MAX_CA_CERTIFICATES} PEM certificates (-----BEGIN CERTIFICATE-----)` };
  }
  if (!tls.clientCertificate !== !tls.clientKey) {
    return tls.clientCertificate
      ? { ok: false, field: 'clientKey', reason: 'is needed with clientCertificate' }
      : { ok: false, field: 'clientCertificate', reason: 'is needed with clientKey' };
  }
  if (tls.clientCertificate && tls.clientKey) {
    const chain = certificates(tls.clientCertificate);
    if (!chain) return { ok: false, field: 'clientCertificate', reason: 'must be a PEM certificate (-----BEGIN CERTIFICATE-----)' };
    let key;
    try {
      key = createPrivateKey({ key: tls.clientKey, format: 'pem' });
    } catch {
      return { ok: false, field: 'clientKey', reason: 'must be an unencrypted PEM private key' };
    }
    if (!chain[0]!.checkPrivateKey(key)) return { ok: false, field: 'clientKey', reason: 'does not belong to clientCertificate' };
  }
  // Certificates are stored as their PEM blocks only (text around them is dropped).
  const blocksOf = (pem: string | null) => (pem ? `${pem.match(CERT_BLOCK)!.join('\n')}\n` : null);
  return { ok: true, value: { ...tls, caCertificate: blocksOf(tls.caCertificate), clientCertificate: blocksOf(tls.clientCertificate) } };
}
