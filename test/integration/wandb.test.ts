import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName, type TestApp } from '../harness/app.js';
import {
  basic,
  GET_DEFAULT_ENTITY,
  GET_VIEWER,
  line,
  newKey,
  ORG_COREWEAVE,
  RUN,
  RUN_RESUME_STATUS,
  runIdSuffix,
  RUNS,
  SERVER_FEATURES,
  startWandbApp,
  UPSERT_BUCKET,
  VIEWER,
  wrapConfig,
  type Client,
} from './wandb-helpers.js';

const S = runIdSuffix();
let t: TestApp;
let w: Client;
beforeAll(async () => {
  ({ t, w } = await startWandbApp('alice'));
});
afterAll(() => t.close());

const mlflowRun = async (runId: string) => (await t.api.get('/api/2.0/mlflow/runs/get').query({ run_id: runId })).body.run;
const experimentByName = (name: string) => t.api.get('/api/2.0/mlflow/experiments/get-by-name').query({ experiment_name: name });
const kv = (list: { key: string; value: string }[] | undefined) => Object.fromEntries((list ?? []).map((p) => [p.key, p.value]));

describe('W&B authentication', () => {
  it('answers the telemetry probe 404 without credentials', async () => {
    const res = await t.api.post('/sdk/otel/v1/metrics').send('');
    expect(res.status).toBe(404);
  });

  it('refuses every W&B route without a valid key, before writing anything', async () => {
    const project = uniqueName('noauth');
    const cases = [
      undefined,
      basic('cairn-0000000000000000000000000000000000000000'),
      basic('not-a-key'),
      `Basic ${Buffer.from('someone:' + 'x'.repeat(40)).toString('base64')}`,
      'Basic !!!',
      'Token abc',
    ];
    for (const auth of cases) {
      const gql = t.api.post('/graphql').send({ query: UPSERT_BUCKET, variables: { name: 'abc12345', project } });
      const fs = t.api.post(`/files/alice/${project}/abc12345/file_stream`).send({ files: {} });
      const rest = t.api.post('/api/wandb/runs').send({ project });
      for (const req of [gql, fs, rest]) {
        const res = await (auth ? req.set('Authorization', auth) : req);
        expect(res.status, String(auth)).toBe(401);
      }
    }
    expect((await experimentByName(project)).status).toBe(404);
  });

  it('accepts the key as Basic api:<key> and answers Viewer with the key’s user', async () => {
    const res = await w.gql(VIEWER);
    expect(res.status).toBe(200);
    expect(res.body.data.viewer).toMatchObject({ entity: 'alice', username: 'alice', flags: '{}', teams: { edges: [] } });
    expect((await w.gql(GET_DEFAULT_ENTITY, undefined, '')).body.data.viewer.entity).toBe('alice');
    expect((await w.gql(GET_VIEWER, undefined, '')).body.data.viewer).toMatchObject({ name: 'alice', admin: false, apiKeys: { edges: [] } });
  });
});

