import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../harness/app.js';
import { line, runIdSuffix, startWandbApp, type Client } from './wandb-helpers.js';

// The sweep protocol as wandb==0.31.0 sends it (wandb/apis/public/sweeps.py), driven directly so
// races between agents and lost agents can be staged exactly.
const UPSERT_SWEEP = `mutation UpsertSweep($id: ID, $config: String, $description: String, $entityName: String, $projectName: String,
  $controller: JSONString, $scheduler: JSONString, $state: String, $priorRunsFilters: JSONString, $displayName: String) {
  upsertSweep(input: {id: $id, config: $config, description: $description, entityName: $entityName, projectName: $projectName,
    controller: $controller, scheduler: $scheduler, state: $state, priorRunsFilters: $priorRunsFilters, displayName: $displayName}) {
    sweep { name project { id name entity { id name } } } configValidationWarnings } }`;
const CREATE_AGENT = `mutation CreateAgent($host: String!, $projectName: String, $entityName: String, $sweep: String!) {
  createAgent(input: {host: $host, projectName: $projectName, entityName: $entityName, sweep: $sweep}) { agent { id } } }`;
const HEARTBEAT = `mutation Heartbeat($id: ID!, $metrics: JSONString, $runState: JSONString) {
  agentHeartbeat(input: {id: $id, metrics: $metrics, runState: $runState}) { agent { id } commands } }`;
const GET_SWEEP = `query GetSweep($name: String!, $project: String, $entity: String) { project(name: $project, entityName: $entity) {
  sweep(sweepName: $name) { id name state method bestLoss config runCount runCountExpected
    runs { edges { node { name state config shouldStop summaryMetrics sampledHistory(specs: ["{}"]) } } } } } }`;

const S = runIdSuffix();
let t: TestApp;
let w: Client;
beforeAll(async () => {
  ({ t, w } = await startWandbApp('alice'));
});
afterAll(() => t.close());

type Command = { type: 'run'; run_id: string; args: Record<string, { value: unknown }> } | { type: 'stop'; run_id: string } | { type: 'exit' };

async function createSweep(project: string, config: string): Promise<string> {
  const res = await w.gql(UPSERT_SWEEP, { config, projectName: project, entityName: 'alice' });
  expect(res.body.errors).toBeUndefined();
  return res.body.data.upsertSweep.sweep.name;
}
async function agent(project: string, sweep: string): Promise<string> {
  const res = await w.gql(CREATE_AGENT, { host: 'test', projectName: project, entityName: 'alice', sweep });
  expect(res.body.errors).toBeUndefined();
  return res.body.data.createAgent.agent.id;
}
async function heartbeat(id: string, alive: string[] = []): Promise<Command[]> {
  const res = await w.gql(HEARTBEAT, { id, metrics: '{}', runState: JSON.stringify(Object.fromEntries(alive.map((r) => [r, true]))) });
  expect(res.body.errors).toBeUndefined();
  return JSON.parse(res.body.data.agentHeartbeat.commands);
}
async function getSweep(project: string, name: string) {
  const res = await w.gql(GET_SWEEP, { name, project, entity: 'alice' });
  expect(res.body.errors).toBeUndefined();
  return res.body.data.project.sweep;
}
/** What a training process does with a run command: init with the sweep, log, finish. */
async function runTrial(project: string, sweep: string, run: string, values: number[], metric = 'loss') {
  await w.upsert({ name: run, project, entity: 'alice', sweep, config: '{}' });
  const lines = values.map((v, i) => line(i, `"${metric}":${v}`));
  const res = await w.stream(project, run, {
    files: { 'wandb-history.jsonl': { offset: 0, content: lines }, 'wandb-summary.json': { offset: 0, content: [`{"${metric}":${values.at(-1)}}`] } },
  });
  expect(res.status).toBe(200);
}
const finish = async (project: string, run: string) => expect((await w.stream(project, run, { complete: true, exitcode: 0 })).status).toBe(200);

