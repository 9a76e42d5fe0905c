// The activity record (docs/teams.md#activity), with accounts on: who created a run and who
// changed its tags, notes and stage, per run and per experiment, for readers of the experiment only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName, type TestApp } from '../harness/app.js';
import { startAuthApp, testAdmin, userAuth as as } from '../harness/auth-app.js';

const ADMIN = testAdmin();
const admin = ADMIN.auth;
const bob = uniqueName('bob');
const eve = uniqueName('eve');
let t: TestApp;

const post = (url: string, auth: string, body: unknown) => t.api.post(url).set('Authorization', auth).send(body as object);

beforeAll(async () => {
  t = await startAuthApp(ADMIN, 'NO_PERMISSIONS', [bob, eve]);
});
afterAll(async () => t?.close());

describe('run activity', () => {
  it('records the creator and the last changer of tags, notes and stage', async () => {
    const exp = (await post('/api/2.0/mlflow/experiments/create', as(bob), { name: uniqueName('activity') })).body.experiment_id as string;
    const runId = (await post('/api/2.0/mlflow/runs/create', as(bob), { experiment_id: exp, run_name: 'first' })).body.run.info.run_id as string;
    expect((await post('/api/2.0/mlflow/runs/set-tag', as(bob), { run_id: runId, key: 'team', value: 'vision' })).status).toBe(200);
    // Bookkeeping tags are no one's tag change; notes are their own kind.
    expect((await post('/api/2.0/mlflow/runs/set-tag', as(bob), { run_id: runId, key: 'mlflow.source.name', value: 'x.py' })).status).toBe(200);
    expect((await post('/api/2.0/mlflow/runs/log-batch', admin, { run_id: runId, tags: [{ key: 'mlflow.note.content', value: 'hello' }] })).status).toBe(200);
    expect((await post('/api/2.0/mlflow/runs/delete', admin, { run_id: runId })).status).toBe(200);
    expect((await post('/api/2.0/mlflow/runs/restore', admin, { run_id: runId })).status).toBe(200);

    const run = await t.api.get('/api/2.0/cairn/ui/runs/activity').set('Authorization', as(bob)).query({ run_id: runId });
    expect(run.status).toBe(200);
    expect(run.body.events.map((e: { kind: string; username: string; detail: string | null }) => [e.kind, e.username, e.detail])).toEqual([
      ['created', bob, null],
      ['tags', bob, null],
      ['notes', ADMIN.name, null],
      ['stage', ADMIN.name, 'deleted'],
      ['stage', ADMIN.name, 'restored'],
    ]);
    const list = await t.api.get('/api/2.0/cairn/ui/experiments/activity').set('Authorization', as(bob)).query({ experiment_id: exp, max_results: 2 });
    expect(list.body.events).toHaveLength(2);
    expect(list.body.events[0]).toMatchObject({ run_id: runId, run_name: 'first', kind: 'stage', detail: 'restored', username: ADMIN.name });

    // Only readers of the experiment see its record.
    expect((await t.api.get('/api/2.0/cairn/ui/runs/activity').set('Authorization', as(eve)).query({ run_id: runId })).status).toBe(403);
    expect((await t.api.get('/api/2.0/cairn/ui/experiments/activity').set('Authorization', as(eve)).query({ experiment_id: exp })).status).toBe(403);
    expect((await t.api.get('/api/2.0/cairn/ui/experiments/activity').set('Authorization', admin).query({ experiment_id: 'abc' })).body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
  });
});
