/** Hash routes (#/path?query): parsed into a path's segments and its parameters, and back. */
export interface Route {
  /** Path segments, decoded: `#/assets/abc` → ['assets', 'abc']. */
  parts: string[];
  params: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const parts = path
    .split('/')
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  return { parts, params: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

/** `href('assets', id)` → `#/assets/<id>`; empty parameters are left out. */
export function href(...parts: (string | Record<string, string | string[] | undefined | null>)[]): string {
  const segments: string[] = [];
  const params = new URLSearchParams();
  for (const part of parts) {
    if (typeof part === 'string') segments.push(encodeURIComponent(part));
    else
      for (const [key, value] of Object.entries(part)) {
        if (Array.isArray(value)) value.filter(Boolean).forEach((v) => params.append(key, v));
        else if (value) params.set(key, value);
      }
  }
  const query = params.toString();
  return `#/${segments.join('/')}${query ? `?${query}` : ''}`;
}
