import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';
import { invalidParam, notFound } from '../../errors.js';
import { flattenRow } from './flatten.js';
import { isPlainObject, parseWandbObject } from './json.js';
import type { Observation } from './sweeps-bayes.js';
import type { SweepConfig } from './sweeps-config.js';
import { pointKey } from './sweeps-grid.js';
import type { Suggestion } from './sweeps-sampling.js';
import { signed } from './sweeps-search.js';

// Prior runs: `wandb.sweep(config, prior_runs=[...])` / `wandb sweep --prior_run ID` attach runs
// that already exist to a new sweep. They become the sweep's runs (MLflow nests them under its
// parent run), bayes learns from their metric, and grid skips their points.

/** The run ids in the filter the client sends: `{"$or": [{"name": id}, ...]}`. */
export function priorRunNames(filters: string | null | undefined): string[] {
  if (!filters) return [];
  let doc: unknown;
  try {
    doc = JSON.parse(filters);
  } catch {
    throw invalidParam('Invalid priorRunsFilters: not JSON');
  }
  const list = isPlainObject(doc) ? doc.$or : undefined;
  if (!Array.isArray(list) || !list.every((f) => isPlainObject(f) && typeof f.name === 'string' && Object.keys(f).length === 1)) {
    throw invalidParam('Invalid priorRunsFilters: expected {"$or": [{"name": run id}, ...]}');
  }
  return [...new Set(list.map((f) => (f as { name: string }).name))];
}

/** The MLflow run ids of the prior runs, refusing the sweep when one is not in its project. */
export async function findPriorRuns(db: Orm, experimentId: number | undefined, project: string, names: string[]): Promise<string[]> {
  if (!names.length) return [];
  const found =
    experimentId === undefined
      ? []
      : await rows<{ name: string; run_id: string }>(
          db,
          sql`select w.name, w.run_id from wandb_runs w join runs r on r.run_id = w.run_id
              where w.experiment_id = ${experimentId} and r.lifecycle_stage = 'active' and w.name in (${sql.join(names.map((n) => sql`${n}`), sql`, `)})`,
        );
  const missing = names.filter((n) => !found.some((f) => f.name === n));
  if (missing.length) throw notFound(`Prior run ${missing.join(', ')} not found in project ${project}: a sweep's prior runs must be in its project`);
  return found.map((f) => f.run_id);
}

/** Makes the runs part of the sweep, in W&B and in MLflow (nested under the sweep's run). */
export async function attachPriorRuns(tx: Orm, sweep: string, parentRunId: string | undefined, runIds: string[]): Promise<void> {
  for (const runId of runIds) {
    await tx.execute(sql`update wandb_runs set sweep = ${sweep} where run_id = ${runId}`);
    const tags = [['wandb.sweep_id', sweep], ...(parentRunId ? [['mlflow.parentRunId', parentRunId]] : [])];
    for (const [key, value] of tags) {
      await tx.execute(sql`insert into run_tags (run_id, key, value) values (${runId}, ${key}, ${value})
        on conflict (run_id, key) do update set value = excluded.value`);
    }
  }
}

/**
 * What the search learns from the sweep's runs that no agent of it started (its prior runs): a
 * finished run's parameters with its metric, and the grid points they already cover.
 */
export async function priorObservations(
  db: Orm,
  sweep: { name: string; experiment_id: number },
  config: SweepConfig,
): Promise<{ observations: Observation[]; gridKeys: string[] }> {
  const found = await rows<{ config: string; summary: string; state: string }>(
    db,
    sql`select w.config, w.summary, w.state from wandb_runs w join runs r on r.run_id = w.run_id
        where w.experiment_id = ${sweep.experiment_id} and w.sweep = ${sweep.name} and r.lifecycle_stage = 'active'
          and not exists (select 1 from wandb_sweep_trials t where t.sweep = w.sweep and t.run_name = w.name)`,
  );
  const observations: Observation[] = [];
  const gridKeys: string[] = [];
  for (const run of found) {
    const suggestion = runSuggestion(parseWandbObject(run.config, 'config'), config);
    if (!suggestion) continue;
    gridKeys.push(pointKey(suggestion));
    const y = config.metric ? flattenRow(parseWandbObject(run.summary, 'summary'))[config.metric.name] : undefined;
    if (run.state === 'finished' && typeof y === 'number' && Number.isFinite(y)) observations.push({ suggestion, y: signed(config, y) });
  }
  return { observations, gridKeys };
}

/** The run's value of each sweep parameter (`{name: {value}}` in its config); undefined if one is missing. */
function runSuggestion(runConfig: Record<string, unknown>, config: SweepConfig): Suggestion | undefined {
  const out: Suggestion = {};
  for (const name of Object.keys(config.parameters)) {
    const entry = runConfig[name];
    if (!isPlainObject(entry) || !('value' in entry)) return undefined;
    out[name] = entry.value;
  }
  return out;
}
