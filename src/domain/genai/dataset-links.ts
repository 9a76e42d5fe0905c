import { sql } from 'drizzle-orm';
import { rows, type Orm } from '../../db/connect.js';

/** The experiments each dataset is linked to (the access check's resources). */
export async function linkedExperimentsOf(db: Orm, datasetIds: string[]): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  if (!datasetIds.length) return out;
  const found = await rows<{ dataset_id: string; experiment_id: string | number }>(
    db,
    sql`select dataset_id, experiment_id from evaluation_dataset_experiments where dataset_id in (${sql.join(datasetIds.map((d) => sql`${d}`), sql`, `)})`,
  );
  for (const r of found) out.set(r.dataset_id, [...(out.get(r.dataset_id) ?? []), Number(r.experiment_id)]);
  return out;
}
