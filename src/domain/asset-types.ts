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

export const specSchemas = {
  API: z.strictObject({
    apiType: z.enum(['REST', 'SOAP', 'GRAPHQL', 'WEBSOCKET']).default('REST'),
    basePath: z.string().regex(/^\//, 'must start with /').default('/'),
    routes: z.array(route).default([]),
    tags: strings,
    maturity: z.enum(['BETA', 'STABLE', 'DEPRECATED']).default('STABLE'),
  }),
  POLICY: z.strictObject({
    kind: z.enum(['AUTHENTICATION', 'RATE_LIMIT', 'CORS', 'IP_FILTER', 'TRANSFORMATION', 'LOGGING', 'CUSTOM']).default('CUSTOM'),
    phase: z.enum(['REQUEST', 'RESPONSE', 'ERROR']).default('REQUEST'),
    config: settings,
  }),
  ALIAS: z.strictObject({
    /** Plain value; for a secure alias it is accepted on write, stored sealed and never returned. */
    value: z.string().default(''),
    /** The stage this variant is bound to; null = the unbound default. */
    stage: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be a stage name')
      .nullable()
      .default(null),
    secure: z.boolean().default(false),
    kind: z.enum(['SIMPLE', 'ENDPOINT', 'AUTHENTICATION']).default('SIMPLE'),
  }),
  APPLICATION: z.strictObject({
    contactEmail: z.email().nullable().default(null),
    identifiers: strings,
    redirectUris: z.array(webUrl).default([]),
  }),
  PACKAGE: z.strictObject({
    visibility: z.enum(['PUBLIC', 'PRIVATE']).default('PUBLIC'),
    tags: strings,
  }),
  PLAN: z.strictObject({
    rateLimit: z
      .strictObject({ requests: z.number().int().positive().default(1000), perSeconds: z.number().int().positive().default(60) })
      .default({ requests: 1000, perSeconds: 60 }),
    price: z.number().nonnegative().default(0),
    currency: z.string().length(3).default('USD'),
  }),
  SUBSCRIPTION: z.strictObject({
    status: z.enum(['ACTIVE', 'PENDING', 'SUSPENDED']).default('ACTIVE'),
  }),
  TEAM: z.strictObject({
    email: z.email().nullable().default(null),
  }),
  GROUP: z.strictObject({
    members: strings,
  }),
  APPROVAL_CONFIGURATION: z.strictObject({ approvers: strings, events: strings }),
  ACCESS_PROFILE: z.strictObject({ permissions: strings }),
  KEYSTORE: z.strictObject({ format: z.enum(['JKS', 'PKCS12', 'PEM']).default('PKCS12'), aliases: strings }),
  TRUSTSTORE: z.strictObject({ format: z.enum(['JKS', 'PKCS12', 'PEM']).default('PKCS12'), aliases: strings }),
  KEYSTORE_CONFIGURATION: z.strictObject({ keyAlias: z.string().default('') }),
  EMAIL_DESTINATION: z.strictObject({ host: z.string().default(''), port: z.number().int().min(1).max(65535).default(25), from: z.string().default('') }),
  SERVICE_REGISTRY: z.strictObject({ url: optionalWebUrl, registryType: z.enum(['DNS', 'NACOS', 'KUBERNETES', 'CUSTOM']).default('CUSTOM') }),
  CUSTOM_DESTINATION: z.strictObject({ endpoint: optionalWebUrl, events: strings }),
  EXTENDED_SETTINGS: z.strictObject({ settings }),
  LOAD_BALANCER: z.strictObject({ urls: strings }),
  URL_ALIASES: z.strictObject({ aliases: z.record(z.string(), z.string()).default({}) }),
} satisfies Record<AssetType, z.ZodType>;

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