describe('W&B GraphQL', () => {
  it('reports one server feature: totals on file connections (console, gzip and globs stay off)', async () => {
    const features = (await w.gql(SERVER_FEATURES)).body.data.serverInfo.features;
    expect(features).toEqual([{ name: 'TOTAL_COUNT_IN_FILE_CONNECTION', isEnabled: true }]);
  });

  it('answers an unknown field or operation with 200 and errors, never null data without errors', async () => {
    const res = await w.gql('query X { viewer { id noSuchField } }');
    expect(res.status).toBe(200);
    expect(res.body.errors?.[0].message).toMatch(/noSuchField/);
    const mutation = await w.gql('mutation CreateArtifact($input: CreateArtifactInput!) { createArtifact(input: $input) { artifact { id } } }', { input: {} });
    expect(mutation.status).toBe(200);
    expect(mutation.body.errors?.length).toBeGreaterThan(0);
    expect((await w.gql(ORG_COREWEAVE, { entityName: 'alice' })).body).toEqual({ data: { entity: { organization: null } } });
  });

  it('accepts the public API’s empty operationName', async () => {
    expect((await w.gql(VIEWER, undefined, '')).body.data.viewer.entity).toBe('alice');
  });

  it('refuses malformed GraphQL bodies with 400', async () => {
    for (const body of ['not json', '[]', '{"query": 5}', '{"query": ""}', '{"query": "{ viewer { id } }", "variables": [1]}']) {
      const res = await t.api.post('/graphql').set('Authorization', basic(await newKey(t))).set('Content-Type', 'application/json').send(body);
      expect(res.status, body).toBe(400);
    }
    const syntax = await w.gql('query {');
    expect(syntax.status).toBe(200);
    expect(syntax.body.errors?.[0].message).toMatch(/Syntax Error/);
  });

  it('UpsertBucket creates the experiment and the MLflow run under the W&B run id', async () => {
    const project = uniqueName('proj');
    const config = JSON.stringify({
      lr: { value: 0.01 },
      model: { value: { layers: 3, act: 'relu', dropout: { p: 0.5 } } },
      flag: { value: true },
      big: { value: 'x'.repeat(7000) },
      'bad key!': { value: 1 },
      _wandb: { value: { cli_version: '0.31.0', t: { 1: [1] } } },
    });
    const res = await w.upsert({
      name: `a1b2c3d4-${S}`,
      project,
      displayName: 'my-run',
      notes: 'some notes',
      groupName: 'g1',
      jobType: 'train',
      tags: ['a', 'b'],
      config,
      host: 'box',
      program: 'train.py',
      commit: 'abc123',
    });
    expect(res.inserted).toBe(true);
    expect(res.bucket).toMatchObject({ name: `a1b2c3d4-${S}`, displayName: 'my-run', historyLineCount: 0, project: { name: project, entity: { name: 'alice' } } });
    const run = await mlflowRun(`a1b2c3d4-${S}`);
    expect(run.info).toMatchObject({ run_id: `a1b2c3d4-${S}`, run_name: 'my-run', status: 'RUNNING', user_id: 'alice' });
    expect(run.info.experiment_id).toBe((await experimentByName(project)).body.experiment.experiment_id);
    const params = kv(run.data.params);
    expect(params).toMatchObject({ lr: '0.01', 'model.layers': '3', 'model.act': 'relu', 'model.dropout.p': '0.5', flag: 'True' });
    expect(params.big).toHaveLength(6000);
    expect(params).not.toHaveProperty('bad key!');
    expect(Object.keys(params).some((k) => k.startsWith('_wandb'))).toBe(false);
    expect(kv(run.data.tags)).toMatchObject({
      'mlflow.runName': 'my-run',
      'mlflow.note.content': 'some notes',
      'mlflow.source.name': 'train.py',
      'mlflow.source.git.commit': 'abc123',
      'mlflow.user': 'alice',
      'wandb.group': 'g1',
      'wandb.job_type': 'train',
      'wandb.tags': '["a","b"]',
      'wandb.entity': 'alice',
      'wandb.project': project,
      'wandb.run_id': `a1b2c3d4-${S}`,
    });
    // The full config, long value included, comes back to wandb unchanged.
    const read = await w.gql(RUN, { project, entity: 'alice', name: `a1b2c3d4-${S}` }, '');
    expect(read.body.data.project.run.config).toBe(config);
  });

  it('treats null fields as unchanged, is idempotent, and mirrors config changes', async () => {
    const project = uniqueName('proj');
    const first = await w.upsert({ name: `rerun001-${S}`, project, displayName: 'one', tags: ['x'], config: wrapConfig({ lr: 0.1, epochs: 3 }) });
    const again = await w.upsert({ name: `rerun001-${S}`, project, entity: 'alice', config: wrapConfig({ lr: 0.2, epochs: 3 }) });
    expect(again.inserted).toBe(false);
    expect(again.bucket.id).toBe(first.bucket.id);
    const byId = await w.upsert({ id: first.bucket.id, notes: 'later' });
    expect(byId.bucket.name).toBe(`rerun001-${S}`);
    const run = await mlflowRun(`rerun001-${S}`);
    expect(kv(run.data.params)).toEqual({ lr: '0.2', epochs: '3' });
    expect(kv(run.data.tags)).toMatchObject({ 'mlflow.runName': 'one', 'wandb.tags': '["x"]', 'mlflow.note.content': 'later' });
  });

  it('generates a display name and picks the key’s entity when the client sends null', async () => {
    const res = await w.upsert({ name: `noname01-${S}`, project: uniqueName('proj') });
    expect(res.bucket.displayName).toMatch(/^\w+-\w+-\d+$/);
    expect(res.bucket.project.entity.name).toBe('alice');
    expect((await mlflowRun(`noname01-${S}`)).info.run_name).toBe(res.bucket.displayName);
  });

  it('maps a W&B id MLflow cannot use, or one taken in another project, to a derived run id', async () => {
    const p1 = uniqueName('proj');
    const p2 = uniqueName('proj');
    await w.upsert({ name: `same0001-${S}`, project: p1 });
    const second = await w.upsert({ name: `same0001-${S}`, project: p2 });
    expect(second.bucket.name).toBe(`same0001-${S}`);
    const dotted = await w.upsert({ name: `with.dot-${S}`, project: p1 });
    expect(dotted.bucket.name).toBe(`with.dot-${S}`);
    const search = await t.api
      .post('/api/2.0/mlflow/runs/search')
      .send({ experiment_ids: [(await experimentByName(p2)).body.experiment.experiment_id] });
    const [derived] = search.body.runs;
    expect(derived.info.run_id).not.toBe(`same0001-${S}`);
    expect(derived.info.run_id).toMatch(new RegExp(`^same0001-${S}-[0-9a-f]{12}$`));
    expect(kv(derived.data.tags)['wandb.run_id']).toBe(`same0001-${S}`);
    // And the W&B side still finds both by their W&B ids.
    for (const p of [p1, p2]) expect((await w.gql(RUN, { project: p, entity: 'alice', name: `same0001-${S}` }, '')).body.data.project.run.name).toBe(`same0001-${S}`);
  });

  it('creates one run when the same new run is upserted concurrently', async () => {
    const project = uniqueName('proj');
    const results = await Promise.all(Array.from({ length: 6 }, () => w.upsert({ name: `race0001-${S}`, project, config: wrapConfig({ a: 1 }) })));
    expect(results.filter((r) => r.inserted)).toHaveLength(1);
    expect(new Set(results.map((r) => r.bucket.id)).size).toBe(1);
  });

  it('refuses invalid project and run names as GraphQL errors', async () => {
    for (const vars of [{ name: 'a/b', project: 'p' }, { name: 'ok', project: 'has/slash' }, { name: 'ok', project: 'x'.repeat(200) }]) {
      const res = await w.gql(UPSERT_BUCKET, vars);
      expect(res.status).toBe(200);
      expect(res.body.errors?.[0].message).toMatch(/Invalid (project|run) name/);
    }
  });

  it('refuses to log into a project whose experiment was deleted', async () => {
    const project = uniqueName('proj');
    await w.upsert({ name: `del00001-${S}`, project });
    const id = (await experimentByName(project)).body.experiment.experiment_id;
    await t.api.post('/api/2.0/mlflow/experiments/delete').send({ experiment_id: id });
    const res = await w.gql(UPSERT_BUCKET, { name: `del00002-${S}`, project });
    expect(res.body.errors?.[0].message).toMatch(/deleted/);
  });

  it('RunResumeStatus: null for a new run, counts and tails for an existing one', async () => {
    const project = uniqueName('proj');
    expect((await w.gql(RUN_RESUME_STATUS, { project, entity: null, name: `resume01-${S}` })).body.data).toEqual({ model: null });
    const config = JSON.stringify({ lr: { value: 1 }, _wandb: { value: { t: { '1': [5] } } } });
    await w.upsert({ name: `resume01-${S}`, project, config, tags: ['t1'], notes: 'n' });
    await w.stream(project, `resume01-${S}`, {
      files: {
        'wandb-history.jsonl': { offset: 0, content: [line(0, '"a":1'), line(1, '"a":2')] },
        'wandb-summary.json': { offset: 0, content: ['{"a":2,"_step":1}'] },
        'output.log': { offset: 0, content: ['hello'] },
      },
    });
    const bucket = (await w.gql(RUN_RESUME_STATUS, { project, entity: null, name: `resume01-${S}` })).body.data.model.bucket;
    expect(bucket).toMatchObject({ name: `resume01-${S}`, historyLineCount: 2, logLineCount: 1, eventsLineCount: 0, tags: ['t1'], notes: 'n', config });
    expect(JSON.parse(bucket.historyTail)).toEqual([line(1, '"a":2')]);
    expect(JSON.parse(bucket.eventsTail)).toEqual([]);
    expect(JSON.parse(bucket.wandbConfig)).toEqual({ t: { '1': [5] } });
    expect(JSON.parse(bucket.summaryMetrics)).toEqual({ a: 2, _step: 1 });
    expect((await w.gql(RUN_RESUME_STATUS, { project, entity: null, name: `nothere1-${S}` })).body.data.model.bucket).toBeNull();
  });
});

