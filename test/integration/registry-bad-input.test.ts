import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';

// Hostile values in every field of every registry and logged-model route: each request is answered
// with a 2xx or a 4xx carrying an MLflow error code, never a 5xx (which the client would retry for
// minutes), and the existing model keeps its data.

let t: TestApp;
let name: string;
let modelId: string;
let runId: string;
beforeAll(async () => {
  t = await startTestApp();
  const experimentId = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('reg-bad') })).body.experiment_id;
  runId = (await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: experimentId })).body.run.info.run_id;
  name = uniqueName('victim');
  await t.api.post('/api/2.0/mlflow/registered-models/create').send({ name, tags: [{ key: 'keep', value: 'me' }] });
  await t.api.post('/api/2.0/mlflow/model-versions/create').send({ name, source: `runs:/${runId}/model`, run_id: runId });
  modelId = (await t.api.post('/api/2.0/mlflow/logged-models').send({ experiment_id: experimentId, name: 'victim' })).body.model.info.model_id;
});
afterAll(() => t.close());

const HOSTILE: unknown[] = [
  123,
  -1,
  1e300,
  true,
  null,
  {},
  [],
  ['a', 'b'],
  '',
  ' ',
  'x'.repeat(20_000),
  'nul\u0000byte',
  '💥\uD800',
  '99999999999999999999',
  "' OR 1=1 --",
  '__proto__',
  'constructor',
  '../../etc/passwd',
  '%00',
];

interface Route {
  method: 'get' | 'post' | 'patch' | 'delete';
  label?: string;
  path: () => string;
  base: () => Record<string, unknown>;
}

const routes: Route[] = [
  { method: 'post', path: () => 'registered-models/create', base: () => ({ name: uniqueName('m'), tags: [{ key: 'k', value: 'v' }], description: 'd' }) },
  { method: 'get', path: () => 'registered-models/get', base: () => ({ name }) },
  { method: 'post', path: () => 'registered-models/rename', base: () => ({ name: uniqueName('gone'), new_name: uniqueName('n') }) },
  { method: 'patch', path: () => 'registered-models/update', base: () => ({ name: uniqueName('gone'), description: 'd' }) },
  { method: 'delete', path: () => 'registered-models/delete', base: () => ({ name: uniqueName('gone') }) },
  { method: 'get', path: () => 'registered-models/search', base: () => ({ filter: "name = 'x'", max_results: 10, order_by: 'name', page_token: '' }) },
  { method: 'post', path: () => 'registered-models/set-tag', base: () => ({ name, key: 'k', value: 'v' }) },
  { method: 'delete', path: () => 'registered-models/delete-tag', base: () => ({ name, key: 'other' }) },
  { method: 'post', path: () => 'registered-models/get-latest-versions', base: () => ({ name, stages: ['None'] }) },
  { method: 'get', path: () => 'registered-models/get-latest-versions', base: () => ({ name, stages: 'None' }) },
  { method: 'post', path: () => 'registered-models/alias', base: () => ({ name, alias: 'a1', version: '1' }) },
  { method: 'delete', path: () => 'registered-models/alias', base: () => ({ name, alias: 'zz' }) },
  { method: 'get', path: () => 'registered-models/alias', base: () => ({ name, alias: 'a1' }) },
  { method: 'post', path: () => 'model-versions/create', base: () => ({ name, source: `runs:/${runId}/model`, run_id: runId, tags: [], description: 'd', run_link: 'l' }) },
  { method: 'get', path: () => 'model-versions/get', base: () => ({ name, version: '1' }) },
  { method: 'patch', path: () => 'model-versions/update', base: () => ({ name, version: '1', description: 'd' }) },
  { method: 'delete', path: () => 'model-versions/delete', base: () => ({ name, version: '999' }) },
  { method: 'get', path: () => 'model-versions/search', base: () => ({ filter: `name = '${name}'`, max_results: 5, order_by: 'version_number' }) },
  { method: 'get', path: () => 'model-versions/get-download-uri', base: () => ({ name, version: '1' }) },
  { method: 'post', path: () => 'model-versions/set-tag', base: () => ({ name, version: '1', key: 'k', value: 'v' }) },
  { method: 'delete', path: () => 'model-versions/delete-tag', base: () => ({ name, version: '1', key: 'zz' }) },
  { method: 'post', path: () => 'model-versions/transition-stage', base: () => ({ name, version: '1', stage: 'Staging', archive_existing_versions: false }) },
  { method: 'post', path: () => 'logged-models', base: () => ({ experiment_id: '0', name: 'n', params: [{ key: 'p', value: 'v' }], tags: [{ key: 't', value: 'v' }] }) },
  { method: 'post', path: () => 'logged-models/search', base: () => ({ experiment_ids: ['0'], filter: "name = 'x'", datasets: [{ dataset_name: 'd' }], order_by: [{ field_name: 'name' }], max_results: 5 }) },
  { method: 'get', path: () => `logged-models/${modelId}`, label: 'logged-models/{model_id}', base: () => ({ allow_deleted: 'false' }) },
  { method: 'patch', path: () => `logged-models/${modelId}`, label: 'logged-models/{model_id}', base: () => ({ status: 'LOGGED_MODEL_READY' }) },
  { method: 'patch', path: () => `logged-models/${modelId}/tags`, label: 'logged-models/{model_id}/tags', base: () => ({ tags: [{ key: 'k', value: 'v' }] }) },
  { method: 'post', path: () => `logged-models/${modelId}/params`, label: 'logged-models/{model_id}/params', base: () => ({ params: [{ key: 'p', value: 'v' }] }) },
  { method: 'get', path: () => `logged-models/${modelId}/artifacts/directories`, label: 'logged-models/{model_id}/artifacts/directories', base: () => ({ artifact_directory_path: 'a' }) },
];

