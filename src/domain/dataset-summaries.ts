import { sql } from 'drizzle-orm';
import { rows } from '../db/connect.js';
import type { Deps } from '../deps.js';
import { invalidParam } from '../errors.js';

export interface DatasetSummaryWire {
  experiment_id: string;
  name: string;
  digest: string;
  context?: string;
}

// MLflow's limits for `experiments/search-datasets` (the UI's dataset filter in the runs table).
const MAX_EXPERIMENT_IDS = 20;
const MAX_SUMMARIES = 1000;

/** Distinct (experiment, dataset name, digest, context) of the datasets logged as run inputs. */
export async function searchDatasetSummaries(deps: Deps, experimentIds: string[]): Promise<{ dataset_summaries?: DatasetSummaryWire[] }> {
  if (!experimentIds.length) throw invalidParam('SearchDatasets request must specify at least one experiment_id.');
  if (experimentIds.length > MAX_EXPERIMENT_IDS) {
    throw invalidParam(
      `SearchDatasets request cannot specify more than ${MAX_EXPERIMENT_IDS} experiment_ids. Received ${experimentIds.length} experiment_ids.`,
    );
  }
  // Ids that are not numbers name no experiment: MLflow answers an empty list for them too.
  const ids = experimentIds.filter((id) => /^\d{1,15}$/.test(id)).map(Number);
  if (!ids.length) return {};
  const found = await rows<{ experiment_id: number | string; name: string; digest: string; context: string | null }>(
    deps.db,
    sql`select distinct d.experiment_id, d.name, d.digest, i.context
          from datasets d join run_dataset_inputs i on i.dataset_id = d.dataset_id
         where d.experiment_id in (${sql.join(ids.map((id) => sql`${id}`), sql`, `)})
         order by d.experiment_id, d.name, d.digest, i.context
         limit ${MAX_SUMMARIES}`,
  );
  if (!found.length) return {};
  return {
    dataset_summaries: found.map((r) => ({
      experiment_id: String(r.experiment_id),
      name: r.name,
      digest: r.digest,
      ...(r.context === null ? {} : { context: r.context }),
    })),
  };
}
