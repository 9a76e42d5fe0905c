import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/connect.js';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';

// The runs table's min/max metric columns: latest_metrics keeps each history's least and greatest
// value (NaN left out), the UI search returns them on request and orders by min(...)/max(...).
// Also the Duration column's order term, attributes.duration.

let t: TestApp;
let exp: string;
const mlflow = (p: string, body: unknown) => t.api.post(`/api/2.0/mlflow/${p}`).send(body as object);
const search = (body: Record<string, unknown>) => t.api.post('/api/2.0/cairn/ui/runs/search').send({ experiment_ids: [exp], ...body });

// Each run's history, logged in the batches listed (so the stored range is widened batch by batch,
// and a later batch of earlier steps moves min/max but not the latest value).
const histories: Record<string, (number | 'NaN' | 'Infinity')[][]> = {
  a: [[5, 3], [4]], // min 3, max 5, latest 4 (step 2)
  b: [[1, 9, 'NaN']], // NaN left out: min 1, max 9
  c: [['NaN'], ['NaN']], // only NaN
  d: [[2], [-7, 'Infinity']], // min -7, max Infinity
  e: [], // no loss at all
};
const runIds: Record<string, string> = {};

beforeAll(async () => {
  t = await startTestApp();
  exp = (await mlflow('experiments/create', { name: uniqueName('ui-ranges') })).body.experiment_id;
  for (const [name, batches] of Object.entries(histories)) {
    const id = (await mlflow('runs/create', { experiment_id: exp, run_name: name, start_time: 1000 + name.charCodeAt(0) })).body.run.info.run_id;
    runIds[name] = id;
    let step = 0;
    for (const batch of batches) {
      const metrics = batch.map((value) => ({ key: 'loss', value, timestamp: 10, step: step++ }));
      expect((await mlflow('runs/log-batch', { run_id: id, metrics })).status).toBe(200);
    }
    if (name === 'a') {
      // A late point at an earlier step: the latest value stays 4, the min drops to 1.
      expect((await mlflow('runs/log-metric', { run_id: id, key: 'loss', value: 1, timestamp: 5, step: 0 })).status).toBe(200);
    }
  }
});
afterAll(() => t.close());

const names = (runs: { info: { run_name: string } }[]) => runs.map((r) => r.info.run_name);

