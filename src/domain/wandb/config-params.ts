import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { MlflowError } from '../../errors.js';
import { logBatch } from '../run-logging.js';
import { LIMITS, truncate, validateKey } from '../validation.js';
import { flattenRow, paramValue, unwrapConfig } from './flatten.js';

/** True when MLflow accepts the key for a param, tag or metric. */
export function isValidMlflowKey(kind: 'Metric' | 'Param' | 'Tag', key: string): boolean {
  try {
    validateKey(kind, key);
    return true;
  } catch (err) {
    if (err instanceof MlflowError) return false;
    throw err;
  }
}

/**
 * Mirrors a W&B config into MLflow params: nested keys flattened with '.', `_wandb` left out,
 * values as strings (cut at MLflow's limit; the full config stays in wandb_runs.config and is what
 * the wandb client reads back). MLflow params never change, W&B config may: a changed value
 * replaces the param, so the MLflow view shows the config the run ended with. Keys MLflow refuses
 * (characters outside its set) are left out of the params.
 */
export async function syncConfigParams(deps: Deps, runId: string, config: Record<string, unknown>): Promise<void> {
  const flat = flattenRow(unwrapConfig(config));
  const wanted = new Map<string, string>();
  for (const [key, value] of Object.entries(flat)) {
    if (isValidMlflowKey('Param', key)) wanted.set(key, truncate(paramValue(value), LIMITS.paramValueLength));
  }
  if (!wanted.size) return;
  const current = new Map(
    (await rows<{ key: string; value: string }>(deps.db, sql`select key, value from params where run_id = ${runId}`)).map((p) => [p.key, p.value]),
  );
  const added: { key: string; value: string }[] = [];
  for (const [key, value] of wanted) {
    const old = current.get(key);
    if (old === undefined) added.push({ key, value });
    else if (old !== value) await deps.db.execute(sql`update params set value = ${value} where run_id = ${runId} and key = ${key}`);
  }
  for (let i = 0; i < added.length; i += LIMITS.batchParams) {
    await logBatch(deps, runId, { params: added.slice(i, i + LIMITS.batchParams) });
  }
}
