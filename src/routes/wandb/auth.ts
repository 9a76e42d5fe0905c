import type { Context, MiddlewareHandler } from 'hono';
import type { Deps } from '../../deps.js';
import { principalOf } from '../../auth/policy.js';
import { peerAddress } from '../../http/trusted-proxies.js';
import { pendingKeysFile, verifyApiKey, type WandbUser } from '../../domain/wandb/api-keys.js';

/** The key from `Authorization: Basic base64("api:<key>")` (what the client sends) or `Bearer <key>`. */
export function apiKeyFrom(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (!value) return undefined;
  if (/^bearer$/i.test(scheme)) return value;
  if (!/^basic$/i.test(scheme)) return undefined;
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || decoded.slice(0, colon) !== 'api') return undefined;
  return decoded.slice(colon + 1);
}

/**
 * Every W&B route but the upload PUT (whose URL is its credential) needs a Cairn API key, auth on
 * or off (the key names the W&B user). A missing or wrong key is a 401 before anything is read or
 * written; the client does not retry it. With auth on the authentication middleware has already
 * found the account.
 */
export function requireApiKey(deps: Deps): MiddlewareHandler<{ Variables: { wandbUser: WandbUser } }> {
  let pending: string | undefined | null = null;
  return async (c, next) => {
    const p = principalOf(c);
    if (p.kind === 'user' && p.via === 'key') {
      c.set('wandbUser', { name: p.username, id: p.id, isAdmin: p.isAdmin });
      return next();
    }
    // Worked out on first use: the OpenAPI generator builds the app without any dependencies.
    if (pending === null) pending = pendingKeysFile(deps.config.backendStoreUri);
    const key = apiKeyFrom(c.req.header('authorization'));
    const user = key ? await verifyApiKey(deps.db, key, deps.now(), pending) : null;
    if (!user) return unauthorized(c);
    c.set('wandbUser', user);
    await next();
  };
}

function unauthorized(c: Context): Response {
  const message = 'Invalid or missing W&B API key. Create one with `cairn keys create` and pass it as WANDB_API_KEY or to `wandb login`.';
  // Only a caller that sent W&B credentials is challenged: to a browser (MLflow's UI calls /graphql
  // too) a Basic challenge means a login box that no Cairn account answers.
  if (apiKeyFrom(c.req.header('authorization'))) c.header('WWW-Authenticate', 'Basic realm="cairn"');
  return c.json({ errors: [{ message }], error: message }, 401);
}

/**
 * Where the client reached Cairn (scheme, host and any path prefix a proxy added), for URLs that
 * point back at this server. X-Forwarded-* count only when the peer is a trusted proxy.
 */
export function publicBaseUrl(c: Context, trustsPeer: (peer: string | undefined) => boolean): string {
  const url = new URL(c.req.url);
  const forwarded = (name: string) => (trustsPeer(peerAddress(c)) ? c.req.header(name)?.split(',')[0]?.trim() : undefined);
  const proto = forwarded('x-forwarded-proto');
  const host = forwarded('x-forwarded-host');
  const prefix = forwarded('x-forwarded-prefix')?.replace(/\/+$/, '') ?? '';
  const scheme = proto && /^https?$/.test(proto) ? proto : url.protocol.replace(':', '');
  const authority = host && /^[\w.:[\]-]+$/.test(host) ? host : url.host;
  const safePrefix = /^(\/[\w.-]+)*$/.test(prefix) ? prefix : '';
  return `${scheme}://${authority}${safePrefix}`;
}
