import { z } from '@hono/zod-openapi';
import { principalOf } from '../../auth/policy.js';
import { createApiKey, listApiKeys, revokeApiKey, validateUserName } from '../../domain/wandb/api-keys.js';
import { invalidParam } from '../../errors.js';
import { requiredString } from '../../lib/zod-wire.js';
import { defineRoute, type Router } from '../define.js';
import { requireSelfOrAdmin } from './access.js';
import type { Context } from 'hono';

const tag = 'Accounts';
const keyOut = z.object({ id: z.number().int(), prefix: z.string(), user: z.string(), created_at: z.number().int(), revoked_at: z.number().int().optional() });

/** Whose keys a call is about: the caller's own, or (admins, or anyone with auth off) `user`. */
function ownerOf(c: Context, user: string | undefined): string | undefined {
  const p = principalOf(c);
  if (p.kind === 'open') return user;
  if (p.kind !== 'user') return undefined;
  if (user === undefined) return p.username;
  requireSelfOrAdmin(c, user);
  return user;
}

/**
 * API keys over HTTP, so a team member can make their own without shell access to the server:
 * the same keys as `cairn keys create`, good as WANDB_API_KEY and as MLFLOW_TRACKING_TOKEN.
 */
export function keyRoutes(r: Router): void {
  defineRoute(r, {
    method: 'post', path: '/cairn/keys/create', access: 'authenticated', tag,
    summary: 'Create an API key (shown once) for yourself, or for `user` as an admin',
    input: z.object({ user: z.string().optional() }),
    output: z.object({ key: z.string(), prefix: z.string(), user: z.string() }),
    handle: async (deps, input, c) => {
      const user = ownerOf(c, input.user);
      if (!user) throw invalidParam("Missing value for required parameter 'user'");
      const created = await createApiKey(deps.db, validateUserName(user), deps.now());
      return { key: created.key, prefix: created.prefix, user };
    },
  });
  defineRoute(r, {
    method: 'get', path: '/cairn/keys/list', access: 'authenticated', tag,
    summary: 'List API keys (never the keys themselves): yours, or all / `user` as an admin',
    input: z.object({ user: z.string().optional() }),
    output: z.object({ keys: z.array(keyOut) }),
    handle: async (deps, input, c) => {
      const p = principalOf(c);
      const all = input.user === undefined && (p.kind === 'open' || (p.kind === 'user' && p.isAdmin));
      const keys = await listApiKeys(deps.db, all ? undefined : ownerOf(c, input.user));
      return { keys: keys.map((k) => ({ id: k.id, prefix: k.prefix, user: k.user, created_at: k.createdAt, ...(k.revokedAt === null ? {} : { revoked_at: k.revokedAt }) })) };
    },
  });
  defineRoute(r, {
    method: 'post', path: '/cairn/keys/revoke', access: 'authenticated', tag,
    summary: 'Revoke an API key by id or prefix (effective on the next request, on every process)',
    input: z.object({ key: requiredString, user: z.string().optional() }),
    output: z.object({}),
    handle: async (deps, input, c) => {
      const p = principalOf(c);
      const scope = p.kind === 'open' || (p.kind === 'user' && p.isAdmin) ? input.user : ownerOf(c, input.user);
      await revokeApiKey(deps.db, input.key, deps.now(), scope);
      return {};
    },
  });
}
