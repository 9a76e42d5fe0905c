import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, rows, type Database } from '../../src/db/connect.js';
import { loadRuns } from '../../src/domain/run-read.js';
import { chooseNarrowing, groupedIds, NARROW_THRESHOLDS, searchRunIds } from '../../src/domain/search-runs.js';
import { experimentSearchQuery } from '../../src/domain/search/experiments-sql.js';
import { keyedWalkLength, runSearchQuery, startTimeAscending, statusDescending, tieredOrderKey, tieredOrderTerm } from '../../src/domain/search/runs-sql.js';
import { isolatedDatabase, type IsolatedDatabase } from '../harness/database.js';

// Runs the generated SQL against a real database seeded with raw SQL, so these tests check the
// semantics of the query, not its text: in-memory PGlite, and with TEST_DATABASE_URL a fresh database
// on that Postgres server (the seed uses fixed ids and names, and the experiment searches read the
// whole table).

let isolated: IsolatedDatabase;
let db: Database;
let expA: number;
let expB: number;

async function exec(query: ReturnType<typeof sql>): Promise<Record<string, unknown>[]> {
  return rows(db.orm, query);
}

async function experiment(name: string, created: number, stage = 'active', tags: Record<string, string> = {}) {
  const [row] = await exec(sql`INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time)
    VALUES (${name}, ${'/tmp/' + name}, ${stage}, ${created}, ${created}) RETURNING experiment_id`);
  const id = Number(row.experiment_id);
  for (const [k, v] of Object.entries(tags)) {
    await exec(sql`INSERT INTO experiment_tags (experiment_id, key, value) VALUES (${id}, ${k}, ${v})`);
  }
  return id;
}

interface RunSeed {
  id: string;
  exp: number;
  name: string;
  status: string;
  user: string;
  start: number;
  end?: number;
  stage?: string;
  metrics?: Record<string, number>;
  params?: Record<string, string>;
  tags?: Record<string, string>;
  inputs?: Array<{ dataset: string; context?: string }>;
}

async function run(r: RunSeed): Promise<void> {
  await exec(sql`INSERT INTO runs (run_id, experiment_id, name, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage)
    VALUES (${r.id}, ${r.exp}, ${r.name}, ${r.user}, ${r.status}, ${r.start}, ${r.end ?? null}, ${'/a/' + r.id}, ${r.stage ?? 'active'})`);
  for (const [k, v] of Object.entries(r.metrics ?? {})) {
    await exec(sql`INSERT INTO latest_metrics (run_id, key, step, timestamp, value) VALUES (${r.id}, ${k}, 0, 0, ${String(v)}::float8)`);
  }
  for (const [k, v] of Object.entries(r.params ?? {})) {
    await exec(sql`INSERT INTO params (run_id, key, value) VALUES (${r.id}, ${k}, ${v})`);
  }
  for (const [k, v] of Object.entries(r.tags ?? {})) {
    await exec(sql`INSERT INTO run_tags (run_id, key, value) VALUES (${r.id}, ${k}, ${v})`);
  }
  for (const input of r.inputs ?? []) {
    await exec(sql`INSERT INTO run_dataset_inputs (run_id, dataset_id, context) VALUES (${r.id}, ${input.dataset}, ${input.context ?? null})`);
  }
}

beforeAll(async () => {
  isolated = await isolatedDatabase();
  db = await connect(isolated.uri);
  await db.migrate();
  expA = await experiment('proj-a', 100, 'active', { team: 'ml' });
  expB = await experiment('proj-b', 200);
  await experiment('other', 200);
  await experiment('proj-gone', 300, 'deleted');
  await exec(sql`INSERT INTO datasets (dataset_id, experiment_id, name, digest, source_type, source) VALUES
    ('ds-iris', ${expA}, 'iris', 'd1', 'local', 'x'), ('ds-wine', ${expA}, 'wine', 'd2', 'local', 'y')`);

  await run({
    id: 'r1', exp: expA, name: 'sweep-1', status: 'FINISHED', user: 'alice', start: 1000, end: 2000,
    metrics: { acc: 0.9, loss: 0.5 }, params: { model: 'tree', lr: '0.1' },
    tags: { 'mlflow.runName': 'sweep-1', team: 'Vision' }, inputs: [{ dataset: 'ds-iris', context: 'training' }],
  });
  await run({
    id: 'r2', exp: expA, name: 'sweep-2', status: 'FINISHED', user: 'bob', start: 2000, end: 2500,
    metrics: { acc: 0.8, loss: Number.NaN }, params: { model: 'Tree' }, tags: { team: 'vision' },
    inputs: [{ dataset: 'ds-iris', context: 'eval' }, { dataset: 'ds-wine', context: 'training' }],
  });
  await run({ id: 'r3', exp: expA, name: 'other', status: 'RUNNING', user: 'alice', start: 3000, metrics: { acc: Number.NaN } });
  await run({ id: 'r4', exp: expA, name: 'gone', status: 'FINISHED', user: 'alice', start: 4000, stage: 'deleted', metrics: { acc: 0.95 } });
  await run({ id: 'r5', exp: expB, name: 'b-run', status: 'FINISHED', user: 'carol', start: 500, metrics: { acc: 0.7 } });
  await run({ id: 'r6', exp: expA, name: 'late', status: 'FAILED', user: 'bob', start: 3000, metrics: { loss: 0.1 }, inputs: [{ dataset: 'ds-wine' }] });
}, 120_000);

afterAll(async () => {
  await db?.close();
  await isolated?.drop();
});

// The default thresholds less smallScope, so that searches over this seed's few runs take the paths of large ones.
const LARGE_SCOPE = { ...NARROW_THRESHOLDS, smallScope: undefined };

