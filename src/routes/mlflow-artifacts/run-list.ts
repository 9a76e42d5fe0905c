import { z } from '@hono/zod-openapi';
import { listRunArtifacts } from '../../domain/artifacts-runs.js';
import { defineRoute, type Router } from '../define.js';
import { withRunId } from '../mlflow/run-id.js';
import { fileInfo } from './proxy.js';
import { tag } from './paths.js';

/** The tracking-side listing the UI uses: paths relative to the run's artifact root. */
export function runArtifactRoutes(r: Router): void {
  defineRoute(r, {
    method: 'get', path: '/mlflow/artifacts/list', access: 'experiment:read', tag, summary: "List one folder of a run's artifacts",
    input: withRunId({ path: z.string().optional(), page_token: z.string().optional() }),
    output: z.object({ root_uri: z.string(), files: z.array(fileInfo).optional(), next_page_token: z.string().optional() }),
    handle: (deps, input) => listRunArtifacts(deps, input),
  });
}
