// Moving a run between experiments (docs/teams.md#moving-runs), with accounts on: MANAGE on the
// source and EDIT on the destination; deleted runs and destinations refused; a retry succeeds; the
// run's artifacts follow its new experiment's permissions; a W&B run changes project so the W&B
// API finds it there, unless the destination already has a W&B run of that id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName, type TestApp } from '../harness/app.js';
import { startAuthApp, testAdmin, userAuth as as } from '../harness/auth-app.js';
import { basicAuth } from '../harness/basic-auth.js';

const ADMIN = testAdmin();
const admin = ADMIN.auth;
const bob = uniqueName('bob');
const eve = uniqueName('eve');
let t: TestApp;
let bobKey = '';

const post = (url: string, auth: string, body: unknown) => t.api.post(url).set('Authorization', auth).send(body as object);
const move = (auth: string, run_id: string, experiment_id: string) => post('/api/2.0/cairn/runs/move', auth, { run_id, experiment_id });
const newExperiment = async (name: string) => (await post('/api/2.0/mlflow/experiments/create', as(bob), { name })).body.experiment_id as string;
const newRun = async (exp: string) => (await post('/api/2.0/mlflow/runs/create', as(bob), { experiment_id: exp })).body.run.info.run_id as string;
const share = (exp: string, permission: string) =>
  post('/api/2.0/cairn/teams/share', as(bob), { resource_type: 'experiment', resource_id: exp, username: eve, permission });
const graphql = (query: string, variables: Record<string, unknown>) =>
  t.api.post('/graphql').set('Authorization', basicAuth('api', bobKey)).send({ query, variables });
const upsert = async (project: string, name: string) => {
  const res = await graphql('mutation($e: String, $p: String, $n: String) { upsertBucket(input: {entityName: $e, modelName: $p, name: $n}) { bucket { id } } }', { e: bob, p: project, n: name });
  expect(res.body.errors).toBeUndefined();
};
const wandbRun = async (project: string, name: string) =>
  (await graphql('query($e: String, $p: String, $n: String!) { project(name: $p, entityName: $e) { run(name: $n) { name } } }', { e: bob, p: project, n: name })).body.data.project?.run;
const idOf = async (name: string) =>
  (await t.api.get('/api/2.0/mlflow/experiments/get-by-name').set('Authorization', as(bob)).query({ experiment_name: name })).body.experiment.experiment_id as string;

beforeAll(async () => {
  t = await startAuthApp(ADMIN, 'NO_PERMISSIONS', [bob, eve]);
  bobKey = (await post('/api/2.0/cairn/keys/create', as(bob), {})).body.key;
});
afterAll(async () => t?.close());

