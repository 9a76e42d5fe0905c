// Access control (issue 10, items 7-9): with `--app-name basic-auth`, every route family refuses
// anonymous callers, wrong passwords and revoked keys (401 UNAUTHENTICATED), a READ user writing
// and a user with no permission on someone else's experiment (403 PERMISSION_DENIED), and none of
// those calls changes anything.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';
import { basicAuth } from '../harness/basic-auth.js';
import { CREATE_RUN_FILES, RUN, UPSERT_BUCKET } from '../integration/wandb-helpers.js';

const ADMIN_PASSWORD = 'admin-password-for-tests';
const wandbAuth = (key: string) => `Basic ${Buffer.from(`api:${key}`).toString('base64')}`;

let t: TestApp;
let artifactDir: string;
// Unique: a Postgres test database outlives the run and may hold other runs' admins.
const ADMIN = uniqueName('admin');
const admin = basicAuth(ADMIN, ADMIN_PASSWORD);
const names = { alice: uniqueName('alice'), bob: uniqueName('bob'), carol: uniqueName('carol') };
const pw = { alice: 'alice-pw', bob: 'bob-pw', carol: 'carol-pw' };
const as = (u: keyof typeof names) => basicAuth(names[u], pw[u]);
let bobKey = '';
let revokedKey = '';
let aliceKey = '';

// What alice owns; the refused calls below must leave all of it as it is.
let expId = '';
let runId = '';
const expName = uniqueName('alice-exp');
const modelName = uniqueName('alice-model');
const project = uniqueName('alice-project');
const wandbRun = `r${Date.now().toString(36)}`;
let loggedModelId = '';
let artifactPath = '';
let assessmentId = '';
const traceId = `tr-${Date.now().toString(16).padStart(32, '0')}`;
const traceInfo = () => ({
  trace_id: traceId,
  trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: expId } },
  request_time: '2026-01-01T00:00:00Z',
  state: 'OK',
  tags: { owner: 'alice' },
});

async function call(method: 'get' | 'post' | 'patch' | 'delete' | 'put', url: string, auth: string | undefined, body?: unknown, headers: Record<string, string> = {}) {
  let req = t.api[method](url).set(headers);
  if (auth) req = req.set('Authorization', auth);
  if (method === 'get') return req.query((body ?? {}) as Record<string, string>);
  if (method === 'put') return req.set('Content-Type', 'application/octet-stream').send(body as string);
  return req.send((body ?? {}) as object);
}

async function ok(method: 'get' | 'post' | 'patch' | 'delete' | 'put', url: string, auth: string, body?: unknown) {
  const res = await call(method, url, auth, body);
  expect(res.status, `${method} ${url}: ${JSON.stringify(res.body)}`).toBe(200);
  return res.body;
}

