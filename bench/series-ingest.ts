// Log-batch throughput on the hot path (1,000 points a call, one key), to see what keeping the
// block summaries costs at ingestion. Run at two commits and compare; figures only.
import { startTestApp, uniqueName } from '../test/harness/app.js';

const CALLS = Number(process.env.CALLS ?? 100);
const t = await startTestApp();
const exp = (await t.api.post('/api/2.0/mlflow/experiments/create').send({ name: uniqueName('ingest') })).body.experiment_id;
const run = (await t.api.post('/api/2.0/mlflow/runs/create').send({ experiment_id: exp })).body.run.info.run_id;
const t0 = Date.now();
for (let c = 0; c < CALLS; c++) {
  const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: 'loss', step: c * 1000 + i, timestamp: 1700000000000 + c * 1000 + i, value: Math.sin(i) }));
  const res = await t.api.post('/api/2.0/mlflow/runs/log-batch').send({ run_id: run, metrics });
  if (res.status !== 200) throw new Error(JSON.stringify(res.body));
}
const ms = Date.now() - t0;
console.log(`${t.deps.database.kind}: ${CALLS * 1000} points in ${ms} ms, ${Math.round((CALLS * 1000) / (ms / 1000))} points/s`);
await t.close();