async function send(route: Route, body: Record<string, unknown>) {
  const url = `/api/2.0/mlflow/${route.path()}`;
  if (route.method === 'get') {
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries(body)) if (v !== undefined && v !== null) query[k] = typeof v === 'string' ? v : JSON.stringify(v);
    return t.api.get(url).query(query);
  }
  return t.api[route.method](url).send(body);
}

describe('hostile input to the registry routes', () => {
  it.each(routes.map((r) => [`${r.method.toUpperCase()} ${r.label ?? r.path()}`, r] as const))('%s never answers 5xx', async (_label, route) => {
    const base = route.base();
    const fields = Object.keys(base);
    for (const field of fields) {
      for (const value of HOSTILE) {
        const res = await send(route, { ...base, [field]: value });
        expect(res.status < 500, `${field}=${JSON.stringify(value)?.slice(0, 40)} -> ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`).toBe(true);
        // Node itself refuses an over-long URL (431) before any route runs.
        if (res.status >= 400 && res.status !== 431) expect(typeof res.body.error_code, `${field}=${JSON.stringify(value)?.slice(0, 40)} -> ${res.status} ${res.text.slice(0, 100)}`).toBe('string');
      }
      // Hostile values inside list items too.
      if (Array.isArray(base[field]) && typeof (base[field] as unknown[])[0] === 'object') {
        const item = (base[field] as Record<string, unknown>[])[0];
        for (const key of Object.keys(item)) {
          for (const value of HOSTILE) {
            const res = await send(route, { ...base, [field]: [{ ...item, [key]: value }] });
            expect(res.status < 500, `${field}[0].${key}=${JSON.stringify(value)?.slice(0, 40)} -> ${res.status}`).toBe(true);
          }
        }
      }
    }
  });

  it('left the victim model intact', async () => {
    const rm = (await t.api.get('/api/2.0/mlflow/registered-models/get').query({ name })).body.registered_model;
    expect(rm.name).toBe(name);
    expect(rm.tags).toContainEqual({ key: 'keep', value: 'me' });
    expect((await t.api.get(`/api/2.0/mlflow/logged-models/${modelId}`)).body.model.info.name).toBe('victim');
  });
});
