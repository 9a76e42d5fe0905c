import type { MiddlewareHandler } from 'hono';
import type { Deps } from '../deps.js';
import { pendingKeysFile, verifyApiKey } from '../domain/wandb/api-keys.js';
import { findUser } from './accounts.js';
import { verifyPassword } from './passwords.js';
import { unauthenticated, setPrincipal } from './policy.js';
import { ANONYMOUS, OPEN, type Principal } from './principal.js';

const WANDB_PATHS = /^\/(graphql$|files\/|api\/wandb\/)/;

type Credentials = { kind: 'none' } | { kind: 'basic'; username: string; password: string } | { kind: 'bearer'; token: string } | { kind: 'malformed' };

export function credentialsFrom(header: string | undefined): Credentials {
  if (!header) return { kind: 'none' };
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (!value) return { kind: 'malformed' };
  if (/^bearer$/i.test(scheme)) return { kind: 'bearer', token: value };
  if (!/^basic$/i.test(scheme)) return { kind: 'malformed' };
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { kind: 'malformed' };
  return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * The account behind a request's credentials: HTTP Basic with a password (MLFLOW_TRACKING_USERNAME
 * and _PASSWORD), or an API key from `cairn keys create` as a bearer token (MLFLOW_TRACKING_TOKEN)
 * or as the wandb client sends it (Basic, user `api`). null for wrong or unknown credentials.
 */
export async function principalFor(deps: Deps, header: string | undefined, pendingKeys?: string): Promise<Principal | null> {
  const cred = credentialsFrom(header);
  if (cred.kind === 'none') return ANONYMOUS;
  if (cred.kind === 'malformed') return null;
  const key = cred.kind === 'bearer' ? cred.token : cred.username === 'api' ? cred.password : undefined;
  if (key !== undefined) {
    const owner = await verifyApiKey(deps.db, key, deps.now(), pendingKeys);
    if (owner) return { kind: 'user', id: owner.id, username: owner.name, isAdmin: owner.isAdmin, via: 'key' };
    if (cred.kind === 'bearer') return null;
  }
  if (cred.kind !== 'basic') return null;
  const user = await findUser(deps.db, cred.username);
  if (!user || !(await verifyPassword(cred.password, user.passwordHash))) return null;
  return { kind: 'user', id: user.id, username: user.username, isAdmin: user.isAdmin, via: 'password' };
}

/**
 * Finds who is calling and records it for the routes' policies (which do the refusing: a public
 * route needs no credentials). With auth off every caller is unrestricted, as with a plain
 * `mlflow server`; wrong credentials with auth on are a 401 whatever the route.
 */
export function authentication(deps: Deps): MiddlewareHandler {
  let pending: string | undefined | null = null;
  return async (c, next) => {
    if (!deps.config.auth.enabled) {
      setPrincipal(c, OPEN);
      return next();
    }
    // Worked out on first use: the OpenAPI generator builds the app without any dependencies.
    if (pending === null) pending = pendingKeysFile(deps.config.backendStoreUri);
    const p = await principalFor(deps, c.req.header('authorization'), pending);
    if (!p) {
      // The wandb client shows `errors[0].message`: tell its users what to do in their terms.
      if (WANDB_PATHS.test(c.req.path)) {
        c.header('WWW-Authenticate', 'Basic realm="cairn"');
        const message = 'Invalid or revoked W&B API key. Create one with `cairn keys create` (or POST /api/2.0/cairn/keys/create) and pass it as WANDB_API_KEY.';
        return c.json({ errors: [{ message }], error: message }, 401);
      }
      throw unauthenticated();
    }
    setPrincipal(c, p);
    return next();
  };
}
