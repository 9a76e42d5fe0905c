import os from 'node:os';
import { ConfigError, parseConfig } from '../../config.js';
import { createDeps, silentLogger } from '../../deps.js';
import { appendPendingKey, createApiKey, newApiKey, pendingKeysFile, validateUserName } from '../../domain/wandb/api-keys.js';
import { MlflowError } from '../../errors.js';

export const KEYS_USAGE = 'cairn keys create [--user NAME] [--backend-store-uri URI | --data-dir DIR]';

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
  if (sub !== 'create') throw new ConfigError(`unknown command 'keys ${argv.join(' ')}'\nusage: ${KEYS_USAGE}`);
  let user = defaultUser();
  const serverArgs: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--user' || rest[i] === '-u') user = rest[++i] ?? '';
    else if (rest[i].startsWith('--user=')) user = rest[i].slice('--user='.length);
    else serverArgs.push(rest[i]);
  }
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
