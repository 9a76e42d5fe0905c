import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam } from '../../errors.js';
import { textArray } from '../../lib/pg-array.js';
import { experimentIdOf } from '../ids.js';
import { traceCorrelationQuery } from '../search/traces-sql.js';
import { lockTrace } from './read.js';
import { checkTraceId } from './wire.js';

/** The most prompt versions one LinkPromptsToTrace may name (the client sends the few a trace loaded). */
export const MAX_PROMPT_LINKS = 100;

/**
 * LinkPromptsToTrace: records the prompt versions a trace used, as `name/version`, once each (the
 * client retries). Neither the prompt nor the version need exist, as in MLflow: the client sends the
 * names it loaded, and only the trace is checked.
 */
export async function linkPromptsToTrace(deps: Deps, traceId: string, refs: { name?: string; version?: string }[]): Promise<void> {
  checkTraceId(traceId);
  if (refs.length > MAX_PROMPT_LINKS) throw invalidParam(`prompt_versions may name at most ${MAX_PROMPT_LINKS} versions, got ${refs.length}`);
  const prompts = refs.map((r, i) => {
    if (!r.name || !r.version) throw invalidParam(`prompt_versions[${i}] needs a name and a version`);
    if (r.name.includes('/')) throw invalidParam(`Invalid prompt name '${r.name.slice(0, 200)}': it may not contain '/'`);
    return `${r.name}/${r.version}`;
  });
  if (!prompts.length) return;
  await deps.db.transaction(async (tx) => {
    await lockTrace(tx, traceId);
    await tx.execute(sql`insert into trace_prompt_links (trace_id, prompt)
      select ${traceId}, p from unnest(${textArray([...new Set(prompts)])}::text[]) p on conflict do nothing`);
  });
}

export interface FilterCorrelation {
  npmi?: number;
  npmi_smoothed?: number;
  filter1_count: number;
  filter2_count: number;
  joint_count: number;
  total_count: number;
}

/**
 * CalculateTraceFilterCorrelation: how strongly two search_traces filters co-occur among the traces
 * of some experiments (those matching `base_filter` when given), as normalized pointwise mutual
 * information. An undefined value is left out, as MLflow does (its client reads a missing `npmi` as NaN).
 */
export async function traceFilterCorrelation(
  deps: Deps,
  input: { experiment_ids: string[]; filter_string1: string; filter_string2: string; base_filter?: string },
): Promise<FilterCorrelation> {
  if (!input.experiment_ids.length) throw invalidParam("Missing value for required parameter 'experiment_ids'.");
  const experimentIds = input.experiment_ids.map(experimentIdOf);
  const query = traceCorrelationQuery({ experimentIds, filter1: input.filter_string1, filter2: input.filter_string2, baseFilter: input.base_filter });
  const [c] = await rows<{ total: string; f1: string; f2: string; joint: string }>(deps.db, query);
  const counts = { total: Number(c.total), f1: Number(c.f1), f2: Number(c.f2), joint: Number(c.joint) };
  const { npmi, smoothed } = npmiOf(counts);
  return {
    ...(Number.isNaN(npmi) ? {} : { npmi }),
    ...(Number.isNaN(smoothed) ? {} : { npmi_smoothed: smoothed }),
    filter1_count: counts.f1,
    filter2_count: counts.f2,
    joint_count: counts.joint,
    total_count: counts.total,
  };
}

// Jeffreys prior: half a count added to each cell of the 2x2 table for the smoothed value.
const SMOOTHING = 0.5;

/**
 * NPMI of the 2x2 table, unsmoothed and smoothed. Undefined (NaN) without a population or when either
 * filter matches nothing; two filters that never co-occur are -1 unsmoothed, and two that always
 * co-occur (and cover everything) are 1.
 */
export function npmiOf(c: { total: number; f1: number; f2: number; joint: number }): { npmi: number; smoothed: number } {
  const cells = { both: c.joint, only1: c.f1 - c.joint, only2: c.f2 - c.joint, neither: c.total - c.f1 - c.f2 + c.joint };
  if (c.total <= 0 || c.f1 === 0 || c.f2 === 0 || Object.values(cells).some((n) => n < 0)) return { npmi: NaN, smoothed: NaN };
  return { npmi: c.joint === 0 ? -1 : npmiOfCells(cells, 0), smoothed: npmiOfCells(cells, SMOOTHING) };
}

function npmiOfCells(cells: { both: number; only1: number; only2: number; neither: number }, add: number): number {
  const both = cells.both + add;
  const n = both + cells.only1 + add + cells.only2 + add + cells.neither + add;
  const n1 = both + cells.only1 + add;
  const n2 = both + cells.only2 + add;
  if (n1 <= 0 || n2 <= 0 || both <= 0) return NaN;
  if (cells.only1 === 0 && cells.only2 === 0 && cells.neither === 0) return 1;
  // pmi = log(P(x,y) / (P(x) P(y))), normalised by -log P(x,y) into [-1, 1].
  const pmi = Math.log(both) + Math.log(n) - Math.log(n1) - Math.log(n2);
  const value = pmi / -(Math.log(both) - Math.log(n));
  return Math.max(-1, Math.min(1, value));
}