describe('W&B sweeps: agents', () => {
  it('parallel agents racing for a grid never get the same point, and the grid finishes', async () => {
    const project = `sweep-race-${S}`;
    const sweep = await createSweep(project, 'method: grid\nparameters:\n  a: {values: [1, 2, 3]}\n  b: {values: [x, y]}\n');
    const agents = await Promise.all(Array.from({ length: 4 }, () => agent(project, sweep)));
    const got: Command[] = [];
    // Every agent asks at once, over and over, reporting nothing alive, until all are told to exit.
    for (let round = 0; round < 4; round++) got.push(...(await Promise.all(agents.map((a) => heartbeat(a)))).flat());
    const runs = got.filter((c): c is Extract<Command, { type: 'run' }> => c.type === 'run');
    const points = runs.map((r) => `${r.args.a.value}${r.args.b.value}`).sort();
    expect(points).toEqual(['1x', '1y', '2x', '2y', '3x', '3y']);
    expect(got.filter((c) => c.type === 'exit').length).toBeGreaterThan(0);
    for (const r of runs) {
      await runTrial(project, sweep, r.run_id, [Number(r.args.a.value)]);
      await finish(project, r.run_id);
    }
    const s = await getSweep(project, sweep);
    expect(s).toMatchObject({ state: 'FINISHED', method: 'grid', runCount: 6, runCountExpected: 6 });
  });

  it("hands a lost agent's run out again, with the same parameters", async () => {
    const project = `sweep-lost-${S}`;
    const sweep = await createSweep(project, 'method: grid\nmetric: {name: loss}\nparameters:\n  a: {values: [1, 2]}\n');
    const [a, b] = [await agent(project, sweep), await agent(project, sweep)];
    const [first] = (await heartbeat(a)) as Extract<Command, { type: 'run' }>[];
    const [second] = (await heartbeat(b)) as Extract<Command, { type: 'run' }>[];
    expect([first.args.a.value, second.args.a.value]).toEqual([1, 2]);
    await runTrial(project, sweep, second.run_id, [0.5]);
    await finish(project, second.run_id);
    // Agent a is silent (its machine died before its run started). While it might come back, the point stays its own.
    expect(await heartbeat(b)).toEqual([{ type: 'exit' }]);
    const realNow = t.deps.now;
    t.deps.now = () => realNow() + t.deps.config.wandbAgentTimeoutMs + 1000;
    try {
      // Reading the sweep before any agent asks again must not finish it: the lost point is still owed.
      expect((await getSweep(project, sweep)).state).toBe('RUNNING');
      const c = await agent(project, sweep);
      const [retry] = (await heartbeat(c)) as Extract<Command, { type: 'run' }>[];
      expect(retry).toMatchObject({ type: 'run', args: { a: { value: 1 } } });
      expect(retry.run_id).not.toBe(first.run_id);
      await runTrial(project, sweep, retry.run_id, [0.25]);
      await finish(project, retry.run_id);
      expect(await heartbeat(c)).toEqual([{ type: 'exit' }]);
      expect(await getSweep(project, sweep)).toMatchObject({ state: 'FINISHED', bestLoss: 0.25 });
    } finally {
      t.deps.now = realNow;
    }
  });

  it('honours run_cap, pause and cancel', async () => {
    const project = `sweep-cap-${S}`;
    const sweep = await createSweep(project, 'method: random\nrun_cap: 2\nparameters:\n  lr: {min: 0.1, max: 0.2}\n');
    const a = await agent(project, sweep);
    const runs: string[] = [];
    for (let i = 0; i < 2; i++) {
      const [cmd] = (await heartbeat(a)) as Extract<Command, { type: 'run' }>[];
      expect(cmd.type).toBe('run');
      expect(cmd.args.lr.value as number).toBeGreaterThanOrEqual(0.1);
      runs.push(cmd.run_id);
    }
    expect(await heartbeat(a)).toEqual([{ type: 'exit' }]);

    const other = await createSweep(project, 'method: random\nparameters:\n  lr: {min: 0.1, max: 0.2}\n');
    const b = await agent(project, other);
    const [cmd] = (await heartbeat(b)) as Extract<Command, { type: 'run' }>[];
    const id = (await getSweep(project, other)).id;
    expect((await w.gql(UPSERT_SWEEP, { id, state: 'PAUSED' })).body.errors).toBeUndefined();
    // Paused: no new run for an idle agent, and no exit either (it waits for resume).
    expect(await heartbeat(b)).toEqual([]);
    expect((await w.gql(UPSERT_SWEEP, { id, state: 'RUNNING' })).body.errors).toBeUndefined();
    await runTrial(project, other, cmd.run_id, [1]);
    expect((await w.gql(UPSERT_SWEEP, { id, state: 'CANCELED' })).body.errors).toBeUndefined();
    expect(await heartbeat(b, [cmd.run_id])).toEqual([{ type: 'stop', run_id: cmd.run_id }, { type: 'exit' }]);
    const s = await getSweep(project, other);
    expect(s.state).toBe('CANCELED');
    expect(s.runs.edges[0].node).toMatchObject({ name: cmd.run_id, state: 'killed', sampledHistory: [[]] });
    const refused = await w.gql(UPSERT_SWEEP, { id, state: 'RUNNING' });
    expect(refused.body.errors?.[0].message).toMatch(/already canceled/);
  });

  it('hyperband tells the agent to stop a run that falls behind, and the run ends killed', async () => {
    const project = `sweep-hb-${S}`;
    const sweep = await createSweep(
      project,
      'method: grid\nmetric: {name: loss, goal: minimize}\nparameters:\n  a: {values: [1, 2]}\nearly_terminate: {type: hyperband, min_iter: 2, eta: 2}\n',
    );
    const a = await agent(project, sweep);
    const [good] = (await heartbeat(a)) as Extract<Command, { type: 'run' }>[];
    await runTrial(project, sweep, good.run_id, [1, 0.5, 0.25]);
    await finish(project, good.run_id);
    const [bad] = (await heartbeat(a)) as Extract<Command, { type: 'run' }>[];
    await runTrial(project, sweep, bad.run_id, [3]);
    // One log: below the first bracket (2), nothing to compare yet.
    expect(await heartbeat(a, [bad.run_id])).toEqual([]);
    await w.stream(project, bad.run_id, { files: { 'wandb-history.jsonl': { offset: 1, content: [line(1, '"loss":2.9')] } } });
    expect(await heartbeat(a, [bad.run_id])).toEqual([{ type: 'stop', run_id: bad.run_id }]);
    const s = await getSweep(project, sweep);
    const node = s.runs.edges.map((e: { node: { name: string } }) => e.node).find((n: { name: string }) => n.name === bad.run_id);
    expect(node).toMatchObject({ state: 'killed', shouldStop: true });
    const mlflowRuns = await t.api.post('/api/2.0/mlflow/runs/search').send({
      experiment_ids: [String((await t.api.get('/api/2.0/mlflow/experiments/get-by-name').query({ experiment_name: project })).body.experiment.experiment_id)],
    });
    type MlflowRun = { info: { run_id: string; status: string }; data: { tags: { key: string; value: string }[] } };
    const tagsOf = (r: MlflowRun) => Object.fromEntries(r.data.tags.map((x) => [x.key, x.value]));
    const byName = Object.fromEntries((mlflowRuns.body.runs as MlflowRun[]).map((r) => [tagsOf(r)['wandb.run_id'] ?? 'parent', { ...r.info, tags: tagsOf(r) }]));
    expect(byName[bad.run_id].status).toBe('KILLED');
    expect(byName[good.run_id].status).toBe('FINISHED');
    // Each trial is a child of the sweep's MLflow run, tagged with the sweep id.
    expect(byName.parent.tags).toMatchObject({ 'wandb.sweep_id': sweep, 'wandb.sweep.method': 'grid' });
    expect(byName[good.run_id].tags['mlflow.parentRunId']).toBe(byName.parent.run_id);
    expect(byName[bad.run_id].tags['mlflow.parentRunId']).toBe(byName.parent.run_id);
    expect(byName[good.run_id].tags['wandb.sweep_id']).toBe(sweep);
  });

  it('updates a config while the sweep is pending (wandb sweep --update), not once it runs', async () => {
    const project = `sweep-update-${S}`;
    const sweep = await createSweep(project, 'method: grid\nparameters:\n  a: {values: [1]}\n');
    const { id } = await getSweep(project, sweep);
    const updated = await w.gql(UPSERT_SWEEP, { id, config: 'method: random\nparameters:\n  a: {min: 0.0, max: 1.0, distribution: uniform}\n', projectName: project });
    expect(updated.body.errors).toBeUndefined();
    expect(await getSweep(project, sweep)).toMatchObject({ method: 'random', state: 'PENDING' });
    await agent(project, sweep);
    const refused = await w.gql(UPSERT_SWEEP, { id, config: 'method: grid\nparameters:\n  a: {values: [2]}\n', projectName: project });
    expect(refused.body.errors?.[0].message).toMatch(/is running: pause it before changing its config/);
  });

  it('refuses bad configs and unknown agents with a clear message, writing nothing', async () => {
    const project = `sweep-bad-${S}`;
    for (const [config, message] of [
      ['method: [', /not valid YAML/],
      ['method: grid\nparameters:\n  a: {distribution: cauchy, min: 0, max: 1}\n', /unknown distribution 'cauchy'/],
      ['method: random\nparameters:\n  a: {min: 3, max: 1}\n', /min \(3\) is greater than max \(1\)/],
      ['method: random\ncontroller: {type: remote}\nparameters:\n  a: {value: 1}\n', /type local or cloud/],
      ['method: custom\nearly_terminate: {type: custom}\n', /needs controller type local/],
    ] as const) {
      const res = await w.gql(UPSERT_SWEEP, { config, projectName: project, entityName: 'alice' });
      expect(res.status).toBe(200);
      expect(res.body.errors?.[0].message).toMatch(message);
    }
    expect((await t.api.get('/api/2.0/mlflow/experiments/get-by-name').query({ experiment_name: project })).status).toBe(404);
    const res = await w.gql(HEARTBEAT, { id: '999999999', runState: '{}' });
    expect(res.body.errors?.[0].message).toMatch(/Agent 999999999 not found/);
    const missing = await w.gql(CREATE_AGENT, { host: 'h', projectName: project, sweep: 'nosuchsw' });
    expect(missing.body.errors?.[0].message).toMatch(/not found/);
    const prior = await w.gql(UPSERT_SWEEP, { config: 'method: grid\nparameters:\n  a: {values: [1]}\n', projectName: project, priorRunsFilters: '{"$or": [{"name": "nosuchrun"}]}' });
    expect(prior.body.errors?.[0].message).toMatch(/Prior run nosuchrun not found in project/);
    expect((await t.api.get('/api/2.0/mlflow/experiments/get-by-name').query({ experiment_name: project })).status).toBe(404);
  });
});

