import fs from 'node:fs';
import { z } from 'zod';
import { PERMISSIONS } from './permissions.js';

// `mlflow server --app-name basic-auth` turns accounts on; so does CAIRN_AUTH=basic-auth. The
// settings are MLflow's basic_auth.ini keys (read from MLFLOW_AUTH_CONFIG_PATH when set), each
// overridable by a flag or a CAIRN_AUTH_* variable. The admin password is never a flag (it would
// show in `ps`): MLFLOW_AUTH_ADMIN_PASSWORD or the ini file, as in MLflow 3.18.

export const authConfigSchema = z.object({
  enabled: z.boolean(),
  defaultPermission: z.enum(PERMISSIONS),
  adminUsername: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/, 'use 1-64 letters, digits, _ . @ or -'),
  adminPassword: z.string().min(1).optional(),
});
export type AuthConfig = z.infer<typeof authConfigSchema>;

export const AUTH_FLAGS = {
  'app-name': { type: 'string' },
  'auth-default-permission': { type: 'string' },
  'auth-admin-username': { type: 'string' },
} as const;

export class AuthConfigError extends Error {}

/** The [mlflow] section of a basic_auth.ini: `key = value` lines, `#`/`;` comments. */
export function readIni(file: string): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new AuthConfigError(`cannot read MLFLOW_AUTH_CONFIG_PATH '${file}': ${(err as Error).message}`);
  }
  const out: Record<string, string> = {};
  let section = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) section = header[1].trim();
    else if (section === 'mlflow' && line.includes('=')) {
      const eq = line.indexOf('=');
      out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    }
  }
  return out;
}

export function rawAuthConfig(values: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv): unknown {
  const appName = (values['app-name'] as string | undefined) ?? env.CAIRN_AUTH ?? '';
  if (appName && appName !== 'basic-auth' && appName !== 'none') {
    throw new AuthConfigError(`unsupported --app-name '${appName}': Cairn knows 'basic-auth' (or CAIRN_AUTH=none to turn it off)`);
  }
  const ini = env.MLFLOW_AUTH_CONFIG_PATH ? readIni(env.MLFLOW_AUTH_CONFIG_PATH) : {};
  return {
    enabled: appName === 'basic-auth',
    defaultPermission: (values['auth-default-permission'] as string | undefined) ?? env.CAIRN_AUTH_DEFAULT_PERMISSION ?? ini.default_permission ?? 'READ',
    adminUsername: (values['auth-admin-username'] as string | undefined) ?? env.CAIRN_AUTH_ADMIN_USERNAME ?? ini.admin_username ?? 'admin',
    adminPassword: env.MLFLOW_AUTH_ADMIN_PASSWORD || env.CAIRN_AUTH_ADMIN_PASSWORD || ini.admin_password || undefined,
  };
}
