import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';

// search_registered_models and search_model_versions (filters, order, paging) and prompts kept apart.

let t: TestApp;
let experimentId: string;
let runId: string;
beforeAll(async () => {
  t = await startTestApp();
  experimentId = (await post('experiments/create', { name: uniqueName('registry-search') })).body.experiment_id;
  const run = (await post('runs/create', { experiment_id: experimentId })).body.run;
  runId = run.info.run_id;
});
afterAll(() => t.close());

const post = (path: string, body: unknown) => t.api.post(`/api/2.0/mlflow/${path}`).send(body as object);
const get = (path: string, query: Record<string, unknown>) => t.api.get(`/api/2.0/mlflow/${path}`).query(query);

const newModel = async (extra: Record<string, unknown> = {}) => {
  const name = uniqueName('model');
  expect((await post('registered-models/create', { name, ...extra })).status).toBe(200);
  return name;
};
const createVersion = (name: string, extra: Record<string, unknown> = {}) =>
  post('model-versions/create', { name, source: `runs:/${runId}/model`, run_id: runId, ...extra });
const newVersion = async (name: string, extra: Record<string, unknown> = {}) => {
  const res = await createVersion(name, extra);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.model_version;
};

describe('search_model_versions', () => {
  it('filters by name, version_number, run_id, source_path and tags; orders and pages', async () => {
    const name = await newModel();
    for (let i = 1; i <= 5; i++) await newVersion(name, { tags: [{ key: 'parity', value: i % 2 ? 'odd' : 'even' }] });
    const versions = async (filter: string, extra: Record<string, unknown> = {}) => {
      const res = await get('model-versions/search', { filter, ...extra });
      expect(res.status, `${filter}: ${JSON.stringify(res.body)}`).toBe(200);
      return (res.body.model_versions ?? []).map((v: { version: string }) => v.version);
    };
    const byName = `name = '${name}'`;
    expect(await versions(byName)).toEqual(['5', '4', '3', '2', '1']);
    expect(await versions(`${byName} AND version_number > 2`)).toEqual(['5', '4', '3']);
    expect(await versions(`${byName} AND version_number = '3'`)).toEqual(['3']);
    expect(await versions(`${byName} AND tags.parity = 'even'`)).toEqual(['4', '2']);
    expect(await versions(`${byName} AND tag.\`parity\` != 'even'`)).toEqual(['5', '3', '1']);
    expect(await versions(`${byName} AND run_id IN ('${runId}', 'x')`)).toHaveLength(5);
    expect(await versions(`${byName} AND run_id = 'nope'`)).toEqual([]);
    expect(await versions(`${byName} AND source_path LIKE 'runs:/%'`)).toHaveLength(5);
    expect(await versions(`name IN ('${name}') AND attribute.version_number <= 1`)).toEqual(['1']);
    expect(await versions(byName, { order_by: ['version_number ASC'] })).toEqual(['1', '2', '3', '4', '5']);
    // Two keys: versions made in the same millisecond tie on the first, and the second decides.
    const stamped = await get('model-versions/search', { filter: byName, order_by: ['creation_timestamp ASC', 'version_number DESC'] });
    const rows = stamped.body.model_versions.map((v: { version: string; creation_timestamp: number }) => [Number(v.creation_timestamp), Number(v.version)]);
    const byKeys = [...rows].sort((a: number[], b: number[]) => a[0] - b[0] || b[1] - a[1]);
    expect(rows.map((r: number[]) => r[1])).toEqual(byKeys.map((r: number[]) => r[1]));
    expect(rows).toHaveLength(5);

    const page1 = await get('model-versions/search', { filter: byName, max_results: 2, order_by: 'version_number ASC' });
    expect(page1.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['1', '2']);
    const page2 = await get('model-versions/search', { filter: byName, max_results: 2, order_by: 'version_number ASC', page_token: page1.body.next_page_token });
    expect(page2.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['3', '4']);
    const page3 = await get('model-versions/search', { filter: byName, max_results: 2, order_by: 'version_number ASC', page_token: page2.body.next_page_token });
    expect(page3.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['5']);
    expect(page3.body.next_page_token).toBeUndefined();
  });

  it('refuses bad filters, order_by clauses, page tokens and sizes', async () => {
    for (const query of [
      { filter: 'metrics.x > 1' },
      { filter: 'creation_timestamp > 1' },
      { filter: "name IS NULL" },
      { filter: "run_id LIKE 'a' OR name = 'b'" },
      { filter: "tags.k IN ('a')" },
      { filter: "source_path IN ('a')" },
      { filter: "version_number = 'x'" },
      { order_by: 'run_id' },
      { order_by: ['name', 'name DESC'] },
      { page_token: 'garbage' },
      { max_results: 200_001 },
      { max_results: 0 },
    ]) {
      const res = await get('model-versions/search', query);
      expect(res.status, JSON.stringify(query)).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
  });
});

describe('prompts', () => {
  const promptTag = { key: 'mlflow.prompt.is_prompt', value: 'true' };

  it('stores prompts as registry entities, kept out of model searches unless asked for', async () => {
    const prompt = await newModel({ tags: [promptTag], description: 'commit' });
    const pv = await post('model-versions/create', {
      name: prompt,
      source: 'prompt-template',
      description: 'commit',
      tags: [promptTag, { key: 'mlflow.prompt.text', value: 'Hello {{name}}' }, { key: '_mlflow_prompt_type', value: 'text' }],
    });
    expect(pv.status, JSON.stringify(pv.body)).toBe(200);
    expect(pv.body.model_version).toMatchObject({ version: '1', status: 'READY', source: 'prompt-template' });
    const bad = await post('model-versions/create', { name: prompt, source: 's3://bucket/x', tags: [promptTag] });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('Invalid prompt source');

    const model = await newModel();
    await newVersion(model);
    const models = async (filter: string) =>
      ((await get('registered-models/search', { filter, max_results: 1000 })).body.registered_models ?? []).map((m: { name: string }) => m.name);
    const names = `name IN ('${prompt}', '${model}')`;
    // The clause the client always appends: models without the tag match it.
    expect(await models(`${names} AND tag.\`mlflow.prompt.is_prompt\` != 'true'`)).toEqual([model]);
    expect(await models(`${names} AND tags.\`mlflow.prompt.is_prompt\` = 'false'`)).toEqual([model]);
    expect(await models(names)).toEqual([model]);
    expect(await models(`${names} AND tags.\`mlflow.prompt.is_prompt\` = 'true'`)).toEqual([prompt]);
    const versions = async (filter: string) =>
      ((await get('model-versions/search', { filter })).body.model_versions ?? []).map((v: { name: string }) => v.name);
    expect(await versions(names)).toEqual([model]);
    expect(await versions(`name = '${prompt}' AND tag.\`mlflow.prompt.is_prompt\` = 'true'`)).toEqual([prompt]);
    // A prompt cannot be the source of a model version.
    expect((await createVersion(model, { source: `models:/${prompt}/1`, run_id: undefined })).status).toBe(400);
  });
});

describe('search_model_versions order_by with two keys', () => {
  it('orders by the first key, then the second, each in its own direction', async () => {
    const prefix = uniqueName('two-keys');
    const [a, b] = [`${prefix}-a`, `${prefix}-b`];
    for (const [name, count] of [[a, 2], [b, 3]] as const) {
      expect((await post('registered-models/create', { name })).status).toBe(200);
      for (let i = 0; i < count; i++) await newVersion(name);
    }
    const order = async (orderBy: string[]) => {
      const res = await get('model-versions/search', { filter: `name IN ('${a}', '${b}')`, order_by: orderBy });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.model_versions.map((v: { name: string; version: string }) => `${v.name.slice(prefix.length + 1)}${v.version}`);
    };
    // Unlike the default (name ASC, version_number DESC) in both keys.
    expect(await order(['name DESC', 'version_number ASC'])).toEqual(['b1', 'b2', 'b3', 'a1', 'a2']);
    expect(await order(['name ASC', 'version_number ASC'])).toEqual(['a1', 'a2', 'b1', 'b2', 'b3']);
    expect(await order(['name DESC', 'version_number DESC'])).toEqual(['b3', 'b2', 'b1', 'a2', 'a1']);
  });
});

describe('search_registered_models', () => {
  it('filters, orders and pages', async () => {
    const prefix = uniqueName('srm');
    for (const suffix of ['c', 'a', 'b']) {
      await new Promise((resolve) => setTimeout(resolve, 3)); // distinct timestamps for the timestamp order
      await newModel({ name: `${prefix}-${suffix}`, tags: [{ key: 'letter', value: suffix }] });
    }
    const names = async (query: Record<string, unknown>) => {
      const res = await get('registered-models/search', query);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return (res.body.registered_models ?? []).map((m: { name: string }) => m.name.slice(prefix.length + 1));
    };
    const like = `name LIKE '${prefix}-%'`;
    expect(await names({ filter: like })).toEqual(['a', 'b', 'c']);
    expect(await names({ filter: `${like} AND tags.letter != 'b'` })).toEqual(['a', 'c']);
    expect(await names({ filter: `name ILIKE '${prefix.toUpperCase()}-%'` })).toEqual(['a', 'b', 'c']);
    expect(await names({ filter: like, order_by: ['name DESC'] })).toEqual(['c', 'b', 'a']);
    expect(await names({ filter: like, order_by: ['timestamp DESC'] })).toEqual(['b', 'a', 'c']);
    const p1 = await get('registered-models/search', { filter: like, max_results: 2 });
    expect(p1.body.registered_models).toHaveLength(2);
    const p2 = await get('registered-models/search', { filter: like, max_results: 2, page_token: p1.body.next_page_token });
    expect(p2.body.registered_models.map((m: { name: string }) => m.name)).toEqual([`${prefix}-c`]);
    expect(p2.body.next_page_token).toBeUndefined();
    for (const query of [
      { max_results: 1001 },
      { filter: 'run_id = 1' },
      { filter: "tags.k IS NULL" },
      { order_by: ['timestamp', 'last_updated_timestamp'] },
      { order_by: ['version_number'] },
    ]) {
      expect((await get('registered-models/search', query)).status, JSON.stringify(query)).toBe(400);
    }
  });
});