describe('moving a run', () => {
  it('needs MANAGE on the source and EDIT on the destination; a retry answers the same', async () => {
    const [from, to] = [await newExperiment(uniqueName('from')), await newExperiment(uniqueName('to'))];
    const runId = await newRun(from);
    // Nothing on either; READ on both; EDIT on both; MANAGE on the source with READ on the destination.
    expect((await move(as(eve), runId, to)).body).toMatchObject({ error_code: 'PERMISSION_DENIED' });
    await share(from, 'READ');
    await share(to, 'READ');
    expect((await move(as(eve), runId, to)).status).toBe(403);
    await share(from, 'EDIT');
    await share(to, 'EDIT');
    const refused = await move(as(eve), runId, to);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error_code: 'PERMISSION_DENIED', message: expect.stringContaining('manage access') });
    await share(from, 'MANAGE');
    await share(to, 'READ');
    expect((await move(as(eve), runId, to)).status).toBe(403);
    expect((await t.api.get('/api/2.0/mlflow/runs/get').set('Authorization', as(bob)).query({ run_id: runId })).body.run.info.experiment_id).toBe(from);
    await share(to, 'EDIT');
    const moved = await move(as(eve), runId, to);
    expect(moved.status).toBe(200);
    expect(moved.body).toEqual({ experiment_id: to });
    const run = await t.api.get('/api/2.0/mlflow/runs/get').set('Authorization', as(bob)).query({ run_id: runId });
    expect(run.body.run.info.experiment_id).toBe(to);
    const inFrom = await post('/api/2.0/mlflow/runs/search', as(bob), { experiment_ids: [from] });
    expect(inFrom.body.runs ?? []).toHaveLength(0);
    // A retried move (its answer lost) finds the run there already: the same answer, one record.
    expect((await move(as(eve), runId, to)).body).toEqual({ experiment_id: to });
    const events = (await t.api.get('/api/2.0/cairn/ui/runs/activity').set('Authorization', as(bob)).query({ run_id: runId })).body.events as { kind: string; username: string; detail: string }[];
    expect(events.filter((e) => e.kind === 'moved')).toEqual([expect.objectContaining({ username: eve, detail: expect.stringContaining('from') })]);
    const listed = (await t.api.get('/api/2.0/cairn/ui/experiments/activity').set('Authorization', as(bob)).query({ experiment_id: to })).body.events as { kind: string }[];
    expect(listed.map((e) => e.kind).sort()).toEqual(['created', 'moved']);
  });

  it("guards a moved run's artifacts with its new experiment's permissions", async () => {
    const [from, to] = [await newExperiment(uniqueName('from')), await newExperiment(uniqueName('to'))];
    const runId = await newRun(from);
    const uri = (await t.api.get('/api/2.0/mlflow/runs/get').set('Authorization', as(bob)).query({ run_id: runId })).body.run.info.artifact_uri as string;
    const key = `${uri.replace(/^mlflow-artifacts:\/+/, '')}/model.txt`;
    expect(key.startsWith(`${from}/${runId}/`)).toBe(true);
    const file = `/api/2.0/mlflow-artifacts/artifacts/${key}`;
    expect((await t.api.put(file).set('Authorization', as(bob)).set('Content-Type', 'application/octet-stream').send('weights')).status).toBe(200);
    await share(from, 'READ');
    expect((await t.api.get(file).set('Authorization', as(eve))).status).toBe(200);
    expect((await move(as(bob), runId, to)).status).toBe(200);
    // The files stay at their path; who reads them is now the destination's business.
    expect((await t.api.get(file).set('Authorization', as(eve))).status).toBe(403);
    await share(to, 'READ');
    const read = await t.api.get(file).set('Authorization', as(eve)).buffer(true).parse((res, cb) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => cb(null, body));
    });
    expect(read.status).toBe(200);
    expect(read.body).toBe('weights');
    const listed = await t.api.get('/api/2.0/mlflow/artifacts/list').set('Authorization', as(eve)).query({ run_id: runId });
    expect(listed.body.files).toContainEqual(expect.objectContaining({ path: 'model.txt' }));
  });

  it('refuses a deleted run, a deleted or unknown destination', async () => {
    const [from, to, gone] = [await newExperiment(uniqueName('from')), await newExperiment(uniqueName('to')), await newExperiment(uniqueName('gone'))];
    const runId = await newRun(from);
    expect((await post('/api/2.0/mlflow/experiments/delete', as(bob), { experiment_id: gone })).status).toBe(200);
    expect((await move(as(bob), runId, gone)).body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining('deleted') });
    expect((await move(admin, runId, '987654321')).status).toBe(404);
    expect((await move(admin, '0123456789abcdef0123456789abcdef', to)).body).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST' });
    expect((await move(as(bob), runId, 'abc')).status).toBe(400);
    expect((await post('/api/2.0/mlflow/runs/delete', as(bob), { run_id: runId })).status).toBe(200);
    const deleted = await move(as(bob), runId, to);
    expect(deleted.status).toBe(400);
    expect(deleted.body.message).toContain('deleted');
  });

  it('moves a W&B run to the destination project, unless that project has a run of its id', async () => {
    const [pa, pb, pc] = [uniqueName('pa'), uniqueName('pb'), uniqueName('pc')];
    await upsert(pa, 'r1');
    await upsert(pb, 'r2');
    await upsert(pc, 'r1');
    const r1 = (await post('/api/2.0/mlflow/runs/search', as(bob), { experiment_ids: [await idOf(pa)] })).body.runs[0].info.run_id as string;
    const moved = await move(as(bob), r1, await idOf(pb));
    expect(moved.body).toEqual({ experiment_id: await idOf(pb), entity: bob, project: pb });
    expect(await wandbRun(pb, 'r1')).toEqual({ name: 'r1' });
    expect(await wandbRun(pa, 'r1')).toBeNull();
    const tags = (await t.api.get('/api/2.0/mlflow/runs/get').set('Authorization', as(bob)).query({ run_id: r1 })).body.run.data.tags as { key: string; value: string }[];
    expect(tags).toContainEqual({ key: 'wandb.project', value: pb });

    const clash = await move(as(bob), r1, await idOf(pc));
    expect(clash.status).toBe(400);
    expect(clash.body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining("W&B run with id 'r1'") });
    expect(await wandbRun(pb, 'r1')).toEqual({ name: 'r1' });

    // A sweep's trial stays with its sweep.
    const sweep = await graphql('mutation($e: String, $p: String, $c: String) { upsertSweep(input: {entityName: $e, projectName: $p, config: $c}) { sweep { name } } }', {
      e: bob, p: pa, c: 'method: grid\nparameters:\n  a: {values: [1, 2]}\n',
    });
    const sweepName = sweep.body.data.upsertSweep.sweep.name as string;
    const trialRes = await graphql('mutation($e: String, $p: String, $s: String) { upsertBucket(input: {entityName: $e, modelName: $p, name: "trial1", sweep: $s}) { bucket { id } } }', { e: bob, p: pa, s: sweepName });
    expect(trialRes.body.errors).toBeUndefined();
    const trial = (await post('/api/2.0/mlflow/runs/search', as(bob), { experiment_ids: [await idOf(pa)], filter: "tags.`wandb.run_id` = 'trial1'" })).body.runs[0].info.run_id as string;
    expect((await move(as(bob), trial, await idOf(pb))).body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringContaining(`sweep '${sweepName}'`) });
    expect(await wandbRun(pa, 'trial1')).toEqual({ name: 'trial1' });

    // Into an experiment no W&B client used yet: the run's entity, the experiment's name.
    const plain = uniqueName('plain');
    const plainId = await newExperiment(plain);
    expect((await move(as(bob), r1, plainId)).body).toEqual({ experiment_id: plainId, entity: bob, project: plain });
    expect(await wandbRun(plain, 'r1')).toEqual({ name: 'r1' });
    // ... claimed for that entity: another entity using the name later gets `<entity>/plain`.
    const projects = await graphql('query($e: String) { models(entityName: $e) { edges { node { name } } } }', { e: bob });
    expect(projects.body.data.models.edges.map((e: { node: { name: string } }) => e.node.name)).toContain(plain);
  });
});
