// Teams (issue 17, docs/teams.md) on registered models and sharing, with `--app-name basic-auth` and
// no default permission: a model created with the `cairn.team` tag belongs to the team (roles apply
// through MLflow's registry API), and a project or model shared with another team or a user gives
// the chosen level, capped by each member's role. Refused calls write nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';
import { basicAuth } from '../harness/basic-auth.js';

const ADMIN_PASSWORD = 'admin-password-for-tests';
const ADMIN = uniqueName('admin');
const admin = basicAuth(ADMIN, ADMIN_PASSWORD);
// vision: alice admin, bob member, carol viewer. audio: dave admin, erin viewer. frank: no team.
const names = { alice: uniqueName('alice'), bob: uniqueName('bob'), carol: uniqueName('carol'), dave: uniqueName('dave'), erin: uniqueName('erin'), frank: uniqueName('frank') };
type Who = keyof typeof names;
const as = (u: Who) => basicAuth(names[u], `${u}-pw`);
const vision = uniqueName('vision');
const audio = uniqueName('audio');
const model = uniqueName('detector');
let t: TestApp;

const post = (url: string, auth: string, body: unknown) => t.api.post(url).set('Authorization', auth).send(body as object);
const getModel = (who: Who) => t.api.get('/api/2.0/mlflow/registered-models/get').set('Authorization', as(who)).query({ name: model });
const describeModel = (who: Who, description: string) =>
  t.api.patch('/api/2.0/mlflow/registered-models/update').set('Authorization', as(who)).send({ name: model, description });
const searchModels = async (who: Who) =>
  ((await t.api.get('/api/2.0/mlflow/registered-models/search').set('Authorization', as(who)).query({ filter: `name = '${model}'` })).body.registered_models ?? []).map(
    (m: { name: string }) => m.name,
  );
const share = (who: Who, body: Record<string, string>) => post('/api/2.0/cairn/teams/share', as(who), body);
const unshare = (who: Who, body: Record<string, string>) => post('/api/2.0/cairn/teams/unshare', as(who), body);

beforeAll(async () => {
  t = await startTestApp(['--app-name', 'basic-auth', '--auth-default-permission', 'NO_PERMISSIONS'], {
    env: { MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PASSWORD, CAIRN_AUTH_ADMIN_USERNAME: ADMIN },
  });
  for (const u of Object.keys(names) as Who[]) {
    expect((await post('/api/2.0/mlflow/users/create', admin, { username: names[u], password: `${u}-pw` })).status).toBe(200);
  }
  expect((await post('/api/2.0/cairn/teams/create', as('alice'), { name: vision })).status).toBe(200);
  expect((await post('/api/2.0/cairn/teams/create', as('dave'), { name: audio })).status).toBe(200);
  for (const [team, lead, who, role] of [[vision, 'alice', 'bob', 'member'], [vision, 'alice', 'carol', 'viewer'], [audio, 'dave', 'erin', 'viewer']] as const) {
    expect((await post('/api/2.0/cairn/teams/members/set', as(lead), { team, username: names[who], role })).status).toBe(200);
  }
});
afterAll(async () => t?.close());

describe('team registered models', () => {
  it('only members and admins create a model for their team; a tag naming no team is refused; nothing is written', async () => {
    const tags = (team: string) => [{ key: 'cairn.team', value: team }];
    const viewer = await post('/api/2.0/mlflow/registered-models/create', as('carol'), { name: model, tags: tags(vision) });
    expect(viewer.status).toBe(403);
    expect(viewer.body).toMatchObject({ error_code: 'PERMISSION_DENIED', message: expect.stringContaining('you are a viewer') });
    expect((await post('/api/2.0/mlflow/registered-models/create', as('dave'), { name: model, tags: tags(vision) })).status).toBe(403);
    expect((await post('/api/2.0/mlflow/registered-models/create', as('bob'), { name: model, tags: tags('no-such-team') })).body).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });
    expect((await t.api.get('/api/2.0/mlflow/registered-models/get').set('Authorization', admin).query({ name: model })).status).toBe(404);

    expect((await post('/api/2.0/mlflow/registered-models/create', as('bob'), { name: model, tags: tags(vision) })).status).toBe(200);
  });

  it("team roles apply to the team's model: admin manages, viewer reads, others see nothing", async () => {
    expect((await getModel('carol')).body.registered_model.tags).toEqual([{ key: 'cairn.team', value: vision }]);
    expect((await describeModel('carol', 'viewer edit')).status).toBe(403);
    expect((await describeModel('alice', 'by the team admin')).status).toBe(200);
    expect((await getModel('frank')).status).toBe(403);
    expect(await searchModels('frank')).toEqual([]);
    expect(await searchModels('carol')).toEqual([model]);
    // The owning team is decided at creation: the tag cannot move it.
    expect((await post('/api/2.0/mlflow/registered-models/set-tag', as('alice'), { name: model, key: 'cairn.team', value: audio })).body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
    expect((await t.api.delete('/api/2.0/mlflow/registered-models/delete-tag').set('Authorization', as('alice')).send({ name: model, key: 'cairn.team' })).status).toBe(400);
  });
});

