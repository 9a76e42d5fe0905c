import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';

// Evaluation datasets and registered scorers over HTTP: bad input, paging, and permissions that
// follow the experiments (the real client round trip is test/compat/test_genai.py, MLflow's own
// answers are compared in test/compat/test_differential.py).

let t: TestApp;
let exp: string;
beforeAll(async () => {
  t = await startTestApp();
  exp = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('genai') })).body.experiment_id;
});
afterAll(() => t.close());

const A3 = '/api/3.0/mlflow';
const SCORER = JSON.stringify({ name: 'r', builtin_scorer_class: 'RelevanceToQuery', builtin_scorer_pydantic_data: { name: 'r' } });

async function newDataset(over: Record<string, unknown> = {}) {
  const res = await t.api.post(`${A3}/datasets/create`).send({ name: uniqueName('ds'), experiment_ids: [exp], ...over });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.dataset as { dataset_id: string; digest: string; tags: string };
}

describe('evaluation datasets', () => {
  it('refuses malformed tags, records and sources with a 400 and stores nothing', async () => {
    expect((await t.api.post(`${A3}/datasets/create`).send({ name: 'x', tags: '{nope' })).body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
    expect((await t.api.post(`${A3}/datasets/create`).send({ name: 'x', tags: '[1]' })).status).toBe(400);
    expect((await t.api.post(`${A3}/datasets/create`).send({ name: 'x', experiment_ids: ['987654321'] })).body).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });
    const ds = await newDataset();
    const post = (records: string) => t.api.post(`${A3}/datasets/${ds.dataset_id}/records`).send({ records });
    const deep = `[{"inputs": {"q": ${'['.repeat(5000)}${']'.repeat(5000)}}}]`;
    for (const bad of [deep, '{', '{"inputs": {}}', '[1]', '[{"inputs": [1]}]', '[{"inputs": {"q": 1}, "source": {"source_type": "ROBOT"}}]']) {
      const res = await post(bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    // A good record after a bad one in the same call: the whole call is refused.
    expect((await post('[{"inputs": {"q": 1}}, {"inputs": {"q": 2}, "source": {"source_type": "ROBOT"}}]')).status).toBe(400);
    const records = await t.api.get(`${A3}/datasets/${ds.dataset_id}/records`);
    expect(records.body.records).toBe('[]');
    expect((await t.api.post(`${A3}/datasets/d-missing/records`).send({ records: '[]' })).status).toBe(404);
    expect((await t.api.get(`${A3}/datasets/${ds.dataset_id}/records`).query({ page_token: 'garbage' })).status).toBe(400);
  });

  it('deletes a tag whose key holds slashes or a line break (the fuzzer found a CR turned it into a 501)', async () => {
    const ds = await newDataset({ tags: JSON.stringify({ 'a/b': '1', 'c\rd': '2', keep: '3' }) });
    for (const key of ['a/b', 'c%0Dd']) {
      const res = await t.api.delete(`${A3}/datasets/${ds.dataset_id}/tags/${key}`);
      expect(res.status, key).toBe(200);
    }
    const got = await t.api.get(`${A3}/datasets/${ds.dataset_id}`);
    expect(JSON.parse(got.body.dataset.tags)).toEqual({ keep: '3' });
  });

  it('pages records oldest first and keys them by inputs', async () => {
    const ds = await newDataset();
    const records = Array.from({ length: 5 }, (_, i) => ({ inputs: { b: i, a: 'x' }, expectations: { n: i } }));
    const up = await t.api.post(`${A3}/datasets/${ds.dataset_id}/records`).send({ records: JSON.stringify(records) });
    expect(up.body).toEqual({ inserted_count: 5, updated_count: 0 });
    // The same inputs with their keys in another order are the same record.
    const again = await t.api.post(`${A3}/datasets/${ds.dataset_id}/records`).send({ records: JSON.stringify([{ inputs: { a: 'x', b: 0 }, tags: { t: '1' } }]) });
    expect(again.body).toEqual({ inserted_count: 0, updated_count: 1 });
    const seen: unknown[] = [];
    let token: string | undefined;
    do {
      const page = await t.api.get(`${A3}/datasets/${ds.dataset_id}/records`).query({ max_results: 2, ...(token && { page_token: token }) });
      expect(page.status).toBe(200);
      seen.push(...JSON.parse(page.body.records));
      token = page.body.next_page_token;
    } while (token);
    expect(seen).toHaveLength(5);
    const first = seen.find((r) => (r as { inputs: { b: number } }).inputs.b === 0) as Record<string, unknown>;
    expect(first).toMatchObject({ expectations: { n: 0 }, tags: { t: '1' }, outputs: {} });
    const got = (await t.api.get(`${A3}/datasets/${ds.dataset_id}`)).body.dataset;
    expect(JSON.parse(got.profile)).toEqual({ num_records: 5 });
    expect(JSON.parse(got.schema)).toEqual({ inputs: { b: 'integer', a: 'string' }, outputs: {}, expectations: { n: 'integer' }, version: '1.0' });
    expect(got.digest).not.toBe(ds.digest);
    // Outputs typed by a plain value first, then an object: the schema keeps the first type.
    const mixed = await newDataset();
    for (const outputs of ['"text"', '{"k": 1}']) {
      const res = await t.api.post(`${A3}/datasets/${mixed.dataset_id}/records`).send({ records: `[{"inputs": {"q": ${outputs}}, "outputs": ${outputs}}]` });
      expect(res.status, outputs).toBe(200);
    }
    expect(JSON.parse((await t.api.get(`${A3}/datasets/${mixed.dataset_id}`)).body.dataset.schema).outputs).toBe('string');
  });

  it('refuses filters outside the grammar', async () => {
    for (const filter_string of ['name ~ 1', 'params.x = 1', 'created_time = abc', 'tags.x IS NULL']) {
      const res = await t.api.post(`${A3}/datasets/search`).send({ filter_string });
      expect(res.status, filter_string).toBe(400);
    }
    expect((await t.api.post(`${A3}/datasets/search`).send({ max_results: 50001 })).status).toBe(400);
    expect((await t.api.post(`${A3}/datasets/search`).send({ order_by: ['digest'] })).status).toBe(400);
  });

  it('links and unlinks experiments (unlinking one it is not linked to is not an error)', async () => {
    const other = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('genai-b') })).body.experiment_id;
    const ds = await newDataset({ experiment_ids: [exp, other] });
    const ids = await t.api.get(`${A3}/datasets/${ds.dataset_id}/experiment-ids`);
    expect(ids.body.experiment_ids.sort()).toEqual([exp, other].sort());
    expect((await t.api.post(`${A3}/datasets/${ds.dataset_id}/remove-experiments`).send({ experiment_ids: [other, '12345678'] })).status).toBe(200);
    expect((await t.api.get(`${A3}/datasets/${ds.dataset_id}/experiment-ids`)).body).toEqual({ experiment_ids: [exp] });
  });
});

