import { z } from '@hono/zod-openapi';
import { createUser, deleteUser, getUser, listUsers, updateAdmin, updatePassword, userWire } from '../../auth/accounts.js';
import { verifyPassword } from '../../auth/passwords.js';
import { invalidParam, MlflowError } from '../../errors.js';
import { requiredString } from '../../lib/zod-wire.js';
import { defineRoute, type Router } from '../define.js';
import { caller, requireAuthOn, requireSelfOrAdmin } from './access.js';

const tag = 'Accounts';
const userOut = z.object({ id: z.number().int(), username: z.string(), is_admin: z.boolean() }).openapi('User');
const username = z.object({ username: requiredString });

/** MLflow's basic-auth user endpoints, as `mlflow.server.get_app_client("basic-auth")` calls them. */
export function userRoutes(r: Router): void {
  defineRoute(r, {
    method: 'post', path: '/mlflow/users/create', access: 'admin', tag, summary: 'Create a user (admins only)',
    input: z.object({ username: requiredString, password: requiredString }),
    output: z.object({ user: userOut }),
    handle: async (deps, input) => {
      requireAuthOn(deps);
      return { user: userWire(await createUser(deps, input.username, input.password)) };
    },
  });
  defineRoute(r, {
    method: 'get', path: '/mlflow/users/get', access: 'authenticated', tag, summary: 'Get a user (yourself, or anyone for an admin)',
    input: username,
    output: z.object({ user: userOut }),
    handle: async (deps, input, c) => {
      requireAuthOn(deps);
      requireSelfOrAdmin(c, input.username);
      return { user: userWire(await getUser(deps, input.username)) };
    },
  });
  defineRoute(r, {
    method: 'get', path: '/mlflow/users/current', access: 'authenticated', tag, summary: 'The calling user',
    input: z.object({}),
    output: z.object({ user: userOut, is_basic_auth: z.boolean() }),
    handle: async (deps, _input, c) => {
      requireAuthOn(deps);
      return { user: userWire(await getUser(deps, caller(c).username)), is_basic_auth: true };
    },
  });
  defineRoute(r, {
    method: 'get', path: '/mlflow/users/list', access: 'admin', tag, summary: 'List users (admins only)',
    input: z.object({}),
    output: z.object({ users: z.array(userOut) }),
    handle: async (deps) => {
      requireAuthOn(deps);
      return { users: (await listUsers(deps)).map(userWire) };
    },
  });
  defineRoute(r, {
    method: 'patch', path: '/mlflow/users/update-password', access: 'authenticated', tag,
    summary: 'Change a password (your own with current_password, or anyone\'s as an admin)',
    input: z.object({ username: requiredString, password: requiredString, current_password: z.string().optional() }),
    output: z.object({}),
    handle: async (deps, input, c) => {
      requireAuthOn(deps);
      const me = requireSelfOrAdmin(c, input.username);
      if (me.username === input.username) {
        // A stolen session (or key) must not be enough to take the account over.
        if (!input.current_password) throw invalidParam('Current password is required when changing your own password.');
        const self = await getUser(deps, me.username);
        if (!(await verifyPassword(input.current_password, self.passwordHash))) throw invalidParam('Current password does not match.');
        if (input.password === input.current_password) throw invalidParam('New password must differ from the current password.');
      }
      await updatePassword(deps, input.username, input.password);
      return {};
    },
  });
  defineRoute(r, {
    method: 'patch', path: '/mlflow/users/update-admin', access: 'admin', tag, summary: 'Make a user an admin or not (admins only)',
    input: z.object({ username: requiredString, is_admin: z.union([z.boolean(), z.string()]) }),
    output: z.object({}),
    handle: async (deps, input) => {
      requireAuthOn(deps);
      await updateAdmin(deps, input.username, input.is_admin);
      return {};
    },
  });
  defineRoute(r, {
    method: 'delete', path: '/mlflow/users/delete', access: 'admin', tag, summary: 'Delete a user, its keys and permissions (admins only)',
    input: username,
    output: z.object({}),
    handle: async (deps, input, c) => {
      requireAuthOn(deps);
      if (caller(c).username === input.username) {
        throw new MlflowError('BAD_REQUEST', 'Users cannot delete their own account. Ask another admin to delete this user instead.');
      }
      await deleteUser(deps, input.username);
      return {};
    },
  });
}