beforeAll(async () => {
  artifactDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-auth-'));
  t = await startTestApp(['--app-name', 'basic-auth', '--artifacts-destination', artifactDir], {
    env: { MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PASSWORD, CAIRN_AUTH_ADMIN_USERNAME: ADMIN },
  });
  for (const u of ['alice', 'bob', 'carol'] as const) {
    await ok('post', '/api/2.0/mlflow/users/create', admin, { username: names[u], password: pw[u] });
  }
  aliceKey = (await ok('post', '/api/2.0/cairn/keys/create', as('alice'))).key;
  bobKey = (await ok('post', '/api/2.0/cairn/keys/create', as('bob'))).key;
  const revoked = await ok('post', '/api/2.0/cairn/keys/create', as('bob'));
  revokedKey = revoked.key;
  await ok('post', '/api/2.0/cairn/keys/revoke', as('bob'), { key: revoked.prefix });

  // alice's things: she creates them, so she MANAGEs them.
  expId = (await ok('post', '/api/2.0/mlflow/experiments/create', as('alice'), { name: expName })).experiment_id;
  runId = (await ok('post', '/api/2.0/mlflow/runs/create', as('alice'), { experiment_id: expId })).run.info.run_id;
  await ok('post', '/api/2.0/mlflow/runs/set-tag', as('alice'), { run_id: runId, key: 'owner', value: 'alice' });
  await ok('post', '/api/2.0/mlflow/registered-models/create', as('alice'), { name: modelName });
  loggedModelId = (await ok('post', '/api/2.0/mlflow/logged-models', as('alice'), { experiment_id: expId, name: 'm' })).model.info.model_id;
  await ok('post', '/api/3.0/mlflow/traces', as('alice'), { trace: { trace_info: traceInfo() } });
  const logged = await ok('post', `/api/3.0/mlflow/traces/${traceId}/assessments`, as('alice'), { assessment: { assessment_name: 'q', feedback: { value: 1 } } });
  assessmentId = logged.assessment.assessment_id;
  artifactPath = `${expId}/${runId}/artifacts/secret.txt`;
  await ok('put', `/api/2.0/mlflow-artifacts/artifacts/${artifactPath}`, as('alice'), 'alice-secret');
  // carol may do nothing with alice's experiment and model (the default would let her read).
  for (const [resource_type, resource_id] of [['experiment', expId], ['registered_model', modelName]]) {
    await ok('post', '/api/3.0/mlflow/users/permissions/grant', as('alice'), { username: names.carol, resource_type, resource_id, permission: 'NO_PERMISSIONS' });
  }
  // alice's W&B run, in a project she creates (and so manages).
  const up = await ok('post', '/graphql', wandbAuth(aliceKey), {
    query: UPSERT_BUCKET,
    variables: { name: wandbRun, project, entity: names.alice, config: JSON.stringify({ secret: { value: 's3cr3t' } }), summaryMetrics: '{"acc": 1}' },
  });
  expect(up.errors).toBeUndefined();
  const projectExp = (await ok('get', '/api/2.0/mlflow/experiments/get-by-name', as('alice'), { experiment_name: project })).experiment.experiment_id;
  await ok('post', '/api/3.0/mlflow/users/permissions/grant', as('alice'), { username: names.carol, resource_type: 'experiment', resource_id: projectExp, permission: 'NO_PERMISSIONS' });
}, 120_000);

afterAll(async () => {
  await t?.close();
  fs.rmSync(artifactDir, { recursive: true, force: true });
});

type Caller = 'anonymous' | 'wrong password' | 'revoked key' | 'READ user' | "other user's experiment";
const callers = (): Record<Caller, string | undefined> => ({
  anonymous: undefined,
  'wrong password': basicAuth(names.alice, 'not-her-password'),
  'revoked key': `Bearer ${revokedKey}`,
  'READ user': as('bob'),
  "other user's experiment": as('carol'),
});
const expected: Record<Caller, [number, string]> = {
  anonymous: [401, 'UNAUTHENTICATED'],
  'wrong password': [401, 'UNAUTHENTICATED'],
  'revoked key': [401, 'UNAUTHENTICATED'],
  'READ user': [403, 'PERMISSION_DENIED'],
  "other user's experiment": [403, 'PERMISSION_DENIED'],
};

interface Case {
  name: string;
  method: 'get' | 'post' | 'patch' | 'delete' | 'put';
  url: () => string;
  body?: () => unknown;
  /** Reads are allowed to the READ user (bob): only the others are refused. */
  read?: boolean;
  headers?: () => Record<string, string>;
}

