import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';

// The runs table's endpoints over one experiment of 40 runs whose params, metrics and tags follow
// simple rules, so every expected page, count and aggregate is computed here from the same rules.

let t: TestApp;
let experimentId: string;
let otherExperimentId: string;
interface Fixture {
  id: string;
  i: number;
  lr?: string;
  acc: number | 'NaN';
  loss?: number;
  team: string;
  deleted: boolean;
}
const fixtures: Fixture[] = [];

const mlflow = (path: string, body: unknown) => t.api.post(`/api/2.0/mlflow/${path}`).send(body as object);
const ui = (path: string, body: unknown) => t.api.post(`/api/2.0/cairn/ui/${path}`).send(body as object);
const uiGet = (path: string, query: Record<string, unknown>) => t.api.get(`/api/2.0/cairn/ui/${path}`).query(query);

beforeAll(async () => {
  t = await startTestApp();
  experimentId = (await mlflow('experiments/create', { name: uniqueName('ui-runs') })).body.experiment_id;
  otherExperimentId = (await mlflow('experiments/create', { name: uniqueName('ui-runs-other') })).body.experiment_id;
  for (let i = 0; i < 40; i++) {
    const f: Fixture = {
      id: '',
      i,
      lr: i % 5 === 4 ? undefined : ['0.1', '0.01', '0.001', '0.0001'][i % 5],
      acc: i === 7 ? 'NaN' : (i * 37) % 41 / 41,
      loss: i % 3 === 0 ? undefined : i / 10,
      team: i % 2 ? 'red' : 'blue',
      deleted: i % 10 === 9,
    };
    const run = (await mlflow('runs/create', { experiment_id: experimentId, start_time: 1000 + i, run_name: `run-${String(i).padStart(2, '0')}` })).body.run;
    f.id = run.info.run_id;
    const metrics = [{ key: 'acc', value: f.acc, timestamp: 1, step: 0 }];
    if (f.loss !== undefined) metrics.push({ key: 'loss', value: f.loss, timestamp: 1, step: 0 });
    const res = await mlflow('runs/log-batch', {
      run_id: f.id,
      metrics,
      params: f.lr === undefined ? [] : [{ key: 'lr', value: f.lr }],
      tags: [{ key: 'team', value: f.team }],
    });
    expect(res.status).toBe(200);
    if (f.deleted) expect((await mlflow('runs/delete', { run_id: f.id })).status).toBe(200);
    fixtures.push(f);
  }
  const other = (await mlflow('runs/create', { experiment_id: otherExperimentId, start_time: 5 })).body.run;
  await mlflow('runs/log-batch', { run_id: other.info.run_id, params: [{ key: 'only_other', value: 'x' }], metrics: [{ key: 'acc', value: 0.5, timestamp: 1, step: 0 }] });
});
afterAll(() => t.close());

const active = () => fixtures.filter((f) => !f.deleted);
const ids = (runs: { info: { run_id: string } }[]) => runs.map((r) => r.info.run_id);

