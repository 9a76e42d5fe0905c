import { z } from '@hono/zod-openapi';
import { readablePredicate } from '../../auth/grants.js';
import { principalOf } from '../../auth/policy.js';
import { isUnrestricted } from '../../auth/principal.js';
import { deleteScorer, getScorer, listScorersCall, listScorerVersions, registerScorer } from '../../domain/genai/scorers.js';
import { MlflowError } from '../../errors.js';
import { int64, repeated, requiredString } from '../../lib/zod-wire.js';
import { defineRoute, type Router } from '../define.js';
import { empty } from './schemas.js';

// Registered scorers (MLflow 3 /api/3.0/mlflow/scorers/*); access follows the scorer's experiment.

const tag = 'Scorers';
const scorer = z
  .object({
    experiment_id: z.number().int(),
    scorer_name: z.string(),
    scorer_version: z.number().int(),
    serialized_scorer: z.string(),
    creation_time: z.number().int(),
    scorer_id: z.string(),
  })
  .openapi('Scorer');
const named = z.object({ experiment_id: requiredString, name: requiredString });
const version = int64.refine((v) => v >= -(2 ** 31) && v < 2 ** 31, 'version must be a 32-bit integer').optional();

export function scorerRoutes(r: Router): void {
  defineRoute(r, {
    method: 'post', path: '/mlflow/scorers/register', version: '3.0', access: 'experiment:edit', tag,
    summary: 'Register a new version of a scorer (a serialized scorer, stored as sent; custom @scorer code is refused)',
    input: named.extend({ serialized_scorer: requiredString }),
    output: z.object({ version: z.number().int(), scorer_id: z.string(), experiment_id: z.string(), name: z.string(), serialized_scorer: z.string(), creation_time: z.number().int() }),
    handle: (deps, i) => registerScorer(deps, i.experiment_id, i.name, i.serialized_scorer),
  });
  defineRoute(r, {
    method: 'get', path: '/mlflow/scorers/list', version: '3.0', access: 'experiment:read', tag,
    summary: "The latest version of each scorer in an experiment (`experiment_id`), in several (`experiment_ids`), or in every active one",
    input: z.object({ experiment_id: z.string().optional(), experiment_ids: repeated(z.string()).optional() }),
    output: z.object({ scorers: z.array(scorer).optional() }),
    handle: async (deps, i, c) => {
      let scorers = await listScorersCall(deps, i);
      // Named experiments were checked by the access policy; a listing of all is narrowed to the readable ones.
      const p = principalOf(c);
      if (!i.experiment_id && !i.experiment_ids && !isUnrestricted(p)) {
        const readable = await readablePredicate(deps, p, 'experiment');
        scorers = scorers.filter((s) => readable(s.experiment_id));
      }
      return scorers.length ? { scorers } : {};
    },
  });
  // Online scoring (a judge run on incoming traces) is not in Cairn: no scorer has a configuration.
  // list_scorers and get_scorer ask for them after every listing.
  defineRoute(r, {
    method: 'get', path: '/mlflow/scorers/online-configs', version: '3.0', access: 'authenticated', tag,
    summary: 'Online scoring configurations of scorers: none (Cairn does not run scorers)',
    input: z.object({ scorer_ids: repeated(z.string()).refine((v) => v.length > 0, 'Missing value') }),
    output: z.object({ configs: z.array(z.object({}).passthrough()) }),
    handle: () => ({ configs: [] }),
  });
  // Starting a scorer on incoming traces (`scorer.start()`): a job Cairn does not run, so it says so
  // instead of storing a configuration that nothing would act on.
  defineRoute(r, {
    method: 'put', path: '/mlflow/scorers/online-config', version: '3.0', access: 'experiment:edit', tag,
    summary: 'Online scoring (a scorer run on incoming traces): not implemented, answers 501',
    input: named.extend({ sample_rate: z.unknown(), filter_string: z.string().nullish() }),
    output: z.object({ config: z.object({}).passthrough() }),
    handle: async (deps, i) => {
      await getScorer(deps, i.experiment_id, i.name, undefined);
      throw new MlflowError('NOT_IMPLEMENTED', 'Cairn does not run scorers on incoming traces (online scoring): a registered scorer is stored, but start() cannot schedule it');
    },
  });
  defineRoute(r, {
    method: 'get', path: '/mlflow/scorers/versions', version: '3.0', access: 'experiment:read', tag,
    summary: 'Every version of a scorer, oldest first',
    input: named,
    output: z.object({ scorers: z.array(scorer).optional() }),
    handle: async (deps, i) => ({ scorers: await listScorerVersions(deps, i.experiment_id, i.name) }),
  });
  defineRoute(r, {
    method: 'get', path: '/mlflow/scorers/get', version: '3.0', access: 'experiment:read', tag,
    summary: 'One version of a scorer (the latest without `version`)',
    input: named.extend({ version }),
    output: z.object({ scorer }),
    handle: async (deps, i) => ({ scorer: await getScorer(deps, i.experiment_id, i.name, i.version) }),
  });
  defineRoute(r, {
    method: 'delete', path: '/mlflow/scorers/delete', version: '3.0', access: 'experiment:manage', tag,
    summary: 'Delete one version of a scorer, or (without `version`) the scorer and all its versions',
    input: named.extend({ version }),
    output: empty,
    handle: async (deps, i) => {
      await deleteScorer(deps, i.experiment_id, i.name, i.version);
      return {};
    },
  });
}
