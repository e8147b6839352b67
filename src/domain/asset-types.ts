/**
 * Asset types and their specs. Each spec is a strict zod schema: unknown fields and wrong types
 * are refused (naming the field), and every field has a default where one makes sense, so
 * `spec: {}` is valid for most types and the normalised form (defaults filled in) is what the
 * checksum covers.
 */
import { z } from 'zod';
import { jsonProblem } from './input-rules.js';

export const assetTypes = [
  'API',
  'POLICY',
  'ALIAS',
  'APPLICATION',
  'PACKAGE',
  'PLAN',
  'SUBSCRIPTION',
  'TEAM',
  'GROUP',
  'APPROVAL_CONFIGURATION',
  'ACCESS_PROFILE',
  'KEYSTORE',
  'TRUSTSTORE',
  'KEYSTORE_CONFIGURATION',
  'EMAIL_DESTINATION',
  'SERVICE_REGISTRY',
  'CUSTOM_DESTINATION',
  'EXTENDED_SETTINGS',
  'LOAD_BALANCER',
  'URL_ALIASES',
  'THREAT_PROTECTION_GLOBAL_DOS',
  'THREAT_PROTECTION_DOS_BY_IP',
  'THREAT_PROTECTION_RULE',
  'THREAT_PROTECTION_MOBILE',
  'THREAT_PROTECTION_ALERT_SETTINGS',
  'GLOBAL_POLICY',
  'POLICY_TEMPLATE',
  'API_FAULT',
  'CUSTOM_CONTENT_TYPES',
  'CALLBACK_PROCESSOR_SETTINGS',
  'SAML_ISSUER',
  'CUSTOM_ASSERTION',
  'KERBEROS',
  'JWT_OAUTH_OPENID',
  'AUTHORIZATION_SERVER_PROVIDER',
  'API_GATEWAY_DESTINATION',
  'API_PORTAL_DESTINATION',
  'ELASTICSEARCH_DESTINATION',
  'EMAIL_TEMPLATE',
  'APPLICATION_REGISTRATION',
] as const;
export type AssetType = (typeof assetTypes)[number];

export const isAssetType = (value: string): value is AssetType => (assetTypes as readonly string[]).includes(value);

const httpMethod = z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
const settings = z.record(z.string(), z.unknown()).default({});
const strings = z.array(z.string()).default([]);
/**
 * A web address a client or gateway will call: http or https only (no `javascript:`, `data:` …),
 * a host, and a port in 1–65535 when one is given (the URL parser refuses larger ones).
 */
const webUrl = z.url({ protocol: /^https?$/, hostname: /^.+$/, message: 'must be an http(s) URL' }).refine((v) => URL.canParse(v) && new URL(v).port !== '0', 'port must be 1 to 65535');
const optionalWebUrl = z.union([z.literal(''), webUrl]).default('');

