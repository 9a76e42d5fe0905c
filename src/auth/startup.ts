import { StartupError } from '../db/connect.js';
import type { Deps } from '../deps.js';
import { MlflowError } from '../errors.js';
import { ensureConfiguredAdmin } from './accounts.js';
import type { AuthConfig } from './config.js';

/** With auth on: the configured admin exists (created on first start), or start-up stops. */
export async function prepareAuth(deps: Deps): Promise<void> {
  if (!deps.config.auth.enabled) return;
  try {
    await ensureConfiguredAdmin(deps);
  } catch (err) {
    if (err instanceof MlflowError) throw new StartupError(err.message);
    throw err;
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/i;
export const isLoopback = (host: string) => LOOPBACK.test(host);

/** The start-up banner's lines about access control: what is on, and a loud warning when it should be. */
export function authBanner(auth: AuthConfig, host: string): { info: string[]; warn: string[] } {
  if (auth.enabled) {
    return {
      info: [`  auth: ON (basic-auth): accounts required; default permission ${auth.defaultPermission}; admin user '${auth.adminUsername}'`],
      warn: [],
    };
  }
  const info = ['  auth: OFF: every caller can read and change everything (turn on with --app-name basic-auth, see docs/security.md)'];
  if (isLoopback(host)) return { info, warn: [] };
  const line = '!'.repeat(100);
  return {
    info,
    warn: [
      line,
      `!! WARNING: Cairn is listening on ${host}, reachable from other machines, WITHOUT authentication.`,
      '!! Anyone who can reach this port can read, change and delete every experiment, run, model and artifact.',
      '!! Start it with --app-name basic-auth (and TLS in front, see docs/security.md), or --host 127.0.0.1.',
      line,
    ],
  };
}
