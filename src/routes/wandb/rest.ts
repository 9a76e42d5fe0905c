import { z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { invalidParam } from '../../errors.js';
import type { WandbUser } from '../../domain/wandb/api-keys.js';
import { parseWandbJson } from '../../domain/wandb/json.js';
import { requestText } from '../../lib/request-body.js';
import { requireRun } from '../../domain/wandb/run-store.js';
import { appendHistory, createRestRun, finishRestRun, toRestRun, updateSummary } from '../../domain/wandb/rest-runs.js';
import { principalOf, type Access } from '../../auth/policy.js';
import { afterProjectWrite, checkProject } from '../../auth/wandb.js';
import { errorSchema, guard, type Router } from '../define.js';

// POST /api/wandb/runs…: create a run with config/tags/group, append history rows, update the
// summary, finish it. Same API key as the wire protocol (Basic `api:<key>` or Bearer <key>).

const TAG = 'W&B runs';
const MAX_BODY = 16 * 1024 * 1024;
const MAX_ROWS = 10_000;

const name = z.string().min(1).max(128);
const createRunBody = z
  .object({
    project: name.openapi({ description: 'W&B project: the MLflow experiment of the same name (created if missing).' }),
    entity: name.optional().openapi({ description: "Defaults to the key's user." }),
    id: name.optional().openapi({ description: 'W&B run id (also the MLflow run id when MLflow accepts it); generated when absent. Creating an existing id updates that run.' }),
    name: z.string().max(500).optional().openapi({ description: 'Display name (the MLflow run name).' }),
    config: z.record(z.string(), z.unknown()).optional().openapi({ description: 'Nested config; becomes MLflow params with dotted keys.' }),
    tags: z.array(z.string().max(256)).max(1000).optional(),
    group: z.string().max(500).optional(),
    job_type: z.string().max(500).optional(),
    notes: z.string().max(100_000).optional(),
  })
  .openapi('WandbCreateRun');

const runWire = z
  .object({
    id: z.string(),
    entity: z.string(),
    project: z.string(),
    display_name: z.string().nullable(),
    state: z.string().openapi({ description: 'running, finished, failed or crashed' }),
    run_id: z.string().openapi({ description: 'The MLflow run id.' }),
    experiment_id: z.string(),
    storage_id: z.string(),
    history_line_count: z.number().int(),
    config: z.record(z.string(), z.unknown()),
    summary: z.record(z.string(), z.unknown()),
    tags: z.array(z.string()),
    group: z.string().optional(),
    job_type: z.string().optional(),
    notes: z.string().optional(),
  })
  .openapi('WandbRun');

const historyBody = z
  .object({
    rows: z
      .array(z.record(z.string(), z.unknown()))
      .min(1)
      .max(MAX_ROWS)
      .openapi({ description: 'History rows, as wandb.log takes them (nested dicts allowed, NaN/Infinity accepted). `_step` defaults to the next step, `_timestamp` (unix seconds) to now.' }),
    offset: z.number().int().min(0).max(2 ** 31 - 1 - MAX_ROWS).optional().openapi({ description: 'Write the rows from this history line on (a retry with the same offset changes nothing); default: append.' }),
  })
  .openapi('WandbHistoryRows');

const summaryBody = z
  .object({ summary: z.record(z.string(), z.unknown()).openapi({ description: 'Keys to set in the summary; null removes a key.' }) })
  .openapi('WandbSummaryUpdate');

const finishBody = z
  .object({ exit_code: z.number().int().min(-(2 ** 31)).max(2 ** 31 - 1).optional().openapi({ description: '0 (default) finishes the run; anything else fails it.' }) })
  .openapi('WandbFinish');

const pathParams = z.object({ entity: name, project: name, run: name });

type Env = { Variables: { wandbUser: WandbUser } };

function parse<T>(schema: z.ZodType<T>, text: string): T {
  // NaN and Infinity are welcome in history rows and summaries, as in wandb.log. parseWandbJson
  // also refuses text that could not be stored (NUL, lone surrogates).
  const raw = text.trim() === '' ? {} : parseWandbJson(text, 'request body');
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidParam(`Invalid value for '${issue.path.join('.') || 'body'}': ${issue.message}`);
  }
  return parsed.data;
}

