import type { Context } from 'hono';
import { permissionDenied, principalOf } from '../../auth/policy.js';
import type { UserPrincipal } from '../../auth/principal.js';
import type { Deps } from '../../deps.js';
import { MlflowError } from '../../errors.js';

/** The account endpoints exist only with auth on, as on `mlflow server` without basic-auth. */
export function requireAuthOn(deps: Deps): void {
  if (!deps.config.auth.enabled) {
    throw new MlflowError('ENDPOINT_NOT_FOUND', 'Accounts are off on this server: start Cairn with --app-name basic-auth (see docs/security.md)');
  }
}

/** The calling account, for "yourself or an admin" rules (the route's policy already made it one). */
export function caller(c: Context): UserPrincipal {
  const p = principalOf(c);
  if (p.kind !== 'user') throw permissionDenied('an account is needed');
  return p;
}

export function requireSelfOrAdmin(c: Context, username: string): UserPrincipal {
  const me = caller(c);
  if (!me.isAdmin && me.username !== username) throw permissionDenied('only an admin may act on another user');
  return me;
}
