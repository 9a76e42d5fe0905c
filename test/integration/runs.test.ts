import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';

let t: TestApp;
let experimentId: string;
beforeAll(async () => {
  t = await startTestApp();
  experimentId = (await post('experiments/create', { name: uniqueName('runs') })).body.experiment_id;
});
afterAll(() => t.close());

const post = (path: string, body: unknown) => t.api.post(`/api/2.0/mlflow/${path}`).send(body as object);
const get = (path: string, query: Record<string, unknown>) => t.api.get(`/api/2.0/mlflow/${path}`).query(query);
const newRun = async (extra: Record<string, unknown> = {}) =>
  (await post('runs/create', { experiment_id: experimentId, start_time: 1000, ...extra })).body.run;

describe('runs', () => {
  it('creates a RUNNING run with a 32-hex id, artifact uri and the mlflow.runName tag', async () => {
    const run = await newRun({ user_id: 'alice', run_name: 'first', tags: [{ key: 'a', value: 'b' }] });
    expect(run.info.run_id).toMatch(/^[0-9a-f]{32}$/);
    expect(run.info).toMatchObject({
      run_uuid: run.info.run_id,
      run_name: 'first',
      experiment_id: experimentId,
      user_id: 'alice',
      status: 'RUNNING',
      start_time: 1000,
      lifecycle_stage: 'active',
      artifact_uri: `mlflow-artifacts:/${experimentId}/${run.info.run_id}/artifacts`,
    });
    expect(run.info.end_time).toBeUndefined();
    expect(run.data.tags).toEqual([{ key: 'a', value: 'b' }, { key: 'mlflow.runName', value: 'first' }]);
  });

  it('names a run from the tag, or generates a name; refuses a mismatch', async () => {
    expect((await newRun({ tags: [{ key: 'mlflow.runName', value: 'tagged' }] })).info.run_name).toBe('tagged');
    expect((await newRun()).info.run_name).toMatch(/^[a-z]+-[a-z]+-\d+$/);
    const clash = await post('runs/create', { experiment_id: experimentId, run_name: 'x', tags: [{ key: 'mlflow.runName', value: 'y' }] });
    expect(clash.status).toBe(400);
  });

  it('refuses runs in a missing experiment', async () => {
    const res = await post('runs/create', { experiment_id: '99999999' });
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('updates status, end time and name (keeping the tag in sync)', async () => {
    const run = await newRun();
    const res = await post('runs/update', { run_id: run.info.run_id, run_uuid: run.info.run_id, status: 'FINISHED', end_time: 2000, run_name: 'done' });
    expect(res.body.run_info).toMatchObject({ status: 'FINISHED', end_time: 2000, run_name: 'done' });
    const got = (await get('runs/get', { run_id: run.info.run_id, run_uuid: run.info.run_id })).body.run;
    expect(got.data.tags).toContainEqual({ key: 'mlflow.runName', value: 'done' });
    const bad = await post('runs/update', { run_id: run.info.run_id, status: 'SLEEPING' });
    expect(bad.status).toBe(400);
  });

  it('accepts the legacy run_uuid alone', async () => {
    const run = await newRun();
    const res = await get('runs/get', { run_uuid: run.info.run_id });
    expect(res.body.run.info.run_id).toBe(run.info.run_id);
  });

  it('deletes and restores; writes to a deleted run are refused', async () => {
    const run = await newRun();
    const id = run.info.run_id;
    expect((await post('runs/delete', { run_id: id })).status).toBe(200);
    expect((await get('runs/get', { run_id: id })).body.run.info.lifecycle_stage).toBe('deleted');
    const write = await post('runs/log-parameter', { run_id: id, key: 'k', value: 'v' });
    expect(write.status).toBe(400);
    expect(write.body.message).toContain("must be in the 'active' state");
    expect((await post('runs/restore', { run_id: id })).status).toBe(200);
    expect((await post('runs/log-parameter', { run_id: id, key: 'k', value: 'v' })).status).toBe(200);
  });

  it('404s an unknown run', async () => {
    const res = await get('runs/get', { run_id: 'f'.repeat(32) });
    expect(res.status).toBe(404);
    expect(res.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('records dataset and model inputs and model outputs, idempotently', async () => {
    const id = (await newRun()).info.run_id;
    const dataset = { name: 'iris', digest: 'abc123', source_type: 'local', source: '{"uri": "/tmp/iris.csv"}', schema: '{}' };
    const body = { run_id: id, datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset }], models: [{ model_id: 'm-1' }] };
    expect((await post('runs/log-inputs', body)).status).toBe(200);
    expect((await post('runs/log-inputs', body)).status).toBe(200);
    await post('runs/outputs', { run_id: id, models: [{ model_id: 'm-2', step: 3 }] });
    const run = (await get('runs/get', { run_id: id })).body.run;
    expect(run.inputs.dataset_inputs).toEqual([{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset }]);
    expect(run.inputs.model_inputs).toEqual([{ model_id: 'm-1' }]);
    expect(run.outputs.model_outputs).toEqual([{ model_id: 'm-2', step: 3 }]);
    const search = await post('runs/search', { experiment_ids: [experimentId], filter: "datasets.name = 'iris' AND datasets.context = 'training'" });
    expect(search.body.runs.map((r: { info: { run_id: string } }) => r.info.run_id)).toEqual([id]);
  });

  it('records legacy log-model in the mlflow.log-model.history tag, once per model', async () => {
    const id = (await newRun()).info.run_id;
    const model = { artifact_path: 'model', flavors: { python_function: {} }, utc_time_created: '2026-01-01 00:00:00', run_id: id };
    await post('runs/log-model', { run_id: id, model_json: JSON.stringify(model) });
    await post('runs/log-model', { run_id: id, model_json: JSON.stringify(model) });
    const tags = (await get('runs/get', { run_id: id })).body.run.data.tags;
    const history = JSON.parse(tags.find((t: { key: string }) => t.key === 'mlflow.log-model.history').value);
    expect(history).toEqual([model]);
  });
});

describe('runs/search', () => {
  it('filters and orders on metrics, params, tags and attributes, pages without gaps', async () => {
    const exp = (await post('experiments/create', { name: uniqueName('search') })).body.experiment_id;
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const run = (await post('runs/create', { experiment_id: exp, start_time: 1000 + i, run_name: `r-${i}` })).body.run;
      ids.push(run.info.run_id);
      const metrics = i % 4 === 3 ? [] : [{ key: 'loss', value: i / 10, timestamp: 1, step: 0 }];
      await post('runs/log-batch', { run_id: run.info.run_id, metrics, params: [{ key: 'parity', value: String(i % 2) }], tags: [{ key: 'group', value: i < 6 ? 'a' : 'b' }] });
    }
    const found = async (body: Record<string, unknown>) =>
      ((await post('runs/search', { experiment_ids: [exp], ...body })).body.runs ?? []).map((r: { info: { run_name: string } }) => r.info.run_name);

    expect(await found({})).toEqual(ids.map((_, i) => `r-${11 - i}`));
    expect(await found({ filter: "metrics.loss < 0.35 and params.parity = '0'" })).toEqual(['r-2', 'r-0']);
    expect(await found({ filter: "tags.group = 'b' and metrics.loss >= 0.9", order_by: ['metrics.loss DESC'] })).toEqual(['r-10', 'r-9']);
    const ordered = await found({ filter: "tags.group = 'a'", order_by: ['metrics.loss DESC'] });
    expect(ordered).toEqual(['r-5', 'r-4', 'r-2', 'r-1', 'r-0', 'r-3']);
    const asc = await found({ filter: "tags.group = 'a'", order_by: ['metrics.loss ASC'] });
    expect(asc).toEqual(['r-0', 'r-1', 'r-2', 'r-4', 'r-5', 'r-3']);
    expect(await found({ filter: "attributes.run_name LIKE 'r-1%'", order_by: ['attributes.start_time ASC'] })).toEqual(['r-1', 'r-10', 'r-11']);
    expect(await found({ filter: `attributes.run_id IN ('${ids[4]}', '${ids[7]}')`, order_by: ['run_name'] })).toEqual(['r-4', 'r-7']);

    const paged: string[] = [];
    let token: string | undefined;
    do {
      const res = await post('runs/search', { experiment_ids: [exp], max_results: 5, page_token: token });
      paged.push(...res.body.runs.map((r: { info: { run_id: string } }) => r.info.run_id));
      token = res.body.next_page_token;
    } while (token);
    expect(paged).toEqual([...ids].reverse());
  });

  it('returns nothing for no experiments and refuses bad grammar with 400', async () => {
    expect((await post('runs/search', { experiment_ids: [] })).body).toEqual({});
    const bad = await post('runs/search', { experiment_ids: ['0'], filter: 'metrics.x < 1 OR metrics.y > 2' });
    expect(bad.status).toBe(400);
    expect(bad.body.error_code).toBe('INVALID_PARAMETER_VALUE');
  });
});
