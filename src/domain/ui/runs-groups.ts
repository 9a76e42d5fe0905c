import { sql, type SQL } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { invalidParam } from '../../errors.js';
import { wireDouble } from '../../lib/json-body.js';
import type { ViewType } from '../../lib/zod-wire.js';
import { textArray } from '../../lib/pg-array.js';
import { experimentIdOf } from '../ids.js';
import { runMatchCondition } from '../search/runs-sql.js';
import { withoutJit } from './no-jit.js';

export const GROUP_LIMITS = { metrics: 50, groups: 10_000 } as const;

export type GroupKind = 'param' | 'tag' | 'attribute';

/**
 * Run attributes a table can group by. W&B's group and job type are the run tags `wandb.group`
 * and `wandb.job_type` (src/domain/wandb/upsert.ts), so they are grouped with kind "tag".
 */
const GROUP_ATTRIBUTES: Readonly<Record<string, string>> = {
  status: 'r.status',
  user_id: 'r.user_id',
  run_name: 'r.name',
  experiment_id: 'r.experiment_id::text',
  lifecycle_stage: 'r.lifecycle_stage',
};

export interface GroupsInput {
  experiment_ids: string[];
  filter?: string;
  run_view_type?: ViewType;
  group_by: { kind: GroupKind; key: string };
  metrics?: string[];
}

type Agg = { min: number | string; max: number | string; mean: number | string };
export interface GroupWire {
  value: string | null;
  run_count: number;
  metrics: Record<string, Agg>;
}

function groupValue(by: GroupsInput['group_by']): SQL {
  if (by.kind === 'attribute') {
    const column = Object.hasOwn(GROUP_ATTRIBUTES, by.key) ? GROUP_ATTRIBUTES[by.key] : undefined;
    if (!column) throw invalidParam(`Invalid group_by attribute '${by.key}': one of ${Object.keys(GROUP_ATTRIBUTES).join(', ')}`);
    return sql.raw(column);
  }
  return sql`g.value`;
}

// A param or tag is joined (one row per run at most: (run_id, key) is the key); a correlated
// subquery per run was planned as 100,000 probes and costed high enough to be JIT-compiled.
function groupJoin(by: GroupsInput['group_by']): SQL {
  if (by.kind === 'attribute') return sql``;
  const table = sql.raw(by.kind === 'param' ? 'params' : 'run_tags');
  return sql` left join ${table} g on g.run_id = r.run_id and g.key = ${by.key}`;
}

/**
 * The runs matching a search, grouped by a param, tag or attribute value (runs without it form the
 * null group), each group with its run count and the min, max and mean of each asked-for metric's
 * latest value over its runs (NaN values left out; a group whose values are all NaN gets NaN).
 */
export async function runGroups(deps: Deps, input: GroupsInput): Promise<{ groups: GroupWire[]; truncated: boolean }> {
  const where = runMatchCondition({
    experimentIds: input.experiment_ids.map(experimentIdOf),
    filter: input.filter,
    runViewType: input.run_view_type ?? 'ACTIVE_ONLY',
  });
  const value = groupValue(input.group_by);
  const metrics = [...new Set(input.metrics ?? [])];
  type Row = { part: number; gv: string | null; key: string | null; n: number | string; vmin: string | null; vmax: string | null; vmean: string | null };
  const found = await withoutJit(deps, (db) =>
    rows<Row>(
      db,
      sql`with m as materialized (select r.run_id, ${value} as gv from runs r${groupJoin(input.group_by)} where ${where}),
               g as (select gv, count(*) as n from m group by gv order by gv collate "C" nulls last limit ${GROUP_LIMITS.groups + 1})
          select * from (
          select 0 as part, g.gv, null::text as key, g.n, null::text as vmin, null::text as vmax, null::text as vmean from g
          union all
          select 1, m.gv, lm.key, count(*),
                 min(lm.value) filter (where lm.value <> 'NaN'::float8)::text, max(lm.value) filter (where lm.value <> 'NaN'::float8)::text,
                 avg(lm.value) filter (where lm.value <> 'NaN'::float8)::text
          from m join latest_metrics lm on lm.run_id = m.run_id and lm.key = any(${textArray(metrics)}::text[])
          group by m.gv, lm.key) u
          order by part, gv collate "C" nulls last, key`,
    ),
  );
  const groups: GroupWire[] = [];
  const byValue = new Map<string | null, GroupWire>();
  for (const r of found) {
    if (r.part === 0 || String(r.part) === '0') {
      const g: GroupWire = { value: r.gv, run_count: Number(r.n), metrics: Object.create(null) as Record<string, Agg> };
      groups.push(g);
      byValue.set(r.gv, g);
      continue;
    }
    const g = byValue.get(r.gv);
    if (!g || r.key === null) continue;
    const agg = (v: string | null) => (v === null ? 'NaN' : wireDouble(Number(v)));
    g.metrics[r.key] = { min: agg(r.vmin), max: agg(r.vmax), mean: agg(r.vmean) };
  }
  const truncated = groups.length > GROUP_LIMITS.groups;
  return { groups: groups.slice(0, GROUP_LIMITS.groups), truncated };
}
