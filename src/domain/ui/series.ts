import { sql, type SQL } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam } from '../../errors.js';
import { int64Out, type Int64 } from '../../lib/int64.js';
import { wireDouble } from '../../lib/json-body.js';
import { numberArray, textArray } from '../../lib/pg-array.js';
import { BLOCK_SHIFT, BLOCK_STEPS, readyBlocks, seriesId } from '../metric-blocks.js';
import { withoutJit } from './no-jit.js';
import { requireRuns } from './runs-exist.js';

// Downsampled metric histories for charts. Each series' x range is cut into `buckets` columns of
// equal width (one per pixel column, as the chart asks); a column keeps its point count, the min and
// max of its values (so a single spike among a million points is still drawn) and its last point.
// Each history is read once through the metrics primary key (see bucketed); nothing is sorted.

export const SERIES_LIMITS = { runs: 100, keys: 100, series: 1000, buckets: 5000, defaultBuckets: 1000 } as const;

export type XAxis = 'step' | 'timestamp';

export interface SeriesPoint {
  x: number;
  step: Int64;
  timestamp: Int64;
  value: number | string;
  min: number | string;
  max: number | string;
  count: number;
}

export interface SeriesWire {
  run_id: string;
  key: string;
  total_points: number;
  /** The bounds the buckets span; null for a series with no point in range. */
  x_min: number | null;
  x_max: number | null;
  downsampled: boolean;
  points: SeriesPoint[];
}

export interface SeriesInput {
  run_ids: string[];
  keys: string[];
  x_axis?: XAxis;
  buckets?: number;
  x_min?: number;
  x_max?: number;
}

interface Series {
  runId: string;
  key: string;
  lo: number | null;
  hi: number | null;
}

// Column text comes only from here: x is the axis, `tie` orders points sharing an x.
const AXES: Record<XAxis, { x: SQL; tie: SQL }> = {
  step: { x: sql.raw('m.step'), tie: sql.raw('m.timestamp') },
  timestamp: { x: sql.raw('m.timestamp'), tie: sql.raw('m.step') },
};

export async function metricSeries(deps: Deps, input: SeriesInput): Promise<{ series: SeriesWire[] }> {
  const axis = input.x_axis ?? 'step';
  const buckets = input.buckets ?? SERIES_LIMITS.defaultBuckets;
  const runIds = [...new Set(input.run_ids)];
  const keys = [...new Set(input.keys)];
  if (runIds.length * keys.length > SERIES_LIMITS.series) {
    throw invalidParam(`At most ${SERIES_LIMITS.series} series (run_ids x keys) per request, got ${runIds.length * keys.length}`);
  }
  if (input.x_min !== undefined && input.x_max !== undefined && input.x_min > input.x_max) {
    throw invalidParam(`x_min (${input.x_min}) must not be greater than x_max (${input.x_max})`);
  }
  await requireRuns(deps.db, runIds);
  // Only the step axis reads block summaries; histories from before them get theirs built here, once.
  const ready = axis === 'step' ? await readyBlocks(deps, runIds.flatMap((runId) => keys.map((key) => ({ runId, key })))) : new Set<string>();

  const series: Series[] = [];
  for (const runId of runIds) for (const key of keys) series.push({ runId, key, lo: input.x_min ?? null, hi: input.x_max ?? null });
  // Integer bounds for the range test, so the step axis stays an index range scan.
  const rangeLo = input.x_min === undefined ? null : Math.ceil(input.x_min);
  const rangeHi = input.x_max === undefined ? null : Math.floor(input.x_max);
  return withoutJit(deps, async (db) => {
    if (input.x_min === undefined || input.x_max === undefined) await fillOwnBounds(db, axis, series, rangeLo, rangeHi);

    const aggregated = await bucketed(db, axis, series, buckets, rangeLo, rangeHi, ready);
    const out: SeriesWire[] = series.map((s, i) => {
      const points = aggregated.get(i) ?? [];
      const total = points.reduce((n, p) => n + p.count, 0);
      return { run_id: s.runId, key: s.key, total_points: total, x_min: total ? s.lo : null, x_max: total ? s.hi : null, downsampled: total > buckets, points };
    });
    // Few enough points to draw them all, but some shared a bucket: those series are read raw.
    const rawIdx = out.flatMap((s, i) => (!s.downsampled && s.points.some((p) => p.count > 1) ? [i] : []));
    if (rawIdx.length) {
      const raw = await rawPoints(db, axis, rawIdx.map((i) => series[i]), rangeLo, rangeHi);
      rawIdx.forEach((i, j) => (out[i].points = raw.get(j) ?? []));
    }
    return { series: out };
  });
}