describe('W&B sweeps: local controller, custom method and prior runs', () => {
  const schedule = (entries: [string, Record<string, { value: unknown }> | null][], earlystop: string[] = []) =>
    JSON.stringify({ schedule: entries.map(([id, args]) => ({ id, data: { args } })), earlystop });

  it("hands out only the controller's schedule, once each, stops what it lists, and finishes when it says done", async () => {
    const project = `sweep-local-${S}`;
    const config = 'method: bayes\ncontroller: {type: local}\nmetric: {name: loss}\nparameters:\n  x: {min: 0.0, max: 1.0}\n';
    const sweep = await createSweep(project, config);
    const [a, b] = [await agent(project, sweep), await agent(project, sweep)];
    // Nothing scheduled yet: the agents wait (no run, no exit), the server never searches itself.
    expect(await heartbeat(a)).toEqual([]);
    const { id } = await getSweep(project, sweep);
    const send = async (controller: string) => expect((await w.gql(UPSERT_SWEEP, { id, config, controller, projectName: project })).body.errors).toBeUndefined();
    await send(schedule([['s1', { x: { value: 0.25 } }]]));
    const [run] = (await heartbeat(a)) as Extract<Command, { type: 'run' }>[];
    expect(run).toMatchObject({ type: 'run', args: { x: { value: 0.25 } } });
    // The entry is given to one agent only, and the controller reads which run took it.
    expect(await heartbeat(b)).toEqual([]);
    const read = await w.gql(`query { project(name: "${project}", entityName: "alice") { sweep(sweepName: "${sweep}") { controller scheduler } } }`);
    expect(JSON.parse(read.body.data.project.sweep.scheduler)).toEqual({ scheduled: [{ id: 's1', runid: run.run_id }] });
    await runTrial(project, sweep, run.run_id, [0.9, 0.8]);
    await send(schedule([], [run.run_id]));
    expect(await heartbeat(a, [run.run_id])).toEqual([{ type: 'stop', run_id: run.run_id }]);
    const stopped = (await getSweep(project, sweep)).runs.edges[0].node;
    expect(stopped).toMatchObject({ state: 'killed', shouldStop: true });
    await send(schedule([['s2', null]]));
    expect(await heartbeat(b)).toEqual([{ type: 'exit' }]);
    expect((await getSweep(project, sweep)).state).toBe('FINISHED');
  });

  it('runs a custom sweep only from its schedule', async () => {
    const project = `sweep-custom-${S}`;
    const sweep = await createSweep(project, 'method: custom\n');
    const a = await agent(project, sweep);
    expect(await heartbeat(a)).toEqual([]);
    const { id } = await getSweep(project, sweep);
    const res = await w.gql(UPSERT_SWEEP, { id, controller: schedule([['c1', { lr: { value: 0.1 } }], ['c2', null]]), projectName: project });
    expect(res.body.errors).toBeUndefined();
    const [run] = (await heartbeat(a)) as Extract<Command, { type: 'run' }>[];
    expect(run.args).toEqual({ lr: { value: 0.1 } });
    await runTrial(project, sweep, run.run_id, [1]);
    await finish(project, run.run_id);
    expect(await heartbeat(a)).toEqual([{ type: 'exit' }]);
    expect((await getSweep(project, sweep)).state).toBe('FINISHED');
  });

  it('counts prior runs: their grid points are skipped and the runs join the sweep', async () => {
    const project = `sweep-prior-${S}`;
    const old = `prior${S}`.slice(0, 24);
    await w.upsert({ name: old, project, entity: 'alice', config: JSON.stringify({ a: { value: 1 } }) });
    await finish(project, old);
    const res = await w.gql(UPSERT_SWEEP, {
      config: 'method: grid\nparameters:\n  a: {values: [1, 2]}\n',
      projectName: project,
      entityName: 'alice',
      priorRunsFilters: JSON.stringify({ $or: [{ name: old }] }),
    });
    expect(res.body.errors).toBeUndefined();
    const sweep = res.body.data.upsertSweep.sweep.name;
    const a = await agent(project, sweep);
    const [run] = (await heartbeat(a)) as Extract<Command, { type: 'run' }>[];
    expect(run.args).toEqual({ a: { value: 2 } });
    await runTrial(project, sweep, run.run_id, [1]);
    await finish(project, run.run_id);
    expect(await heartbeat(a)).toEqual([{ type: 'exit' }]);
    const s = await getSweep(project, sweep);
    expect(s).toMatchObject({ state: 'FINISHED', runCount: 2 });
  });
});
