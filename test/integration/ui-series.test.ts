import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';
import { byRule } from './series-rule.js';

let t: TestApp;
let experimentId: string;
beforeAll(async () => {
  t = await startTestApp();
  experimentId = (await mlflow('experiments/create', { name: uniqueName('ui-series') })).body.experiment_id;
});
afterAll(() => t.close());

const mlflow = (path: string, body: unknown) => t.api.post(`/api/2.0/mlflow/${path}`).send(body as object);
const series = (body: unknown) => t.api.post('/api/2.0/cairn/ui/metrics/series').send(body as object);
const newRun = async () => (await mlflow('runs/create', { experiment_id: experimentId, start_time: 0 })).body.run.info.run_id as string;

async function logPoints(runId: string, key: string, points: { step: number; timestamp: number; value: number | string }[]) {
  for (let i = 0; i < points.length; i += 1000) {
    const res = await mlflow('runs/log-batch', { run_id: runId, metrics: points.slice(i, i + 1000).map((p) => ({ key, ...p })) });
    expect(res.status).toBe(200);
  }
}

describe('POST /cairn/ui/metrics/series', () => {
  it('returns raw points, sorted by x, when there are no more than `buckets`', async () => {
    const run = await newRun();
    await logPoints(run, 'loss', [
      { step: 2, timestamp: 1020, value: 0.5 },
      { step: 0, timestamp: 1000, value: 1 },
      { step: 1, timestamp: 1010, value: 0.7 },
      { step: 1, timestamp: 1011, value: 0.6 },
    ]);
    const res = await series({ run_ids: [run], keys: ['loss'], buckets: 10 });
    expect(res.status).toBe(200);
    expect(res.body.series).toEqual([
      {
        run_id: run, key: 'loss', total_points: 4, x_min: 0, x_max: 2, downsampled: false,
        points: [
          { x: 0, step: 0, timestamp: 1000, value: 1, min: 1, max: 1, count: 1 },
          { x: 1, step: 1, timestamp: 1010, value: 0.7, min: 0.7, max: 0.7, count: 1 },
          { x: 1, step: 1, timestamp: 1011, value: 0.6, min: 0.6, max: 0.6, count: 1 },
          { x: 2, step: 2, timestamp: 1020, value: 0.5, min: 0.5, max: 0.5, count: 1 },
        ],
      },
    ]);
    // Against time, the same points ordered by timestamp.
    const byTime = (await series({ run_ids: [run], keys: ['loss'], x_axis: 'timestamp' })).body.series[0];
    expect(byTime.points.map((p: { x: number }) => p.x)).toEqual([1000, 1010, 1011, 1020]);
    expect(byTime).toMatchObject({ x_min: 1000, x_max: 1020, downsampled: false });
  });

  it('buckets by equal x width: last value, min, max and count per bucket; bounds from the data or the request', async () => {
    const run = await newRun();
    // 100 points, steps 0..99, value = step; 10 buckets of width 9.9.
    await logPoints(run, 'm', Array.from({ length: 100 }, (_, i) => ({ step: i, timestamp: 5000 + i, value: i })));
    const res = await series({ run_ids: [run], keys: ['m'], buckets: 10 });
    const s = res.body.series[0];
    expect(s).toMatchObject({ total_points: 100, x_min: 0, x_max: 99, downsampled: true });
    // Expected by the same rule, computed here: bucket = min(9, floor((x - 0) * 10 / 99)).
    const expected = new Map<number, number[]>();
    for (let x = 0; x < 100; x++) {
      const b = Math.min(9, Math.floor((x * 10) / 99));
      expected.set(b, [...(expected.get(b) ?? []), x]);
    }
    expect(s.points).toEqual(
      [...expected.values()].map((xs) => {
        const last = xs[xs.length - 1];
        return { x: last, step: last, timestamp: 5000 + last, value: last, min: xs[0], max: last, count: xs.length };
      }),
    );
    // A zoomed window: only points within [40, 60], spread over its own buckets.
    const zoom = (await series({ run_ids: [run], keys: ['m'], buckets: 5, x_min: 40, x_max: 60 })).body.series[0];
    expect(zoom).toMatchObject({ total_points: 21, x_min: 40, x_max: 60, downsampled: true });
    expect(zoom.points.map((p: { min: number; max: number; count: number }) => [p.min, p.max, p.count])).toEqual([
      [40, 43, 4], [44, 47, 4], [48, 51, 4], [52, 55, 4], [56, 60, 5],
    ]);
    // Raw points again when the window holds no more than `buckets`.
    const narrow = (await series({ run_ids: [run], keys: ['m'], buckets: 10, x_min: 10.5, x_max: 13 })).body.series[0];
    expect(narrow).toMatchObject({ total_points: 3, downsampled: false });
    expect(narrow.points.map((p: { x: number }) => p.x)).toEqual([11, 12, 13]);
  });

  it('keeps NaN and infinities: NaN points count but never hide the min and max; an all-NaN bucket is NaN', async () => {
    const run = await newRun();
    await logPoints(run, 'v', [
      { step: 0, timestamp: 0, value: 1 },
      { step: 1, timestamp: 0, value: 'NaN' },
      { step: 2, timestamp: 0, value: 3 },
      { step: 3, timestamp: 0, value: 'NaN' },
      { step: 10, timestamp: 0, value: 'NaN' },
      { step: 11, timestamp: 0, value: 'NaN' },
      { step: 20, timestamp: 0, value: 'Infinity' },
      { step: 21, timestamp: 0, value: '-Infinity' },
    ]);
    const s = (await series({ run_ids: [run], keys: ['v'], buckets: 3 })).body.series[0];
    expect(s.total_points).toBe(8);
    expect(s.points).toEqual([
      { x: 3, step: 3, timestamp: 0, value: 'NaN', min: 1, max: 3, count: 4 },
      { x: 11, step: 11, timestamp: 0, value: 'NaN', min: 'NaN', max: 'NaN', count: 2 },
      { x: 21, step: 21, timestamp: 0, value: '-Infinity', min: '-Infinity', max: 'Infinity', count: 2 },
    ]);
    const raw = (await series({ run_ids: [run], keys: ['v'] })).body.series[0];
    expect(raw.points[1]).toEqual({ x: 1, step: 1, timestamp: 0, value: 'NaN', min: 'NaN', max: 'NaN', count: 1 });
  });

  it('answers every run x key pair, empty for a key the run does not have', async () => {
    const a = await newRun();
    const b = await newRun();
    await logPoints(a, 'k1', [{ step: 0, timestamp: 0, value: 1 }]);
    await logPoints(b, 'k2', [{ step: 5, timestamp: 0, value: 2 }]);
    const res = (await series({ run_ids: [a, b], keys: ['k1', 'k2'] })).body.series;
    expect(res.map((s: { run_id: string; key: string; total_points: number }) => [s.run_id, s.key, s.total_points])).toEqual([
      [a, 'k1', 1], [a, 'k2', 0], [b, 'k1', 0], [b, 'k2', 1],
    ]);
    expect(res[1]).toEqual({ run_id: a, key: 'k2', total_points: 0, x_min: null, x_max: null, downsampled: false, points: [] });
  });

  it('downsamples a million points to one bucket per column, and a single spike is a bucket max', async () => {
    const run = await newRun();
    // Bulk rows straight into the table the API writes (a million log-batch points would take minutes).
    await t.deps.db.execute(sql`insert into metrics (run_id, key, step, timestamp, value)
      select ${run}, 'big', g, 1700000000000 + g, case when g = 654321 then 1000 else sin(g / 5000.0) end from generate_series(0, 999999) g`);
    const res = await series({ run_ids: [run], keys: ['big'], buckets: 1000 });
    expect(res.status).toBe(200);
    const s = res.body.series[0];
    expect(s).toMatchObject({ total_points: 1_000_000, x_min: 0, x_max: 999_999, downsampled: true });
    expect(s.points).toHaveLength(1000);
    expect(s.points.reduce((n: number, p: { count: number }) => n + p.count, 0)).toBe(1_000_000);
    const spike = s.points.filter((p: { max: number }) => p.max === 1000);
    expect(spike).toHaveLength(1);
    expect(spike[0].min).toBeLessThan(1000);
    expect(spike[0].x).toBeGreaterThanOrEqual(654321);
    expect(s.points.every((p: { max: number }, i: number) => i === s.points.indexOf(spike[0]) || p.max <= 1)).toBe(true);
    const xs = s.points.map((p: { x: number }) => p.x);
    expect(xs).toEqual([...xs].sort((p, q) => p - q));
    expect(s.points[999]).toMatchObject({ x: 999_999, step: 999_999, timestamp: 1_700_000_999_999 });
    // Against time the spike survives too.
    const byTime = (await series({ run_ids: [run], keys: ['big'], x_axis: 'timestamp', buckets: 500 })).body.series[0];
    expect(byTime.points.filter((p: { max: number }) => p.max === 1000)).toHaveLength(1);
    // Inserting a million rows into the embedded database on a loaded 2-core machine took over 60 s.
  }, 300_000);

  it('long step histories (read one column at a time) bucket exactly by the rule: ties, NaN, zooms, several series', async () => {
    // Random steps with repeats (several timestamps per step), NaN among the values: the column
    // reads must give what the rule gives, point for point, computed here in the same float math.
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const runs = [await newRun(), await newRun()];
    const data = new Map<string, { step: number; timestamp: number; value: number }[]>();
    for (const [r, run] of runs.entries()) {
      const pts = new Map<string, { step: number; timestamp: number; value: number }>();
      for (let i = 0; i < 3000; i++) {
        const p = { step: 3 + Math.floor(rnd() * (1500 + r * 700)), timestamp: 1000 + Math.floor(rnd() * 4), value: rnd() < 0.05 ? NaN : Math.round(rnd() * 1000) / 8 };
        pts.set(`${p.step}/${p.timestamp}/${p.value}`, p);
      }
      const list = [...pts.values()];
      data.set(run, list);
      await logPoints(run, 'r', list.map((p) => ({ ...p, value: Number.isNaN(p.value) ? 'NaN' : p.value })));
    }
    const expected = (run: string, buckets: number, lo?: number, hi?: number) => byRule(data.get(run)!, buckets, lo, hi);
    for (const [buckets, lo, hi] of [[50, undefined, undefined], [37, undefined, undefined], [20, 100.5, 700], [200, undefined, undefined]] as const) {
      const res = (await series({ run_ids: runs, keys: ['r'], buckets, x_min: lo, x_max: hi })).body.series;
      expect(res).toHaveLength(2);
      for (const [k, run] of runs.entries()) {
        expect(res[k].run_id).toBe(run);
        expect(res[k].downsampled).toBe(true);
        expect(res[k].points, `${buckets} buckets, ${lo}..${hi}`).toEqual(expected(run, buckets, lo, hi));
      }
    }
  });

  it('refuses bad input with MLflow errors, and 404s an unknown run', async () => {
    const run = await newRun();
    const cases: unknown[] = [
      {},
      { run_ids: [], keys: ['a'] },
      { run_ids: [run], keys: [] },
      { run_ids: [run], keys: ['a'], buckets: 0 },
      { run_ids: [run], keys: ['a'], buckets: 5001 },
      { run_ids: [run], keys: ['a'], x_axis: 'epoch' },
      { run_ids: [run], keys: ['a'], x_min: 5, x_max: 1 },
      { run_ids: [run], keys: ['a'], x_min: 'NaN' },
      { run_ids: Array.from({ length: 101 }, () => run), keys: ['a'] },
      { run_ids: ['../etc'], keys: ['a'] },
    ];
    for (const body of cases) {
      const res = await series(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error_code).toBe('INVALID_PARAMETER_VALUE');
      expect(typeof res.body.message).toBe('string');
    }
    const missing = await series({ run_ids: [run, 'f'.repeat(32)], keys: ['a'] });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: `Run with id=${'f'.repeat(32)} not found` });
  });
});
