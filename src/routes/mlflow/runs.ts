import { z } from '@hono/zod-openapi';
import { readableExperimentIds } from '../../auth/filters.js';
import { actorOf } from '../../auth/policy.js';
import { recordActivity } from '../../domain/activity.js';
import { loadRun } from '../../domain/run-read.js';
import { createRun, setRunLifecycle, updateRun } from '../../domain/runs.js';
import { searchRunsBody } from '../../domain/search-runs.js';
import { jsonPieces } from '../../http/json-pieces.js';
import { exactInt64, int64, keyValue, repeated, viewType } from '../../lib/zod-wire.js';
import { defineRoute, type Router } from '../define.js';
import { withRunId } from './run-id.js';
import { empty, runInfoOut, runOut, searchRunsInput } from './schemas.js';

const tag = 'Runs';

export function runRoutes(r: Router): void {
  defineRoute(r, {
    method: 'post', path: '/mlflow/runs/create', access: 'experiment:edit', tag, summary: 'Create a run',
    input: z.object({
      experiment_id: z.string().optional(),
      user_id: z.string().optional(),
      run_name: z.string().optional(),
      start_time: exactInt64.optional(),
      tags: z.array(keyValue).optional(),
    }),
    output: z.object({ run: runOut }),
    handle: async (deps, input, c) => {
      const runId = await createRun(deps, input);
      const creator = actorOf(c) ?? input.user_id ?? input.tags?.find((t) => t.key === 'mlflow.user')?.value;
      await recordActivity(deps.db, runId, ['created'], creator, deps.now());
      // A new run has no outputs section in MLflow's answer (runs/get has one).
      const { outputs: _outputs, ...run } = await loadRun(deps.db, runId);
      return { run };
    },
  });
  defineRoute(r, {
    method: 'get', path: '/mlflow/runs/get', access: 'experiment:read', tag, summary: 'Get a run with its latest metrics, params, tags, inputs and outputs',
    input: withRunId({}),
    output: z.object({ run: runOut }),
    handle: async (deps, input) => ({ run: await loadRun(deps.db, input.run_id) }),
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/runs/update', access: 'experiment:edit', tag, summary: 'Update status, end time or name of a run',
    input: withRunId({ status: z.string().optional(), end_time: exactInt64.optional(), run_name: z.string().optional() }),
    output: z.object({ run_info: runInfoOut }),
    handle: async (deps, input) => ({ run_info: await updateRun(deps, input) }),
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/runs/delete', access: 'experiment:manage', tag, summary: 'Delete a run (restorable)',
    input: withRunId({}), output: empty,
    handle: async (deps, input, c) => {
      await setRunLifecycle(deps, input.run_id, 'deleted');
      await recordActivity(deps.db, input.run_id, ['stage'], actorOf(c), deps.now(), 'deleted');
    },
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/runs/restore', access: 'experiment:manage', tag, summary: 'Restore a deleted run',
    input: withRunId({}), output: empty,
    handle: async (deps, input, c) => {
      await setRunLifecycle(deps, input.run_id, 'active');
      await recordActivity(deps.db, input.run_id, ['stage'], actorOf(c), deps.now(), 'restored');
    },
  });
  defineRoute(r, {
    method: 'post', path: '/mlflow/runs/search', access: 'authenticated', tag, summary: 'Search runs with the MLflow filter grammar',
    input: searchRunsInput,
    output: z.object({ runs: z.array(runOut).optional(), next_page_token: z.string().optional() }),
    // The answer's text is written by the domain: most of its runs are kept as JSON (run-cache.ts).
    handle: async (deps, input, c) => {
      const json = (pieces: string[]) => jsonPieces(c, pieces);
      if (!input.experiment_ids) return json(await searchRunsBody(deps, input));
      const ids = await readableExperimentIds(deps, c, input.experiment_ids);
      return ids.length || !input.experiment_ids.length ? json(await searchRunsBody(deps, { ...input, experiment_ids: ids })) : {};
    },
  });
}