const rangeTest = (x: SQL, lo: number | null, hi: number | null): SQL =>
  sql`${lo === null ? sql`` : sql` and ${x} >= ${String(lo)}::bigint`}${hi === null ? sql`` : sql` and ${x} <= ${String(hi)}::bigint`}`;

/** Each series' own first and last x within the requested range (min/max of step walk the index). */
async function fillOwnBounds(db: Orm, axis: XAxis, series: Series[], rangeLo: number | null, rangeHi: number | null): Promise<void> {
  const { x } = AXES[axis];
  const found = await rows<{ i: number | string; lo: string | null; hi: string | null }>(
    db,
    sql`select s.i, b.lo::text as lo, b.hi::text as hi
        from unnest(${textArray(series.map((s) => s.runId))}::text[], ${textArray(series.map((s) => s.key))}::text[]) with ordinality as s(run_id, key, i)
        cross join lateral (select min(${x}) as lo, max(${x}) as hi from metrics m
                            where m.run_id = s.run_id and m.key = s.key${rangeTest(x, rangeLo, rangeHi)}) b`,
  );
  for (const r of found) {
    const s = series[Number(r.i) - 1];
    if (r.lo === null || r.hi === null) {
      s.lo = s.hi = null;
      continue;
    }
    s.lo ??= Number(r.lo);
    s.hi ??= Number(r.hi);
  }
}

interface BucketRow {
  i: number | string;
  n: number | string;
  vmin: string | null;
  vmax: string | null;
  last: string;
}

