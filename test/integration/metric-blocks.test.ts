import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/connect.js';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';
import { blocksOf, byRule, type Point } from './series-rule.js';

// metric_blocks (per-32-step summaries the chart endpoint reads for long histories) must equal what
// the raw history gives, whatever path wrote it: batches, single points, client retries, partly
// replayed batches, model links, and histories logged before the table existed.

let t: TestApp;
let experimentId: string;
beforeAll(async () => {
  t = await startTestApp();
  experimentId = (await mlflow('experiments/create', { name: uniqueName('blocks') })).body.experiment_id;
});
afterAll(() => t.close());

const mlflow = (path: string, body: unknown) => t.api.post(`/api/2.0/mlflow/${path}`).send(body as object);
const series = (body: unknown) => t.api.post('/api/2.0/cairn/ui/metrics/series').send(body as object);
const newRun = async () => (await mlflow('runs/create', { experiment_id: experimentId, start_time: 0 })).body.run.info.run_id as string;
const wirePoint = (key: string, p: Point, extra: object = {}) => ({ key, ...p, value: Number.isNaN(p.value) ? 'NaN' : p.value, ...extra });

async function logBatch(run: string, key: string, points: Point[], extra: object = {}) {
  for (let i = 0; i < points.length; i += 1000) {
    const res = await mlflow('runs/log-batch', { run_id: run, metrics: points.slice(i, i + 1000).map((p) => wirePoint(key, p, extra)) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
}

async function storedBlocks(run: string, key: string) {
  const found = await rows<{ blk: string; count: number; min_value: number | null; max_value: number | null; last_step: string; last_timestamp: string; last_value: number }>(
    t.deps.db,
    sql`select block::text as blk, count, min_value, max_value, last_step::text, last_timestamp::text, last_value from metric_blocks
        where run_id = ${run} and key = ${key} order by block`,
  );
  return found.map((r) => ({
    block: Number(r.blk), count: r.count, min: r.min_value === null ? null : Number(r.min_value), max: r.max_value === null ? null : Number(r.max_value),
    last: [Number(r.last_step), Number(r.last_timestamp), Number.isNaN(Number(r.last_value)) ? 'NaN' : Number(r.last_value)],
  }));
}

/** Random points with repeated steps (several timestamps per step), negative steps and NaN. */
function randomHistory(n: number, steps: number, seed: number): Point[] {
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pts = new Map<string, Point>();
  for (let i = 0; i < n; i++) {
    const p = { step: -300 + Math.floor(rnd() * steps), timestamp: 1000 + Math.floor(rnd() * 4), value: rnd() < 0.05 ? NaN : Math.round(rnd() * 1000) / 8 };
    pts.set(`${p.step}/${p.timestamp}/${p.value}`, p);
  }
  return [...pts.values()];
}

describe('metric block summaries', () => {
  it('match the raw history after batches, single points, retried and partly replayed batches, and model links', async () => {
    const run = await newRun();
    const all = randomHistory(2500, 9000, 11);
    const [a, b, c] = [all.slice(0, 900), all.slice(900, 1500), all.slice(1500)];
    await logBatch(run, 'loss', a);
    await logBatch(run, 'loss', a); // a client's retry: every point a replay
    await logBatch(run, 'loss', [...a.slice(0, 400), ...b]); // part replay, part new
    for (const p of c.slice(0, 50)) expect((await mlflow('runs/log-metric', { run_id: run, ...wirePoint('loss', p) })).status).toBe(200);
    await logBatch(run, 'loss', c.slice(0, 60)); // retried single points, and ten new ones
    await logBatch(run, 'loss', c.slice(60));
    // log_model re-logs existing points with a model id: the points are linked, not added again.
    const model = (await t.api.post('/api/2.0/mlflow/logged-models').send({ experiment_id: experimentId })).body.model.info.model_id as string;
    await logBatch(run, 'loss', a.slice(0, 200), { model_id: model });
    expect(await storedBlocks(run, 'loss')).toEqual(blocksOf(all));
    const count = await rows<{ n: string }>(t.deps.db, sql`select count(*)::text as n from metrics where run_id = ${run} and key = 'loss'`);
    expect(Number(count[0].n)).toBe(all.length);
  });

  it('give wide chart columns exactly what the bucket rule gives: full range, zooms, negative steps, several series', async () => {
    const runs = [await newRun(), await newRun()];
    const data = new Map<string, Point[]>();
    for (const [r, run] of runs.entries()) {
      const pts = randomHistory(6000, 20000 + r * 5000, 3 + r);
      data.set(run, pts);
      await logBatch(run, 'm', pts);
    }
    // At least 4 blocks (128 steps) per column: the columns are read from the summaries plus edges.
    for (const [buckets, lo, hi] of [[10, undefined, undefined], [37, undefined, undefined], [20, -100.5, 9000], [7, 33, 4127]] as const) {
      const res = (await series({ run_ids: runs, keys: ['m'], buckets, x_min: lo, x_max: hi })).body.series;
      for (const [k, run] of runs.entries()) {
        expect(res[k]).toMatchObject({ run_id: run, downsampled: true });
        expect(res[k].points, `${buckets} buckets, ${lo}..${hi}`).toEqual(byRule(data.get(run)!, buckets, lo, hi));
      }
    }
  });

  it('are built from the raw rows, once, for histories logged before the table existed', async () => {
    const run = await newRun();
    const old = randomHistory(3000, 12000, 5);
    await logBatch(run, 'old', old);
    // As a database migrated from before the table holds it: no summaries, blocks_ready false...
    await t.deps.db.execute(sql`delete from metric_blocks where run_id = ${run}`);
    await t.deps.db.execute(sql`update latest_metrics set blocks_ready = false where run_id = ${run}`);
    // ...and points logged after the migration, whose blocks are partial sums of their own.
    const later = randomHistory(300, 12000, 99).filter((p) => !old.some((o) => o.step === p.step && o.timestamp === p.timestamp && Object.is(o.value, p.value)));
    await logBatch(run, 'old', later);
    const all = [...old, ...later];
    expect((await storedBlocks(run, 'old')).length).toBeLessThan(blocksOf(all).length);

    const res = (await series({ run_ids: [run], keys: ['old'], buckets: 10 })).body.series[0];
    expect(res.points).toEqual(byRule(all, 10));
    expect(await storedBlocks(run, 'old')).toEqual(blocksOf(all));
    const ready = await rows<{ blocks_ready: boolean }>(t.deps.db, sql`select blocks_ready from latest_metrics where run_id = ${run}`);
    expect(ready[0].blocks_ready).toBe(true);
    // Points logged after the build add to the built blocks.
    const more = [{ step: 50000, timestamp: 1, value: -7 }, { step: 50001, timestamp: 1, value: NaN }];
    await logBatch(run, 'old', more);
    expect(await storedBlocks(run, 'old')).toEqual(blocksOf([...all, ...more]));
  });
});