async function search(filter?: string, orderBy?: string[], more: Partial<Parameters<typeof runSearchQuery>[0]> = {}) {
  const q = runSearchQuery({ experimentIds: [expA], filter, orderBy, runViewType: 'ACTIVE_ONLY', offset: 0, limit: 100, ...more });
  return (await exec(q)).map((r) => r.run_id as string);
}

describe('runs search SQL', () => {
  it('uses the natural order start_time DESC, run_id ASC', async () => {
    expect(await search()).toEqual(['r3', 'r6', 'r2', 'r1']);
    expect(await search(undefined, undefined, { experimentIds: [expA, expB] })).toEqual(['r3', 'r6', 'r2', 'r1', 'r5']);
  });

  it('filters by run view type', async () => {
    expect(await search(undefined, undefined, { runViewType: 'DELETED_ONLY' })).toEqual(['r4']);
    expect(await search(undefined, undefined, { runViewType: 'ALL' })).toEqual(['r4', 'r3', 'r6', 'r2', 'r1']);
  });

  it('pages with limit and offset', async () => {
    expect(await search(undefined, undefined, { offset: 1, limit: 2 })).toEqual(['r6', 'r2']);
    expect(await search(undefined, undefined, { offset: 4, limit: 2 })).toEqual([]);
  });

  it('compares the latest metric value; NaN and missing metrics never match', async () => {
    expect(await search('metrics.acc > 0.85')).toEqual(['r1']);
    expect(await search('metrics.acc >= 0')).toEqual(['r2', 'r1']);
    expect(await search('metrics.acc < 1e999')).toEqual(['r2', 'r1']);
    expect(await search('metrics.acc = 0.8')).toEqual(['r2']);
    // NaN is unequal to everything (IEEE); a run without the metric is not a match.
    expect(await search('metrics.acc != 0.9')).toEqual(['r3', 'r2']);
    expect(await search('metrics.loss <= 0.5 and metrics.acc > 0')).toEqual(['r1']);
  });

  it('matches params and tags case-sensitively except ILIKE', async () => {
    expect(await search("params.model = 'tree'")).toEqual(['r1']);
    expect(await search("params.model LIKE 'tree'")).toEqual(['r1']);
    expect(await search("params.model LIKE 'T%'")).toEqual(['r2']);
    expect(await search("params.model ILIKE 'TREE'")).toEqual(['r2', 'r1']);
    expect(await search("tags.team = 'Vision'")).toEqual(['r1']);
    expect(await search("tags.team ILIKE 'vis%'")).toEqual(['r2', 'r1']);
    expect(await search("tags.`mlflow.runName` = 'sweep-1'")).toEqual(['r1']);
  });

  it('requires the key to exist for != and handles IS NULL', async () => {
    expect(await search("params.model != 'tree'")).toEqual(['r2']);
    expect(await search('params.model IS NULL')).toEqual(['r3', 'r6']);
    expect(await search('params.model IS NOT NULL')).toEqual(['r2', 'r1']);
    expect(await search('tags.team IS NULL AND params.lr IS NULL')).toEqual(['r3', 'r6']);
  });

  it('filters attributes', async () => {
    expect(await search("run_id IN ('r1', 'r3')")).toEqual(['r3', 'r1']);
    expect(await search("attributes.run_id NOT IN ('r1', 'r3')")).toEqual(['r6', 'r2']);
    expect(await search("run_name LIKE 'sweep-%'")).toEqual(['r2', 'r1']);
    expect(await search('"run name" = \'other\'')).toEqual(['r3']);
    expect(await search("status = 'RUNNING' and start_time >= 3000")).toEqual(['r3']);
    expect(await search("user_id != 'alice'")).toEqual(['r6', 'r2']);
    expect(await search('end_time > 0')).toEqual(['r2', 'r1']);
    expect(await search('created < 2000.5')).toEqual(['r2', 'r1']);
  });

  it('matches a run when any of its dataset inputs matches', async () => {
    expect(await search("datasets.context = 'training'")).toEqual(['r2', 'r1']);
    expect(await search("datasets.context = 'eval'")).toEqual(['r2']);
    expect(await search("datasets.name = 'wine'")).toEqual(['r6', 'r2']);
    expect(await search("datasets.name IN ('iris') AND datasets.context = 'training'")).toEqual(['r2', 'r1']);
    expect(await search("datasets.digest != 'd1'")).toEqual(['r6', 'r2']);
    expect(await search("dataset.name NOT IN ('iris', 'wine')")).toEqual([]);
  });

  it('orders by metrics with NaN after numbers and missing values last, both directions', async () => {
    expect(await search(undefined, ['metrics.acc ASC'])).toEqual(['r2', 'r1', 'r3', 'r6']);
    expect(await search(undefined, ['metrics.acc DESC'])).toEqual(['r1', 'r2', 'r3', 'r6']);
    expect(await search(undefined, ['metrics.loss'])).toEqual(['r6', 'r1', 'r2', 'r3']);
    expect(await search(undefined, ['metrics.loss DESC'])).toEqual(['r1', 'r6', 'r2', 'r3']);
  });

  it('pages a metric, param or tag ordering in tiers (values, then NaN and missing) exactly as one query orders it', async () => {
    // searchRunIds splits these searches in two statements; every page of every size must be the
    // matching slice of the untiered order, including pages that straddle the tiers or start past the first.
    const cases: Array<[string | undefined, string[]]> = [
      [undefined, ['metrics.acc ASC']],
      [undefined, ['metrics.loss DESC']],
      [undefined, ['metrics.loss', 'params.model DESC']],
      [undefined, ['metrics.nothing DESC']],
      ['metrics.acc >= 0', ['metrics.loss DESC']],
      ["attributes.status != 'x'", ['metrics.acc DESC']],
      [undefined, ['params.model']],
      [undefined, ['params.model DESC', 'metrics.acc']],
      [undefined, ['tags.team DESC', 'run_id DESC']],
      ["attributes.status != 'x'", ['tags.team']],
      [undefined, ['tags.nothing']],
    ];
    for (const [filter, orderBy] of cases) {
      expect(tieredOrderKey(filter, orderBy)).not.toBeNull();
      const whole = await search(filter, orderBy, { runViewType: 'ALL', experimentIds: [expA, expB] });
      expect(whole.length).toBeGreaterThan(0);
      for (let limit = 1; limit <= whole.length + 1; limit++) {
        for (let offset = 0; offset <= whole.length + 1; offset++) {
          const query = { experimentIds: [expA, expB], filter, orderBy, runViewType: 'ALL' as const };
          // Without smallScope: this seed's few runs would otherwise be sorted in one statement.
          const page = (await searchRunIds(db.orm, query, offset, limit, LARGE_SCOPE)).map((r) => r.run_id);
          expect(page, `${orderBy.join()} offset ${offset} limit ${limit}`).toEqual(whole.slice(offset, offset + limit));
        }
      }
    }
    // A filter that bounds the ordering metric already walks its index: no tiers.
    expect(tieredOrderKey('metrics.acc > 0.1', ['metrics.acc DESC'])).toBeNull();
    expect(tieredOrderKey(undefined, ['attributes.run_name'])).toBeNull();
    // A param or tag order is walked only when few index rows lie before the page's end, ties
    // included: 'Vision' < 'vision' (code points), so two rows reach the second one, one the first.
    const walk = async (ascending: boolean, position: number, cap = 100) =>
      (await exec(keyedWalkLength({ entity: 'tag', key: 'team', ascending }, position, cap)))[0].n;
    expect(await walk(true, 0)).toBe(1);
    expect(await walk(true, 1)).toBe(2);
    expect(await walk(false, 0)).toBe(1);
    expect(await walk(true, 1, 1)).toBe(1);
    expect(await walk(true, 5)).toBe(0);
    // A metric's walk never stops at NaN but reads it first in descending order (NaN > every number
    // in Postgres): acc is 0.7, 0.8, 0.9, 0.95 and NaN across the seed's experiments.
    const metricWalk = async (ascending: boolean, position: number) =>
      (await exec(keyedWalkLength({ entity: 'metric', key: 'acc', ascending }, position, 100)))[0].n;
    expect(await metricWalk(true, 0)).toBe(1);
    expect(await metricWalk(true, 3)).toBe(4);
    expect(await metricWalk(false, 0)).toBe(2);
    expect(await metricWalk(true, 4)).toBe(0);
    expect(tieredOrderKey("params.model = 'tree'", ['metrics.acc'])).toBeNull();
  });

  it('returns the same runs whichever way searchRunIds renders a counted param, tag or dataset filter', async () => {
    // searchRunIds counts the rows of up to three `=`/LIKE param or tag filters (or dataset filters)
    // first and renders the rarest as a list of run ids or a hashed IN; the thresholds here force each
    // form on this seed.
    const forms = {
      ids: { ids: 1000, hashed: 2000, datasetHashed: 2000 },
      hashed: { ids: 0, hashed: 1000, datasetHashed: 1000 },
      exists: { ids: 0, hashed: 0, datasetHashed: 0 },
    };
    const cases: Array<[string, string[] | undefined]> = [
      ["params.model = 'tree'", undefined],
      ["params.model LIKE 'T%'", undefined],
      ["params.model LIKE '%ree' AND tags.team = 'vision'", undefined],
      ["tags.team LIKE 'V%' AND params.model = 'tree' AND metrics.acc > 0", ['metrics.loss DESC']],
      ["params.model = 'nothing'", undefined],
      ["params.model ILIKE 'tree' AND params.lr = '0.1'", ['metrics.acc']],
      ["params.model = 'Tree'", ['metrics.loss DESC']],
      ["datasets.name = 'iris'", undefined],
      ["datasets.context != 'training'", ['attributes.run_name DESC']],
      ["datasets.digest IN ('d1', 'd2') AND params.model LIKE 'T%'", undefined],
      ["datasets.name LIKE 'w%' AND metrics.loss < 1", ['metrics.loss']],
      ["datasets.name = 'nothing'", undefined],
    ];
    for (const [filter, orderBy] of cases) {
      const query = { experimentIds: [expA, expB], filter, orderBy, runViewType: 'ALL' as const };
      const whole = await search(filter, orderBy, { experimentIds: [expA, expB], runViewType: 'ALL' });
      for (const [name, thresholds] of Object.entries(forms)) {
        const { narrow } = await chooseNarrowing(db.orm, filter, thresholds);
        // No match at all is a list of no ids unless the thresholds leave no list.
        const expected = name === 'exists' ? undefined : filter.includes('nothing') ? 'ids' : name;
        expect(narrow?.form, `${filter} ${name}`).toBe(expected);
        for (let offset = 0; offset <= whole.length; offset++) {
          const page = (await searchRunIds(db.orm, query, offset, 2, thresholds)).map((r) => r.run_id);
          expect(page, `${filter} as ${name}, offset ${offset}`).toEqual(whole.slice(offset, offset + 2));
        }
      }
    }
    // The rarest of the counted filters is the one rendered by its matches (counting stops at a filter
    // with few enough rows for a list).
    const { narrow } = await chooseNarrowing(db.orm, "params.model LIKE '%e' AND params.lr = '0.1'", { ids: 1, hashed: 1000, datasetHashed: 1000 });
    expect(narrow).toEqual({ index: 1, form: 'ids', runIds: ['r1'] });
    // Metric orderings are tiered once the param/tag filters were counted, not otherwise.
    expect(tieredOrderKey("params.model = 'tree'", ['metrics.acc'], true)).toBe('acc');
    expect(tieredOrderKey("params.model ILIKE 'tree'", ['metrics.acc'], true)).toBe('acc');
    expect((await chooseNarrowing(db.orm, "params.model ILIKE 'tree'", forms.ids)).probedAll).toBe(false);
    expect((await chooseNarrowing(db.orm, "params.model = 'tree'", forms.ids)).probedAll).toBe(true);
    // A dataset filter is counted after the param/tag ones, up to its own cap.
    expect((await chooseNarrowing(db.orm, "datasets.name = 'iris' AND params.model = 'tree'", forms.ids)).narrow).toEqual({ index: 1, form: 'ids', runIds: ['r1'] });
    expect((await chooseNarrowing(db.orm, "datasets.name = 'iris'", { ids: 0, hashed: 1000, datasetHashed: 2 })).narrow).toBeUndefined();
    expect((await chooseNarrowing(db.orm, "datasets.name = 'iris'", { ids: 0, hashed: 1000, datasetHashed: 3 })).narrow?.form).toBe('hashed');
  });

  it('walks the runs of a small search (smallScope) with every filter fenced, and the same pages as the plain query', async () => {
    const small = { ...NARROW_THRESHOLDS, smallScope: { runs: 10 } };
    const scope = { experimentIds: [expA, expB], runViewType: 'ALL' as const };
    // Few runs searched: a common filter is walked (no tiers), hashed while its rows are few (within
    // the list's threshold) and probed run by run past it; a rare one (matching fewer rows than a
    // quarter of the runs searched) is a list of ids; past smallScope the counts decide as before.
    expect(await chooseNarrowing(db.orm, "params.model LIKE '%ree'", small, scope)).toEqual({ narrow: { index: 0, form: 'hashed' }, probedAll: false, small: true });
    expect(await chooseNarrowing(db.orm, "params.model LIKE '%ree'", { ...small, ids: 1 }, scope)).toEqual({ probedAll: false, small: true });
    const rare = await chooseNarrowing(db.orm, "params.model = 'tree'", small, scope);
    expect(rare.small).toBeUndefined();
    expect(rare.narrow?.form).toBe('ids');
    expect((await chooseNarrowing(db.orm, "params.model LIKE '%ree'", { ...small, smallScope: { runs: 3 } }, scope)).small).toBeUndefined();
    expect((await chooseNarrowing(db.orm, "params.model LIKE '%ree'", small)).small).toBeUndefined();
    // Its metric filters are hashed while their rows in every experiment are no more than the runs
    // searched (acc > 0: 4 rows, 6 runs), else probed (1 run searched).
    expect(await chooseNarrowing(db.orm, "params.model LIKE '%ree' AND metrics.acc > 0 AND tags.team != 'x'", small, scope)).toEqual({
      narrow: { index: 0, form: 'hashed' }, probedAll: false, small: true, hashedMetrics: [1],
    });
    expect((await chooseNarrowing(db.orm, "params.model LIKE '%ree' AND metrics.acc > 0", small, { ...scope, experimentIds: [expB] })).hashedMetrics).toBeUndefined();
    const hashed = runSearchQuery({ ...scope, filter: "params.model LIKE '%ree' AND metrics.acc > 0", offset: 0, limit: 10, fenced: true, hashedMetrics: [1] });
    expect(new PgDialect().sqlToQuery(hashed).sql).toContain('r.run_id IN (SELECT k.run_id FROM latest_metrics k');
    const fenced = runSearchQuery({ ...scope, filter: "params.model LIKE '%ree' AND datasets.name = 'iris'", offset: 0, limit: 10, fenced: true });
    expect(new PgDialect().sqlToQuery(fenced).sql.match(/OFFSET 0\)/g)).toHaveLength(2);
    const cases: Array<[string | undefined, string[] | undefined]> = [
      ["params.model LIKE '%ree'", undefined],
      ["tags.team LIKE '%ision' AND metrics.acc > 0", ['metrics.loss DESC']],
      ["datasets.context = 'training'", ['attributes.run_name']],
      [undefined, ['metrics.acc DESC']],
      [undefined, ['tags.team']],
      ["params.model = 'nothing'", ['params.lr']],
      ["params.model = 'tree' AND tags.team LIKE '%ision'", undefined],
      ["params.model LIKE '%ree' AND metrics.acc > 0.75", ['metrics.loss DESC']],
      ["params.model LIKE '%ree' AND metrics.loss != 0.5 AND metrics.acc <= 0.9", undefined],
      ["params.model LIKE '%ree' AND metrics.acc >= 0.8 AND metrics.loss = 0.5", ['metrics.acc']],
    ];
    for (const [filter, orderBy] of cases) {
      const whole = await search(filter, orderBy, scope);
      for (let offset = 0; offset <= whole.length; offset++) {
        const page = (await searchRunIds(db.orm, { ...scope, filter, orderBy }, offset, 2, small)).map((r) => r.run_id);
        expect(page, `${filter} ${orderBy} offset ${offset}`).toEqual(whole.slice(offset, offset + 2));
      }
    }
  });

  it('hydrates runs in the order of their ids, each with its own parts, leaving out ids without a run', async () => {
    for (const [filter, orderBy] of [[undefined, ['metrics.loss DESC']], ["datasets.name = 'iris'", undefined], ["params.model = 'nothing'", undefined]] as const) {
      const query = runSearchQuery({ experimentIds: [expA, expB], filter, orderBy: orderBy && [...orderBy], runViewType: 'ALL', offset: 0, limit: 10 });
      const ids = (await exec(query)).map((r) => r.run_id as string);
      const runs = await loadRuns(db.orm, ['no-such-run', ...ids]);
      expect(runs.map((r) => r.info.run_id)).toEqual(ids);
      // The page's parts are read for all its runs at once: each run gets its own, as when loaded alone.
      for (const run of runs) expect(run).toEqual((await loadRuns(db.orm, [run.info.run_id]))[0]);
    }
    // The dataset inputs (r2 has two), sorted by name.
    const [r2] = await loadRuns(db.orm, ['r2']);
    expect(r2.inputs.dataset_inputs?.map((i) => i.dataset.name)).toEqual(['iris', 'wine']);
  });

  it('reads ILIKE with a pattern without letters as LIKE, with the same matches', async () => {
    const rendered = (filter: string) => new PgDialect().sqlToQuery(runSearchQuery({ experimentIds: [expA], filter, runViewType: 'ALL', offset: 0, limit: 1 })).sql;
    expect(rendered("attributes.run_name ILIKE '%-1'")).toContain(' LIKE ');
    expect(rendered("attributes.run_name ILIKE '%-1'")).not.toContain('ILIKE');
    expect(rendered("attributes.run_name ILIKE 'S%'")).toContain('ILIKE');
    expect(rendered("attributes.run_name ILIKE '%é'")).toContain('ILIKE');
    expect(await search("attributes.run_name ILIKE '%-1'")).toEqual(['r1']);
    expect(await search("attributes.run_name ILIKE '%-_'")).toEqual(['r2', 'r1']);
    expect(await search("attributes.run_name ILIKE 'SWEEP-%'")).toEqual(['r2', 'r1']);
    expect(await search("params.model ILIKE '%'")).toEqual(['r2', 'r1']);
  });

  it('orders by params, tags and attributes with missing values last', async () => {
    // Code-point order: 'Tree' < 'tree'; runs without the param follow, tie-broken by start_time DESC, run_id.
    expect(await search(undefined, ['params.model'])).toEqual(['r2', 'r1', 'r3', 'r6']);
    expect(await search(undefined, ['params.model DESC'])).toEqual(['r1', 'r2', 'r3', 'r6']);
    expect(await search(undefined, ['tags.team DESC', 'run_id DESC'])).toEqual(['r2', 'r1', 'r6', 'r3']);
    expect(await search(undefined, ['attributes.end_time DESC'])).toEqual(['r2', 'r1', 'r3', 'r6']);
    expect(await search(undefined, ['end_time ASC'])).toEqual(['r1', 'r2', 'r3', 'r6']);
    expect(await search(undefined, ['start_time ASC'])).toEqual(['r1', 'r2', 'r3', 'r6']);
    expect(await search(undefined, ['user_id', 'run_name DESC'])).toEqual(['r1', 'r3', 'r2', 'r6']);
    // NOT NULL columns are ordered DESC without NULLS LAST (a backward walk of runs_experiment_name_idx).
    expect(await search(undefined, ['attributes.run_name DESC'])).toEqual(['r2', 'r1', 'r3', 'r6']);
    expect(await search(undefined, ['attributes.status DESC'])).toEqual(['r3', 'r2', 'r1', 'r6']);
    expect(await search(undefined, ['attributes.run_name ASC'], { offset: 1, limit: 2 })).toEqual(['r3', 'r1']);
  });

  it('keeps the same semantics past the joined-clause limits (fenced filters, subquery ordering)', async () => {
    const many = (clause: string, n: number) => Array(n).fill(clause).join(' AND ');
    expect(await search(`${many('metrics.acc > 0', 8)} AND params.model = 'Tree'`)).toEqual(['r2']);
    expect(await search(`${many('params.lr IS NULL', 8)} AND tags.team IS NULL`)).toEqual(['r3', 'r6']);
    expect(await search(`${many("params.model != 'x'", 9)} AND datasets.context = 'eval'`)).toEqual(['r2']);
    const unknown = ['tags.x1', 'tags.x2', 'tags.x3', 'metrics.x4'];
    expect(await search(undefined, [...unknown, 'metrics.acc DESC'])).toEqual(['r1', 'r2', 'r3', 'r6']);
    expect(await search(undefined, [...unknown, 'metrics.loss'])).toEqual(['r6', 'r1', 'r2', 'r3']);
    expect(await search(undefined, [...unknown, 'params.model'])).toEqual(['r2', 'r1', 'r3', 'r6']);
  });

  it('combines filters and ordering', async () => {
    const ids = await search("params.model ILIKE '%tree%' and metrics.acc > 0", ['metrics.acc DESC'], {
      experimentIds: [expA, expB],
      runViewType: 'ALL',
    });
    expect(ids).toEqual(['r1', 'r2']);
  });
});

