import { expect } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from './app.js';
import { basicAuth } from './basic-auth.js';

/** A suite's admin: a fresh name (suites share one database), and the env that creates it at start. */
export function testAdmin() {
  const name = uniqueName('admin');
  const password = 'admin-password-for-tests';
  return { name, auth: basicAuth(name, password), env: { MLFLOW_AUTH_ADMIN_PASSWORD: password, CAIRN_AUTH_ADMIN_USERNAME: name } };
}

/** The Authorization header of a user made by `startAuthApp` (password `<name>-pw`). */
export const userAuth = (username: string) => basicAuth(username, `${username}-pw`);

/**
 * An app with accounts on (`--app-name basic-auth`), the default permission given, and these users
 * made by the admin, each with the password `<name>-pw`.
 */
export async function startAuthApp(admin: ReturnType<typeof testAdmin>, defaultPermission: string, users: string[]): Promise<TestApp> {
  const t = await startTestApp(['--app-name', 'basic-auth', '--auth-default-permission', defaultPermission], { env: admin.env });
  for (const username of users) {
    const res = await t.api.post('/api/2.0/mlflow/users/create').set('Authorization', admin.auth).send({ username, password: `${username}-pw` });
    expect(res.status).toBe(200);
  }
  return t;
}