describe('sharing', () => {
  it('a model shared with another team gives its members the level, capped by their role', async () => {
    const body = { resource_type: 'registered_model', resource_id: model, team: audio, permission: 'EDIT' };
    // Sharing needs MANAGE on the model: the vision viewer may not.
    expect((await share('carol', body)).status).toBe(403);
    expect((await getModel('dave')).status).toBe(403);
    expect((await share('alice', body)).body).toEqual({ permission: 'EDIT' });
    expect((await describeModel('dave', 'audio edits')).status).toBe(200); // audio admin: min(EDIT, MANAGE)
    expect((await getModel('erin')).body.registered_model.description).toBe('audio edits');
    expect((await describeModel('erin', 'viewer edit')).status).toBe(403); // audio viewer: min(EDIT, READ)
    expect(await searchModels('erin')).toEqual([model]);
    expect((await t.api.delete('/api/2.0/mlflow/registered-models/delete').set('Authorization', as('dave')).send({ name: model })).status).toBe(403);

    expect((await unshare('alice', { resource_type: 'registered_model', resource_id: model, team: audio })).status).toBe(200);
    expect((await getModel('dave')).status).toBe(403);
    expect((await unshare('alice', { resource_type: 'registered_model', resource_id: model, team: audio })).body).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });
  });

  it('a project is shared with a team or a user, and unshared', async () => {
    const exp = (await post('/api/2.0/mlflow/experiments/create', as('frank'), { name: uniqueName('shared-exp') })).body.experiment_id as string;
    const target = { resource_type: 'experiment', resource_id: exp };
    const createRun = (who: Who) => post('/api/2.0/mlflow/runs/create', as(who), { experiment_id: exp });
    const read = (who: Who) => t.api.get('/api/2.0/mlflow/experiments/get').set('Authorization', as(who)).query({ experiment_id: exp });

    expect((await createRun('bob')).status).toBe(403);
    expect((await share('frank', { ...target, team: vision, permission: 'EDIT' })).status).toBe(200);
    expect((await createRun('bob')).status).toBe(200); // vision member
    expect((await createRun('carol')).status).toBe(403); // vision viewer reads only
    expect((await read('carol')).status).toBe(200);
    const listed = await post('/api/2.0/mlflow/experiments/search', as('carol'), { max_results: 1000 });
    expect(listed.body.experiments.map((e: { experiment_id: string }) => e.experiment_id)).toContain(exp);

    expect((await read('erin')).status).toBe(403);
    expect((await share('frank', { ...target, username: names.erin, permission: 'READ' })).status).toBe(200);
    expect((await read('erin')).status).toBe(200);
    expect((await createRun('erin')).status).toBe(403);
    // Only someone who manages the project shares it; bob (EDIT through the share) may not.
    expect((await share('bob', { ...target, username: names.dave, permission: 'MANAGE' })).status).toBe(403);

    expect((await unshare('frank', { ...target, team: vision })).status).toBe(200);
    expect((await unshare('frank', { ...target, username: names.erin })).status).toBe(200);
    expect((await createRun('bob')).status).toBe(403);
    expect((await read('erin')).status).toBe(403);
  });

  it('refuses bad share requests with MLflow-style errors', async () => {
    const exp = (await post('/api/2.0/mlflow/experiments/create', as('alice'), { name: uniqueName('bad-share') })).body.experiment_id as string;
    const base = { resource_type: 'experiment', resource_id: exp };
    expect((await share('alice', { ...base, team: audio, username: names.bob, permission: 'READ' })).body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
    expect((await share('alice', { ...base, team: audio, permission: 'NO_PERMISSIONS' })).body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
    expect((await share('alice', { ...base, team: 'no-such-team', permission: 'READ' })).body).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });
    expect((await share('alice', { resource_type: 'experiment', resource_id: '999999999', team: audio, permission: 'READ' })).body).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });
    expect((await share('alice', { resource_type: 'prompt', resource_id: exp, team: audio, permission: 'READ' })).body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
  });

  it('lists who a project is shared with (READ on it), and the team page shows owned and shared work', async () => {
    const exp = (await post('/api/2.0/mlflow/experiments/create', as('frank'), { name: uniqueName('listed-exp') })).body.experiment_id as string;
    const target = { resource_type: 'experiment', resource_id: exp };
    const shares = (who: Who) => t.api.get('/api/2.0/cairn/teams/shares').set('Authorization', as(who)).query(target);
    expect((await shares('bob')).status).toBe(403); // no access to the project yet
    expect((await share('frank', { ...target, team: vision, permission: 'EDIT' })).status).toBe(200);
    expect((await share('frank', { ...target, username: names.erin, permission: 'READ' })).status).toBe(200);
    const listed = await shares('carol'); // vision viewer reads it through the share
    expect(listed.status).toBe(200);
    expect(listed.body.shares).toEqual([
      { team: vision, permission: 'EDIT' },
      ...[{ username: names.erin, permission: 'READ' }, { username: names.frank, permission: 'MANAGE' }].sort((a, b) => a.username.localeCompare(b.username)),
    ]);
    expect((await t.api.get('/api/2.0/cairn/teams/shares').set('Authorization', as('alice')).query({ resource_type: 'registered_model', resource_id: model })).body.shares).toEqual([{ username: names.bob, permission: 'MANAGE' }]); // its creator's row
    expect((await t.api.get('/api/2.0/cairn/teams/shares').set('Authorization', as('alice')).query({ resource_type: 'experiment', resource_id: '999999999' })).body).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });

    const page = await t.api.get('/api/2.0/cairn/teams/get').set('Authorization', as('carol')).query({ name: vision });
    expect(page.body.owned).toEqual([{ resource_type: 'registered_model', resource_id: model, name: model }]);
    expect(page.body.shared_with_team).toContainEqual({ resource_type: 'experiment', resource_id: exp, name: expect.stringContaining('listed-exp'), permission: 'EDIT' });
    expect((await t.api.get('/api/2.0/cairn/teams/get').set('Authorization', as('frank')).query({ name: vision })).status).toBe(403);
  });
});