const families: Record<string, Case[]> = {
  'MLflow tracking': [
    { name: 'create a run', method: 'post', url: () => '/api/2.0/mlflow/runs/create', body: () => ({ experiment_id: expId }) },
    { name: 'log a metric', method: 'post', url: () => '/api/2.0/mlflow/runs/log-metric', body: () => ({ run_id: runId, key: 'm', value: 1, timestamp: 1, step: 0 }) },
    { name: 'log a batch', method: 'post', url: () => '/api/2.0/mlflow/runs/log-batch', body: () => ({ run_id: runId, params: [{ key: 'p', value: 'x' }] }) },
    { name: 'overwrite a tag', method: 'post', url: () => '/api/2.0/mlflow/runs/set-tag', body: () => ({ run_id: runId, key: 'owner', value: 'mallory' }) },
    { name: 'finish the run', method: 'post', url: () => '/api/2.0/mlflow/runs/update', body: () => ({ run_id: runId, status: 'FAILED' }) },
    { name: 'delete the run', method: 'post', url: () => '/api/2.0/mlflow/runs/delete', body: () => ({ run_id: runId }) },
    { name: 'rename the experiment', method: 'post', url: () => '/api/2.0/mlflow/experiments/update', body: () => ({ experiment_id: expId, new_name: uniqueName('x') }) },
    { name: 'delete the experiment', method: 'post', url: () => '/api/2.0/mlflow/experiments/delete', body: () => ({ experiment_id: expId }) },
    { name: 'read the run', method: 'get', url: () => '/api/2.0/mlflow/runs/get', body: () => ({ run_id: runId }), read: true },
    { name: 'read the experiment', method: 'get', url: () => '/api/2.0/mlflow/experiments/get', body: () => ({ experiment_id: expId }), read: true },
    { name: 'read it by name', method: 'get', url: () => '/api/2.0/mlflow/experiments/get-by-name', body: () => ({ experiment_name: expName }), read: true },
    { name: 'read a metric history', method: 'get', url: () => '/api/2.0/mlflow/metrics/get-history', body: () => ({ run_id: runId, metric_key: 'm' }), read: true },
    { name: 'list run artifacts', method: 'get', url: () => '/api/2.0/mlflow/artifacts/list', body: () => ({ run_id: runId }), read: true },
  ],
  'MLflow registry and logged models': [
    { name: 'register a version', method: 'post', url: () => '/api/2.0/mlflow/model-versions/create', body: () => ({ name: modelName, source: `runs:/${runId}/model`, run_id: runId }) },
    { name: 'tag the model', method: 'post', url: () => '/api/2.0/mlflow/registered-models/set-tag', body: () => ({ name: modelName, key: 'k', value: 'v' }) },
    { name: 'rename the model', method: 'post', url: () => '/api/2.0/mlflow/registered-models/rename', body: () => ({ name: modelName, new_name: uniqueName('stolen') }) },
    { name: 'delete the model', method: 'delete', url: () => '/api/2.0/mlflow/registered-models/delete', body: () => ({ name: modelName }) },
    { name: 'read the model', method: 'get', url: () => '/api/2.0/mlflow/registered-models/get', body: () => ({ name: modelName }), read: true },
    { name: 'tag a logged model', method: 'patch', url: () => `/api/2.0/mlflow/logged-models/${loggedModelId}/tags`, body: () => ({ tags: [{ key: 'k', value: 'v' }] }) },
    { name: 'delete a logged model', method: 'delete', url: () => `/api/2.0/mlflow/logged-models/${loggedModelId}` },
    { name: 'read a logged model', method: 'get', url: () => `/api/2.0/mlflow/logged-models/${loggedModelId}`, read: true },
  ],
  'MLflow traces': [
    { name: 'overwrite a trace', method: 'post', url: () => '/api/3.0/mlflow/traces', body: () => ({ trace: { trace_info: { ...traceInfo(), state: 'ERROR' } } }) },
    { name: 'tag a trace', method: 'patch', url: () => `/api/2.0/mlflow/traces/${traceId}/tags`, body: () => ({ key: 'owner', value: 'mallory' }) },
    { name: 'delete a trace tag', method: 'delete', url: () => `/api/2.0/mlflow/traces/${traceId}/tags`, body: () => ({ key: 'owner' }) },
    {
      name: 'export OTLP spans into the experiment', method: 'post', url: () => '/v1/traces',
      headers: () => ({ 'x-mlflow-experiment-id': expId, 'Content-Type': 'application/json' }),
      body: () => ({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: traceId.slice(3), spanId: '00000000000000ff', name: 'evil', startTimeUnixNano: '1' }] }] }] }),
    },
    { name: 'delete traces', method: 'post', url: () => '/api/2.0/mlflow/traces/delete-traces', body: () => ({ experiment_id: expId, request_ids: [traceId] }) },
    { name: 'log an assessment', method: 'post', url: () => `/api/3.0/mlflow/traces/${traceId}/assessments`, body: () => ({ assessment: { assessment_name: 'q', feedback: { value: 0 } } }) },
    {
      name: 'update an assessment',
      method: 'patch',
      url: () => `/api/3.0/mlflow/traces/${traceId}/assessments/${assessmentId}`,
      body: () => ({ assessment: { feedback: { value: 0 } }, update_mask: 'feedback' }),
    },
    { name: 'delete an assessment', method: 'delete', url: () => `/api/3.0/mlflow/traces/${traceId}/assessments/${assessmentId}` },
    { name: 'read an assessment', method: 'get', url: () => `/api/3.0/mlflow/traces/${traceId}/assessments/${assessmentId}`, read: true },
    { name: 'read a trace', method: 'get', url: () => `/api/3.0/mlflow/traces/${traceId}`, read: true },
    { name: 'read a trace with its spans', method: 'get', url: () => `/api/3.0/mlflow/traces/get?trace_id=${traceId}`, read: true },
    { name: 'batch-read traces', method: 'get', url: () => `/api/3.0/mlflow/traces/batchGet?trace_ids=${traceId}`, read: true },
    { name: 'batch-read trace infos', method: 'post', url: () => '/api/3.0/mlflow/traces/batchGetInfos', body: () => ({ trace_ids: [traceId] }), read: true },
    { name: 'link traces to a run', method: 'post', url: () => '/api/2.0/mlflow/traces/link-to-run', body: () => ({ trace_ids: [traceId], run_id: runId }) },
    { name: 'start a trace (v2)', method: 'post', url: () => '/api/2.0/mlflow/traces', body: () => ({ experiment_id: expId, timestamp_ms: 1 }) },
    { name: 'end a trace (v2)', method: 'patch', url: () => `/api/2.0/mlflow/traces/${traceId}`, body: () => ({ timestamp_ms: Date.UTC(2026, 0, 2), status: 'ERROR' }) },
    { name: 'read a trace info (v2)', method: 'get', url: () => `/api/2.0/mlflow/traces/${traceId}/info`, read: true },
    { name: 'search traces (v2)', method: 'get', url: () => '/api/2.0/mlflow/traces', body: () => ({ experiment_ids: expId }), read: true },
    {
      name: 'search traces',
      method: 'post',
      url: () => '/api/3.0/mlflow/traces/search',
      body: () => ({ locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: expId } }] }),
      read: true,
    },
  ],
  'mlflow-artifacts': [
    { name: 'overwrite an artifact', method: 'put', url: () => `/api/2.0/mlflow-artifacts/artifacts/${artifactPath}`, body: () => 'mallory' },
    { name: 'delete an artifact', method: 'delete', url: () => `/api/2.0/mlflow-artifacts/artifacts/${artifactPath}` },
    { name: 'upload a file from the UI', method: 'post', url: () => `/ajax-api/2.0/mlflow/upload-artifact?run_id=${runId}&path=ui/mallory.txt`, body: () => ({ x: 1 }) },
    { name: 'start a multipart upload', method: 'post', url: () => `/api/2.0/mlflow-artifacts/mpu/create/${expId}/${runId}/artifacts`, body: () => ({ path: 'big.bin', num_parts: 2 }) },
    { name: 'download an artifact', method: 'get', url: () => `/api/2.0/mlflow-artifacts/artifacts/${artifactPath}`, read: true },
    { name: 'list artifacts', method: 'get', url: () => '/api/2.0/mlflow-artifacts/artifacts', body: () => ({ path: `${expId}/${runId}/artifacts` }), read: true },
  ],
  'W&B': [
    {
      name: 'upsert into the run (config, summary)',
      method: 'post',
      url: () => '/graphql',
      body: () => ({ query: UPSERT_BUCKET, variables: { name: wandbRun, project, entity: names.alice, config: '{"secret":{"value":"mallory"}}', summaryMetrics: '{"acc": 0}' } }),
    },
    { name: 'upload files to the run', method: 'post', url: () => '/graphql', body: () => ({ query: CREATE_RUN_FILES, variables: { entity: names.alice, project, run: wandbRun, files: ['x.txt'] } }) },
    {
      name: 'write history and finish (file_stream)',
      method: 'post',
      url: () => `/files/${names.alice}/${project}/${wandbRun}/file_stream`,
      body: () => ({ files: { 'wandb-history.jsonl': { offset: 0, content: ['{"_step": 0, "loss": 9}'] } }, complete: true, exitcode: 1 }),
    },
    { name: 'overwrite the summary (REST)', method: 'post', url: () => `/api/wandb/runs/${names.alice}/${project}/${wandbRun}/summary`, body: () => ({ summary: { acc: 0 } }) },
    { name: 'finish the run (REST)', method: 'post', url: () => `/api/wandb/runs/${names.alice}/${project}/${wandbRun}/finish`, body: () => ({ exit_code: 1 }) },
    {
      name: 'log an artifact into the project',
      method: 'post',
      url: () => '/graphql',
      body: () => ({
        query: 'mutation($input: CreateArtifactInput!) { createArtifact(input: $input) { artifact { id } } }',
        variables: { input: { artifactTypeName: 'dataset', artifactCollectionNames: ['d'], entityName: names.alice, projectName: project, digest: '0'.repeat(32) } },
      }),
    },
    {
      name: 'read an artifact of the project',
      method: 'post',
      url: () => '/graphql',
      body: () => ({ query: 'query($p: String!, $e: String) { project(name: $p, entityName: $e) { artifactCollectionMembership(name: "d:latest") { id } } }', variables: { p: project, e: names.alice } }),
      read: true,
    },
    { name: 'read the run config', method: 'post', url: () => '/graphql', body: () => ({ query: RUN, variables: { entity: names.alice, project, name: wandbRun } }), read: true },
    { name: 'read the run (REST)', method: 'get', url: () => `/api/wandb/runs/${names.alice}/${project}/${wandbRun}`, read: true },
  ],
};