describe('scorers', () => {
  it('numbers versions per name and refuses bad input', async () => {
    const reg = (body: Record<string, unknown>) => t.api.post(`${A3}/scorers/register`).send({ experiment_id: exp, name: 'judge', serialized_scorer: SCORER, ...body });
    expect((await reg({})).body).toMatchObject({ version: 1, name: 'judge', experiment_id: exp });
    expect((await reg({})).body.version).toBe(2);
    for (const bad of [{ name: '' }, { name: ' ' }, { serialized_scorer: 'x' }, { serialized_scorer: JSON.stringify({ call_source: 'import os' }) },
      { serialized_scorer: JSON.stringify({ builtin_scorer_pydantic_data: { model: ' ' } }) }, { experiment_id: 'abc!' },
      { serialized_scorer: `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}` }]) {
      const res = await reg(bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
    expect((await reg({ experiment_id: '987654321' })).status).toBe(404);
    expect((await t.api.get(`${A3}/scorers/get`).query({ experiment_id: exp, name: 'judge', version: 'two' })).status).toBe(400);
    const list = await t.api.get(`${A3}/scorers/list`).query({ experiment_ids: [exp] });
    expect(list.body.scorers.map((s: { scorer_version: number }) => s.scorer_version)).toEqual([2]);
    expect((await t.api.get(`${A3}/scorers/list`).query({ experiment_id: exp, experiment_ids: exp })).status).toBe(400);
  });

  it('says that it cannot start a scorer on incoming traces (online scoring), after checking that the scorer exists', async () => {
    const put = (name: string) => t.api.put(`${A3}/scorers/online-config`).send({ experiment_id: exp, name, sample_rate: 0.5 });
    await t.api.post(`${A3}/scorers/register`).send({ experiment_id: exp, name: 'online', serialized_scorer: SCORER }).expect(200);
    const res = await put('online');
    expect([res.status, res.body.error_code]).toEqual([501, 'NOT_IMPLEMENTED']);
    expect(res.body.message).toContain('online scoring');
    const missing = await put('not-registered');
    expect([missing.status, missing.body.error_code]).toEqual([404, 'RESOURCE_DOES_NOT_EXIST']);
  });
});

describe('permissions follow the linked experiments', () => {
  it('lets only readers of every linked experiment see a dataset, only editors change it, and only admins reach an unlinked one', async () => {
    const admin = uniqueName('admin');
    const auth = await startTestApp(['--app-name', 'basic-auth', '--auth-default-permission', 'NO_PERMISSIONS'], {
      env: { MLFLOW_AUTH_ADMIN_PASSWORD: 'pw', CAIRN_AUTH_ADMIN_USERNAME: admin },
    });
    try {
      const basic = (u: string) => `Basic ${Buffer.from(`${u}:pw`).toString('base64')}`;
      const [owner, other] = [uniqueName('owner'), uniqueName('other')];
      for (const u of [owner, other]) await auth.api.post('/api/2.0/mlflow/users/create').set('Authorization', basic(admin)).send({ username: u, password: 'pw' });
      const as = (u: string) => ({
        get: (url: string, q: Record<string, unknown> = {}) => auth.api.get(url).set('Authorization', basic(u)).query(q),
        post: (url: string, b: Record<string, unknown> = {}) => auth.api.post(url).set('Authorization', basic(u)).send(b),
      });
      const e = (await as(owner).post('/api/2.0/mlflow/experiments/create', { name: uniqueName('private') })).body.experiment_id;
      const ds = (await as(owner).post(`${A3}/datasets/create`, { name: 'secret', experiment_ids: [e] })).body.dataset.dataset_id;
      expect((await as(owner).get(`${A3}/datasets/${ds}`)).status).toBe(200);
      expect((await as(other).get(`${A3}/datasets/${ds}`)).status).toBe(403);
      expect((await as(other).get(`${A3}/datasets/${ds}/records`)).status).toBe(403);
      expect((await as(other).post(`${A3}/datasets/${ds}/records`, { records: '[]' })).status).toBe(403);
      expect((await as(other).post(`${A3}/scorers/register`, { experiment_id: e, name: 'j', serialized_scorer: SCORER })).status).toBe(403);
      expect((await as(owner).post(`${A3}/scorers/register`, { experiment_id: e, name: 'j', serialized_scorer: SCORER })).status).toBe(200);
      expect((await as(other).get(`${A3}/scorers/list`, { experiment_id: e })).status).toBe(403);
      await as(owner).post('/api/3.0/mlflow/users/permissions/grant', { username: other, resource_type: 'experiment', resource_id: e, permission: 'READ' });
      expect((await as(other).get(`${A3}/datasets/${ds}`)).status).toBe(200);
      expect((await as(other).post(`${A3}/datasets/${ds}/records`, { records: '[]' })).status).toBe(403);
      // As MLflow's basic-auth app: creating or searching must name experiments, and an unlinked dataset is for admins.
      expect((await as(owner).post(`${A3}/datasets/create`, { name: 'loose' })).status).toBe(403);
      expect((await as(other).post(`${A3}/datasets/search`, {})).status).toBe(403);
      expect((await as(other).post(`${A3}/datasets/search`, { experiment_ids: [e] })).body.datasets).toHaveLength(1);
      await as(owner).post(`${A3}/datasets/${ds}/remove-experiments`, { experiment_ids: [e] });
      expect((await as(owner).get(`${A3}/datasets/${ds}`)).status).toBe(403);
      expect((await auth.api.get(`${A3}/datasets/${ds}`).set('Authorization', basic(admin))).status).toBe(200);
    } finally {
      await auth.close();
    }
  });
});
