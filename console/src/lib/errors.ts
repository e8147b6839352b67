/** API errors as the console shows them: each with its extensions.code and message. */
export interface ShownError {
  code: string;
  message: string;
}

interface GraphQLErrorLike {
  message: string;
  extensions?: Record<string, unknown> | null;
}

/**
 * Apollo Client 4 raises CombinedGraphQLErrors (`errors`), ServerError (a non-2xx answer, whose
 * body may still carry GraphQL errors in `bodyText`) or a plain Error (network).
 */
export function errorsOf(error: unknown): ShownError[] {
  if (!error) return [];
  const e = error as { errors?: readonly GraphQLErrorLike[]; bodyText?: string; statusCode?: number; message?: string; code?: string };
  if (Array.isArray(e.errors) && e.errors.length) return e.errors.map((g) => ({ code: String(g.extensions?.code ?? 'ERROR'), message: g.message }));
  if (typeof e.bodyText === 'string') {
    try {
      const body = JSON.parse(e.bodyText) as { errors?: GraphQLErrorLike[]; error?: { code?: string; message?: string } };
      if (body.errors?.length) return body.errors.map((g) => ({ code: String(g.extensions?.code ?? 'ERROR'), message: g.message }));
      if (body.error?.message) return [{ code: body.error.code ?? `HTTP_${e.statusCode ?? ''}`, message: body.error.message }];
    } catch {
      /* not JSON: fall through */
    }
  }
  if (e.code && e.message) return [{ code: e.code, message: e.message }];
  return [{ code: 'NETWORK_ERROR', message: e.message ?? String(error) }];
}

export const hasCode = (error: unknown, code: string): boolean => errorsOf(error).some((e) => e.code === code);
