import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';

// Registered models, tags, aliases, stages and get-latest-versions, through the HTTP API.

let t: TestApp;
let experimentId: string;
let runId: string;
beforeAll(async () => {
  t = await startTestApp();
  experimentId = (await post('experiments/create', { name: uniqueName('registry') })).body.experiment_id;
  runId = (await post('runs/create', { experiment_id: experimentId })).body.run.info.run_id;
});
afterAll(() => t.close());

const post = (path: string, body: unknown) => t.api.post(`/api/2.0/mlflow/${path}`).send(body as object);
const patch = (path: string, body: unknown) => t.api.patch(`/api/2.0/mlflow/${path}`).send(body as object);
const del = (path: string, body: unknown) => t.api.delete(`/api/2.0/mlflow/${path}`).send(body as object);
const get = (path: string, query: Record<string, unknown>) => t.api.get(`/api/2.0/mlflow/${path}`).query(query);

const newModel = async (extra: Record<string, unknown> = {}) => {
  const name = uniqueName('model');
  const res = await post('registered-models/create', { name, ...extra });
  expect(res.status).toBe(200);
  return name;
};
const newVersion = async (name: string, extra: Record<string, unknown> = {}) => {
  const res = await post('model-versions/create', { name, source: `runs:/${runId}/model`, run_id: runId, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.model_version;
};

describe('registered models', () => {
  it('creates and gets a model with tags and description', async () => {
    const name = uniqueName('model');
    const res = await post('registered-models/create', { name, description: 'first', tags: [{ key: 'team', value: 'ml' }] });
    expect(res.status).toBe(200);
    const rm = res.body.registered_model;
    expect(rm).toMatchObject({ name, description: 'first', tags: [{ key: 'team', value: 'ml' }] });
    expect(rm.creation_timestamp).toBeGreaterThan(0);
    expect(rm.last_updated_timestamp).toBe(rm.creation_timestamp);
    expect(rm.latest_versions).toBeUndefined();
    const got = await get('registered-models/get', { name });
    expect(got.body.registered_model).toEqual(rm);
    // Also under /ajax-api, for the UI.
    expect((await t.api.get('/ajax-api/2.0/mlflow/registered-models/get').query({ name })).body.registered_model.name).toBe(name);
  });

  it('answers a duplicate name with 400 RESOURCE_ALREADY_EXISTS', async () => {
    const name = await newModel();
    const res = await post('registered-models/create', { name });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error_code: 'RESOURCE_ALREADY_EXISTS', message: `Registered Model (name=${name}) already exists.` });
    const asPrompt = await post('registered-models/create', { name, tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] });
    expect(asPrompt.body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
    expect(asPrompt.body.message).toContain('MLflow does not allow creating a model and a prompt with the same name');
  });

  it('refuses invalid names and tags', async () => {
    for (const name of ['a/b', 'a:b', '', '   ']) {
      const res = await post('registered-models/create', { name });
      expect(res.status, name).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    expect((await post('registered-models/create', {})).body.message).toContain("Missing value for required parameter 'name'");
    const badTag = await post('registered-models/create', { name: uniqueName('m'), tags: [{ key: '../x', value: 'v' }] });
    expect(badTag.status).toBe(400);
    const longValue = await post('registered-models/create', { name: uniqueName('m'), tags: [{ key: 'k', value: 'x'.repeat(100_001) }] });
    expect(longValue.status).toBe(400);
  });

  it('404s an unknown model on every read and write', async () => {
    const name = uniqueName('missing');
    const calls = [
      get('registered-models/get', { name }),
      post('registered-models/rename', { name, new_name: uniqueName('x') }),
      patch('registered-models/update', { name, description: 'd' }),
      del('registered-models/delete', { name }),
      post('registered-models/set-tag', { name, key: 'k', value: 'v' }),
      del('registered-models/delete-tag', { name, key: 'k' }),
      post('registered-models/get-latest-versions', { name }),
      get('registered-models/alias', { name, alias: 'a' }),
      post('model-versions/create', { name, source: `runs:/${runId}/model`, run_id: runId }),
    ];
    for (const res of await Promise.all(calls)) {
      expect(res.status).toBe(404);
      expect(res.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    }
  });

  it('renames a model with its versions; a taken name is RESOURCE_ALREADY_EXISTS', async () => {
    const name = await newModel();
    await newVersion(name);
    const newName = uniqueName('renamed');
    const res = await post('registered-models/rename', { name, new_name: newName });
    expect(res.status).toBe(200);
    expect(res.body.registered_model.name).toBe(newName);
    expect(res.body.registered_model.latest_versions[0]).toMatchObject({ name: newName, version: '1' });
    expect((await get('registered-models/get', { name })).status).toBe(404);
    expect((await get('model-versions/get', { name: newName, version: '1' })).body.model_version.name).toBe(newName);
    const other = await newModel();
    const clash = await post('registered-models/rename', { name: newName, new_name: other });
    expect(clash.status).toBe(400);
    expect(clash.body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
    expect((await post('registered-models/rename', { name: newName, new_name: 'a/b' })).status).toBe(400);
  });

  it('updates the description with PATCH', async () => {
    const name = await newModel({ description: 'old' });
    const res = await patch('registered-models/update', { name, description: 'new' });
    expect(res.status).toBe(200);
    expect(res.body.registered_model.description).toBe('new');
    expect((await get('registered-models/get', { name })).body.registered_model.description).toBe('new');
  });

  it('sets, overwrites and deletes tags; deleting a missing tag is a no-op', async () => {
    const name = await newModel();
    expect((await post('registered-models/set-tag', { name, key: 'k', value: 'v1' })).status).toBe(200);
    expect((await post('registered-models/set-tag', { name, key: 'k', value: 'v2' })).status).toBe(200);
    expect((await post('registered-models/set-tag', { name, key: 'empty' })).status).toBe(200);
    expect((await get('registered-models/get', { name })).body.registered_model.tags).toEqual([
      { key: 'empty', value: '' },
      { key: 'k', value: 'v2' },
    ]);
    expect((await del('registered-models/delete-tag', { name, key: 'k' })).status).toBe(200);
    expect((await del('registered-models/delete-tag', { name, key: 'k' })).status).toBe(200);
    expect((await get('registered-models/get', { name })).body.registered_model.tags).toEqual([{ key: 'empty', value: '' }]);
    expect((await post('registered-models/set-tag', { name, key: 'bad key!', value: 'v' })).status).toBe(400);
  });

  it('deletes a model with its versions, tags and aliases', async () => {
    const name = await newModel({ tags: [{ key: 'k', value: 'v' }] });
    await newVersion(name);
    await post('registered-models/alias', { name, alias: 'champion', version: '1' });
    expect((await del('registered-models/delete', { name })).status).toBe(200);
    expect((await get('registered-models/get', { name })).status).toBe(404);
    expect((await get('model-versions/get', { name, version: '1' })).status).toBe(404);
    // The name is free again, with a fresh version counter.
    await newModel({ name });
    expect((await newVersion(name)).version).toBe('1');
    expect((await get('registered-models/get', { name })).body.registered_model.tags).toBeUndefined();
  });
});

describe('stages and latest versions', () => {
  it('transitions stages, archiving the others on request, and reports the latest per stage', async () => {
    const name = await newModel();
    for (let i = 0; i < 4; i++) await newVersion(name);
    const toProd = await post('model-versions/transition-stage', { name, version: '1', stage: 'production', archive_existing_versions: false });
    expect(toProd.status).toBe(200);
    expect(toProd.body.model_version).toMatchObject({ version: '1', current_stage: 'Production', status: 'READY' });
    await post('model-versions/transition-stage', { name, version: '2', stage: 'Staging', archive_existing_versions: false });
    const archiving = await post('model-versions/transition-stage', { name, version: '3', stage: 'Production', archive_existing_versions: true });
    expect(archiving.body.model_version.current_stage).toBe('Production');
    expect((await get('model-versions/get', { name, version: '1' })).body.model_version.current_stage).toBe('Archived');
    expect((await get('model-versions/get', { name, version: '2' })).body.model_version.current_stage).toBe('Staging');

    const all = await post('registered-models/get-latest-versions', { name });
    expect(all.body.model_versions.map((v: { version: string; current_stage: string }) => [v.version, v.current_stage])).toEqual([
      ['1', 'Archived'],
      ['2', 'Staging'],
      ['3', 'Production'],
      ['4', 'None'],
    ]);
    const prod = await post('registered-models/get-latest-versions', { name, stages: ['Production'] });
    expect(prod.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['3']);
    // The GET form, with repeated query keys and case-insensitive stage names.
    const viaGet = await get('registered-models/get-latest-versions', { name, stages: ['staging', 'NONE'] });
    expect(viaGet.status).toBe(200);
    expect(viaGet.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['2', '4']);
    const rm = (await get('registered-models/get', { name })).body.registered_model;
    expect(rm.latest_versions.map((v: { version: string }) => v.version)).toEqual(['1', '2', '3', '4']);
    expect(rm.last_updated_timestamp).toBeGreaterThanOrEqual(rm.creation_timestamp);
  });

  it('refuses unknown stages and archiving into a non-active stage', async () => {
    const name = await newModel();
    await newVersion(name);
    const bad = await post('model-versions/transition-stage', { name, version: '1', stage: 'Prod' });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('Invalid Model Version stage');
    const archive = await post('model-versions/transition-stage', { name, version: '1', stage: 'Archived', archive_existing_versions: true });
    expect(archive.status).toBe(400);
    expect((await post('registered-models/get-latest-versions', { name, stages: ['Nope'] })).status).toBe(400);
    expect((await post('model-versions/transition-stage', { name, version: '9', stage: 'Staging' })).status).toBe(404);
    expect((await post('model-versions/transition-stage', { name, version: 'one', stage: 'Staging' })).status).toBe(400);
  });
});

describe('aliases', () => {
  it('sets, moves, resolves and deletes aliases, reflected on versions and the model', async () => {
    const name = await newModel();
    await newVersion(name);
    await newVersion(name);
    expect((await post('registered-models/alias', { name, alias: 'champion', version: '1' })).status).toBe(200);
    expect((await post('registered-models/alias', { name, alias: 'challenger', version: '2' })).status).toBe(200);
    const champ = await get('registered-models/alias', { name, alias: 'champion' });
    expect(champ.body.model_version).toMatchObject({ name, version: '1', aliases: ['champion'] });
    expect((await get('registered-models/get', { name })).body.registered_model.aliases).toEqual([
      { alias: 'challenger', version: '2' },
      { alias: 'champion', version: '1' },
    ]);
    // Setting an existing alias moves it.
    await post('registered-models/alias', { name, alias: 'champion', version: '2' });
    expect((await get('model-versions/get', { name, version: '2' })).body.model_version.aliases).toEqual(['challenger', 'champion']);
    expect((await get('model-versions/get', { name, version: '1' })).body.model_version.aliases).toBeUndefined();
    // "latest" resolves to the newest version, in any case.
    expect((await get('registered-models/alias', { name, alias: 'LATEST' })).body.model_version.version).toBe('2');
    expect((await del('registered-models/alias', { name, alias: 'champion' })).status).toBe(200);
    expect((await del('registered-models/alias', { name, alias: 'champion' })).status).toBe(200);
    const gone = await get('registered-models/alias', { name, alias: 'champion' });
    expect(gone.status).toBe(404);
    expect(gone.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('refuses reserved and malformed aliases and unknown versions', async () => {
    const name = await newModel();
    await newVersion(name);
    for (const alias of ['latest', 'Latest', 'v1', 'V12', 'bad alias', 'a/b', 'x'.repeat(256)]) {
      const res = await post('registered-models/alias', { name, alias, version: '1' });
      expect(res.status, alias).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    expect((await post('registered-models/alias', { name, alias: 'ok', version: '7' })).status).toBe(404);
    expect((await post('registered-models/alias', { name, alias: 'ok', version: 'x' })).status).toBe(400);
  });

  it('removes the aliases of a deleted version', async () => {
    const name = await newModel();
    await newVersion(name);
    await post('registered-models/alias', { name, alias: 'gone', version: '1' });
    expect((await del('model-versions/delete', { name, version: '1' })).status).toBe(200);
    expect((await get('registered-models/alias', { name, alias: 'gone' })).status).toBe(404);
    expect((await get('registered-models/get', { name })).body.registered_model.aliases).toBeUndefined();
  });
});

describe('wrong methods', () => {
  it('answers 405 for a known path with the wrong method', async () => {
    expect((await t.api.put('/api/2.0/mlflow/registered-models/create').send({})).status).toBe(405);
    expect((await t.api.post('/api/2.0/mlflow/registered-models/search').send({})).status).toBe(405);
  });
});