describe('metric ranges in POST /cairn/ui/runs/search', () => {
  it('returns the history min and max of the requested keys, NaN left out', async () => {
    const res = await search({ metric_ranges: ['loss', 'absent'] });
    expect(res.status).toBe(200);
    const byName = Object.fromEntries(res.body.runs.map((r: { info: { run_id: string; run_name: string } }) => [r.info.run_name, r.info.run_id]));
    expect(res.body.metric_ranges[byName.a]).toEqual({ loss: { min: 1, max: 5 } });
    expect(res.body.metric_ranges[byName.b]).toEqual({ loss: { min: 1, max: 9 } });
    expect(res.body.metric_ranges[byName.c]).toEqual({ loss: { min: 'NaN', max: 'NaN' } });
    expect(res.body.metric_ranges[byName.d]).toEqual({ loss: { min: -7, max: 'Infinity' } });
    expect(res.body.metric_ranges[byName.e]).toBeUndefined();
    // The latest value is still the point with the greatest step.
    const a = res.body.runs.find((r: { info: { run_name: string } }) => r.info.run_name === 'a');
    expect(a.data.metrics).toEqual([expect.objectContaining({ key: 'loss', value: 4, step: 2 })]);
    // Without the field, no ranges.
    expect((await search({})).body.metric_ranges).toBeUndefined();
  });

  it('orders by min(...) and max(...), NaN after numbers and missing last, in both directions', async () => {
    const order = async (term: string) => {
      const res = await search({ order_by: [term] });
      expect(res.status).toBe(200);
      return names(res.body.runs);
    };
    // a and b share min 1: the tie goes to the natural order (start_time DESC), b first.
    expect(await order('min(metrics.loss) ASC')).toEqual(['d', 'b', 'a', 'c', 'e']);
    expect(await order('min(metrics.loss) DESC')).toEqual(['b', 'a', 'd', 'c', 'e']);
    expect(await order('MAX(metrics.`loss`) DESC')).toEqual(['d', 'b', 'a', 'c', 'e']);
    expect(await order('max(metrics.loss)')).toEqual(['a', 'b', 'd', 'c', 'e']);
    // The latest value orders differently: a (4), d (Infinity), then b and c (latest NaN), e.
    expect(await order('metrics.loss ASC')).toEqual(['a', 'd', 'c', 'b', 'e']);
  });

  it('combines with filters, other terms and offsets', async () => {
    const res = await search({ filter: 'metrics.loss > 0', order_by: ['max(metrics.loss) ASC', 'min(metrics.loss) DESC'], offset: 1, limit: 1 });
    expect(res.status).toBe(200);
    // The filter is on the latest value: a (4) and d (Infinity); b and c end on NaN.
    expect(res.body.total_count).toBe(2);
    expect(names(res.body.runs)).toEqual(['d']);
  });

  it('refuses malformed terms with a 400, and MLflow search keeps its grammar', async () => {
    for (const bad of ['min(params.lr)', 'avg(metrics.loss)', 'min(metrics.loss', 'min(attributes.start_time) DESC', 'min(metrics.loss) sideways', 'min(metrics.loss) ASC, max(metrics.loss)', '"min"(metrics.loss)']) {
      const res = await search({ order_by: [bad] });
      expect(res.status, bad).toBe(400);
      expect(res.body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
    }
    const dup = await search({ order_by: ['min(metrics.loss)', 'min(metrics.loss) DESC'] });
    expect(dup.status).toBe(400);
    // min and max and the latest value of one key are three different fields.
    expect((await search({ order_by: ['min(metrics.loss)', 'max(metrics.loss)', 'metrics.loss'] })).status).toBe(200);
    const mlflowSearch = await mlflow('runs/search', { experiment_ids: [exp], order_by: ['min(metrics.loss) ASC'] });
    expect(mlflowSearch.status).toBe(400);
    expect(mlflowSearch.body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
    const tooMany = await search({ metric_ranges: Array.from({ length: 101 }, (_, i) => `k${i}`) });
    expect(tooMany.status).toBe(400);
    expect((await search({ metric_ranges: [''] })).status).toBe(400);
  });

  it('the backfill migration computes the ranges of rows logged before the columns existed', async () => {
    await t.deps.db.execute(sql`update latest_metrics set min_value = null, max_value = null
                                where run_id in (${runIds.a}, ${runIds.b}, ${runIds.c}, ${runIds.d})`);
    const file = path.resolve(import.meta.dirname, '../../migrations/0008_backfill_latest_metric_range.sql');
    await t.deps.db.execute(sql.raw(fs.readFileSync(file, 'utf8')));
    const got = await rows<{ run_id: string; lo: number; hi: number }>(
      t.deps.db,
      sql`select run_id, min_value as lo, max_value as hi from latest_metrics where run_id in (${runIds.a}, ${runIds.b}, ${runIds.c}, ${runIds.d}) order by run_id`,
    );
    const want = new Map([[runIds.a, [1, 5]], [runIds.b, [1, 9]], [runIds.c, [NaN, NaN]], [runIds.d, [-7, Infinity]]]);
    expect(got).toHaveLength(4);
    for (const g of got) expect([Number(g.lo), Number(g.hi)]).toEqual(want.get(g.run_id));
  });
});

describe('attributes.duration and experiment_id in POST /cairn/ui/runs/search', () => {
  it('orders by end_time - start_time, unfinished runs last in both directions; MLflow search refuses it', async () => {
    const e = (await mlflow('experiments/create', { name: uniqueName('ui-duration') })).body.experiment_id;
    for (const [name, start, end] of [['five', 100, 105], ['one', 200, 201], ['running', 300, undefined], ['ten', 50, 60]] as const) {
      const id = (await mlflow('runs/create', { experiment_id: e, run_name: name, start_time: start })).body.run.info.run_id;
      if (end !== undefined) expect((await mlflow('runs/update', { run_id: id, status: 'FINISHED', end_time: end })).status).toBe(200);
    }
    const order = async (term: string) => {
      const res = await t.api.post('/api/2.0/cairn/ui/runs/search').send({ experiment_ids: [e], order_by: [term] });
      expect(res.status).toBe(200);
      return names(res.body.runs);
    };
    expect(await order('attributes.duration ASC')).toEqual(['one', 'five', 'ten', 'running']);
    expect(await order('duration DESC')).toEqual(['ten', 'five', 'one', 'running']);
    const refused = await mlflow('runs/search', { experiment_ids: [e], order_by: ['attributes.duration'] });
    expect(refused.status).toBe(400);
    // experiment_id too (the table of several experiments), ties in the natural order.
    const both = await t.api.post('/api/2.0/cairn/ui/runs/search').send({ experiment_ids: [exp, e], order_by: ['attributes.experiment_id DESC'] });
    expect(both.status).toBe(200);
    expect(names(both.body.runs)).toEqual(['running', 'one', 'five', 'ten', 'e', 'd', 'c', 'b', 'a']);
    expect((await mlflow('runs/search', { experiment_ids: [e], order_by: ['attributes.experiment_id'] })).status).toBe(400);
    // It is an order term only, not a filter.
    const filtered = await t.api.post('/api/2.0/cairn/ui/runs/search').send({ experiment_ids: [e], filter: 'attributes.duration > 1' });
    expect(filtered.status).toBe(400);
    expect(filtered.body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
  });
});