describe('experiments search SQL', () => {
  async function searchExp(filter?: string, orderBy?: string[], viewType: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL' = 'ACTIVE_ONLY') {
    const q = experimentSearchQuery({ filter, orderBy, viewType, offset: 0, limit: 100 });
    const names = new Map((await exec(sql`SELECT experiment_id::text AS id, name FROM experiments`)).map((r) => [r.id, r.name]));
    return (await exec(q)).map((r) => names.get(r.experiment_id as string));
  }

  it('orders by creation_time DESC, experiment_id ASC by default', async () => {
    expect(await searchExp()).toEqual(['proj-b', 'other', 'proj-a']);
    expect(await searchExp(undefined, undefined, 'ALL')).toEqual(['proj-gone', 'proj-b', 'other', 'proj-a']);
    expect(await searchExp(undefined, undefined, 'DELETED_ONLY')).toEqual(['proj-gone']);
  });

  it('filters names and tags', async () => {
    expect(await searchExp("name LIKE 'proj-%'")).toEqual(['proj-b', 'proj-a']);
    expect(await searchExp("name LIKE 'PROJ-%'")).toEqual([]);
    expect(await searchExp("name ILIKE 'PROJ-%'", undefined, 'ALL')).toEqual(['proj-gone', 'proj-b', 'proj-a']);
    expect(await searchExp("name IN ('proj-a', 'other')")).toEqual(['other', 'proj-a']);
    expect(await searchExp("name NOT IN ('proj-a', 'other')")).toEqual(['proj-b']);
    expect(await searchExp("tags.team = 'ml' AND creation_time > 50")).toEqual(['proj-a']);
    expect(await searchExp("tags.team IS NULL AND name LIKE 'proj%'")).toEqual(['proj-b']);
    expect(await searchExp("tags.team != 'x'")).toEqual(['proj-a']);
    const many = Array(9).fill("tags.team LIKE 'm%'").join(' AND ');
    expect(await searchExp(`${many} AND tags.other IS NULL AND tags.team = 'ml'`)).toEqual(['proj-a']);
  });

  it('orders by attributes with experiment_id DESC as tie-breaker', async () => {
    expect(await searchExp(undefined, ['name'])).toEqual(['other', 'proj-a', 'proj-b']);
    expect(await searchExp(undefined, ['creation_time ASC'])).toEqual(['proj-a', 'other', 'proj-b']);
    expect(await searchExp(undefined, ['creation_time', 'experiment_id ASC'])).toEqual(['proj-a', 'proj-b', 'other']);
    expect(await searchExp(undefined, ['last_update_time DESC'])).toEqual(['other', 'proj-b', 'proj-a']);
  });
});