// The W&B client authenticates with its key only: the password callers use their account's key.
function wandbCaller(c: Caller, auth: string | undefined): string | undefined {
  if (c === 'READ user') return wandbAuth(bobKey);
  if (c === 'revoked key') return wandbAuth(revokedKey);
  if (c === 'wrong password') return wandbAuth(`cairn-${'0'.repeat(40)}`);
  if (c === "other user's experiment") return carolWandb;
  return auth;
}
let carolWandb = '';

describe.each(Object.entries(families))('%s refuses', (family, cases) => {
  beforeAll(async () => {
    if (!carolWandb) carolWandb = wandbAuth((await ok('post', '/api/2.0/cairn/keys/create', as('carol'))).key);
  });
  for (const c of cases) {
    for (const who of Object.keys(expected) as Caller[]) {
      if (c.read && who === 'READ user') continue;
      it(`${c.name}: ${who}`, async () => {
        const auth = family === 'W&B' ? wandbCaller(who, callers()[who]) : callers()[who];
        const res = await call(c.method, c.url(), auth, c.body?.(), c.headers?.());
        const [status, code] = expected[who];
        expect(res.status, JSON.stringify(res.body)).toBe(status);
        if (family !== 'W&B') expect(res.body.error_code).toBe(code);
      });
    }
  }
});

