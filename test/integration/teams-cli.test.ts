// `cairn teams create|add|remove|members|list` on the server's database (the embedded one while the
// server is stopped): what the CLI writes is what the server then answers over HTTP.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { teamsCommand } from '../../src/cli/teams-cli.js';
import { ConfigError } from '../../src/config.js';
import { startTestApp, testBackend, uniqueName } from '../harness/app.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-teams-'));
const uri = testBackend().startsWith('postgres') ? testBackend() : `pglite://${path.join(dir, 'db')}`;
const ADMIN = uniqueName('admin');
const env = { MLFLOW_AUTH_ADMIN_PASSWORD: 'admin-pw', CAIRN_AUTH_ADMIN_USERNAME: ADMIN };
const args = ['--backend-store-uri', uri, '--app-name', 'basic-auth', '--artifacts-destination', path.join(dir, 'artifacts')];
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

async function cli(...a: string[]): Promise<string> {
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
  const err = vi.spyOn(console, 'error').mockImplementation(() => {});
  try {
    await teamsCommand([...a, '--backend-store-uri', uri]);
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
  return out.join('\n');
}

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('cairn teams', () => {
  it('creates a team, sets roles and removes members; the server answers what it wrote', async () => {
    const lead = uniqueName('lead');
    const carol = uniqueName('carol');
    const team = uniqueName('team');
    let t = await startTestApp(args, { env });
    for (const u of [lead, carol]) {
      expect((await t.api.post('/api/2.0/mlflow/users/create').set('Authorization', basic(ADMIN, 'admin-pw')).send({ username: u, password: `${u}-pw` })).status).toBe(200);
    }
    await t.close();

    await expect(cli('create', team)).rejects.toThrow(ConfigError);
    await cli('create', team, '--admin', lead);
    await cli('add', team, carol, '--role', 'viewer');
    await expect(cli('add', team, carol, '--role', 'boss')).rejects.toThrow(/Invalid team role 'boss'/);
    await expect(cli('remove', team, lead)).rejects.toThrow(/last admin/);
    expect(await cli('members', team)).toBe([`${carol}\tviewer`, `${lead}\tadmin`].sort().join('\n'));
    expect(await cli('list', '--user', carol)).toBe(`${team}\tviewer`);

    t = await startTestApp(args, { env });
    try {
      const listed = await t.api.get('/api/2.0/cairn/teams/list').set('Authorization', basic(carol, `${carol}-pw`));
      expect(listed.body.teams).toMatchObject([{ name: team, role: 'viewer' }]);
      await t.close();
      await cli('remove', team, carol);
      t = await startTestApp(args, { env });
      const after = await t.api.get('/api/2.0/cairn/teams/list').set('Authorization', basic(carol, `${carol}-pw`));
      expect(after.body).toEqual({ teams: [] });
    } finally {
      await t.close();
    }
  }, 120_000);

  it('shares an experiment with a team and a user, and unshares it; the server applies it', async () => {
    const [owner, member, reader, team] = [uniqueName('owner'), uniqueName('member'), uniqueName('reader'), uniqueName('team')];
    const auth = (u: string) => basic(u, `${u}-pw`);
    const noDefault = [...args, '--auth-default-permission', 'NO_PERMISSIONS'];
    let t = await startTestApp(noDefault, { env });
    let exp: string;
    try {
      for (const u of [owner, member, reader]) {
        expect((await t.api.post('/api/2.0/mlflow/users/create').set('Authorization', basic(ADMIN, 'admin-pw')).send({ username: u, password: `${u}-pw` })).status).toBe(200);
      }
      exp = (await t.api.post('/api/2.0/mlflow/experiments/create').set('Authorization', auth(owner)).send({ name: uniqueName('cli-shared') })).body.experiment_id;
    } finally {
      await t.close();
    }
    await cli('create', team, '--admin', member);
    await expect(cli('share', 'experiment', exp, '--team', team, '--permission', 'OWNER')).rejects.toThrow(/Invalid share level 'OWNER'/);
    await cli('share', 'experiment', exp, '--team', team, '--permission', 'EDIT');
    await cli('share', 'experiment', exp, '--user', reader, '--permission', 'READ');
    const createRun = (u: string) => t.api.post('/api/2.0/mlflow/runs/create').set('Authorization', auth(u)).send({ experiment_id: exp });
    t = await startTestApp(noDefault, { env });
    try {
      expect((await createRun(member)).status).toBe(200);
      expect((await createRun(reader)).status).toBe(403);
      expect((await t.api.get('/api/2.0/mlflow/experiments/get').set('Authorization', auth(reader)).query({ experiment_id: exp })).status).toBe(200);
    } finally {
      await t.close();
    }
    await cli('unshare', 'experiment', exp, '--team', team);
    await expect(cli('unshare', 'experiment', exp, '--team', team)).rejects.toThrow(/is not shared with team/);
    t = await startTestApp(noDefault, { env });
    try {
      expect((await createRun(member)).status).toBe(403);
    } finally {
      await t.close();
    }
  }, 120_000);
});
