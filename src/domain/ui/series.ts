import { sql, type SQL } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam } from '../../errors.js';
import { int64Out, type Int64 } from '../../lib/int64.js';
import { wireDouble } from '../../lib/json-body.js';
import { numberArray, textArray } from '../../lib/pg-array.js';
import { withoutJit } from './no-jit.js';
import { requireRuns } from './runs-exist.js';

// Downsampled metric histories for charts. Each series' x range is cut into `buckets` columns of
// equal width (one per pixel column, as the chart asks); a column keeps its point count, the min and
// max of its values (so a single spike among a million points is still drawn) and its last point.
// One grouped query scans each history once through the metrics primary key; nothing is sorted.

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

  const series: Series[] = [];
  for (const runId of runIds) for (const key of keys) series.push({ runId, key, lo: input.x_min ?? null, hi: input.x_max ?? null });
  // Integer bounds for the range test, so the step axis stays an index range scan.
  const rangeLo = input.x_min === undefined ? null : Math.ceil(input.x_min);
  const rangeHi = input.x_max === undefined ? null : Math.floor(input.x_max);
  return withoutJit(deps, async (db) => {
    if (input.x_min === undefined || input.x_max === undefined) await fillOwnBounds(db, axis, series, rangeLo, rangeHi);

    const aggregated = await bucketed(db, axis, series, buckets, rangeLo, rangeHi);
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
): Promise<Map<number, SeriesPoint[]>> {
  const out = new Map<number, SeriesPoint[]>();
  const live = series.map((s, i) => ({ s, i })).filter(({ s }) => s.lo !== null && s.hi !== null);
  if (!live.length) return out;
  const { x, tie } = AXES[axis];
  // bucket = floor((x - lo) * buckets / (hi - lo)), the last column closed on the right; float8
  // arithmetic (numeric was 5x slower). The last point of a bucket is the greatest (x, tie, value)
  // array: a hash aggregate, where array_agg(... order by) would sort a million rows.
  const scales = live.map(({ s }) => (s.hi! > s.lo! ? buckets / (s.hi! - s.lo!) : 0));
  const found = await rows<BucketRow>(
    db,
    sql`select s.i, g.n, g.vmin::text as vmin, g.vmax::text as vmax, g.last::text as last
        from unnest(${numberArray(live.map(({ i }) => i))}::int[], ${textArray(live.map(({ s }) => s.runId))}::text[],
                    ${textArray(live.map(({ s }) => s.key))}::text[], ${numberArray(live.map(({ s }) => s.lo!))}::float8[],
                    ${numberArray(scales)}::float8[]) as s(i, run_id, key, lo, scale)
        cross join lateral (
          select least(${buckets - 1}, greatest(0, floor((${x} - s.lo) * s.scale)))::int as b, count(*) as n,
                 min(m.value) filter (where m.value <> 'NaN'::float8) as vmin,
                 max(m.value) filter (where m.value <> 'NaN'::float8) as vmax,
                 max(array[${x}::float8, ${tie}::float8, m.value]) as last
          from metrics m where m.run_id = s.run_id and m.key = s.key${rangeTest(x, rangeLo, rangeHi)}
          group by 1) g
        order by s.i, g.b`,
  );
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
