import { API_ROOT } from '../router';
// The one way the UI talks to Cairn: JSON over fetch, with the API's own error message surfaced.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type Query = Record<string, string | number | boolean | undefined | (string | number)[]>;

function queryString(q?: Query): string {
  if (!q) return '';
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) v.forEach((x) => sp.append(k, String(x)));
    else sp.append(k, String(v));
  }
  const s = sp.toString();
  return s ? `?${s}` : '';
}

export async function api<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, query?: Query): Promise<T> {
  const url = `${API_ROOT}api/${path}${queryString(query)}`;
  const sent = fetch(url, {
    method,
    headers: body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return readAnswer<T>(sent, path);
}

/** A request's JSON answer, or the API's error as an ApiError (shared with the requests index.html prefetches). */
export async function readAnswer<T>(sent: Promise<Response>, path: string): Promise<T> {
  let res: Response;
  try {
    res = await sent;
  } catch (err) {
    throw new ApiError(0, 'NETWORK_ERROR', `Cannot reach the Cairn server: ${(err as Error).message}`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = json as { error_code?: string; message?: string } | undefined;
    throw new ApiError(res.status, e?.error_code ?? `HTTP_${res.status}`, e?.message ?? (text.slice(0, 300) || res.statusText));
  }
  if (json === undefined) throw new ApiError(res.status, 'BAD_RESPONSE', `Unexpected response from ${path}: ${text.slice(0, 200)}`);
  return json as T;
}

export const get = <T>(path: string, query?: Query) => api<T>('GET', path, undefined, query);
export const post = <T>(path: string, body: unknown) => api<T>('POST', path, body);

/** True when the server has no such endpoint (an older Cairn without the UI API): callers fall back. */
export function isMissingEndpoint(err: unknown): boolean {
  return err instanceof ApiError && err.status === 404 && err.code === 'ENDPOINT_NOT_FOUND';
}
