import { z } from '@hono/zod-openapi';
import type { Deps } from '../../deps.js';
import { searchDatasetSummaries } from '../../domain/dataset-summaries.js';
import { getExperiment } from '../../domain/experiments.js';
import { getMetricHistoryBulkInterval } from '../../domain/metric-history.js';
import { listRunArtifacts } from '../../domain/artifacts-runs.js';
import { loadRun, type RunWire } from '../../domain/run-read.js';
import { searchRuns } from '../../domain/search-runs.js';
import { searchModelVersions } from '../../domain/registry/search.js';
import { int64, repeated, viewType } from '../../lib/zod-wire.js';
import { parseInput } from '../define.js';
import { withRunId } from '../mlflow/run-id.js';
import { searchRunsInput } from '../mlflow/schemas.js';

export interface MlflowGqlContext {
  deps: Deps;
}

type Args = { input?: Record<string, unknown> | null };
type Resolver = (source: unknown, args: Args & Record<string, unknown>, ctx: MlflowGqlContext) => unknown;

// The GraphQL inputs are the REST messages in camelCase: turned back into the wire's snake_case
// (nulls dropped), they go through the same validation as the REST call would.
function wireInput<S extends z.ZodType>(schema: S, input: Record<string, unknown> | null | undefined): z.output<S> {
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input ?? {})) {
    if (v !== null && v !== undefined) raw[snakeCase(k)] = Array.isArray(v) ? v.filter((x) => x !== null) : v;
  }
  return parseInput(schema, raw);
}

export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);
}

const getExperimentInput = z.object({ experiment_id: z.string().min(1) });
const bulkIntervalInput = z.object({
  run_ids: repeated(z.string()).default([]),
  metric_key: z.string().min(1),
  start_step: int64.optional(),
  end_step: int64.optional(),
  max_results: int64.optional(),
});
const listArtifactsInput = withRunId({ path: z.string().optional(), page_token: z.string().optional() });
const searchVersionsInput = z.object({
  filter: z.string().optional(),
  max_results: int64.optional(),
  order_by: repeated(z.string()).optional(),
  page_token: z.string().optional(),
});
const searchDatasetsInput = z.object({ experiment_ids: repeated(z.string()).default([]) });

const runSearch: Resolver = (_s, { input }, { deps }) => searchRuns(deps, wireInput(searchRunsInput, input));

export const mlflowResolvers: Record<string, Record<string, Resolver>> = {
  Query: {
    mlflowGetExperiment: async (_s, { input }, { deps }) => ({
      experiment: await getExperiment(deps, wireInput(getExperimentInput, input).experiment_id),
    }),
    // MLflow's server reads max_results, start_step and end_step of this call from the HTTP query
    // string, which a GraphQL POST does not have: the input's values are ignored and every run
    // gets the default sample size over its whole range. The UI is built against that.
    mlflowGetMetricHistoryBulkInterval: (_s, { input }, { deps }) => {
      const { run_ids, metric_key } = wireInput(bulkIntervalInput, input);
      return getMetricHistoryBulkInterval(deps, { run_ids, metric_key });
    },
    mlflowGetRun: async (_s, { input }, { deps }) => ({ run: await loadRun(deps.db, wireInput(withRunId({}), input).run_id) }),
    mlflowListArtifacts: (_s, { input }, { deps }) => listRunArtifacts(deps, wireInput(listArtifactsInput, input)),
    mlflowSearchModelVersions: (_s, { input }, { deps }) => searchModelVersions(deps, wireInput(searchVersionsInput, input)),
    mlflowSearchRuns: runSearch,
    test: (_s, args) => ({ output: args.inputString }),
  },
  Mutation: {
    mlflowSearchRuns: runSearch,
    mlflowSearchDatasets: (_s, { input }, { deps }) => searchDatasetSummaries(deps, wireInput(searchDatasetsInput, input).experiment_ids),
    testMutation: (_s, args) => ({ output: args.inputString }),
  },
  MlflowRunExtension: {
    experiment: (run, _a, { deps }) => getExperiment(deps, (run as RunWire).info.experiment_id),
    modelVersions: async (run, _a, { deps }) =>
      (await searchModelVersions(deps, { filter: `run_id='${(run as RunWire).info.run_id}'` })).model_versions ?? [],
  },
};
