import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../db/connect.js';
import type { Deps } from '../deps.js';
import { invalidParam, notFound } from '../errors.js';
import { int64Out, isInt64Text, type Int64 } from '../lib/int64.js';
import { wireDouble } from '../lib/json-body.js';
import { textArray } from '../lib/pg-array.js';
import { checkRunId } from './ids.js';
import { LIMITS } from './validation.js';

export interface MetricWire {
  key: string;
  value: number | string;
  timestamp: Int64;
  step: Int64;
  run_id?: string;
  model_id?: string;
  dataset_name?: string;
  dataset_digest?: string;
}

interface MetricRow {
  key: string;
  value: number | string;
  timestamp: number | string | bigint;
  step: number | string | bigint;
  model_id: string | null;
  dataset_name: string | null;
  dataset_digest: string | null;
  run_id?: string;
}

interface Cursor {
  s: Int64;
  t: Int64;
  v: number | string;
}

// Keyset cursor over the primary key (run_id, key, step, timestamp, value): every page is an index
// range scan, however deep into a million-point history it starts.
function encodeCursor(row: MetricRow): string {
  return Buffer.from(JSON.stringify(cursorAfter(row))).toString('base64url');
}

function cursorAfter(row: MetricRow): Cursor {
  return { s: int64Out(row.step), t: int64Out(row.timestamp), v: wireValue(row.value) };
}

function decodeCursor(token: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Cursor;
    if (isInt64Text(String(c.s)) && isInt64Text(String(c.t)) && (typeof c.v === 'number' || ['NaN', 'Infinity', '-Infinity'].includes(c.v as string))) return c;
  } catch {
    // fall through to the error below
  }
  throw invalidParam(`Invalid page token: ${token.slice(0, 100)}`);
}

const wireValue = (v: number | string) => (typeof v === 'number' ? wireDouble(v) : v);

export function toMetricWire(r: MetricRow): MetricWire {
  const m: MetricWire = { key: r.key, value: wireValue(r.value), timestamp: int64Out(r.timestamp), step: int64Out(r.step) };
  if (r.run_id) m.run_id = r.run_id;
  if (r.model_id) m.model_id = r.model_id;
  if (r.dataset_name) m.dataset_name = r.dataset_name;
  if (r.dataset_digest) m.dataset_digest = r.dataset_digest;
  return m;
}

async function requireRun(db: Orm, runId: string): Promise<void> {
  checkRunId(runId);
  const found = await rows(db, sql`select 1 from runs where run_id = ${runId}`);
  if (!found.length) throw notFound(`Run with id=${runId} not found`);
}

export async function metricHistoryPage(db: Orm, runId: string, key: string, limit: number, after?: Cursor): Promise<MetricRow[]> {
  // value::text keeps NaN/Infinity exact in the cursor; the row comparison mirrors the primary key order.
  const from = after
    ? sql`and (step, timestamp, value) > (${after.s}::bigint, ${after.t}::bigint, ${String(after.v)}::float8)`
    : sql``;
  return rows<MetricRow>(
    db,
    sql`select key, value, timestamp, step, model_id, dataset_name, dataset_digest from metrics
        where run_id = ${runId} and key = ${key} ${from}
        order by step, timestamp, value limit ${limit}`,
  );
}

export async function getMetricHistory(
  deps: Deps,
  input: { run_id: string; metric_key: string; max_results?: number; page_token?: string },
): Promise<{ metrics?: MetricWire[]; next_page_token?: string }> {
  await requireRun(deps.db, input.run_id);
  const limit = input.max_results ?? LIMITS.historyPageSize;
  if (limit <= 0 || limit > LIMITS.historyPageSize) {
    throw invalidParam(`Invalid value ${limit} for parameter 'max_results' supplied. It must be between 1 and ${LIMITS.historyPageSize}.`);
  }
  const page = await metricHistoryPage(deps.db, input.run_id, input.metric_key, limit + 1, input.page_token ? decodeCursor(input.page_token) : undefined);
  const more = page.length > limit;
  const metrics = page.slice(0, limit);
  const out: { metrics?: MetricWire[]; next_page_token?: string } = metrics.length ? { metrics: metrics.map(toMetricWire) } : {};
  if (more) out.next_page_token = encodeCursor(metrics[metrics.length - 1]);
  return out;
}

