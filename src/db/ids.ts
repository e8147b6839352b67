/**
 * Row ids are UUIDs. This is the one place that says what a well-formed id looks like: GraphQL
 * `ID` arguments, REST parameters, cursors and archive documents all ask here, so a malformed id
 * becomes BAD_USER_INPUT or NOT_FOUND before it reaches PostgreSQL (where it would fail the
 * `uuid` cast and surface as an internal error).
 */
import { AppError, badInput } from '../errors.js';

/** Canonical lower-case UUID (what PostgreSQL returns and what we generate). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ANY_CASE_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (value: unknown): value is string => typeof value === 'string' && ANY_CASE_UUID.test(value);

/**
 * An id to look a row up by: its canonical form, or NOT_FOUND naming the kind of thing. The
 * malformed value itself is never echoed (it may be huge or hostile).
 */
export function parseId(kind: string, value: string): string {
  if (!isUuid(value)) throw new AppError('NOT_FOUND', `${kind} not found: not a valid id`, { field: 'id' });
  return value.toLowerCase();
}

/** An id given as input (an argument, a reference): its canonical form, or BAD_USER_INPUT naming the field. */
export function requireId(field: string, value: unknown): string {
  if (!isUuid(value)) throw badInput(`${field} must be an id (a UUID)`, { field });
  return value.toLowerCase();
}