describe('after every refusal', () => {
  it('nothing of alice’s changed', async () => {
    const run = (await ok('get', '/api/2.0/mlflow/runs/get', as('alice'), { run_id: runId })).run;
    expect(run.info.lifecycle_stage).toBe('active');
    expect(run.info.status).toBe('RUNNING');
    expect(run.data.metrics ?? []).toEqual([]);
    expect(run.data.params ?? []).toEqual([]);
    expect(run.data.tags.find((x: { key: string }) => x.key === 'owner').value).toBe('alice');
    const runs = await ok('post', '/api/2.0/mlflow/runs/search', as('alice'), { experiment_ids: [expId] });
    expect(runs.runs).toHaveLength(1);
    const exp = (await ok('get', '/api/2.0/mlflow/experiments/get', as('alice'), { experiment_id: expId })).experiment;
    expect([exp.name, exp.lifecycle_stage]).toEqual([expName, 'active']);
    const model = (await ok('get', '/api/2.0/mlflow/registered-models/get', as('alice'), { name: modelName })).registered_model;
    expect(model.tags ?? []).toEqual([]);
    expect(model.latest_versions ?? []).toEqual([]);
    const lm = (await ok('get', `/api/2.0/mlflow/logged-models/${loggedModelId}`, as('alice'))).model;
    expect(lm.info.tags ?? []).toEqual([]);
    const trace = (await ok('get', `/api/3.0/mlflow/traces/${traceId}`, as('alice'))).trace.trace_info;
    expect([trace.state, trace.tags.owner]).toEqual(['OK', 'alice']);
    expect(trace.assessments.map((a: { feedback: unknown }) => a.feedback)).toEqual([{ value: 1 }]);
    const art = await call('get', `/api/2.0/mlflow-artifacts/artifacts/${artifactPath}`, as('alice'));
    expect(art.text ?? art.body.toString()).toBe('alice-secret');
    const w = await ok('post', '/graphql', wandbAuth(aliceKey), { query: RUN, variables: { entity: names.alice, project, name: wandbRun } });
    const wr = w.data.project.run;
    expect(JSON.parse(wr.config)).toEqual({ secret: { value: 's3cr3t' } });
    expect(JSON.parse(wr.summaryMetrics)).toEqual({ acc: 1 });
    expect(wr.state).toBe('running');
    expect(wr.historyLineCount).toBe(0);
  });
});

