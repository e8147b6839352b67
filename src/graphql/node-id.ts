/**
 * Relay global object ids (the identity contract): base64url of `Kind:stage:key`. The stage in
 * the id keeps a client cache from merging dev's copy of an object with prod's (same key, other
 * stage); the kind says how `node(id)` finds it. Clients treat the id as opaque. Pure: no I/O.
 *
 * Every id argument takes the raw key (a UUID, what pipelines and the CLI use) or a global id of
 * the stage the field reads; `localKey` decides which and refuses the rest with BAD_USER_INPUT.
 */
import { isUuid } from '../db/ids.js';
import { badInput } from '../errors.js';

/** The kinds of object that have an identity. Every Asset type shares the kind `Asset`. */
export const nodeKinds = [
  'Asset',
  'Stage',
  'Promotion',
  'Rollback',
  'GatewayGroup',
  'GatewayInstance',
  'GatewayInstanceToken',
  'ServiceVersion',
  'ServiceRegistry',
  'User',
  'ApiToken',
  'ImportReport',
  'ImportBackup',
  'AccessProfile',
  'UserGroup',
] as const;
export type NodeKind = (typeof nodeKinds)[number];
const kinds = new Set<string>(nodeKinds);

export interface GlobalId {
  kind: NodeKind;
  stage: string;
  key: string;
}

const STAGE_NAME = /^[a-z][a-z0-9-]{0,39}$/;
/** Longest well-formed id: kind, a 40-character stage, a UUID key, separators, in base64url. */
export const MAX_GLOBAL_ID_CHARS = 160;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export const encodeGlobalId = (kind: NodeKind, stage: string, key: string): string => Buffer.from(`${kind}:${stage}:${key}`, 'utf8').toString('base64url');

/**
 * The parts of a well-formed global id, or null for anything else (a raw key, garbage). Keys are
 * UUIDs; only a Stage may be keyed by its name (the instance's own stage has no row).
 */
export function decodeGlobalId(id: unknown): GlobalId | null {
  if (typeof id !== 'string' || id.length > MAX_GLOBAL_ID_CHARS || !BASE64URL.test(id)) return null;
  const text = Buffer.from(id, 'base64url').toString('utf8');
  const [kind, stage, key, ...rest] = text.split(':');
  if (rest.length || !kind || !stage || !key || !kinds.has(kind) || !STAGE_NAME.test(stage)) return null;
  if (!isUuid(key) && !(kind === 'Stage' && STAGE_NAME.test(key))) return null;
  // Only the canonical encoding counts, so one object never has two ids.
  if (encodeGlobalId(kind as NodeKind, stage, key) !== id) return null;
  return { kind: kind as NodeKind, stage, key: isUuid(key) ? key.toLowerCase() : key };
}

/** Is this a value an `ID` argument may hold: a raw key (UUID) or a well-formed global id? */
export const isIdValue = (value: unknown): boolean => isUuid(value) || decodeGlobalId(value) !== null;

/**
 * The raw key an id argument names, for a field that reads `stage`: a UUID as given, or the key of
 * a global id of that stage (any stage when `stage` is null, for a field naming an object of
 * another stage; and, when `kind` is given, of that kind). BAD_USER_INPUT otherwise,
 * naming the argument but never repeating the value.
 */
export function localKey(field: string, value: string, stage: string | null, kind?: NodeKind): string {
  if (isUuid(value)) return value;
  const id = decodeGlobalId(value);
  if (!id) throw badInput(`${field} must be an id (a UUID or a global id)`, { field });
  if (stage !== null && id.stage !== stage) {
    throw badInput(`${field} is an id of stage ${id.stage}; here only ids of stage ${stage} (or raw UUIDs) are accepted`, { field });
  }
  if (kind && id.kind !== kind) throw badInput(`${field} is the id of a ${id.kind}, not of a ${kind}`, { field });
  return id.key;
}

/** The raw key of an id another stage answered: its global id decoded, or the value as it came. */
export const rawKey = (id: string): string => decodeGlobalId(id)?.key ?? id;
