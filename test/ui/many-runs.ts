import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';

// Many runs, fast: a few template runs are logged through the REST API (so every row has exactly
// the shape the API writes), then copied in SQL, each copy with its own id, name and start time.
// 100,000 runs through runs/create one by one took ~25 min on the embedded store (60-100 runs/s on
// the shared 2-core machine); copying takes seconds. Run i of n is named run-<i, 6 digits> and
// starts at base + i s, so the natural order (newest first) is run-(n-1) ... run-000000.

export interface Template {
  status: 'FINISHED' | 'FAILED' | 'KILLED';
  user: string;
  params: Record<string, string>;
  /** A short history per metric: the last value is the latest, min/max over all of it. */
  metrics: Record<string, number[]>;
  tags: Record<string, string>;
}

export const runName = (i: number) => `run-${String(i).padStart(6, '0')}`;

type Call = <T>(path: string, body: unknown) => Promise<T>;

/** Logs the templates as runs 0..t-1 of the experiment (through the API). */
export async function logTemplates(call: Call, experimentId: string, templates: Template[], base: number): Promise<void> {
  await Promise.all(
    templates.map(async (t, i) => {
      const start = base + i * 1000;
      const { run } = await call<{ run: { info: { run_id: string } } }>('runs/create', {
        experiment_id: experimentId,
        run_name: runName(i),
        start_time: start,
        user_id: t.user,
        tags: Object.entries(t.tags).map(([key, value]) => ({ key, value })),
      });
      const metrics = Object.entries(t.metrics).flatMap(([key, values]) => values.map((value, step) => ({ key, value, step, timestamp: start + step })));
      await call('runs/log-batch', { run_id: run.info.run_id, metrics, params: Object.entries(t.params).map(([key, value]) => ({ key, value })) });
      await call('runs/update', { run_id: run.info.run_id, status: t.status, end_time: start + 60_000 });
    }),
  );
}

/**
 * SQL that copies the experiment's t template runs until it has n runs: copy k of template i is run
 * k*t + i. Rows are rebuilt from their JSON with the new id, so the copy follows the schema's
 * columns whatever they are. ids are md5 of the template id and k: 32 hex characters, as run ids are.
 */
export function copySql(experimentId: string, t: number, n: number, base: number): string[] {
  const exp = Number(experimentId);
  if (!Number.isSafeInteger(exp)) throw new Error(`bad experiment id ${experimentId}`);
  const copies = Math.ceil(n / t) - 1;
  const child = (table: string, extra = `'{}'::jsonb`) =>
    `insert into ${table} select (jsonb_populate_record(null::${table}, to_jsonb(x) || jsonb_build_object('run_id', m.dst) || ${extra})).*
     from ${table} x join cairn_copy m on m.src = x.run_id`;
  return [
    `drop table if exists cairn_copy`,
    `create table cairn_copy as
       select r.run_id as src, md5(r.run_id || ':' || g.k) as dst, g.k * ${t} + (r.start_time - ${base}) / 1000 as idx
       from runs r cross join generate_series(1, ${copies}) g(k)
       where r.experiment_id = ${exp} and g.k * ${t} + (r.start_time - ${base}) / 1000 < ${n}`,
    `insert into runs select (jsonb_populate_record(null::runs, to_jsonb(r) || jsonb_build_object(
        'run_id', m.dst, 'name', 'run-' || lpad(m.idx::text, 6, '0'), 'start_time', ${base} + m.idx * 1000,
        'end_time', ${base} + m.idx * 1000 + 60000, 'artifact_uri', replace(r.artifact_uri, r.run_id, m.dst)))).*
     from runs r join cairn_copy m on m.src = r.run_id`,
    child('run_tags', `case when x.key = 'mlflow.runName' then jsonb_build_object('value', 'run-' || lpad(m.idx::text, 6, '0')) else '{}'::jsonb end`),
    child('params'),
    child('latest_metrics'),
    child('metrics'),
    child('metric_blocks'),
    `drop table cairn_copy`,
    `analyze`,
  ];
}

/** Runs the copy on a Postgres server. */
export async function copyOnPostgres(url: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const s of statements) await client.query(s);
  } finally {
    await client.end();
  }
}

/** Runs the copy on an embedded data dir (its server stopped: PGlite has one writer). */
export async function copyOnPglite(dir: string, statements: string[]): Promise<void> {
  // The runs' trigram index (migration 0032) needs pg_trgm's library to take new rows (as connect.ts loads it).
  const db = await PGlite.create(dir, { extensions: { pg_trgm } });
  try {
    for (const s of statements) await db.exec(s);
  } finally {
    await db.close();
  }
}