describe('permissions', () => {
  it('filters search results to what the caller may read', async () => {
    const carolSees = await ok('post', '/api/2.0/mlflow/experiments/search', as('carol'), { max_results: 1000 });
    expect((carolSees.experiments ?? []).map((e: { experiment_id: string }) => e.experiment_id)).not.toContain(expId);
    const bobSees = await ok('post', '/api/2.0/mlflow/experiments/search', as('bob'), { max_results: 1000, filter: `name = '${expName}'` });
    expect(bobSees.experiments.map((e: { experiment_id: string }) => e.experiment_id)).toEqual([expId]);
    expect(await ok('post', '/api/2.0/mlflow/runs/search', as('carol'), { experiment_ids: [expId] })).toEqual({});
    const models = await ok('get', '/api/2.0/mlflow/registered-models/search', as('carol'), { filter: `name = '${modelName}'` });
    expect(models.registered_models ?? []).toEqual([]);
    const bobModels = await ok('get', '/api/2.0/mlflow/registered-models/search', as('bob'), { filter: `name = '${modelName}'` });
    expect(bobModels.registered_models).toHaveLength(1);
  });

  it('checks a v2 EndTrace against the experiment of the trace, not one the body names', async () => {
    const own = (await ok('post', '/api/2.0/mlflow/experiments/create', as('carol'), { name: uniqueName('carol-own') })).experiment_id;
    const res = await call('patch', `/api/2.0/mlflow/traces/${traceId}`, as('carol'), { experiment_id: own, timestamp_ms: Date.UTC(2026, 0, 2), status: 'ERROR' });
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect((await ok('get', `/api/3.0/mlflow/traces/${traceId}`, as('alice'))).trace.trace_info.state).toBe('OK');
  });

  it('lets the creator grant EDIT, after which the grantee may write', async () => {
    const exp = (await ok('post', '/api/2.0/mlflow/experiments/create', as('alice'), { name: uniqueName('shared') })).experiment_id;
    const denied = await call('post', '/api/2.0/mlflow/runs/create', as('bob'), { experiment_id: exp });
    expect(denied.status).toBe(403);
    // bob may not grant himself anything on alice's experiment.
    const selfGrant = await call('post', '/api/3.0/mlflow/users/permissions/grant', as('bob'), { username: names.bob, resource_type: 'experiment', resource_id: exp, permission: 'MANAGE' });
    expect(selfGrant.status).toBe(403);
    await ok('post', '/api/3.0/mlflow/users/permissions/grant', as('alice'), { username: names.bob, resource_type: 'experiment', resource_id: exp, permission: 'EDIT' });
    const got = await ok('get', '/api/3.0/mlflow/users/permissions/get', as('bob'), { username: names.bob, resource_type: 'experiment', resource_id: exp });
    expect(got).toEqual({ allowed: true, permission: 'EDIT' });
    await ok('post', '/api/2.0/mlflow/runs/create', as('bob'), { experiment_id: exp });
    // EDIT is not MANAGE: bob still cannot delete it.
    expect((await call('post', '/api/2.0/mlflow/experiments/delete', as('bob'), { experiment_id: exp })).status).toBe(403);
    await ok('post', '/api/3.0/mlflow/users/permissions/revoke', as('alice'), { username: names.bob, resource_type: 'experiment', resource_id: exp });
    expect((await call('post', '/api/2.0/mlflow/runs/create', as('bob'), { experiment_id: exp })).status).toBe(403);
  });

  it('serves the older experiments/permissions and registered-models/permissions endpoints', async () => {
    const created = await ok('post', '/api/2.0/mlflow/experiments/permissions/create', as('alice'), { experiment_id: expId, username: names.bob, permission: 'READ' });
    expect(created.experiment_permission).toMatchObject({ experiment_id: expId, permission: 'READ' });
    await ok('patch', '/api/2.0/mlflow/experiments/permissions/update', as('alice'), { experiment_id: expId, username: names.bob, permission: 'EDIT' });
    const got = await ok('get', '/api/2.0/mlflow/experiments/permissions/get', as('alice'), { experiment_id: expId, username: names.bob });
    expect(got.experiment_permission.permission).toBe('EDIT');
    await ok('delete', '/api/2.0/mlflow/experiments/permissions/delete', as('alice'), { experiment_id: expId, username: names.bob });
    expect((await call('get', '/api/2.0/mlflow/experiments/permissions/get', as('alice'), { experiment_id: expId, username: names.bob })).status).toBe(404);
    const m = await ok('post', '/api/2.0/mlflow/registered-models/permissions/create', as('alice'), { name: modelName, username: names.bob, permission: 'READ' });
    expect(m.registered_model_permission).toMatchObject({ name: modelName, permission: 'READ' });
    await ok('delete', '/api/2.0/mlflow/registered-models/permissions/delete', as('alice'), { name: modelName, username: names.bob });
    // Only a manager may manage permissions.
    expect((await call('post', '/api/2.0/mlflow/experiments/permissions/create', as('bob'), { experiment_id: expId, username: names.bob, permission: 'MANAGE' })).status).toBe(403);
  });
});

