import { sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows, type Database, type Orm } from '../../src/db/connect.js';
import type { Deps } from '../../src/deps.js';
import { NARROW_THRESHOLDS, searchRunIds, searchRuns } from '../../src/domain/search-runs.js';
import { parseFilter } from '../../src/domain/search/parse.js';
import { textArray } from '../../src/lib/pg-array.js';
import { nameWalkProbed, RUN_SEARCH_DIALECT, runCondition, runSearchQuery, type ViewType } from '../../src/domain/search/runs-sql.js';
import { domainDatabase, insertExperiment } from '../harness/database.js';
import { followPages } from '../harness/pages.js';

// Run-name patterns (LIKE / ILIKE on attributes.run_name) take one of three plans: the walk in
// start_time order, the walk capped at a number of runs (runSearchQuery's walkCap, the page when it
// comes back full), or the matches found through an index and sorted (`sorted`): the btree on names
// in "C" for a literal prefix, the trigram index (migration 0032) for any pattern. Every plan must
// give the same runs in the same order as a reference computed without any index (each name tested
// by Postgres' own LIKE / ILIKE on a literal, the order by start_time DESC, run_id in JS), with the
// trigram index, with the planner pushed onto it, and without it.

let drop: () => Promise<void>;
let db: Database;
let deps: Deps;
let expA: number;
let expB: number;

interface RunRow {
  run_id: string;
  name: string;
  start: number | null;
  exp: number;
  stage: string;
  status: string;
}
let all: RunRow[] = [];

// Names with other letters than ASCII, case variants, literal % and _, an empty name, duplicates,
// ties and missing start_times: [id, name, start_time, stage].
const SPECIAL: Array<[string, string, number | null, string?]> = [
  ['x00', 'Straße-α', 20001], ['x01', 'STRASSE-Α', 5], ['x02', 'straße_b', null], ['x03', 'Ünïcode-Run', 20002],
  ['x04', 'ünïcode-run', 6], ['x05', 'ÜNÏCODE-RUN', 20002], ['x06', '日本語-run-1', 7], ['x07', 'Σίσυφος-99', 20003],
  ['x08', 'σίσυφος-99', 8], ['x09', 'emoji-🚀-1', 9], ['x10', 'acc_100%', 10], ['x11', 'acc-100%', 20004],
  ['x12', 'acc_100', 11], ['x13', 'acc_1000%', 12], ['x14', '100%-done', null], ['x15', '', 13],
  ['x16', 'run-7', 20005], ['x17', 'run-7', 20005], ['x18', 'RUN-5-upper', 14], ['x19', 'Run-99', 15, 'deleted'],
  ['x20', 'run_5', 16], ['x21', 'run-5', null], ['x22', 'run-5ß', 17, 'deleted'],
];

const FILTERS = [
  "attributes.run_name LIKE 'run-1%'",
  "attributes.run_name LIKE 'run-5%'",
  "attributes.run_name LIKE 'run-5_'",
  "attributes.run_name LIKE 'run-_'",
  "attributes.run_name LIKE '%-99'",
  "attributes.run_name ILIKE '%-99'",
  "attributes.run_name LIKE '%un-12%'",
  "attributes.run_name ILIKE '%UN-5%'",
  "attributes.run_name ILIKE 'RUN-5%'",
  "attributes.run_name ILIKE 'run-5'",
  "attributes.run_name LIKE 'acc\\_100\\%'",
  "attributes.run_name LIKE '%\\%%'",
  "attributes.run_name LIKE '%\\_%'",
  "attributes.run_name LIKE 'acc_100%'",
  "attributes.run_name ILIKE '%straße%'",
  "attributes.run_name ILIKE '%STRASSE%'",
  "attributes.run_name ILIKE 'ünïcode%'",
  "attributes.run_name LIKE 'Ünïcode%'",
  "attributes.run_name ILIKE '%σίσυφος%'",
  "attributes.run_name LIKE '%🚀%'",
  "attributes.run_name LIKE '日本語%'",
  "attributes.run_name LIKE '%'",
  "attributes.run_name LIKE ''",
  "attributes.run_name ILIKE '%a%'",
  "attributes.run_name LIKE 'run-5%' AND attributes.status = 'FINISHED'",
  "attributes.run_name LIKE 'run-1%' AND attributes.run_name ILIKE '%9'",
  "attributes.`Run name` ILIKE '%-9_'",
  "attributes.run_name != 'run-7' AND attributes.run_name LIKE 'run-7%'",
];