// How long this search takes at 25,000 runs is the bench's business (bench/scenarios.ts, search_runs:
// "1000 of 25,000"); here, only that the answer is the right one.
describe('runs search at scale', () => {
  it('filters and orders 25,000 runs by a metric exactly as the seed recipe says', async () => {
    const exp = await experiment('scale', 1);
    await exec(sql`INSERT INTO runs (run_id, experiment_id, name, status, start_time, artifact_uri)
      SELECT 's' || lpad(g::text, 6, '0'), ${exp}, 'run-' || g, 'FINISHED', g % 12500, 'x' FROM generate_series(1, 25000) g`);
    await exec(sql`INSERT INTO latest_metrics (run_id, key, step, timestamp, value)
      SELECT 's' || lpad(g::text, 6, '0'), k, 0, 0, (g % 2500 * 7919 % 10007)::float8 / 10007
      FROM generate_series(1, 25000) g, (VALUES ('acc'), ('loss')) AS keys(k)`);
    await exec(sql`INSERT INTO params (run_id, key, value) SELECT 's' || lpad(g::text, 6, '0'), 'lr', (g % 10)::text FROM generate_series(1, 25000) g`);
    await exec(sql`ANALYZE`);

    // The same recipe in JS. acc and loss are equal; runs g and g + 2500 share both metric and lr,
    // and g and g + 12500 also share start_time, so the order leans on both tie-breakers:
    // start_time DESC, then run_id ASC.
    const seeded = Array.from({ length: 25000 }, (_, i) => {
      const g = i + 1;
      return { id: `s${String(g).padStart(6, '0')}`, start: g % 12500, value: (((g % 2500) * 7919) % 10007) / 10007, lr: String(g % 10) };
    });
    const matching = seeded.filter((r) => r.value > 0.5 && r.lr === '3');
    const expected = [...matching]
      .sort((a, b) => b.value - a.value || b.start - a.start || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((r) => r.id);
    expect(matching.length).toBeGreaterThan(1000); // the page is full, and what is left out matters

    const page = (offset: number) =>
      runSearchQuery({
        experimentIds: [exp],
        filter: "metrics.acc > 0.5 and params.lr = '3'",
        orderBy: ['metrics.loss DESC'],
        runViewType: 'ACTIVE_ONLY',
        offset,
        limit: 1000,
      });
    expect((await exec(page(0))).map((r) => r.run_id as string)).toEqual(expected.slice(0, 1000));
    expect((await exec(page(1000))).map((r) => r.run_id as string)).toEqual(expected.slice(1000, 2000));
  });
});

describe('runs search ordered by a param or tag with long ties', () => {
  it('pages value by value (groupedIds) exactly as one query orders it', async () => {
    // Ties across many runs: each value's runs are fetched as a search of their own in run order.
    // Values present only in another experiment make groups with no run here.
    const exp = await experiment('ties', 1);
    const other = await experiment('ties-other', 1);
    const grp = ['b', 'a', 'b', 'a', undefined, 'b', 'a', 'a', undefined, 'B'];
    for (let i = 0; i < grp.length; i++) {
      const tags: Record<string, string> = { rank: String(i % 3) };
      if (grp[i] !== undefined) tags.grp = grp[i]!;
      await run({ id: `t${i}`, exp, name: `t-${i}`, status: i % 2 ? 'FINISHED' : 'RUNNING', user: 'u', start: 100 + (i % 4), params: { p: grp[i] ?? 'none' }, tags });
    }
    await run({ id: 'o1', exp: other, name: 'o', status: 'RUNNING', user: 'u', start: 1, params: { p: 'a0' }, tags: { grp: 'a0' } });
    const cases: Array<[string | undefined, string[]]> = [
      [undefined, ['tags.grp']],
      [undefined, ['tags.grp DESC']],
      [undefined, ['tags.grp', 'tags.rank DESC']],
      ["attributes.status = 'RUNNING'", ['tags.grp DESC', 'run_id DESC']],
      [undefined, ['params.p']],
      ['tags.rank != \'9\'', ['params.p DESC', 'attributes.start_time ASC']],
    ];
    const forms = { ids: NARROW_THRESHOLDS, walked: { ...NARROW_THRESHOLDS, ids: 0 } };
    for (const [filter, orderBy] of cases) {
      const query = { experimentIds: [exp], filter, orderBy, runViewType: 'ALL' as const };
      const whole = await search(filter, orderBy, { runViewType: 'ALL', experimentIds: [exp] });
      expect(whole.length).toBeGreaterThan(2);
      const term = tieredOrderTerm(filter, orderBy, true)!;
      for (const [name, thresholds] of Object.entries(forms)) {
        let grouped = 0;
        for (const limit of [1, 2, 4, whole.length + 1]) {
          for (let offset = 0; offset <= whole.length + 1; offset++) {
            const page = await groupedIds(db.orm, query, term, offset, limit, thresholds);
            // null: the page needs more values than a grouped page reads (then it is sorted).
            if (page === null) continue;
            grouped++;
            expect(page.map((r) => r.run_id), `${filter} ${orderBy.join()} ${name} offset ${offset} limit ${limit}`).toEqual(whole.slice(offset, offset + limit));
          }
        }
        expect(grouped, `${orderBy.join()} ${name}`).toBeGreaterThan(whole.length);
      }
    }
    // Five values ('B', 'a', 'a0', 'b', 'none') lie before the runs without grp's last page entries: past four, null.
    expect(await groupedIds(db.orm, { experimentIds: [exp], orderBy: ['params.p'], runViewType: 'ALL' }, { entity: 'param', key: 'p', ascending: true }, 9, 1)).toBeNull();
  }, 180_000);
});

describe('runs search ordered by start_time ascending, by status, or by a metric with long ties', () => {
  let exp: number;
  beforeAll(async () => {
    // Start times with ties and nulls, statuses of every kind, a metric tied across runs (with NaN
    // and runs without it), a param for the counted filters; one deleted run and one run in another
    // experiment whose metric value and status appear nowhere else.
    exp = await experiment('walks', 1);
    const other = await experiment('walks-other', 1);
    const statuses = ['RUNNING', 'FINISHED', 'FAILED', 'RUNNING', 'KILLED', 'FINISHED', 'RUNNING', 'SCHEDULED', 'FINISHED', 'RUNNING', 'FAILED', 'RUNNING'];
    const lr = [0.001, 0.001, 0.01, 0.001, Number.NaN, 0.001, undefined, 0.01, 0.001, -0, 0.001, undefined];
    for (let i = 0; i < statuses.length; i++) {
      const metrics: Record<string, number> = { rank: i % 3 };
      if (lr[i] !== undefined) metrics.lr = lr[i]!;
      await run({
        id: `w${String(i).padStart(2, '0')}`, exp, name: `w-${i}`, status: statuses[i], user: 'u',
        // Every third run without a start_time; the others in ties of two.
        start: i % 3 === 2 ? (null as unknown as number) : 100 + Math.floor(i / 2),
        metrics, params: { opt: i % 2 ? 'adam' : 'sgd' },
      });
    }
    await run({ id: 'wgone', exp, name: 'w-gone', status: 'FAILED', user: 'u', start: 1, stage: 'deleted', metrics: { lr: 0.001 } });
    await run({ id: 'wo', exp: other, name: 'wo', status: 'ZOMBIE', user: 'u', start: 1, metrics: { lr: 0.005 } });
  });

  const forms = {
    // Every filter counted and rendered by its run ids, hashed or as an EXISTS.
    ids: LARGE_SCOPE,
    hashed: { ...LARGE_SCOPE, ids: 0 },
    exists: { ...LARGE_SCOPE, ids: 0, hashed: 0 },
  };

  async function everyPage(filter: string | undefined, orderBy: string[], runViewType: 'ACTIVE_ONLY' | 'ALL' = 'ACTIVE_ONLY') {
    const query = { experimentIds: [exp], filter, orderBy, runViewType };
    const whole = await search(filter, orderBy, { experimentIds: [exp], runViewType });
    expect(whole.length).toBeGreaterThan(2);
    for (const [name, thresholds] of Object.entries(forms)) {
      for (const limit of [1, 2, 5, whole.length + 1]) {
        for (let offset = 0; offset <= whole.length + 1; offset++) {
          const page = (await searchRunIds(db.orm, query, offset, limit, thresholds)).map((r) => r.run_id);
          expect(page, `${filter} ${orderBy.join()} ${name} offset ${offset} limit ${limit}`).toEqual(whole.slice(offset, offset + limit));
        }
      }
    }
    return whole;
  }

  it('walks start_time ASC as the runs with a start_time, then those without, exactly as one query orders it', async () => {
    const cases: Array<[string | undefined, string[]]> = [
      [undefined, ['attributes.start_time ASC']],
      [undefined, ['created']],
      [undefined, ['start_time ASC', 'metrics.rank DESC']],
      [undefined, ['start_time', 'run_id DESC']],
      ["params.opt = 'adam'", ['start_time ASC']],
      ["attributes.status != 'RUNNING' AND metrics.rank < 2", ['attributes.start_time ASC', 'params.opt DESC']],
    ];
    for (const [filter, orderBy] of cases) {
      expect(startTimeAscending({ experimentIds: [exp], runViewType: 'ACTIVE_ONLY', orderBy })).toBe(true);
      const whole = await everyPage(filter, orderBy);
      // The runs without a start_time (w02, w05, w08, w11) come last.
      if (!filter) expect(whole.slice(-4).sort()).toEqual(['w02', 'w05', 'w08', 'w11']);
    }
    // Several experiments, all stages, or DESC: no index walks it; sorted as one query.
    expect(startTimeAscending({ experimentIds: [exp, expA], runViewType: 'ACTIVE_ONLY', orderBy: ['start_time'] })).toBe(false);
    expect(startTimeAscending({ experimentIds: [exp], runViewType: 'ALL', orderBy: ['start_time'] })).toBe(false);
    expect(startTimeAscending({ experimentIds: [exp], runViewType: 'ACTIVE_ONLY', orderBy: ['start_time DESC'] })).toBe(false);
    expect(startTimeAscending({ experimentIds: [exp], runViewType: 'ACTIVE_ONLY', orderBy: ['metrics.rank', 'start_time'] })).toBe(false);
    await everyPage(undefined, ['start_time ASC'], 'ALL');
  }, 180_000);

  it('pages status DESC status by status (groupedIds) and status ASC on the index, exactly as one query orders them', async () => {
    const cases: Array<[string | undefined, string[]]> = [
      [undefined, ['attributes.status DESC']],
      [undefined, ['attributes.status ASC']],
      [undefined, ['status DESC', 'metrics.lr DESC']],
      [undefined, ['status DESC', 'start_time ASC']],
      ["params.opt = 'sgd'", ['attributes.status DESC']],
      ["attributes.status LIKE '%I%'", ['attributes.status DESC', 'run_id DESC']],
    ];
    for (const [filter, orderBy] of cases) {
      expect(statusDescending({ experimentIds: [exp], runViewType: 'ACTIVE_ONLY', orderBy })).toEqual(
        orderBy[0].endsWith('DESC') ? { entity: 'attribute', key: 'status', ascending: false } : null,
      );
      await everyPage(filter, orderBy);
    }
    // groupedIds itself, at every page: five statuses here, so a page reaching the fifth is sorted (null).
    const term = { entity: 'attribute', key: 'status', ascending: false } as const;
    const query = { experimentIds: [exp], orderBy: ['status DESC'], runViewType: 'ACTIVE_ONLY' as const };
    const whole = await search(undefined, query.orderBy, { experimentIds: [exp] });
    let grouped = 0;
    for (let offset = 0; offset <= whole.length; offset++) {
      const page = await groupedIds(db.orm, query, term, offset, 2);
      if (page === null) continue;
      grouped++;
      expect(page.map((r) => r.run_id)).toEqual(whole.slice(offset, offset + 2));
    }
    expect(grouped).toBeGreaterThan(whole.length / 2);
    expect(await groupedIds(db.orm, query, term, whole.length - 1, 1)).toBeNull();
    // Few runs searched (12 active here): sorted in one statement instead (null), unless `small` is fewer.
    expect(await groupedIds(db.orm, query, term, 0, 2, NARROW_THRESHOLDS, 12)).toBeNull();
    expect((await groupedIds(db.orm, query, term, 0, 2, NARROW_THRESHOLDS, 11))?.map((r) => r.run_id)).toEqual(whole.slice(0, 2));
    expect((await searchRunIds(db.orm, query, 3, 4)).map((r) => r.run_id)).toEqual(whole.slice(3, 7));
    expect(statusDescending({ experimentIds: [exp], runViewType: 'ALL', orderBy: ['status DESC'] })).toBeNull();
  }, 180_000);

  it('filters on status and run name in the collation of their indexes with the same matches', async () => {
    expect(await search("attributes.status = 'FAILED'", undefined, { experimentIds: [exp] })).toEqual(['w10', 'w02']);
    expect(await search("attributes.status LIKE 'F%'", ['run_id'], { experimentIds: [exp] })).toEqual(['w01', 'w02', 'w05', 'w08', 'w10']);
    expect(await search("attributes.status ILIKE 'f%'", ['run_id'], { experimentIds: [exp] })).toEqual(['w01', 'w02', 'w05', 'w08', 'w10']);
    expect(await search("attributes.status != 'RUNNING'", ['run_id'], { experimentIds: [exp] })).toEqual(['w01', 'w02', 'w04', 'w05', 'w07', 'w08', 'w10']);
    expect(await search("attributes.run_name = 'w-3'", undefined, { experimentIds: [exp] })).toEqual(['w03']);
    const rendered = new PgDialect().sqlToQuery(runSearchQuery({ experimentIds: [exp], filter: "attributes.status = 'FAILED' AND run_name LIKE 'w%' AND status ILIKE 'x'", runViewType: 'ALL', offset: 0, limit: 1 })).sql;
    expect(rendered).toContain('r.status COLLATE "C" =');
    expect(rendered).toContain('r.name COLLATE "C" LIKE');
    expect(rendered).toContain('r.status ILIKE');
  });

  it('pages a metric tied across runs value by value (groupedIds) exactly as one query orders it', async () => {
    // lr: 0.001 in six runs, 0.01 in two, -0 in one, NaN in one, missing in two; 0.005 in another experiment only.
    const cases: Array<[string | undefined, string[]]> = [
      [undefined, ['metrics.lr DESC']],
      [undefined, ['metrics.lr ASC']],
      [undefined, ['metrics.lr DESC', 'metrics.rank']],
      ["params.opt = 'adam'", ['metrics.lr', 'start_time ASC']],
      ["attributes.status != 'KILLED'", ['metrics.lr DESC', 'run_id DESC']],
    ];
    const thresholds = { ids: NARROW_THRESHOLDS, walked: { ...NARROW_THRESHOLDS, ids: 0 } };
    for (const [filter, orderBy] of cases) {
      const query = { experimentIds: [exp], filter, orderBy, runViewType: 'ACTIVE_ONLY' as const };
      const whole = await search(filter, orderBy, { experimentIds: [exp] });
      const term = tieredOrderTerm(filter, orderBy, true)!;
      expect(term.entity).toBe('metric');
      for (const [name, t] of Object.entries(thresholds)) {
        let grouped = 0;
        for (const limit of [1, 2, 4, whole.length + 1]) {
          for (let offset = 0; offset <= whole.length + 1; offset++) {
            const page = await groupedIds(db.orm, query, term, offset, limit, t);
            if (page === null) continue;
            grouped++;
            expect(page.map((r) => r.run_id), `${filter} ${orderBy.join()} ${name} offset ${offset} limit ${limit}`).toEqual(whole.slice(offset, offset + limit));
          }
        }
        expect(grouped, `${orderBy.join()} ${name}`).toBeGreaterThan(whole.length);
      }
    }
  }, 180_000);
});
