/**
 * What a PostgreSQL error means for the caller, decided in one place: a unique (or foreign-key)
 * violation is the caller's conflict; a lost or refused connection is an outage (503), not a bug.
 */

interface DriverError {
  code?: unknown;
  message?: unknown;
  driverError?: unknown;
}

/** The SQLSTATE (or Node socket code) of a driver error, looking through TypeORM's wrapper. */
function codeOf(err: unknown): string | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const e = err as DriverError;
  if (typeof e.code === 'string') return e.code;
  return e.driverError ? codeOf(e.driverError) : undefined;
}

/** 23505: another row already holds this unique key. */
export const isUniqueViolation = (err: unknown): boolean => codeOf(err) === '23505';

/** 40P01: PostgreSQL broke a deadlock by failing this transaction; it may simply be run again. */
export const isDeadlock = (err: unknown): boolean => codeOf(err) === '40P01';

/** 23503: the row refers to one that is gone (or is still referred to). */
export const isForeignKeyViolation = (err: unknown): boolean => codeOf(err) === '23503';

const OUTAGE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN']);
// 08xxx connection exceptions, 57P01-03 shutdown / cannot connect now, 53300 too many connections.
const OUTAGE_SQLSTATES = /^(08...|57P0[123]|53300)$/;
const OUTAGE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is not established|the database system is (starting up|shutting down)/i;

/** True when the database could not be reached or dropped the connection: the request may be retried. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, hops = 0; e && typeof e === 'object' && hops < 5; hops++) {
    const { code, message } = e as DriverError;
    if (typeof code === 'string' && (OUTAGE_SOCKET_CODES.has(code) || OUTAGE_SQLSTATES.test(code))) return true;
    if (typeof message === 'string' && OUTAGE_MESSAGES.test(message)) return true;
    e = (e as DriverError).driverError ?? (e as { cause?: unknown }).cause;
  }
  return false;
}