describe('accounts and keys', () => {
  it('keeps account management to admins (and yourself)', async () => {
    expect((await call('post', '/api/2.0/mlflow/users/create', as('bob'), { username: uniqueName('x'), password: 'p' })).status).toBe(403);
    expect((await call('get', '/api/2.0/mlflow/users/get', as('bob'), { username: names.alice })).status).toBe(403);
    expect((await ok('get', '/api/2.0/mlflow/users/get', as('bob'), { username: names.bob })).user).toMatchObject({ username: names.bob, is_admin: false });
    expect((await call('patch', '/api/2.0/mlflow/users/update-admin', as('bob'), { username: names.bob, is_admin: true })).status).toBe(403);
    expect((await call('delete', '/api/2.0/mlflow/users/delete', as('bob'), { username: names.alice })).status).toBe(403);
    const me = await ok('get', '/api/2.0/mlflow/users/current', as('alice'));
    expect(me.user.username).toBe(names.alice);
    // The hash is never answered.
    expect(JSON.stringify(await ok('get', '/api/2.0/mlflow/users/list', admin))).not.toMatch(/scrypt/);
  });

  it('revokes a key at once, and a password change takes effect at once', async () => {
    const user = uniqueName('dave');
    await ok('post', '/api/2.0/mlflow/users/create', admin, { username: user, password: 'first' });
    const key = await ok('post', '/api/2.0/cairn/keys/create', basicAuth(user, 'first'));
    await ok('get', '/api/2.0/mlflow/users/current', `Bearer ${key.key}`);
    await ok('post', '/api/2.0/cairn/keys/revoke', basicAuth(user, 'first'), { key: key.prefix });
    expect((await call('get', '/api/2.0/mlflow/users/current', `Bearer ${key.key}`)).status).toBe(401);
    // Own password: the current one is required.
    expect((await call('patch', '/api/2.0/mlflow/users/update-password', basicAuth(user, 'first'), { username: user, password: 'second' })).status).toBe(400);
    await ok('patch', '/api/2.0/mlflow/users/update-password', basicAuth(user, 'first'), { username: user, password: 'second', current_password: 'first' });
    expect((await call('get', '/api/2.0/mlflow/users/current', basicAuth(user, 'first'))).status).toBe(401);
    await ok('get', '/api/2.0/mlflow/users/current', basicAuth(user, 'second'));
    // A deleted account's password and keys stop working too.
    const key2 = await ok('post', '/api/2.0/cairn/keys/create', basicAuth(user, 'second'));
    await ok('delete', '/api/2.0/mlflow/users/delete', admin, { username: user });
    expect((await call('get', '/api/2.0/mlflow/users/current', basicAuth(user, 'second'))).status).toBe(401);
    expect((await call('post', '/graphql', wandbAuth(key2.key), { query: '{ viewer { id } }' })).status).toBe(401);
  });

  it('answers 401 with the Basic challenge the client expects, and keeps public routes public', async () => {
    const res = await call('get', '/api/2.0/mlflow/experiments/get', undefined, { experiment_id: '0' });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="mlflow"');
    for (const url of ['/health', '/version', '/api/3.0/mlflow/server-info', '/openapi.json']) {
      expect((await call('get', url, undefined)).status, url).toBe(200);
    }
  });
});