interface Scope {
  experimentIds: number[];
  runViewType: ViewType;
}
const scopes = (): Scope[] => [
  { experimentIds: [expA], runViewType: 'ACTIVE_ONLY' },
  { experimentIds: [expA], runViewType: 'DELETED_ONLY' },
  { experimentIds: [expA], runViewType: 'ALL' },
  { experimentIds: [expA, expB], runViewType: 'ACTIVE_ONLY' },
];

// The default thresholds less smallScope: these searches take the paths of large experiments.
const LARGE_SCOPE = { ...NARROW_THRESHOLDS, smallScope: undefined };

const OPERATORS: Record<string, string> = { LIKE: 'LIKE', ILIKE: 'ILIKE', '=': '=', '!=': '<>' };

/** The matching runs of a filter in the default order, every name tested by Postgres on a literal (no index, no plan). */
async function reference(orm: Orm, filter: string, scope: Scope): Promise<string[]> {
  let matches = all.filter((r) => scope.experimentIds.includes(r.exp) && (scope.runViewType === 'ALL' || r.stage === (scope.runViewType === 'ACTIVE_ONLY' ? 'active' : 'deleted')));
  for (const c of parseFilter(filter, RUN_SEARCH_DIALECT)) {
    if (c.operand.kind !== 'string') throw new Error('string comparisons only');
    if (c.key === 'status') {
      const value = c.operand.value;
      matches = matches.filter((r) => r.status === value);
      continue;
    }
    const op = sql.raw(OPERATORS[c.op]);
    const names = matches.map((r) => r.name);
    const ids = matches.map((r) => r.run_id);
    // unnest of two arrays: a function scan, which no index serves.
    const passed = await rows<{ id: string }>(
      orm,
      sql`SELECT v.id FROM unnest(${textArray(ids)}::text[], ${textArray(names)}::text[]) AS v(id, name) WHERE v.name ${op} ${c.operand.value}::text`,
    );
    const kept = new Set(passed.map((p) => p.id));
    matches = matches.filter((r) => kept.has(r.run_id));
  }
  return matches
    .sort((a, b) => (a.start === b.start ? 0 : a.start === null ? 1 : b.start === null ? -1 : b.start - a.start) || (a.run_id < b.run_id ? -1 : a.run_id > b.run_id ? 1 : 0))
    .map((r) => r.run_id);
}

const PAGES: Array<[number, number]> = [[0, 1], [0, 3], [0, 101], [2, 5], [50, 10], [0, 5000]];

/** searchRunIds (planRunPage: the walk, the capped walk or the sorted matches, as it chooses) at several pages. */
async function checkPlannedPages(orm: Orm, label: string): Promise<void> {
  for (const filter of FILTERS) {
    for (const scope of scopes()) {
      const whole = await reference(orm, filter, scope);
      for (const [offset, limit] of PAGES) {
        // Without order terms, and with `start_time DESC` (the same order, MLflow's UI asks for it).
        for (const orderBy of [undefined, ['attributes.start_time DESC']]) {
          const got = (await searchRunIds(orm, { ...scope, filter, orderBy }, offset, limit, LARGE_SCOPE)).map((r) => r.run_id);
          expect(got, `${label}: ${filter} ${JSON.stringify(scope)} ${orderBy ?? ''} at ${offset}+${limit}`).toEqual(whole.slice(offset, offset + limit));
        }
      }
    }
  }
}

