import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { getUser } from '../../auth/accounts.js';
import { deletePermission, effectivePermission, getPermissionRow, parseResourceKind, setPermission, type ResourceKind } from '../../auth/grants.js';
import { allows } from '../../auth/permissions.js';
import { authorize, principalOf } from '../../auth/policy.js';
import { registeredModelIdByName, requireExperiment, requireModel } from '../../auth/resources.js';
import type { Deps } from '../../deps.js';
import { requiredString } from '../../lib/zod-wire.js';
import { defineRoute, type Router } from '../define.js';
import { requireAuthOn } from './access.js';

const tag = 'Accounts';

const resourceId = (deps: Deps, kind: ResourceKind, id: string) => (kind === 'experiment' ? requireExperiment(deps, id) : requireModel(deps, id));

const permissionOut = z.enum(['READ', 'EDIT', 'MANAGE', 'NO_PERMISSIONS']);

/**
 * Per-user permissions: MLflow 3's grant/revoke/get (what get_app_client("basic-auth") calls) and
 * the older experiments|registered-models/permissions/{create,get,update,delete}. Managing a
 * resource's permissions needs MANAGE on it (or an admin).
 */
export function permissionRoutes(r: Router): void {
  const grantInput = z.object({ username: requiredString, resource_type: requiredString, resource_id: requiredString });
  const needManage = (kind: ResourceKind, id: string) =>
    kind === 'experiment' ? { access: 'experiment:manage' as const, input: { experiment_id: id } } : { access: 'model:manage' as const, input: { name: id } };
  // Granting and revoking both act on a resource the caller must MANAGE.
  const managedResource = async (deps: Deps, input: { resource_type: string; resource_id: string }, c: Context) => {
    requireAuthOn(deps);
    const kind = parseResourceKind(input.resource_type);
    const id = await resourceId(deps, kind, input.resource_id);
    const need = needManage(kind, input.resource_id);
    await authorize(deps, principalOf(c), need.access, need.input);
    return { kind, id };
  };

  defineRoute(r, {
    method: 'post', path: '/mlflow/users/permissions/grant', version: '3.0', access: 'authenticated', tag,
    summary: "Grant a user a permission on an experiment or registered model (needs MANAGE on it)",
    input: grantInput.extend({ permission: requiredString }),
    output: z.object({}),
    handle: async (deps, input, c) => {
      const { kind, id } = await managedResource(deps, input, c);
      await setPermission(deps, kind, id, input.username, input.permission, 'upsert');
      return {};
    },
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/users/permissions/revoke', version: '3.0', access: 'authenticated', tag,
    summary: "Remove a user's own permission on a resource (the default applies again)",
    input: grantInput,
    output: z.object({}),
    handle: async (deps, input, c) => {
      const { kind, id } = await managedResource(deps, input, c);
      await deletePermission(deps, kind, id, input.username, true);
      return {};
    },
  });
  defineRoute(r, {
    method: 'get', path: '/mlflow/users/permissions/get', version: '3.0', access: 'authenticated', tag,
    summary: "A user's effective permission on a resource (yourself, or anyone with MANAGE on it)",
    input: grantInput,
    output: z.object({ allowed: z.boolean(), permission: permissionOut }),
    handle: async (deps, input, c) => {
      requireAuthOn(deps);
      const kind = parseResourceKind(input.resource_type);
      const me = principalOf(c);
      if (!(me.kind === 'user' && me.username === input.username)) {
        const need = needManage(kind, input.resource_id);
        await authorize(deps, me, need.access, need.input);
      }
      const user = await getUser(deps, input.username);
      const id = kind === 'experiment' ? (/^\d{1,18}$/.test(input.resource_id) ? Number(input.resource_id) : -1) : ((await registeredModelIdByName(deps, input.resource_id)) ?? -1);
      // An unknown resource is "not allowed", not an error, as in MLflow.
      const permission = id < 0 ? 'NO_PERMISSIONS' : await effectivePermission(deps, { kind: 'user', id: user.id, username: user.username, isAdmin: user.isAdmin, via: 'password' }, kind, id);
      return { allowed: allows(permission, 'edit'), permission };
    },
  });

  legacyRoutes(r, 'experiment');
  legacyRoutes(r, 'registered_model');
}

function legacyRoutes(r: Router, kind: ResourceKind): void {
  const isExp = kind === 'experiment';
  const base = isExp ? '/mlflow/experiments/permissions' : '/mlflow/registered-models/permissions';
  const idField = isExp ? 'experiment_id' : 'name';
  const outKey = isExp ? 'experiment_permission' : 'registered_model_permission';
  const access = isExp ? ('experiment:manage' as const) : ('model:manage' as const);
  const key = z.object({ [idField]: requiredString, username: requiredString }) as z.ZodObject<{ username: z.ZodString }>;
  const withPerm = key.extend({ permission: requiredString });
  const out = z.object({ [outKey]: z.object({ [idField]: z.string(), user_id: z.number().int(), permission: permissionOut }) });
  const wire = (input: Record<string, string>, userId: number, permission: string) => ({ [outKey]: { [idField]: input[idField], user_id: userId, permission } });
  const idOf = (deps: Deps, input: Record<string, string>) => resourceId(deps, kind, input[idField]);
  const label = isExp ? 'an experiment' : 'a registered model';

  for (const [action, method, mode] of [['create', 'post', 'create'], ['update', 'patch', 'update']] as const) {
    defineRoute(r, {
      method, path: `${base}/${action}`, access, tag, summary: `${action === 'create' ? 'Create' : 'Change'} a user's permission on ${label} (needs MANAGE)`,
      input: withPerm, output: action === 'create' ? out : z.object({}),
      handle: async (deps, input) => {
        requireAuthOn(deps);
        const raw = input as unknown as Record<string, string>;
        const set = await setPermission(deps, kind, await idOf(deps, raw), raw.username, raw.permission, mode);
        return action === 'create' ? wire(raw, set.userId, set.permission) : {};
      },
    });
  }
  defineRoute(r, {
    method: 'get', path: `${base}/get`, access, tag, summary: `A user's own permission row on ${label} (needs MANAGE)`,
    input: key, output: out,
    handle: async (deps, input) => {
      requireAuthOn(deps);
      const raw = input as unknown as Record<string, string>;
      const row = await getPermissionRow(deps, kind, await idOf(deps, raw), raw.username);
      return wire(raw, row.userId, row.permission);
    },
  });
  defineRoute(r, {
    method: 'delete', path: `${base}/delete`, access, tag, summary: `Remove a user's permission on ${label} (needs MANAGE)`,
    input: key, output: z.object({}),
    handle: async (deps, input) => {
      requireAuthOn(deps);
      const raw = input as unknown as Record<string, string>;
      await deletePermission(deps, kind, await idOf(deps, raw), raw.username);
      return {};
    },
  });
}