export function restRunRoutes(r: Router, auth: MiddlewareHandler<Env>): void {
  const { deps } = r;
  const app = r.app as unknown as import('hono').Hono<Env>;
  const registry = r.app.openAPIRegistry;
  registry.registerComponent('securitySchemes', 'wandbApiKey', {
    type: 'http',
    scheme: 'basic',
    description: 'User `api`, password: a Cairn W&B API key (`cairn keys create`). `Authorization: Bearer <key>` also works.',
  });
  const limit = bodyLimit({
    maxSize: MAX_BODY,
    onError: () => {
      throw invalidParam(`Request body exceeds the limit of ${MAX_BODY} bytes.`);
    },
  });
  const document = (method: 'get' | 'post', path: string, summary: string, body?: z.ZodType) =>
    registry.registerPath({
      method,
      path,
      summary,
      tags: [TAG],
      security: [{ wandbApiKey: [] }],
      request: {
        ...(path.includes('{') ? { params: pathParams } : {}),
        ...(body ? { body: { content: { 'application/json': { schema: body } } } } : {}),
      },
      responses: {
        200: { description: 'The run', content: { 'application/json': { schema: runWire } } },
        default: { description: 'Error', content: { 'application/json': { schema: errorSchema } } },
      },
    });
  const runPath = '/api/wandb/runs/{entity}/{project}/{run}';
  const honoPath = '/api/wandb/runs/:entity/:project/:run';
  const pathOf = (c: Context) => ({ entity: c.req.param('entity')!, project: c.req.param('project')!, run: c.req.param('run')! });
  const reply = (c: Context, run: Parameters<typeof toRestRun>[0]) => c.json(toRestRun(run, deps.now()), 200);

  document('post', '/api/wandb/runs', 'Create (or update) a W&B run: it is also an MLflow run', createRunBody);
  // The project in the path is the experiment whose permissions apply.
  const project = (c: Context) => ({ wandb_project: { entity: c.req.param('entity'), project: c.req.param('project') } });
  const guarded = (access: Access, h: (c: Context) => Promise<Response>, of?: typeof project) => guard(r, access, h, of) as never;
  // Creation checks inside the upsert, where an existing run's project is known.
  app.post('/api/wandb/runs', limit, auth, guarded('authenticated', async (c) => {
    const input = parse(createRunBody, await requestText(c));
    const principal = principalOf(c);
    const { run, projectCreated } = await createRestRun(deps, c.get('wandbUser'), input, (p, e) => checkProject(deps, principal, p, 'edit', e));
    await afterProjectWrite(deps, principal, projectCreated, run.experiment_id);
    return reply(c, run);
  }));

  document('get', runPath, 'Read a W&B run: config, summary, state');
  app.get(honoPath, auth, guarded('experiment:read', async (c) => reply(c, await requireRun(deps, pathOf(c).project, pathOf(c).run, pathOf(c).entity)), project));

  document('post', `${runPath}/history`, 'Append history rows (numeric values become MLflow metrics)', historyBody);
  app.post(`${honoPath}/history`, limit, auth, guarded('experiment:edit', async (c) => {
    const input = parse(historyBody, await requestText(c));
    return reply(c, await appendHistory(deps, pathOf(c), input.rows, input.offset));
  }, project));

  document('post', `${runPath}/summary`, 'Set summary values', summaryBody);
  app.post(`${honoPath}/summary`, limit, auth, guarded('experiment:edit', async (c) => {
    const input = parse(summaryBody, await requestText(c));
    return reply(c, await updateSummary(deps, pathOf(c), input.summary));
  }, project));

  document('post', `${runPath}/finish`, 'Finish the run (exit code 0: finished, else failed)', finishBody);
  app.post(`${honoPath}/finish`, limit, auth, guarded('experiment:edit', async (c) => {
    const input = parse(finishBody, await requestText(c));
    return reply(c, await finishRestRun(deps, pathOf(c), input.exit_code ?? 0));
  }, project));

  r.knownPaths.add('/api/wandb/runs');
}
