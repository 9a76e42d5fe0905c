// `cairn keys create|list|revoke` against the server's own database: a revoked key is refused on
// the very next request (issue 10, item 8). On Postgres the CLI writes the database; on the embedded
// database it queues the change beside the folder and the server applies it before checking keys.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { keysCommand } from '../../src/routes/wandb/keys-cli.js';
import { startTestApp, testBackend, uniqueName, type TestApp } from '../harness/app.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-keys-'));
const onPostgres = testBackend().startsWith('postgres');
const uri = onPostgres ? testBackend() : `pglite://${path.join(dir, 'db')}`;
let t: TestApp;

async function cli(...args: string[]): Promise<string> {
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
  const err = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    await keysCommand([...args, '--backend-store-uri', uri]);
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
  return out.join('\n');
}

const viewer = (key: string) =>
  t.api.post('/graphql').set('Authorization', `Basic ${Buffer.from(`api:${key}`).toString('base64')}`).send({ query: '{ viewer { username } }' });

beforeAll(async () => {
  t = await startTestApp(['--backend-store-uri', uri, '--app-name', 'basic-auth', '--artifacts-destination', path.join(dir, 'artifacts')], {
    env: { MLFLOW_AUTH_ADMIN_PASSWORD: 'admin-pw', CAIRN_AUTH_ADMIN_USERNAME: uniqueName('admin') },
  });
}, 60_000);
afterAll(async () => {
  await t?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('cairn keys', () => {
  it('creates a key for an account, and revokes it with effect on the next request', async () => {
    const user = uniqueName('erin');
    const key = await cli('create', '--user', user);
    expect(key).toMatch(/^cairn-[0-9a-f]{40}$/);
    const ok = await viewer(key);
    expect(ok.status).toBe(200);
    expect(ok.body.data.viewer.username).toBe(user);
    if (onPostgres) {
      const listed = await cli('list', '--user', user);
      expect(listed).toContain(key.slice(0, 12));
      expect(listed).toMatch(/\tactive$/);
    } else {
      await expect(cli('list')).rejects.toThrow(ConfigError);
    }
    await cli('revoke', key.slice(0, 12));
    expect((await viewer(key)).status).toBe(401);
    if (onPostgres) expect(await cli('list', '--user', user)).toMatch(/\trevoked /);
  });
});
