// Fail closed (issue 10, item 9): a route without an access policy stops start-up; and the
// start-up banner says when auth is off (item 10).
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { authBanner } from '../../src/auth/startup.js';
import { parseConfig, ConfigError } from '../../src/config.js';
import type { Deps } from '../../src/deps.js';
import { assertEveryRouteGuarded, defineRoute, guard, type Router } from '../../src/routes/define.js';
import { definePathRoute } from '../../src/routes/registry/path-route.js';

const router = (): Router => ({ app: new OpenAPIHono(), deps: {} as Deps, knownPaths: new Set(), guarded: new WeakSet() });
const def = { method: 'get' as const, path: '/mlflow/x', tag: 't', summary: 's', input: z.object({}), output: z.object({}), handle: () => ({}) };

describe('fail closed', () => {
  it('refuses a defineRoute or definePathRoute without a policy, or with one outside the closed set', () => {
    expect(() => defineRoute(router(), def as never)).toThrow(/declares no access policy/);
    expect(() => defineRoute(router(), { ...def, access: 'everyone' } as never)).toThrow(/declares no access policy/);
    expect(() => definePathRoute(router(), { ...def, path: '/mlflow/x/{id}' } as never)).toThrow(/declares no access policy/);
    expect(() => defineRoute(router(), { ...def, access: 'experiment:read' })).not.toThrow();
  });

  it('refuses to start with a raw route registered without guard()', () => {
    const r = router();
    defineRoute(r, { ...def, access: 'public' });
    r.app.get('/sneaky', (c) => c.text('open door'));
    expect(() => assertEveryRouteGuarded(r)).toThrow(/routes without an access policy: GET \/sneaky/);
    const ok = router();
    ok.app.use('*', async (_c, next) => next());
    ok.app.get('/fine', guard(ok, 'public', (c) => c.text('ok')));
    expect(() => assertEveryRouteGuarded(ok)).not.toThrow();
  });

  it('builds the real app: every route there has a policy', () => {
    expect(() => createApp({} as Deps)).not.toThrow();
  });
});

describe('auth configuration', () => {
  it('is off by default, on with --app-name basic-auth or CAIRN_AUTH, with MLflow’s defaults', () => {
    expect(parseConfig([], {}).auth).toMatchObject({ enabled: false, defaultPermission: 'READ', adminUsername: 'admin' });
    expect(parseConfig(['--app-name', 'basic-auth'], {}).auth.enabled).toBe(true);
    const env = { CAIRN_AUTH: 'basic-auth', CAIRN_AUTH_DEFAULT_PERMISSION: 'NO_PERMISSIONS', MLFLOW_AUTH_ADMIN_PASSWORD: 'pw' };
    expect(parseConfig([], env).auth).toMatchObject({ enabled: true, defaultPermission: 'NO_PERMISSIONS', adminPassword: 'pw' });
    expect(() => parseConfig(['--app-name', 'oidc'], {})).toThrow(ConfigError);
    expect(() => parseConfig(['--auth-default-permission', 'ALL'], {})).toThrow(/--auth-default-permission/);
  });

  it('says in the banner when auth is off, and warns loudly off loopback', () => {
    const off = parseConfig([], {}).auth;
    const local = authBanner(off, '127.0.0.1');
    expect(local.info.join('\n')).toMatch(/auth: OFF/);
    expect(local.warn).toEqual([]);
    const exposed = authBanner(off, '0.0.0.0');
    expect(exposed.warn.join('\n')).toMatch(/WARNING: .*0\.0\.0\.0.*WITHOUT authentication/);
    const on = authBanner(parseConfig(['--app-name', 'basic-auth'], {}).auth, '0.0.0.0');
    expect(on.info.join('\n')).toMatch(/auth: ON/);
    expect(on.warn).toEqual([]);
  });
});

describe('MLFLOW_AUTH_CONFIG_PATH', () => {
  it("reads an MLflow basic_auth.ini's [mlflow] section; flags and CAIRN_AUTH_* win", async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-ini-')), 'basic_auth.ini');
    fs.writeFileSync(file, '[mlflow]\n# comment\ndefault_permission = EDIT\nadmin_username = boss\nadmin_password = from-ini\n[other]\nadmin_username = no\n');
    const env = { MLFLOW_AUTH_CONFIG_PATH: file, CAIRN_AUTH: 'basic-auth' };
    expect(parseConfig([], env).auth).toEqual({ enabled: true, defaultPermission: 'EDIT', adminUsername: 'boss', adminPassword: 'from-ini' });
    expect(parseConfig(['--auth-admin-username', 'chief'], { ...env, CAIRN_AUTH_DEFAULT_PERMISSION: 'READ' }).auth).toMatchObject({ adminUsername: 'chief', defaultPermission: 'READ' });
    expect(() => parseConfig([], { MLFLOW_AUTH_CONFIG_PATH: path.join(path.dirname(file), 'missing.ini') })).toThrow(/cannot read MLFLOW_AUTH_CONFIG_PATH/);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });
});
