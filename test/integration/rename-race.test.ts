import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';

// Renames racing for one new name: both pass the "is it taken?" check, the loser hits the unique
// index. Each loser must read what a sequential rename would (mlflow server 3.18: BAD_REQUEST for an
// experiment, RESOURCE_ALREADY_EXISTS for a registered model), never a 500.

const PARALLEL = 30;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

function expectOneWinner(results: { status: number; body: { error_code?: string } }[], loserCode: string): void {
  const statuses = results.map((r) => `${r.status} ${r.body.error_code ?? ''}`.trim());
  expect(statuses.filter((s) => s === '200'), statuses.join(', ')).toHaveLength(1);
  expect(statuses.filter((s) => s === `400 ${loserCode}`), statuses.join(', ')).toHaveLength(PARALLEL - 1);
}

describe('parallel renames to one new name', () => {
  it(`experiments/update x${PARALLEL}: one 200, the rest BAD_REQUEST`, async () => {
    const ids: string[] = [];
    for (let i = 0; i < PARALLEL; i++) ids.push((await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('race') })).body.experiment_id);
    const target = uniqueName('race-target');
    const results = await Promise.all(
      ids.map((id) => t.api.post('/api/2.0/mlflow/experiments/update').send({ experiment_id: id, new_name: target })),
    );
    expectOneWinner(results, 'BAD_REQUEST');
    const found = await t.api.get(`/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(target)}`);
    expect(found.status).toBe(200);
    expect(ids).toContain(found.body.experiment.experiment_id);
  });

  it(`registered-models/rename x${PARALLEL}: one 200, the rest RESOURCE_ALREADY_EXISTS`, async () => {
    const names: string[] = [];
    for (let i = 0; i < PARALLEL; i++) {
      const name = uniqueName('race-model');
      expect((await t.api.post('/api/2.0/mlflow/registered-models/create').send({ name })).status).toBe(200);
      names.push(name);
    }
    const target = uniqueName('race-model-target');
    const results = await Promise.all(names.map((name) => t.api.post('/api/2.0/mlflow/registered-models/rename').send({ name, new_name: target })));
    expectOneWinner(results, 'RESOURCE_ALREADY_EXISTS');
  });
});
