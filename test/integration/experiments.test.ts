import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const post = (path: string, body: unknown) => t.api.post(`/api/2.0/mlflow/${path}`).send(body as object);
const get = (path: string, query: Record<string, unknown>) => t.api.get(`/api/2.0/mlflow/${path}`).query(query);

describe('experiments', () => {
  it('has the Default experiment 0 from the first start', async () => {
    const res = await get('experiments/get', { experiment_id: '0' });
    expect(res.status).toBe(200);
    expect(res.body.experiment).toMatchObject({ experiment_id: '0', name: 'Default', lifecycle_stage: 'active', artifact_location: 'mlflow-artifacts:/0' });
  });

  it('creates, gets by id and name, with tags and an artifact location under the root', async () => {
    const name = uniqueName('exp');
    const created = await post('experiments/create', { name, tags: [{ key: 'team', value: 'ml' }] });
    expect(created.status).toBe(200);
    const id = created.body.experiment_id;
    expect(id).toMatch(/^\d+$/);
    const byId = await get('experiments/get', { experiment_id: id });
    expect(byId.body.experiment).toMatchObject({ name, artifact_location: `mlflow-artifacts:/${id}`, tags: [{ key: 'team', value: 'ml' }] });
    expect(byId.body.experiment.creation_time).toBeGreaterThan(0);
    const byName = await get('experiments/get-by-name', { experiment_name: name });
    expect(byName.body.experiment.experiment_id).toBe(id);
  });

  it('keeps a client-supplied artifact location and refuses duplicates with 400 RESOURCE_ALREADY_EXISTS', async () => {
    const name = uniqueName('exp');
    const created = await post('experiments/create', { name, artifact_location: 's3://bucket/prefix' });
    const exp = await get('experiments/get', { experiment_id: created.body.experiment_id });
    expect(exp.body.experiment.artifact_location).toBe('s3://bucket/prefix');
    const dup = await post('experiments/create', { name });
    expect(dup.status).toBe(400);
    expect(dup.body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
  });

  it('answers 404 RESOURCE_DOES_NOT_EXIST for unknown ids and names', async () => {
    const res = await get('experiments/get', { experiment_id: '987654321' });
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    const byName = await get('experiments/get-by-name', { experiment_name: uniqueName('missing') });
    expect(byName.status).toBe(404);
    expect(byName.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('renames, deletes (with its runs), restores', async () => {
    const id = (await post('experiments/create', { name: uniqueName('old') })).body.experiment_id;
    const run = (await post('runs/create', { experiment_id: id, start_time: 1 })).body.run.info.run_id;
    const newName = uniqueName('new');
    expect((await post('experiments/update', { experiment_id: id, new_name: newName })).status).toBe(200);
    expect((await get('experiments/get', { experiment_id: id })).body.experiment.name).toBe(newName);

    expect((await post('experiments/delete', { experiment_id: id })).body).toEqual({});
    expect((await get('experiments/get', { experiment_id: id })).body.experiment.lifecycle_stage).toBe('deleted');
    expect((await get('runs/get', { run_id: run })).body.run.info.lifecycle_stage).toBe('deleted');
    const rename = await post('experiments/update', { experiment_id: id, new_name: uniqueName('x') });
    expect(rename.status).toBe(400);
    const tag = await post('experiments/set-experiment-tag', { experiment_id: id, key: 'k', value: 'v' });
    expect(tag.body.error_code).toBe('INVALID_PARAMETER_VALUE');

    expect((await post('experiments/restore', { experiment_id: id })).status).toBe(200);
    expect((await get('experiments/get', { experiment_id: id })).body.experiment.lifecycle_stage).toBe('active');
    expect((await get('runs/get', { run_id: run })).body.run.info.lifecycle_stage).toBe('active');
  });

  it('sets and deletes experiment tags; deleting a missing tag is 404', async () => {
    const id = (await post('experiments/create', { name: uniqueName('tags') })).body.experiment_id;
    await post('experiments/set-experiment-tag', { experiment_id: id, key: 'a', value: '1' });
    await post('experiments/set-experiment-tag', { experiment_id: id, key: 'a', value: '2' });
    expect((await get('experiments/get', { experiment_id: id })).body.experiment.tags).toEqual([{ key: 'a', value: '2' }]);
    expect((await post('experiments/delete-experiment-tag', { experiment_id: id, key: 'a' })).status).toBe(200);
    expect((await get('experiments/get', { experiment_id: id })).body.experiment.tags).toBeUndefined();
    const again = await post('experiments/delete-experiment-tag', { experiment_id: id, key: 'a' });
    expect(again.status).toBe(404);
    expect(again.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('searches with filter, order_by and paging, by POST and GET', async () => {
    const prefix = uniqueName('srch');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await post('experiments/create', { name: `${prefix}-${i}`, tags: [{ key: 'parity', value: String(i % 2) }] })).body.experiment_id);
    }
    const filter = `name LIKE '${prefix}-%' AND tags.parity = '0'`;
    const res = await post('experiments/search', { filter, order_by: ['name DESC'] });
    expect(res.body.experiments.map((e: { name: string }) => e.name)).toEqual([`${prefix}-4`, `${prefix}-2`, `${prefix}-0`]);

    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await get('experiments/search', { filter: `name LIKE '${prefix}-%'`, max_results: 2, order_by: 'name ASC', ...(token ? { page_token: token } : {}) });
      expect(page.status).toBe(200);
      seen.push(...page.body.experiments.map((e: { experiment_id: string }) => e.experiment_id));
      token = page.body.next_page_token;
    } while (token);
    expect(seen).toEqual(ids);

    await post('experiments/delete', { experiment_id: ids[0] });
    const deleted = await post('experiments/search', { filter: `name LIKE '${prefix}-%'`, view_type: 'DELETED_ONLY' });
    expect(deleted.body.experiments.map((e: { experiment_id: string }) => e.experiment_id)).toEqual([ids[0]]);
  });

  it('serves the same routes under /ajax-api', async () => {
    const res = await t.api.get('/ajax-api/2.0/mlflow/experiments/get').query({ experiment_id: '0' });
    expect(res.body.experiment.name).toBe('Default');
  });
});
