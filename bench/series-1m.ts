// One 1,000,000-point series written straight into the tables (as an old database would hold it),
// then the full-range and 10%-zoom chart calls timed.
import { sql } from 'drizzle-orm';
import { startTestApp, uniqueName } from '../test/harness/app.js';
import { metricSeries } from '../src/domain/ui/series.js';

const N = Number(process.env.N ?? 1_000_000);
const t = await startTestApp();
const exp = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('m') })).body.experiment_id;
const run = (await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: exp })).body.run.info.run_id;
let t0 = Date.now();
await t.deps.db.execute(sql`insert into metrics (run_id, key, step, timestamp, value)
  select ${run}, 'loss', g, 1700000000000 + g, case when g = 654321 then 1000 else sin(g / 1000.0) end from generate_series(0, ${N - 1}) g`);
await t.deps.db.execute(sql`insert into latest_metrics (run_id, key, step, timestamp, value, min_value, max_value)
  values (${run}, 'loss', ${N - 1}, 1700000000000 + ${N - 1}, 0, -1, 1000)`);
if (t.deps.database.kind === 'pglite') await t.deps.db.execute(sql`vacuum analyze metrics`); else await t.deps.db.execute(sql`analyze metrics`);
console.log('seed', Date.now() - t0, 'ms', t.deps.database.kind);
for (let r = 0; r < 3; r++) {
  t0 = Date.now();
  const full = await metricSeries(t.deps, { run_ids: [run], keys: ['loss'], buckets: 1000 });
  const a = Date.now() - t0;
  t0 = Date.now();
  const http = await t.api.post('/api/2.0/cairn/ui/metrics/series').send({ run_ids: [run], keys: ['loss'], buckets: 1000 });
  const h = Date.now() - t0;
  t0 = Date.now();
  await metricSeries(t.deps, { run_ids: [run], keys: ['loss'], buckets: 1000, x_min: 400000, x_max: 500000 });
  const z = Date.now() - t0;
  const s = full.series[0];
  console.log(`full ${a} ms (http ${h} ms, ${JSON.stringify(http.body).length} bytes), zoom10% ${z} ms, points ${s.points.length}, max ${Math.max(...s.points.map((p) => Number(p.max)))}`);
}
await t.close();
