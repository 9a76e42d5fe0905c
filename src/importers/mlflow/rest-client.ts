import { Readable } from 'node:stream';
import { parseJsonLenient } from '../../lib/json-body.js';
import { SourceError } from './source.js';

/** An MLflow server's refusal: the HTTP status and its error_code, for callers that expect some. */
export class RestError extends SourceError {
  constructor(
    message: string,
    readonly status: number,
    readonly errorCode: string | undefined,
  ) {
    super(message);
  }
}

const RETRIES = 4;
// A connection the server closed or reset (not one it refused: an unreachable server fails at once).
const DROPPED = new Set(['UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNRESET', 'EPIPE']);

export type Fetch = (url: URL, init: RequestInit) => Promise<Response>;

export interface RestAuth {
  username?: string;
  password?: string;
  token?: string;
}

/** JSON calls, downloads and uploads against one MLflow server (or Cairn), with its credentials. */
export class MlflowRestClient {
  readonly base: string;
  private readonly headers: Record<string, string>;

  constructor(
    url: string,
    auth: RestAuth = {},
    private readonly fetchImpl: Fetch = (u, init) => fetch(u, init),
  ) {
    const u = new URL(url);
    // Credentials in the URL (http://user:pass@host) are the same basic auth as --username/--password.
    const username = auth.username ?? (u.username ? decodeURIComponent(u.username) : undefined);
    const password = auth.password ?? (u.password ? decodeURIComponent(u.password) : undefined);
    u.username = '';
    u.password = '';
    this.base = u.toString().replace(/\/+$/, '');
    this.headers = {};
    if (auth.token) this.headers.authorization = `Bearer ${auth.token}`;
    else if (username !== undefined) this.headers.authorization = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
  }

  /**
   * A read (a GET, or a search) whose connection dropped mid-way is sent again, a few times: a
   * busy `mlflow server` (one worker, under a long import) closes a kept-alive socket now and then,
   * and one dropped read should not skip a run. A write is not: it may have been applied.
   */
  private async send(u: URL, init: RequestInit): Promise<Response> {
    const read = (init.method ?? 'GET') === 'GET' || u.pathname.endsWith('/search');
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.fetchImpl(u, { ...init, headers: { ...this.headers, ...(init.headers as Record<string, string>) } });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        if (read && attempt < RETRIES && DROPPED.has(cause?.code ?? '')) {
          await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
          continue;
        }
        throw new SourceError(`cannot reach ${u.origin}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
      }
    }
  }

  async call(path: string, init: { method?: string; query?: Record<string, string | number | undefined>; body?: unknown } = {}): Promise<any> {
    const u = new URL(`${this.base}${path}`);
    for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    const res = await this.send(u, {
      method: init.method ?? 'GET',
      headers: init.body ? { 'content-type': 'application/json' } : {},
      body: init.body ? JSON.stringify(init.body) : undefined,
    });
    const text = await res.text();
    if (res.status === 401 || res.status === 403) throw new RestError(`${u.origin} refused the credentials (HTTP ${res.status}); check --username/--password`, res.status, undefined);
    if (!res.ok) {
      let code: string | undefined;
      try {
        code = JSON.parse(text).error_code;
      } catch {
        code = undefined;
      }
      throw new RestError(`${u.toString()} answered HTTP ${res.status}: ${text.slice(0, 200).replace(/\s+/g, ' ')}`, res.status, code);
    }
    try {
      return text ? parseJsonLenient(text) : {};
    } catch {
      throw new SourceError(`${u.toString()} did not answer JSON`);
    }
  }

  async download(path: string, query: Record<string, string>): Promise<Readable> {
    const u = new URL(`${this.base}${path}`);
    for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
    const res = await this.send(u, {});
    if (!res.ok || !res.body) throw new RestError(`${u.toString()} answered HTTP ${res.status}`, res.status, undefined);
    return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
  }

  /** A streamed PUT (the proxied artifact upload of `mlflow server`). */
  async upload(path: string, body: Readable, size: number): Promise<void> {
    const u = new URL(`${this.base}${path}`);
    const res = await this.send(u, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body: Readable.toWeb(body) as unknown as BodyInit,
      duplex: 'half',
    } as RequestInit);
    if (!res.ok) throw new RestError(`${u.toString()} answered HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`, res.status, undefined);
    await res.arrayBuffer();
  }
}