async function bucketed(
  db: Orm,
  axis: XAxis,
  series: Series[],
  buckets: number,
  rangeLo: number | null,
  rangeHi: number | null,
  ready: Set<string>,
): Promise<Map<number, SeriesPoint[]>> {
  const out = new Map<number, SeriesPoint[]>();
  const live = series.map((s, i) => ({ s, i })).filter(({ s }) => s.lo !== null && s.hi !== null);
  if (!live.length) return out;
  // bucket = floor((x - lo) * buckets / (hi - lo)), the last column closed on the right; float8
  // arithmetic (numeric was 5x slower).
  const scale = (s: Series) => (s.hi! > s.lo! ? buckets / (s.hi! - s.lo!) : 0);
  // A long step history is read one column at a time, each an index range of the primary key
  // summed by a plain aggregate, its last point one backward probe: 35-45% less than one hash
  // aggregate over the history (measured on 1,000,000 points, Postgres 15). Short histories and the
  // time axis (no index on timestamp) take the hash aggregate, which costs per point, not per column.
  const ranged = axis === 'step' ? live.filter(({ s }) => s.hi! - s.lo! >= RANGED_MIN_STEPS_PER_BUCKET * buckets) : [];
  // Wide columns of a summarized history add up the blocks of 32 steps that lie wholly inside them
  // and read raw points only at their two edges: 1,000,000 points in 1,000 columns read ~31,000
  // summaries and ~32,000 points instead of 1,000,000.
  const blocked = ranged.filter(({ s }) => ready.has(seriesId(s.runId, s.key)) && s.hi! - s.lo! >= BLOCKED_MIN_BLOCKS_PER_BUCKET * BLOCK_STEPS * buckets);
  const probed = ranged.filter((l) => !blocked.includes(l));
  const hashed = live.filter((l) => !ranged.includes(l));
  const found: BucketRow[] = [];
  const columns = (todo: typeof live) => sql`
    unnest(${numberArray(todo.map(({ i }) => i))}::int[], ${textArray(todo.map(({ s }) => s.runId))}::text[],
           ${textArray(todo.map(({ s }) => s.key))}::text[], ${numberArray(todo.map(({ s }) => s.lo!))}::float8[],
           ${numberArray(todo.map(({ s }) => scale(s)))}::float8[], ${numberArray(todo.map(({ s }) => Math.floor(s.hi!)))}::bigint[])
      as s(i, run_id, key, lo, scale, hi)
    cross join lateral (
      select c.b, ${firstStepOf(sql`c.b`)} as a,
             case when c.b = ${buckets - 1} then s.hi + 1 else ${firstStepOf(sql`c.b + 1`)} end as z
      from generate_series(0, ${buckets - 1}) as c(b)) e`;
  if (probed.length) {
    found.push(
      ...(await rows<BucketRow>(
        db,
        sql`select s.i, g.n, g.vmin::text as vmin, g.vmax::text as vmax,
                   array[l.step::float8, l.timestamp::float8, l.value]::text as last
            from ${columns(probed)}
            cross join lateral (
              select count(*) as n,
                     min(m.value) filter (where m.value <> 'NaN'::float8) as vmin,
                     max(m.value) filter (where m.value <> 'NaN'::float8) as vmax
              from metrics m where m.run_id = s.run_id and m.key = s.key and m.step >= e.a and m.step < e.z) g
            cross join lateral (
              select m.step, m.timestamp, m.value from metrics m
              where m.run_id = s.run_id and m.key = s.key and m.step >= e.a and m.step < e.z
              order by m.step desc, m.timestamp desc, m.value desc limit 1) l
            order by s.i, e.b`,
      )),
    );
  }
  if (blocked.length) {
    const shift = sql.raw(String(BLOCK_SHIFT));
    // Column [a, z): blocks ka..kz-1 (ka = ceil(a / 32), kz = floor(z / 32)) from the summaries, the
    // steps [a, ka * 32) and [kz * 32, z) raw; a column without a whole block is read raw. Each part's
    // last point is its greatest [step, timestamp, value] array, the column's the greatest of the three.
    const edge = (from: SQL, to: SQL) => sql`(
      select count(*) as n, min(m.value) filter (where m.value <> 'NaN'::float8) as vmin,
             max(m.value) filter (where m.value <> 'NaN'::float8) as vmax,
             max(array[m.step::float8, m.timestamp::float8, m.value]) as last
      from metrics m where m.run_id = s.run_id and m.key = s.key and m.step >= ${from} and m.step < ${to})`;
    found.push(
      ...(await rows<BucketRow>(
        db,
        sql`select s.i, h.n + k.n + t.n as n, least(h.vmin, k.vmin, t.vmin)::text as vmin,
                   greatest(h.vmax, k.vmax, t.vmax)::text as vmax, greatest(h.last, k.last, t.last)::text as last
            from ${columns(blocked)}
            cross join lateral (select -((-e.a) >> ${shift}) as ka, e.z >> ${shift} as kz) w
            cross join lateral (select case when w.ka < w.kz then w.ka << ${shift} else e.z end as hz,
                                       case when w.ka < w.kz then w.kz << ${shift} else e.z end as ta) c
            cross join lateral ${edge(sql`e.a`, sql`c.hz`)} h
            cross join lateral (
              select coalesce(sum(mb.count), 0) as n, min(mb.min_value) as vmin, max(mb.max_value) as vmax,
                     max(array[mb.last_step::float8, mb.last_timestamp::float8, mb.last_value]) as last
              from metric_blocks mb where mb.run_id = s.run_id and mb.key = s.key and mb.block >= w.ka and mb.block < w.kz) k
            cross join lateral ${edge(sql`c.ta`, sql`e.z`)} t
            where h.n + k.n + t.n > 0
            order by s.i, e.b`,
      )),
    );
  }
  if (hashed.length) {
    const { x, tie } = AXES[axis];
    // The last point of a bucket is the greatest (x, tie, value) array: a hash aggregate, where
    // array_agg(... order by) would sort every point.
    found.push(
      ...(await rows<BucketRow>(
        db,
        sql`select s.i, g.n, g.vmin::text as vmin, g.vmax::text as vmax, g.last::text as last
            from unnest(${numberArray(hashed.map(({ i }) => i))}::int[], ${textArray(hashed.map(({ s }) => s.runId))}::text[],
                        ${textArray(hashed.map(({ s }) => s.key))}::text[], ${numberArray(hashed.map(({ s }) => s.lo!))}::float8[],
                        ${numberArray(hashed.map(({ s }) => scale(s)))}::float8[]) as s(i, run_id, key, lo, scale)
            cross join lateral (
              select least(${buckets - 1}, greatest(0, floor((${x} - s.lo) * s.scale)))::int as b, count(*) as n,
                     min(m.value) filter (where m.value <> 'NaN'::float8) as vmin,
                     max(m.value) filter (where m.value <> 'NaN'::float8) as vmax,
                     max(array[${x}::float8, ${tie}::float8, m.value]) as last
              from metrics m where m.run_id = s.run_id and m.key = s.key${rangeTest(x, rangeLo, rangeHi)}
              group by 1) g
            order by s.i, g.b`,
      )),
    );
  }
  for (const r of found) {
    const i = Number(r.i);
    const [lx, ltie, lvalue] = parseFloatArray(r.last);
    const point: SeriesPoint = {
      x: lx,
      step: axis === 'step' ? lx : ltie,
      timestamp: axis === 'step' ? ltie : lx,
      value: wireDouble(lvalue),
      // A bucket of NaN only has no min or max; it is drawn as NaN, like its value.
      min: r.vmin === null ? 'NaN' : wireDouble(Number(r.vmin)),
      max: r.vmax === null ? 'NaN' : wireDouble(Number(r.vmax)),
      count: Number(r.n),
    };
    let list = out.get(i);
    if (!list) out.set(i, (list = []));
    list.push(point);
  }
  return out;
}