/** runSearchQuery's three forms side by side: the plain walk and `sorted` are the page; a capped walk is the page when full, else a prefix of it. */
async function checkForms(orm: Orm, label: string): Promise<{ full: number; short: number }> {
  const counts = { full: 0, short: 0 };
  for (const filter of FILTERS) {
    for (const scope of scopes().filter((s) => s.experimentIds.length === 1 && s.runViewType !== 'ALL')) {
      const whole = await reference(orm, filter, scope);
      for (const [offset, limit] of [[0, 1], [0, 10], [3, 7], [0, 3000]] as const) {
        const page = whole.slice(offset, offset + limit);
        const run = async (more: Partial<Parameters<typeof runSearchQuery>[0]>) =>
          (await rows<{ run_id: string }>(orm, runSearchQuery({ ...scope, filter, offset, limit, ...more }))).map((r) => r.run_id);
        const what = `${label}: ${filter} ${scope.runViewType} at ${offset}+${limit}`;
        expect(await run({}), `${what} walked`).toEqual(page);
        expect(await run({ sorted: true }), `${what} sorted`).toEqual(page);
        for (const cap of [0, 1, 5, 1200, 4000]) {
          const capped = await run({ walkCap: cap });
          if (capped.length === limit) counts.full++;
          else counts.short++;
          if (capped.length === limit || cap >= 4000) expect(capped, `${what} capped at ${cap}`).toEqual(page);
          else expect(capped, `${what} capped at ${cap}`).toEqual(page.slice(0, capped.length));
        }
      }
    }
  }
  return counts;
}

/** searchRuns itself, following its page tokens (keyset pages after the first), against the whole reference. */
async function checkTokens(deps: Deps, orm: Orm, label: string): Promise<void> {
  for (const filter of FILTERS) {
    for (const scope of [scopes()[0], scopes()[3]]) {
      const whole = await reference(orm, filter, scope);
      // Page sizes that keep every filter within 40 pages; size 1 where the matches are few.
      const sizes = [...new Set([Math.max(1, Math.ceil(whole.length / 30)), whole.length <= 30 ? 1 : 250, 7])].filter((s) => Math.ceil(whole.length / s) <= 40);
      for (const size of sizes) {
        const got = await followPages(async (token) => {
          const out = await searchRuns(deps, { experiment_ids: scope.experimentIds.map(String), filter, max_results: size, page_token: token });
          return { items: (out.runs ?? []).map((r) => r.info.run_id), token: out.next_page_token };
        }, 45);
        expect(got, `${label}: ${filter} ${JSON.stringify(scope.experimentIds)} by ${size}`).toEqual(whole);
      }
    }
  }
}

beforeAll(async () => {
  ({ db, deps, drop } = await domainDatabase());
  expA = await insertExperiment(db.orm, 'names-a');
  expB = await insertExperiment(db.orm, 'names-b');
  // 3,000 runs named like the bench's (run-<i>, the oldest first), every 97th deleted: a pattern
  // such as 'run-5%' matches only runs far along the walk, 'run-2%' the newest.
  await rows(db.orm, sql`INSERT INTO runs (run_id, experiment_id, name, user_id, status, start_time, artifact_uri, lifecycle_stage)
    SELECT 'a' || lpad(i::text, 4, '0'), ${expA}, 'run-' || i, 'u', CASE WHEN i % 3 = 0 THEN 'RUNNING' ELSE 'FINISHED' END, 10000 + i, '/a', CASE WHEN i % 97 = 5 THEN 'deleted' ELSE 'active' END
    FROM generate_series(0, 2999) i`);
  await rows(db.orm, sql`INSERT INTO runs (run_id, experiment_id, name, user_id, status, start_time, artifact_uri)
    SELECT 'b' || lpad(i::text, 4, '0'), ${expB}, 'run-' || (i * 7), 'u', 'FINISHED', 10003 + i * 7, '/b' FROM generate_series(0, 399) i`);
  for (const [id, name, start, stage] of SPECIAL) {
    await rows(db.orm, sql`INSERT INTO runs (run_id, experiment_id, name, user_id, status, start_time, artifact_uri, lifecycle_stage)
      VALUES (${id}, ${expA}, ${name}, 'u', 'FINISHED', ${start}, '/x', ${stage ?? 'active'})`);
  }
  await rows(db.orm, sql`ANALYZE runs`);
  all = (
    await rows<{ run_id: string; name: string; start_time: string | number | null; experiment_id: string | number; lifecycle_stage: string; status: string }>(
      db.orm,
      sql`SELECT run_id, name, start_time, experiment_id, lifecycle_stage, status FROM runs`,
    )
  ).map((r) => ({ run_id: r.run_id, name: r.name, start: r.start_time === null ? null : Number(r.start_time), exp: Number(r.experiment_id), stage: r.lifecycle_stage, status: r.status }));
}, 120_000);