/** The whole history as JSON text chunks, one page at a time, for callers that ask for no page size. */
export async function* streamMetricHistory(deps: Deps, runId: string, key: string): AsyncGenerator<string> {
  await requireRun(deps.db, runId);
  let after: Cursor | undefined;
  let first = true;
  for (;;) {
    const page = await metricHistoryPage(deps.db, runId, key, 10_000, after);
    if (!page.length) break;
    // An empty history is `{}`, as MLflow writes an empty repeated field (absent).
    let chunk = first ? '{"metrics":[' : '';
    for (const row of page) {
      chunk += (first ? '' : ',') + JSON.stringify(toMetricWire(row));
      first = false;
    }
    yield chunk;
    after = cursorAfter(page[page.length - 1]);
    if (page.length < 10_000) break;
  }
  yield first ? '{}' : ']}';
}

/** Up to `max_results` evenly spaced steps per run in [start_step, end_step], first and last included (UI charts). */
export async function getMetricHistoryBulkInterval(
  deps: Deps,
  input: { run_ids: string[]; metric_key: string; start_step?: number; end_step?: number; max_results?: number },
): Promise<{ metrics: MetricWire[] }> {
  if (!input.run_ids.length) throw invalidParam('GetMetricHistoryBulkInterval request must specify at least one run_id.');
  if (input.run_ids.length > 100) throw invalidParam(`GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received ${input.run_ids.length} run_ids. See the API docs for more information about request parameters.`);
  input.run_ids.forEach(checkRunId);
  const maxResults = input.max_results ?? 2500;
  if (maxResults <= 0 || maxResults > LIMITS.historyPageSize) {
    throw invalidParam(`max_results must be between 1 and ${LIMITS.historyPageSize}, got ${maxResults}.`);
  }
  if ((input.start_step === undefined) !== (input.end_step === undefined)) {
    throw invalidParam('If either start step or end step are specified, both must be specified.');
  }
  if (input.start_step !== undefined && input.end_step !== undefined && input.start_step > input.end_step) {
    throw invalidParam('end_step must be greater than start_step.');
  }
  const range = input.start_step !== undefined ? sql`and step between ${input.start_step} and ${input.end_step}` : sql``;
  // Both queries walk the primary key run by run (LATERAL, fenced with OFFSET 0): with a metrics
  // table of millions of rows and statistics a little behind, a planner free to choose once turned
  // the 32,000 (run, step) probes into a scan of the whole table per probe.
  const steps = await rows<{ run_id: string; steps: (number | string | bigint)[] }>(
    deps.db,
    sql`select r.id as run_id, s.steps from unnest(${textArray(input.run_ids)}::text[]) as r(id)
        cross join lateral (select array_agg(distinct step order by step) as steps from metrics
                            where run_id = r.id and key = ${input.metric_key} ${range} offset 0) s
        where s.steps is not null`,
  );
  const wanted: string[] = [];
  const wantedSteps: Int64[] = [];
  for (const s of steps) {
    for (const step of sampleEvenly(s.steps.map(int64Out), maxResults)) {
      wanted.push(s.run_id);
      wantedSteps.push(step);
    }
  }
  if (!wanted.length) return { metrics: [] };
  const found = await rows<MetricRow>(
    deps.db,
    sql`select m.run_id, m.key, m.value, m.timestamp, m.step, m.model_id, m.dataset_name, m.dataset_digest
        from unnest(${textArray(wanted)}::text[], ${'{' + wantedSteps.join(',') + '}'}::bigint[]) as w(run_id, step)
        cross join lateral (select * from metrics m where m.run_id = w.run_id and m.key = ${input.metric_key} and m.step = w.step offset 0) m
        order by m.run_id, m.step, m.timestamp`,
  );
  const order = new Map(input.run_ids.map((id, i) => [id, i]));
  found.sort((a, b) => order.get(a.run_id!)! - order.get(b.run_id!)!);
  return { metrics: found.map(toMetricWire) };
}

// Picks positions, not values, so int64 steps beyond 2^53 (strings) sample exactly too.
function sampleEvenly<T>(sortedSteps: T[], max: number): T[] {
  if (sortedSteps.length <= max) return sortedSteps;
  const positions = new Set<number>();
  const stride = (sortedSteps.length - 1) / (max - 1 || 1);
  for (let i = 0; i < max; i++) positions.add(Math.round(i * stride));
  positions.add(sortedSteps.length - 1);
  return [...positions].sort((a, b) => a - b).map((i) => sortedSteps[i]);
}