const route = z.strictObject({
  method: httpMethod,
  path: z.string().regex(/^\//, 'must start with /'),
  description: z.string().default(''),
  /** A sample response body (JSON), as OpenAPI's `example`; for documentation and demo upstreams. */
  example: z.json().optional(),
});

/** A secure string: accepted on write, sealed at rest, never returned ('' = keep the stored one). */
const secret = z.string().max(10_000).default('');
const port = z.number().int().min(1).max(65535);
const seconds = (fallback: number) => z.number().int().min(1).max(86_400).default(fallback);
const ipList = z.array(z.string().max(100)).max(1000).default([]);

/** Alias kinds (webMethods' alias types). Secure attributes of each kind are listed in `aliasSecureAttributes`. */
export const aliasKinds = [
  'SIMPLE',
  'ENDPOINT',
  'AUTHENTICATION',
  'HTTP_TRANSPORT_SECURITY',
  'SOAP_MESSAGE_SECURITY',
  'AUTHORIZATION_SERVER',
  'AWS_CONFIGURATION',
  'SERVICE_REGISTRY',
  'INTEGRATION_SERVER',
  'TRANSFORMATION',
] as const;
export type AliasKind = (typeof aliasKinds)[number];

/**
 * The structured attributes of each alias kind beside its `value` (all optional: an alias may
 * hold a value alone). Fields named in `aliasSecureAttributes` are sealed like a secure value.
 */
const aliasAttributes: Record<AliasKind, z.ZodType> = {
  SIMPLE: z.strictObject({}),
  ENDPOINT: z.strictObject({ connectionTimeoutSeconds: seconds(30), readTimeoutSeconds: seconds(30), keystoreAlias: z.string().max(200).default('') }),
  AUTHENTICATION: z.strictObject({ type: z.enum(['BASIC', 'DIGEST', 'NTLM', 'OAUTH2', 'JWT', 'KERBEROS']).default('BASIC'), username: z.string().max(200).default(''), password: secret }),
  HTTP_TRANSPORT_SECURITY: z.strictObject({ authType: z.enum(['BASIC', 'DIGEST', 'NTLM', 'OAUTH2', 'KERBEROS', 'ANONYMOUS']).default('BASIC'), username: z.string().max(200).default(''), password: secret, keystoreAlias: z.string().max(200).default(''), keyAlias: z.string().max(200).default('') }),
  SOAP_MESSAGE_SECURITY: z.strictObject({ username: z.string().max(200).default(''), password: secret, signingKeyAlias: z.string().max(200).default(''), encryptionKeyAlias: z.string().max(200).default(''), timestampSeconds: seconds(300) }),
  AUTHORIZATION_SERVER: z.strictObject({ issuer: optionalWebUrl, tokenEndpoint: optionalWebUrl, introspectionEndpoint: optionalWebUrl, clientId: z.string().max(500).default(''), clientSecret: secret }),
  AWS_CONFIGURATION: z.strictObject({ region: z.string().max(50).default(''), accessKeyId: z.string().max(200).default(''), secretAccessKey: secret }),
  SERVICE_REGISTRY: z.strictObject({ registry: z.string().max(200).default(''), serviceName: z.string().max(200).default(''), namespace: z.string().max(200).default('') }),
  INTEGRATION_SERVER: z.strictObject({ url: optionalWebUrl, username: z.string().max(200).default(''), password: secret }),
  TRANSFORMATION: z.strictObject({ language: z.enum(['XSLT', 'JSONATA', 'XPATH']).default('XSLT'), document: z.string().max(100_000).default('') }),
};

/** Secure attributes per alias kind: sealed whether or not the alias is marked secure. */
export const aliasSecureAttributes: Record<AliasKind, readonly string[]> = {
  SIMPLE: [],
  ENDPOINT: [],
  AUTHENTICATION: ['password'],
  HTTP_TRANSPORT_SECURITY: ['password'],
  SOAP_MESSAGE_SECURITY: ['password'],
  AUTHORIZATION_SERVER: ['clientSecret'],
  AWS_CONFIGURATION: ['secretAccessKey'],
  SERVICE_REGISTRY: [],
  INTEGRATION_SERVER: ['password'],
  TRANSFORMATION: [],
};

const aliasSpec = z
  .strictObject({
    /** Plain value; for a secure alias it is accepted on write, stored sealed and never returned. */
    value: z.string().default(''),
    /** The stage this variant is bound to; null = the unbound default. */
    stage: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be a stage name')
      .nullable()
      .default(null),
    secure: z.boolean().default(false),
    kind: z.enum(aliasKinds).default('SIMPLE'),
    /** The kind's structured attributes; absent when the alias holds a value only. */
    attributes: z.record(z.string(), z.unknown()).optional(),
  })
  .transform((alias, ctx) => {
    if (alias.attributes === undefined) return alias;
    const parsed = aliasAttributes[alias.kind].safeParse(alias.attributes);
    if (parsed.success) return { ...alias, attributes: parsed.data as Record<string, unknown> };
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: ['attributes', ...issue.path] } as never);
    return z.NEVER;
  });

/**
 * What a type is, declared once: its spec (strict: unknown fields refused), the types it may
 * reference (required ones always travel with it, optional ones when chosen), and its secure
 * fields (top-level strings sealed at rest and in archives, never returned). Adding a type is
 * adding an entry here (and its name to `assetTypes`); the dependency table, the GraphQL enum,
 * search, archives and promotion all read this.
 */