describe('POST /cairn/ui/runs/search', () => {
  it('pages by offset in the default order (start_time DESC), with the total count', async () => {
    const expected = active().sort((a, b) => b.i - a.i).map((f) => f.id);
    const seen: string[] = [];
    for (let offset = 0; offset < expected.length + 7; offset += 7) {
      const res = await ui('runs/search', { experiment_ids: [experimentId], offset, limit: 7 });
      expect(res.status).toBe(200);
      expect(res.body.total_count).toBe(expected.length);
      seen.push(...ids(res.body.runs));
    }
    expect(seen).toEqual(expected);
    // Defaults: offset 0, 100 runs.
    const all = await ui('runs/search', { experiment_ids: [experimentId] });
    expect(ids(all.body.runs)).toEqual(expected);
  });

  it('filters and sorts with the MLflow grammar; total_count counts the filter, not the page', async () => {
    const matching = active().filter((f) => f.lr !== undefined && f.lr !== '0.001');
    const byAccDesc = [...matching].sort((a, b) => {
      // NaN after every number, then the natural order (start_time DESC).
      const av = a.acc === 'NaN' ? -Infinity : a.acc;
      const bv = b.acc === 'NaN' ? -Infinity : b.acc;
      if (a.acc === 'NaN' || b.acc === 'NaN') return (a.acc === 'NaN' ? 1 : 0) - (b.acc === 'NaN' ? 1 : 0);
      return bv - av || b.i - a.i;
    });
    const page = await ui('runs/search', {
      experiment_ids: [experimentId],
      filter: "params.lr != '0.001'",
      order_by: ['metrics.acc DESC'],
      offset: 2,
      limit: 3,
    });
    expect(page.status).toBe(200);
    expect(page.body.total_count).toBe(matching.length);
    expect(ids(page.body.runs)).toEqual(byAccDesc.slice(2, 5).map((f) => f.id));

    const bounded = await ui('runs/search', { experiment_ids: [experimentId], filter: 'metrics.acc > 0.5 and tags.team = "red"', order_by: ['metrics.acc ASC'], limit: 1 });
    const expected = active().filter((f) => f.acc !== 'NaN' && f.acc > 0.5 && f.team === 'red');
    expect(bounded.body.total_count).toBe(expected.length);
    expect(ids(bounded.body.runs)).toEqual([expected.sort((a, b) => (a.acc as number) - (b.acc as number))[0].id]);

    const deleted = await ui('runs/search', { experiment_ids: [experimentId], run_view_type: 'DELETED_ONLY' });
    expect(deleted.body.total_count).toBe(fixtures.filter((f) => f.deleted).length);
    const both = await ui('runs/search', { experiment_ids: [experimentId, otherExperimentId], run_view_type: 'ALL', offset: 1000 });
    expect(both.body).toEqual({ runs: [], total_count: 41 });
  });

  it('returns runs exactly as runs/get does', async () => {
    const res = await ui('runs/search', { experiment_ids: [experimentId], limit: 1 });
    const got = await t.api.get('/api/2.0/mlflow/runs/get').query({ run_id: res.body.runs[0].info.run_id });
    expect(res.body.runs[0]).toEqual(got.body.run);
  });

  it('refuses bad input with MLflow errors', async () => {
    for (const body of [
      {},
      { experiment_ids: [] },
      { experiment_ids: [experimentId], limit: 0 },
      { experiment_ids: [experimentId], limit: 1001 },
      { experiment_ids: [experimentId], offset: -1 },
      { experiment_ids: [experimentId], offset: 1.5 },
      { experiment_ids: [experimentId], filter: 'metrics.acc >>> 1' },
      { experiment_ids: [experimentId], order_by: ['nonsense.key DESC'] },
      { experiment_ids: ['../1'] },
    ]) {
      const res = await ui('runs/search', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
  });
});

describe('POST /cairn/ui/runs/groups', () => {
  const aggregate = (values: (number | 'NaN')[]) => {
    const finite = values.filter((v): v is number => v !== 'NaN');
    if (!finite.length) return { min: 'NaN', max: 'NaN', mean: 'NaN' };
    return { min: Math.min(...finite), max: Math.max(...finite), mean: finite.reduce((s, v) => s + v, 0) / finite.length };
  };

  it('groups by a param (runs without it are the null group) with min/max/mean of latest metric values', async () => {
    const res = await ui('runs/groups', { experiment_ids: [experimentId], group_by: { kind: 'param', key: 'lr' }, metrics: ['acc', 'loss', 'absent'] });
    expect(res.status).toBe(200);
    const values = [...new Set(active().map((f) => f.lr ?? null))].sort((a, b) => (a === null ? 1 : b === null ? -1 : a < b ? -1 : 1));
    expect(res.body.truncated).toBe(false);
    expect(res.body.groups.map((g: { value: string | null }) => g.value)).toEqual(values);
    for (const g of res.body.groups) {
      const members = active().filter((f) => (f.lr ?? null) === g.value);
      expect(g.run_count).toBe(members.length);
      const acc = aggregate(members.map((f) => f.acc));
      expect(g.metrics.acc.min).toBe(acc.min);
      expect(g.metrics.acc.max).toBe(acc.max);
      expect(g.metrics.acc.mean).toBeCloseTo(acc.mean as number, 12);
      const losses = members.filter((f) => f.loss !== undefined).map((f) => f.loss!);
      if (losses.length) expect(g.metrics.loss).toMatchObject({ min: Math.min(...losses), max: Math.max(...losses) });
      else expect(g.metrics.loss).toBeUndefined();
      expect(g.metrics.absent).toBeUndefined();
    }
  });

  it('groups by a tag and by an attribute, within the filter', async () => {
    const byTeam = await ui('runs/groups', { experiment_ids: [experimentId], filter: "params.lr = '0.1'", group_by: { kind: 'tag', key: 'team' } });
    const members = active().filter((f) => f.lr === '0.1');
    expect(byTeam.body.groups).toEqual(
      ['blue', 'red']
        .map((team) => ({ value: team, run_count: members.filter((f) => f.team === team).length, metrics: {} }))
        .filter((g) => g.run_count > 0),
    );
    const byStatus = await ui('runs/groups', { experiment_ids: [experimentId], run_view_type: 'ALL', group_by: { kind: 'attribute', key: 'lifecycle_stage' } });
    expect(byStatus.body.groups).toEqual([
      { value: 'active', run_count: active().length, metrics: {} },
      { value: 'deleted', run_count: fixtures.length - active().length, metrics: {} },
    ]);
  });

  it('refuses bad input with MLflow errors', async () => {
    for (const body of [
      { experiment_ids: [experimentId] },
      { experiment_ids: [experimentId], group_by: { kind: 'metric', key: 'acc' } },
      { experiment_ids: [experimentId], group_by: { kind: 'attribute', key: 'artifact_uri; drop table runs' } },
      { experiment_ids: [experimentId], group_by: { kind: 'param', key: '' } },
      { experiment_ids: [experimentId], group_by: { kind: 'param', key: 'lr' }, metrics: Array.from({ length: 51 }, (_, i) => `m${i}`) },
      { experiment_ids: [experimentId], group_by: { kind: 'param', key: 'lr' }, filter: 'params.lr = ' },
    ]) {
      const res = await ui('runs/groups', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
    }
  });
});

describe('GET /cairn/ui/experiments/columns', () => {
  it("lists the distinct keys of the experiments' runs, sorted, per view type", async () => {
    const res = await uiGet('experiments/columns', { experiment_ids: experimentId });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ params: ['lr'], metrics: ['acc', 'loss'], tags: ['mlflow.runName', 'team'], truncated: false });
    const both = await t.api.get(`/api/2.0/cairn/ui/experiments/columns?experiment_ids=${experimentId}&experiment_ids=${otherExperimentId}`);
    expect(both.body.params).toEqual(['lr', 'only_other']);
    const empty = await uiGet('experiments/columns', { experiment_ids: otherExperimentId, run_view_type: 'DELETED_ONLY' });
    expect(empty.body).toEqual({ params: [], metrics: [], tags: [], truncated: false });
  });

  it('refuses bad input', async () => {
    expect((await uiGet('experiments/columns', {})).status).toBe(400);
    expect((await uiGet('experiments/columns', { experiment_ids: experimentId, run_view_type: 'SOME' })).status).toBe(400);
    const bad = await uiGet('experiments/columns', { experiment_ids: 'x y' });
    expect(bad.status).toBe(400);
    expect(bad.body.error_code).toBe('INVALID_PARAMETER_VALUE');
  });
});