/** Below this many steps per column on average, columns are mostly one or two points: hash them. */
const RANGED_MIN_STEPS_PER_BUCKET = 4;
/** Columns narrower than this many blocks are mostly edges: probe them as above. */
const BLOCKED_MIN_BLOCKS_PER_BUCKET = 4;

/**
 * The first integer step of column `b` under the bucket rule (floor((step - lo) * scale) >= b): the
 * quotient `lo + b / scale`, rounded up, then moved by one where float rounding put it on the wrong
 * side of the rule, so both ways of bucketing agree exactly.
 */
function firstStepOf(b: SQL): SQL {
  const guess = sql`ceil(s.lo + (${b}) / s.scale)::bigint`;
  return sql`(case when floor((${guess} - 1 - s.lo) * s.scale) >= ${b} then ${guess} - 1
                   when floor((${guess} - s.lo) * s.scale) < ${b} then ${guess} + 1
                   else ${guess} end)`;
}

/** Every point of the given series in range, in x order (each has at most `buckets` points). */
async function rawPoints(db: Orm, axis: XAxis, series: Series[], rangeLo: number | null, rangeHi: number | null): Promise<Map<number, SeriesPoint[]>> {
  const { x, tie } = AXES[axis];
  const found = await rows<{ i: number | string; step: number | string; timestamp: number | string; value: string }>(
    db,
    sql`select s.i, m.step, m.timestamp, m.value::text as value
        from unnest(${textArray(series.map((s) => s.runId))}::text[], ${textArray(series.map((s) => s.key))}::text[]) with ordinality as s(run_id, key, i)
        cross join lateral (select m.step, m.timestamp, m.value from metrics m
                            where m.run_id = s.run_id and m.key = s.key${rangeTest(x, rangeLo, rangeHi)}
                            order by ${x}, ${tie}, m.value offset 0) m
        order by s.i, m.${sql.raw(axis)}, m.${sql.raw(axis === 'step' ? 'timestamp' : 'step')}, m.value`,
  );
  const out = new Map<number, SeriesPoint[]>();
  for (const r of found) {
    const i = Number(r.i) - 1;
    const value = wireDouble(Number(r.value));
    const step = int64Out(r.step);
    const timestamp = int64Out(r.timestamp);
    const point: SeriesPoint = { x: Number(axis === 'step' ? r.step : r.timestamp), step, timestamp, value, min: value, max: value, count: 1 };
    let list = out.get(i);
    if (!list) out.set(i, (list = []));
    list.push(point);
  }
  return out;
}

/** `{1,2.5,NaN}` as Postgres prints a float8[]. */
function parseFloatArray(text: string): number[] {
  return text.slice(1, -1).split(',').map(Number);
}
