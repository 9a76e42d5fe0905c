import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import { invalidParam } from '../../errors.js';
import { numberArray } from '../../lib/pg-array.js';
import { flattenRow } from './flatten.js';
import { isPlainObject, parseWandbJson, parseWandbObject, stringifyWandbJson } from './json.js';
import type { WandbRunRow } from './run-store.js';

// What the public API reads back. History rows come back flattened ("nested.acc"), as W&B's
// backend serves them; the raw lines stay as the client wrote them.

const MAX_SAMPLES = 100_000;
/** Rows one sampledHistory spec may scan: it parses every line in the step range. */
const MAX_SCAN = 1_000_000;

/** Up to `samples` indices out of 0..count-1, evenly spaced, first and last included. */
export function sampleIndices(count: number, samples: number): number[] {
  const n = Math.max(0, Math.min(samples, count));
  if (n >= count) return Array.from({ length: count }, (_, i) => i);
  if (n === 1) return [count - 1];
  const out = new Set<number>();
  for (let i = 0; i < n; i++) out.add(Math.round((i * (count - 1)) / (n - 1)));
  return [...out];
}

const flatLine = (content: string) => stringifyWandbJson(flattenRow(parseWandbObject(content, 'history line')));

function clampSamples(samples: number | null | undefined, fallback: number): number {
  if (samples === null || samples === undefined) return fallback;
  if (!Number.isInteger(samples) || samples < 0) throw invalidParam(`Invalid samples ${samples}`);
  return Math.min(samples, MAX_SAMPLES);
}

/** `history(samples)`, or with a step range `history(minStep, maxStep, samples)` (maxStep exclusive). */
export async function readHistory(
  db: Orm,
  run: WandbRunRow,
  args: { samples?: number | null; minStep?: number | null; maxStep?: number | null },
): Promise<string[]> {
  const samples = clampSamples(args.samples, 500);
  if (args.minStep !== null && args.minStep !== undefined) {
    const found = await rows<{ content: string }>(
      db,
      sql`select content from wandb_history where run_id = ${run.run_id} and step >= ${args.minStep}
          ${args.maxStep === null || args.maxStep === undefined ? sql`` : sql`and step < ${args.maxStep}`}
          order by step, line_no limit ${samples}`,
    );
    return found.map((r) => flatLine(r.content));
  }
  const picks = sampleIndices(run.history_line_count, samples);
  const found = await rows<{ content: string }>(
    db,
    sql`select content from wandb_history where run_id = ${run.run_id} and line_no = any(${numberArray(picks)}::int[]) order by line_no`,
  );
  return found.map((r) => flatLine(r.content));
}

/** `events(samples)`: the system-metrics stream. */
export async function readEvents(db: Orm, run: WandbRunRow, samples: number | null | undefined): Promise<string[]> {
  const picks = sampleIndices(run.events_line_count, clampSamples(samples, 500));
  const found = await rows<{ content: string }>(
    db,
    sql`select content from wandb_lines where run_id = ${run.run_id} and stream = 'events' and line_no = any(${numberArray(picks)}::int[]) order by line_no`,
  );
  return found.map((r) => flatLine(r.content));
}

interface SampleSpec {
  keys: string[];
  samples: number;
  minStep?: number;
  maxStep?: number;
}

function parseSpec(text: string): SampleSpec | undefined {
  const spec = parseWandbJson(text, 'history spec');
  // `{}` asks for no history: the sweep agent and `wandb sweep --stop` send it with SweepWithRuns.
  if (isPlainObject(spec) && Object.keys(spec).length === 0) return undefined;
  if (!isPlainObject(spec) || !Array.isArray(spec.keys) || !spec.keys.every((k) => typeof k === 'string')) {
    throw invalidParam('A history spec needs "keys", a list of strings');
  }
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? Math.floor(v) : undefined);
  return { keys: spec.keys as string[], samples: clampSamples(num(spec.samples), 500), minStep: num(spec.minStep), maxStep: num(spec.maxStep) };
}

/**
 * `sampledHistory(specs)`: per spec, the rows (within minStep..maxStep, both inclusive) that have
 * every key, reduced to those keys and evenly sampled down to `samples`.
 */
export async function readSampledHistory(db: Orm, run: WandbRunRow, specs: string[]): Promise<Record<string, unknown>[][]> {
  const out: Record<string, unknown>[][] = [];
  for (const text of specs) {
    const spec = parseSpec(text);
    if (!spec) {
      out.push([]);
      continue;
    }
    const found = await rows<{ content: string }>(
      db,
      sql`select content from wandb_history where run_id = ${run.run_id}
          ${spec.minStep === undefined ? sql`` : sql`and step >= ${spec.minStep}`}
          ${spec.maxStep === undefined ? sql`` : sql`and step <= ${spec.maxStep}`}
          order by step, line_no limit ${MAX_SCAN}`,
    );
    const matching: Record<string, unknown>[] = [];
    for (const r of found) {
      const flat = flattenRow(parseWandbObject(r.content, 'history line'));
      if (!spec.keys.every((k) => k in flat)) continue;
      const picked: Record<string, unknown> = Object.create(null);
      for (const k of spec.keys) picked[k] = flat[k];
      matching.push(picked);
    }
    out.push(sampleIndices(matching.length, spec.samples).map((i) => matching[i]));
  }
  return out;
}

/** `historyKeys`: {lastStep, keys: {key: {typeCounts: [{type, count}]}}}. */
export function historyKeys(run: WandbRunRow): Record<string, unknown> {
  const stats = JSON.parse(run.history_keys) as Record<string, Record<string, number>>;
  const keys: Record<string, unknown> = {};
  for (const [key, types] of Object.entries(stats)) {
    keys[key] = { typeCounts: Object.entries(types).map(([type, count]) => ({ type, count })) };
  }
  return { lastStep: run.last_step ?? -1, keys };
}

/** The last line of a stream as the JSON list of JSON strings RunResumeStatus wants. */
export async function tail(db: Orm, run: WandbRunRow, stream: 'history' | 'events'): Promise<string> {
  const found = await rows<{ content: string }>(
    db,
    stream === 'history'
      ? sql`select content from wandb_history where run_id = ${run.run_id} order by line_no desc limit 1`
      : sql`select content from wandb_lines where run_id = ${run.run_id} and stream = 'events' order by line_no desc limit 1`,
  );
  return JSON.stringify(found.map((r) => r.content));
}

/** The latest system-metrics line, without its bookkeeping keys, for `systemMetrics`. */
export async function latestSystemMetrics(db: Orm, run: WandbRunRow): Promise<string> {
  const found = await rows<{ content: string }>(
    db,
    sql`select content from wandb_lines where run_id = ${run.run_id} and stream = 'events' order by line_no desc limit 1`,
  );
  if (!found.length) return '{}';
  const row = flattenRow(parseWandbObject(found[0].content, 'events line'));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) if (!k.startsWith('_')) out[k] = v;
  return stringifyWandbJson(out);
}