describe('W&B public API reads', () => {
  let project: string;
  beforeAll(async () => {
    project = uniqueName('api');
    for (const [name, lr, layers, tags] of [
      [`run00001-${S}`, 0.1, 2, ['a']],
      [`run00002-${S}`, 0.2, 4, ['a', 'b']],
      [`run00003-${S}`, 0.3, 8, []],
    ] as const) {
      await w.upsert({ name, project, tags, config: wrapConfig({ lr, model: { layers } }), groupName: 'g' });
      await w.stream(project, name, { files: { 'wandb-summary.json': { offset: 0, content: [`{"acc":${lr * 2},"nested":{"x":${layers}}}`] } } });
    }
    await w.stream(project, `run00003-${S}`, { complete: true, exitcode: 0 });
  });

  const runs = async (variables: Record<string, unknown>) => {
    const res = await w.gql(RUNS, { project, entity: 'alice', order: '+created_at', filters: '{}', ...variables }, '');
    expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
    return res.body.data.project;
  };

  it('lists runs with the lightweight fragment and an int projectId', async () => {
    const p = await runs({});
    expect(p.runCount).toBe(3);
    const nodes = p.runs.edges.map((e: any) => e.node);
    expect(nodes.map((n: any) => n.name)).toEqual([`run00001-${S}`, `run00002-${S}`, `run00003-${S}`]);
    expect(Number.isInteger(nodes[0].projectId)).toBe(true);
    expect(String(nodes[0].projectId)).toBe(p.internalId);
    expect(nodes[2]).toMatchObject({ state: 'finished', group: 'g', tags: [], user: { username: 'alice' } });
    expect(nodes[0].createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  });

  it('pages with cursors', async () => {
    const first = await runs({ perPage: 2 });
    expect(first.runs.edges).toHaveLength(2);
    expect(first.runs.pageInfo.hasNextPage).toBe(true);
    const second = await runs({ perPage: 2, cursor: first.runs.pageInfo.endCursor });
    expect(second.runs.edges.map((e: any) => e.node.name)).toEqual([`run00003-${S}`]);
    expect(second.runs.pageInfo.hasNextPage).toBe(false);
  });

  it('filters by config, summary, tags and state, MongoDB-style', async () => {
    const names = async (filters: unknown, order?: string) =>
      (await runs({ filters: JSON.stringify(filters), ...(order ? { order } : {}) })).runs.edges.map((e: any) => e.node.name);
    expect(await names({ 'config.lr': 0.2 })).toEqual([`run00002-${S}`]);
    expect(await names({ 'config.lr.value': 0.2 })).toEqual([`run00002-${S}`]);
    expect(await names({ 'config.model.layers': { $gte: 4 } })).toEqual([`run00002-${S}`, `run00003-${S}`]);
    expect(await names({ 'config.model.value.layers': { $lt: 4 } })).toEqual([`run00001-${S}`]);
    expect(await names({ 'summary_metrics.acc': { $gt: 0.3 } })).toEqual([`run00002-${S}`, `run00003-${S}`]);
    expect(await names({ 'summary_metrics.nested.x': 8 })).toEqual([`run00003-${S}`]);
    expect(await names({ tags: 'b' })).toEqual([`run00002-${S}`]);
    expect(await names({ tags: { $in: ['a'] } })).toEqual([`run00001-${S}`, `run00002-${S}`]);
    expect(await names({ state: 'finished' })).toEqual([`run00003-${S}`]);
    expect(await names({ $or: [{ name: `run00001-${S}` }, { 'config.lr': 0.3 }] })).toEqual([`run00001-${S}`, `run00003-${S}`]);
    expect(await names({ $and: [{ group: 'g' }, { name: { $regex: '^run0000[12]-' } }] })).toEqual([`run00001-${S}`, `run00002-${S}`]);
    expect(await names({}, '-config.lr.value')).toEqual([`run00003-${S}`, `run00002-${S}`, `run00001-${S}`]);
    expect(await names({}, '-summary_metrics.acc')).toEqual([`run00003-${S}`, `run00002-${S}`, `run00001-${S}`]);
    expect((await runs({ filters: JSON.stringify({ 'config.lr': 0.2 }) })).runCount).toBe(1);
  });

  it('refuses an unsupported filter operator as a GraphQL error', async () => {
    const res = await w.gql(RUNS, { project, entity: 'alice', filters: '{"name":{"$where":"1"}}' }, '');
    expect(res.status).toBe(200);
    expect(res.body.errors?.[0].message).toMatch(/\$where/);
  });

  it('reads one run with the full fragment', async () => {
    const res = await w.gql(RUN, { project, entity: 'alice', name: `run00002-${S}` }, '');
    const run = res.body.data.project.run;
    expect(JSON.parse(run.config)).toEqual({ lr: { value: 0.2 }, model: { value: { layers: 4 } } });
    expect(JSON.parse(run.summaryMetrics)).toEqual({ acc: 0.4, nested: { x: 4 } });
    expect(run.systemMetrics).toBe('{}');
    expect(run.historyKeys).toEqual({ lastStep: -1, keys: {} });
    expect(run.state).toBe('running');
  });

  it('answers null for a project or run that does not exist', async () => {
    expect((await w.gql(RUNS, { project: uniqueName('none'), entity: 'alice' }, '')).body.data).toEqual({ project: null });
    expect((await w.gql(RUN, { project, entity: 'alice', name: 'nope' }, '')).body.data.project.run).toBeNull();
  });
});