export interface TypeDeclaration {
  spec: z.ZodType;
  required?: readonly AssetType[];
  optional?: readonly AssetType[];
  secure?: readonly string[];
}

export const assetCatalog: Record<AssetType, TypeDeclaration> = {
  API: {
    spec: z.strictObject({
      apiType: z.enum(['REST', 'SOAP', 'GRAPHQL', 'WEBSOCKET']).default('REST'),
      basePath: z.string().regex(/^\//, 'must start with /').default('/'),
      routes: z.array(route).default([]),
      tags: strings,
      maturity: z.enum(['BETA', 'STABLE', 'DEPRECATED']).default('STABLE'),
    }),
    required: ['POLICY', 'ALIAS'],
    optional: ['APPLICATION', 'APPLICATION_REGISTRATION'],
  },
  POLICY: {
    spec: z.strictObject({
      kind: z.enum(['AUTHENTICATION', 'RATE_LIMIT', 'CORS', 'IP_FILTER', 'TRANSFORMATION', 'LOGGING', 'CUSTOM']).default('CUSTOM'),
      phase: z.enum(['REQUEST', 'RESPONSE', 'ERROR']).default('REQUEST'),
      config: settings,
    }),
  },
  ALIAS: { spec: aliasSpec },
  APPLICATION: {
    spec: z.strictObject({
      contactEmail: z.email().nullable().default(null),
      identifiers: strings,
      redirectUris: z.array(webUrl).default([]),
    }),
    optional: ['API', 'APPLICATION_REGISTRATION'],
  },
  PACKAGE: {
    spec: z.strictObject({ visibility: z.enum(['PUBLIC', 'PRIVATE']).default('PUBLIC'), tags: strings }),
    required: ['API', 'PLAN', 'POLICY'],
    optional: ['SUBSCRIPTION'],
  },
  PLAN: {
    spec: z.strictObject({
      rateLimit: z
        .strictObject({ requests: z.number().int().positive().default(1000), perSeconds: z.number().int().positive().default(60) })
        .default({ requests: 1000, perSeconds: 60 }),
      price: z.number().nonnegative().default(0),
      currency: z.string().length(3).default('USD'),
    }),
    required: ['POLICY'],
  },
  SUBSCRIPTION: { spec: z.strictObject({ status: z.enum(['ACTIVE', 'PENDING', 'SUSPENDED']).default('ACTIVE') }), required: ['PACKAGE', 'PLAN'], optional: ['APPLICATION'] },
  TEAM: { spec: z.strictObject({ email: z.email().nullable().default(null) }), required: ['GROUP'] },
  GROUP: { spec: z.strictObject({ members: strings }) },
  APPROVAL_CONFIGURATION: { spec: z.strictObject({ approvers: strings, events: strings }), required: ['ACCESS_PROFILE'] },
  ACCESS_PROFILE: { spec: z.strictObject({ permissions: strings }) },
  KEYSTORE: { spec: z.strictObject({ format: z.enum(['JKS', 'PKCS12', 'PEM']).default('PKCS12'), aliases: strings }) },
  TRUSTSTORE: { spec: z.strictObject({ format: z.enum(['JKS', 'PKCS12', 'PEM']).default('PKCS12'), aliases: strings }) },
  KEYSTORE_CONFIGURATION: { spec: z.strictObject({ keyAlias: z.string().default('') }), required: ['KEYSTORE', 'TRUSTSTORE'] },
  EMAIL_DESTINATION: {
    spec: z.strictObject({ host: z.string().default(''), port: z.number().int().min(1).max(65535).default(25), from: z.string().default('') }),
    required: ['TRUSTSTORE'],
  },
  SERVICE_REGISTRY: {
    spec: z.strictObject({ url: optionalWebUrl, registryType: z.enum(['DNS', 'NACOS', 'KUBERNETES', 'CUSTOM']).default('CUSTOM') }),
    required: ['KEYSTORE', 'TRUSTSTORE'],
  },
  CUSTOM_DESTINATION: { spec: z.strictObject({ endpoint: optionalWebUrl, events: strings }), required: ['KEYSTORE', 'TRUSTSTORE', 'ALIAS'] },
  EXTENDED_SETTINGS: { spec: z.strictObject({ settings }) },
  LOAD_BALANCER: { spec: z.strictObject({ urls: strings }) },
  URL_ALIASES: { spec: z.strictObject({ aliases: z.record(z.string(), z.string()).default({}) }) },

  // Threat protection (Policies > Threat protection).
  THREAT_PROTECTION_GLOBAL_DOS: {
    spec: z.strictObject({ enabled: z.boolean().default(false), maxRequestsPerSecond: z.number().int().min(1).max(1_000_000).default(1000), blockIntervalSeconds: seconds(60), trustedIps: ipList, errorMessage: z.string().max(1000).default('') }),
  },
  THREAT_PROTECTION_DOS_BY_IP: {
    spec: z.strictObject({ enabled: z.boolean().default(false), maxRequestsPerIp: z.number().int().min(1).max(1_000_000).default(100), intervalSeconds: seconds(1), blockIntervalSeconds: seconds(60), trustedIps: ipList, deniedIps: ipList }),
  },
  THREAT_PROTECTION_RULE: {
    spec: z.strictObject({
      enabled: z.boolean().default(true),
      priority: z.number().int().min(0).max(10_000).default(0),
      filters: z.array(z.strictObject({ kind: z.enum(['SQL_INJECTION', 'XSS', 'XML', 'JSON', 'MESSAGE_SIZE', 'REGEX', 'ANTIVIRUS']), setting: z.string().max(1000).default('') })).max(50).default([]),
      action: z.enum(['DENY', 'ALERT', 'DENY_AND_ALERT']).default('DENY'),
    }),
  },
  THREAT_PROTECTION_MOBILE: {
    spec: z.strictObject({ enabled: z.boolean().default(false), devices: z.array(z.strictObject({ platform: z.enum(['ANDROID', 'IOS', 'OTHER']), minVersion: z.string().max(40).default('') })).max(50).default([]), blockedApps: strings }),
  },
  THREAT_PROTECTION_ALERT_SETTINGS: {
    spec: z.strictObject({ destinations: z.array(z.enum(['API_GATEWAY', 'API_PORTAL', 'ELASTICSEARCH', 'EMAIL', 'CUSTOM'])).default([]), frequency: z.enum(['EVERY_TIME', 'ONCE']).default('EVERY_TIME'), emailRecipients: z.array(z.email()).max(100).default([]) }),
  },
  // Policies > Global policies / Policy templates: both are made of policies.
  GLOBAL_POLICY: {
    spec: z.strictObject({ enabled: z.boolean().default(false), scope: z.strictObject({ apiTypes: z.array(z.enum(['REST', 'SOAP', 'GRAPHQL', 'WEBSOCKET'])).default([]), tags: strings }).default({ apiTypes: [], tags: [] }) }),
    required: ['POLICY'],
  },
  POLICY_TEMPLATE: { spec: z.strictObject({ apiType: z.enum(['REST', 'SOAP', 'GRAPHQL', 'WEBSOCKET']).default('REST') }), required: ['POLICY'] },
  // Administration > General.
  API_FAULT: {
    spec: z.strictObject({ sendNativeFault: z.boolean().default(false), contentType: z.string().max(200).default('application/json'), template: z.string().max(100_000).default('') }),
  },
  CUSTOM_CONTENT_TYPES: { spec: z.strictObject({ mappings: z.record(z.string().max(200), z.enum(['JSON', 'XML', 'TEXT', 'BINARY'])).default({}) }) },
  CALLBACK_PROCESSOR_SETTINGS: { spec: z.strictObject({ enabled: z.boolean().default(false), timeoutSeconds: seconds(30), retries: z.number().int().min(0).max(20).default(0) }) },
  // Administration > Security.
  SAML_ISSUER: {
    spec: z.strictObject({ issuerName: z.string().max(500).default(''), keystoreAlias: z.string().max(200).default(''), keyAlias: z.string().max(200).default(''), keyPassword: secret }),
    secure: ['keyPassword'],
  },
  CUSTOM_ASSERTION: { spec: z.strictObject({ namespace: z.string().max(500).default(''), assertion: z.string().max(100_000).default('') }) },
  KERBEROS: {
    spec: z.strictObject({ realm: z.string().max(200).default(''), kdc: z.string().max(500).default(''), principal: z.string().max(500).default(''), keytab: secret, password: secret }),
    secure: ['keytab', 'password'],
  },
  JWT_OAUTH_OPENID: {
    spec: z.strictObject({
      issuer: z.string().max(500).default(''),
      audience: z.string().max(500).default(''),
      tokenLifetimeSeconds: seconds(3600),
      signingAlgorithm: z.enum(['HS256', 'HS512', 'RS256', 'RS512', 'ES256']).default('RS256'),
      signingSecret: secret,
    }),
    secure: ['signingSecret'],
  },
  AUTHORIZATION_SERVER_PROVIDER: {
    spec: z.strictObject({
      kind: z.enum(['OAUTH2', 'OPENID', 'OKTA', 'PINGFEDERATE', 'AZURE_AD', 'CUSTOM']).default('OAUTH2'),
      issuer: optionalWebUrl,
      authorizeUrl: optionalWebUrl,
      tokenUrl: optionalWebUrl,
      introspectionUrl: optionalWebUrl,
      clientId: z.string().max(500).default(''),
      clientSecret: secret,
      scopes: strings,
    }),
    secure: ['clientSecret'],
  },
  // Administration > Destinations.
  API_GATEWAY_DESTINATION: { spec: z.strictObject({ events: strings, performanceIntervalMinutes: z.number().int().min(1).max(1440).default(5) }) },
  API_PORTAL_DESTINATION: {
    spec: z.strictObject({ url: optionalWebUrl, username: z.string().max(200).default(''), password: secret, events: strings }),
    secure: ['password'],
  },
  ELASTICSEARCH_DESTINATION: {
    spec: z.strictObject({ hosts: z.array(webUrl).max(20).default([]), indexPrefix: z.string().max(200).default('gateway'), username: z.string().max(200).default(''), password: secret, events: strings }),
    secure: ['password'],
  },
  EMAIL_TEMPLATE: {
    spec: z.strictObject({ event: z.string().max(200).default(''), subject: z.string().max(1000).default(''), body: z.string().max(100_000).default(''), contentType: z.enum(['TEXT', 'HTML']).default('TEXT') }),
    required: ['EMAIL_DESTINATION'],
  },
  // Applications > registrations with an authorization server (optional for APIs and applications).
  APPLICATION_REGISTRATION: {
    spec: z.strictObject({ provider: z.string().max(200).default(''), clientId: z.string().max(500).default(''), clientSecret: secret, redirectUris: z.array(webUrl).default([]), scopes: strings }),
    secure: ['clientSecret'],
  },
};

/** Each type's spec schema (the catalog's, for callers that need only that). */
export const specSchemas = Object.fromEntries(assetTypes.map((t) => [t, assetCatalog[t].spec])) as Record<AssetType, z.ZodType>;

export type Spec = Record<string, unknown>;

export class SpecError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Validates a spec and fills in its defaults. Throws SpecError naming the first bad field. */
export function normaliseSpec(type: AssetType, spec: unknown): Spec {
  // Size, depth and string rules first: the schemas below walk the value recursively.
  const problem = jsonProblem(spec ?? {});
  if (problem) throw new SpecError('spec', `spec ${problem}`);
  const result = specSchemas[type].safeParse(spec ?? {});
  if (result.success) return result.data as Spec;
  const issue = result.error.issues[0]!;
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const path = ['spec', ...issue.path.map(String), ...keys.slice(0, 1)].join('.');
  const message = issue.code === 'unrecognized_keys' ? `unknown field for ${type}` : issue.message;
  throw new SpecError(path, `${path}: ${message}`);
}

/** Types whose assets carry a version (and belong to a version set). */
export const versionedTypes: readonly AssetType[] = ['API'];
