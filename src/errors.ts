/**
 * The error vocabulary of Stagecraft. Services throw these; one mapping (graphql/format-error.ts,
 * and the REST handlers) turns them into `extensions.code` / HTTP status. Anything else is
 * unexpected and gets masked.
 */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'VERSION_DOWNGRADE'
  | 'STAGE_UNREACHABLE'
  | 'LOCKED'
  /** A limit on concurrent or repeated work was hit; retry later. */
  | 'TOO_MANY_REQUESTS'
  /** The database (or another dependency) is unreachable; retry later. */
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra machine-readable facts for clients (field names, dependents …). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const httpStatusFor: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  BAD_USER_INPUT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  VERSION_DOWNGRADE: 409,
  STAGE_UNREACHABLE: 502,
  LOCKED: 423,
  TOO_MANY_REQUESTS: 429,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
};

export const badInput = (message: string, details?: Record<string, unknown>) =>
  new AppError('BAD_USER_INPUT', message, details);
export const notFound = (what: string, id: string) => new AppError('NOT_FOUND', `${what} ${id} not found`, { id });
export const conflict = (message: string, details?: Record<string, unknown>) =>
  new AppError('CONFLICT', message, details);
export const tooManyRequests = (message: string, details?: Record<string, unknown>) =>
  new AppError('TOO_MANY_REQUESTS', message, details);
