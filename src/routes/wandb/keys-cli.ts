import os from 'node:os';
import { ConfigError, parseConfig } from '../../config.js';
import { createDeps, silentLogger } from '../../deps.js';
import {
  appendPendingKey,
  appendPendingRevocation,
  createApiKey,
  listApiKeys,
  newApiKey,
  pendingKeysFile,
  revokeApiKey,
  validateUserName,
} from '../../domain/wandb/api-keys.js';
import { MlflowError } from '../../errors.js';

export const KEYS_USAGE = `cairn keys create [--user NAME] [--backend-store-uri URI | --data-dir DIR]
       cairn keys list [--user NAME] [--backend-store-uri URI]
       cairn keys revoke ID|PREFIX [--backend-store-uri URI | --data-dir DIR]`;

function defaultUser(): string {
  try {
    return validateUserName(os.userInfo().username);
  } catch {
    return 'cairn';
  }
}

/**
 * `cairn keys create`: prints a new W&B API key, and only the key, on stdout. With Postgres the
 * key is stored directly; with the embedded database (which only the server may open) it is queued
 * beside the database folder and the server picks it up when the key is first used.
 */
export async function keysCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') throw new ConfigError(`unknown command 'keys ${argv.join(' ')}'\nusage: ${KEYS_USAGE}`);
  let user: string | undefined;
  const serverArgs: string[] = [];
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--user' || rest[i] === '-u') user = rest[++i] ?? '';
    else if (rest[i].startsWith('--user=')) user = rest[i].slice('--user='.length);
    else if (!rest[i].startsWith('-') && (i === 0 || !rest[i - 1].startsWith('--') || rest[i - 1].includes('='))) positional.push(rest[i]);
    else serverArgs.push(rest[i]);
  }
  if (sub === 'list' || sub === 'revoke') return manageKeys(sub, positional, user, serverArgs);
  user ??= defaultUser();
  try {
    validateUserName(user);
  } catch (err) {
    throw new ConfigError((err as MlflowError).message);
  }
  const config = parseConfig(serverArgs);
  if (config.backendStoreUri === 'memory://' || config.backendStoreUri === 'pglite://memory') {
    throw new ConfigError('an in-memory database lives inside one server process: keys cannot be created for it from outside');
  }
  const pending = pendingKeysFile(config.backendStoreUri);
  let key: string;
  if (pending) {
    const created = newApiKey(user, Date.now());
    appendPendingKey(pending, created);
    key = created.key;
  } else {
    const deps = await createDeps(config, { log: silentLogger, poolSize: 1 });
    try {
      key = (await createApiKey(deps.db, user, Date.now())).key;
    } finally {
      await deps.close();
    }
  }
  console.log(key);
  console.error(`cairn: W&B API key for user '${user}' (shown once): set WANDB_API_KEY to it, or run wandb login --host <cairn URL> <key>`);
}

/**
 * `cairn keys list` and `cairn keys revoke`. On Postgres the change is made directly and every
 * process sees it on its next request. The embedded database belongs to the running server:
 * a revocation is queued beside it, and the server applies it before checking any key.
 */
async function manageKeys(sub: 'list' | 'revoke', positional: string[], user: string | undefined, serverArgs: string[]): Promise<void> {
  const config = parseConfig(serverArgs);
  const pending = pendingKeysFile(config.backendStoreUri);
  if (sub === 'revoke') {
    const which = positional[0];
    if (!which) throw new ConfigError(`which key? usage: ${KEYS_USAGE}`);
    if (pending) {
      appendPendingRevocation(pending, which);
      console.error(`cairn: revocation of '${which}' queued; the server applies it before its next key check`);
      return;
    }
  } else if (pending) {
    throw new ConfigError(
      'the embedded database is open in the server: list keys over HTTP instead (GET /api/2.0/cairn/keys/list, as an admin), or use Postgres',
    );
  }
  const deps = await createDeps(config, { log: silentLogger, poolSize: 1 });
  try {
    if (sub === 'revoke') {
      const revoked = await revokeApiKey(deps.db, positional[0], Date.now(), user);
      console.error(`cairn: revoked key ${revoked.id} (${revoked.prefix}…) of user '${revoked.user}'`);
    } else {
      for (const k of await listApiKeys(deps.db, user)) {
        const state = k.revokedAt === null ? 'active' : `revoked ${new Date(k.revokedAt).toISOString()}`;
        console.log(`${k.id}\t${k.prefix}…\t${k.user}\t${new Date(k.createdAt).toISOString()}\t${state}`);
      }
    }
  } catch (err) {
    if (err instanceof MlflowError) throw new ConfigError(err.message);
    throw err;
  } finally {
    await deps.close();
  }
}