describe('start-up with auth on', () => {
  it('stops without an admin password when the admin does not exist yet', async () => {
    const env = { CAIRN_AUTH_ADMIN_USERNAME: uniqueName('root') };
    await expect(startTestApp(['--app-name', 'basic-auth'], { env })).rejects.toThrow(/MLFLOW_AUTH_ADMIN_PASSWORD/);
  });
});

describe('default permission NO_PERMISSIONS', () => {
  it('keeps each experiment private to its creator and whoever they grant', async () => {
    const adminName = uniqueName('admin');
    const priv = await startTestApp(
      ['--app-name', 'basic-auth', '--auth-default-permission', 'NO_PERMISSIONS', '--artifacts-destination', artifactDir],
      { env: { MLFLOW_AUTH_ADMIN_PASSWORD: 'pw', CAIRN_AUTH_ADMIN_USERNAME: adminName } },
    );
    try {
      const req = (method: 'get' | 'post', url: string, auth: string, body: Record<string, unknown> = {}) =>
        method === 'get' ? priv.api.get(url).set('Authorization', auth).query(body) : priv.api.post(url).set('Authorization', auth).send(body);
      const [erin, frank] = [uniqueName('erin'), uniqueName('frank')];
      for (const u of [erin, frank]) expect((await req('post', '/api/2.0/mlflow/users/create', basicAuth(adminName, 'pw'), { username: u, password: 'pw' })).status).toBe(200);
      const name = uniqueName('private');
      const exp = (await req('post', '/api/2.0/mlflow/experiments/create', basicAuth(erin, 'pw'), { name })).body.experiment_id;
      expect((await req('get', '/api/2.0/mlflow/experiments/get', basicAuth(erin, 'pw'), { experiment_id: exp })).status).toBe(200);
      expect((await req('get', '/api/2.0/mlflow/experiments/get', basicAuth(frank, 'pw'), { experiment_id: exp })).status).toBe(403);
      const seen = await req('post', '/api/2.0/mlflow/experiments/search', basicAuth(frank, 'pw'), { filter: `name = '${name}'` });
      expect(seen.body.experiments ?? []).toEqual([]);
      await req('post', '/api/3.0/mlflow/users/permissions/grant', basicAuth(erin, 'pw'), { username: frank, resource_type: 'experiment', resource_id: exp, permission: 'READ' });
      expect((await req('get', '/api/2.0/mlflow/experiments/get', basicAuth(frank, 'pw'), { experiment_id: exp })).status).toBe(200);
    } finally {
      await priv.close();
    }
  });
});