afterAll(async () => {
  await drop?.();
});

describe('run-name patterns', () => {
  it('are probed by a capped walk in the natural order (none, or start_time DESC) of one experiment and stage only', () => {
    const one = { experimentIds: [1], runViewType: 'ACTIVE_ONLY' as const };
    expect(nameWalkProbed({ ...one, filter: "attributes.run_name LIKE 'run-1%'" })).toBe('prefix');
    expect(nameWalkProbed({ ...one, filter: "attributes.run_name ILIKE '1%'" })).toBe('prefix');
    expect(nameWalkProbed({ ...one, filter: "attributes.run_name ILIKE 'run-1%'" })).toBe('pattern');
    expect(nameWalkProbed({ ...one, filter: "attributes.run_name LIKE '%-99'" })).toBe('pattern');
    expect(nameWalkProbed({ ...one, filter: "attributes.run_name LIKE '_un%'" })).toBe('pattern');
    expect(nameWalkProbed({ ...one, filter: "attributes.run_name LIKE '\\%x'" })).toBe('prefix');
    expect(nameWalkProbed({ ...one, filter: "attributes.run_name = 'run-1'" })).toBeNull();
    expect(nameWalkProbed({ ...one, filter: "tags.x LIKE 'run-1%'" })).toBeNull();
    expect(nameWalkProbed({ ...one, filter: "attributes.run_name LIKE 'run-1%'", orderBy: ['attributes.start_time DESC'] })).toBe('prefix');
    expect(nameWalkProbed({ ...one, filter: "attributes.run_name LIKE 'run-1%'", orderBy: ['attributes.start_time ASC'] })).toBeNull();
    expect(nameWalkProbed({ ...one, filter: "attributes.run_name LIKE 'run-1%'", orderBy: ['attributes.start_time DESC', 'attributes.run_name'] })).toBeNull();
    expect(nameWalkProbed({ ...one, filter: "attributes.run_name LIKE 'run-1%'", orderBy: ['attributes.run_name DESC'] })).toBeNull();
    expect(nameWalkProbed({ ...one, experimentIds: [1, 2], filter: "attributes.run_name LIKE 'run-1%'" })).toBeNull();
    expect(nameWalkProbed({ ...one, runViewType: 'ALL', filter: "attributes.run_name LIKE 'run-1%'" })).toBeNull();
  });

  it('are written in "C" (the btree on names) only with a literal prefix, else in the collation of the trigram index', () => {
    const text = (filter: string) => new PgDialect().sqlToQuery(runCondition(parseFilter(filter, RUN_SEARCH_DIALECT)[0])).sql;
    expect(text("attributes.run_name LIKE 'run-1%'")).toContain('COLLATE "C" LIKE');
    expect(text("attributes.run_name ILIKE '1-%'")).toContain('COLLATE "C" LIKE');
    expect(text("attributes.run_name LIKE '%-99'")).not.toContain('COLLATE');
    expect(text("attributes.run_name ILIKE '%-99'")).toMatch(/r\.name LIKE/);
    expect(text("attributes.run_name ILIKE 'Run-1%'")).toMatch(/r\.name ILIKE/);
  });

  it('find the same runs in the same order through every plan, with the trigram index', async () => {
    const [{ present }] = await rows<{ present: boolean }>(db.orm, sql`SELECT to_regclass('runs_name_trgm_idx') IS NOT NULL AS present`);
    expect(present).toBe(true);
    const counts = await checkForms(db.orm, 'indexed');
    // Both outcomes of a capped walk were met.
    expect(counts.full).toBeGreaterThan(50);
    expect(counts.short).toBeGreaterThan(50);
    await checkPlannedPages(db.orm, 'indexed');
    await checkTokens(deps, db.orm, 'indexed');
  }, 300_000);

  it('match through the trigram index as without it (the planner kept off sequential scans)', async () => {
    let checked = 0;
    let throughTrigrams = 0;
    // In a transaction rolled back at the end: without the btrees on runs, and with sequential and
    // plain index scans off, only a bitmap of the trigram index (or of every run id) is left.
    const rolledBack = db.orm.transaction(async (tx) => {
      const orm = tx as unknown as Orm;
      await rows(orm, sql`DROP INDEX runs_experiment_start_idx, runs_experiment_name_idx, runs_experiment_status_idx`);
      await rows(orm, sql`SET LOCAL enable_seqscan = off`);
      await rows(orm, sql`SET LOCAL enable_indexscan = off`);
      await rows(orm, sql`SET LOCAL enable_indexonlyscan = off`);
      const everyRun: Scope = { experimentIds: [expA, expB], runViewType: 'ALL' };
      // Each name comparison as the search writes it, over every run: only a name index serves it.
      const matching = (filter: string) =>
        sql`SELECT r.run_id FROM runs r WHERE ${runCondition(parseFilter(filter, RUN_SEARCH_DIALECT)[0])} ORDER BY r.start_time DESC NULLS LAST, r.run_id`;
      const plan = async (filter: string) => (await rows<Record<string, string>>(orm, sql`EXPLAIN ${matching(filter)}`)).map((r) => Object.values(r)[0]).join('\n');
      expect(await plan("attributes.run_name ILIKE '%UN-5%'")).toContain('runs_name_trgm_idx');
      expect(await plan("attributes.run_name LIKE '%-99'")).toContain('runs_name_trgm_idx');
      expect(await plan("attributes.run_name ILIKE '%straße%'")).toContain('runs_name_trgm_idx');
      for (const filter of FILTERS) {
        const first = parseFilter(filter, RUN_SEARCH_DIALECT)[0];
        if (first.key !== 'run_name' || (first.op !== 'LIKE' && first.op !== 'ILIKE')) continue;
        const alone = filter.split(' AND ')[0];
        if ((await plan(alone)).includes('runs_name_trgm_idx')) throughTrigrams++;
        const got = (await rows<{ run_id: string }>(orm, matching(alone))).map((r) => r.run_id);
        expect(got, alone).toEqual(await reference(orm, alone, everyRun));
        checked++;
      }
      tx.rollback();
    });
    await expect(rolledBack).rejects.toThrow(/rollback/i);
    expect(checked).toBeGreaterThan(20);
    expect(throughTrigrams).toBeGreaterThan(15);
    const [{ present }] = await rows<{ present: boolean }>(db.orm, sql`SELECT to_regclass('runs_experiment_name_idx') IS NOT NULL AS present`);
    expect(present).toBe(true);
  }, 120_000);

  it('find the same runs without the trigram index (pg_trgm missing)', async () => {
    await rows(db.orm, sql`DROP INDEX runs_name_trgm_idx`);
    await checkForms(db.orm, 'no index');
    // search-runs.ts learns once per handle whether the index exists: this handle still believes it
    // does (so sorts patterns by reading every name), a new one knows it does not (so walks them).
    await checkPlannedPages(db.orm, 'no index, sorted');
    await checkTokens(deps, db.orm, 'no index, sorted');
    const fresh = Object.create(db.orm) as Orm;
    await checkPlannedPages(fresh, 'no index, walked');
    await checkTokens({ ...deps, db: fresh }, fresh, 'no index, walked');
  }, 300_000);
});
