// W&B namespaces (docs/teams.md#namespaces) on a database the previous Cairn filled: before
// migrations 0018/0019 an entity was a label on each run, and every entity's project `p` was the
// one experiment `p`. After them, each entity that logged into `p` still finds its runs there, MLflow
// still finds the experiment by name, and a new entity logging to `p` gets its own `<entity>/p`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { afterAll, describe, expect, it } from 'vitest';
import type { Orm } from '../../src/db/connect.js';
import { startTestApp } from '../harness/app.js';
import { migrationsBefore } from '../harness/migrations.js';
import { newKey, RUNS, wandbClient } from './wandb-helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-ns-migration-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** An experiment and W&B runs as the previous code wrote them (upsertBucket → experiment `project`). */
async function fillAsBefore(db: Orm): Promise<void> {
  const exp = async (id: number, name: string) =>
    db.execute(sql`insert into experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
      values (${id}, ${name}, ${`mlflow-artifacts:/${id}`}, 'active', 1000, 1000)`);
  const run = async (runId: string, expId: number, entity: string, project: string) => {
    await db.execute(sql`insert into runs (run_id, experiment_id, name, status, start_time, artifact_uri, lifecycle_stage)
      values (${runId}, ${expId}, ${runId}, 'FINISHED', 1000, ${`mlflow-artifacts:/${expId}/${runId}/artifacts`}, 'active')`);
    await db.execute(sql`insert into run_tags (key, value, run_id) values ('wandb.entity', ${entity}, ${runId}), ('wandb.project', ${project}, ${runId})`);
    await db.execute(sql`insert into wandb_runs (run_id, experiment_id, name, entity, project, state, created_at, heartbeat_at)
      values (${runId}, ${expId}, ${runId}, ${entity}, ${project}, 'finished', 1000, 1000)`);
  };
  await exp(101, 'shared');
  await run('run-alice', 101, 'alice', 'shared');
  await run('run-vision', 101, 'vision', 'shared');
  await exp(102, 'team-only');
  await db.execute(sql`insert into teams (id, name, created_at) values (7, 'vision', 1000)`);
  await db.execute(sql`insert into team_experiments (experiment_id, team_id) values (102, 7)`);
  await exp(103, 'mlflow-only');
  await db.execute(sql`select setval(pg_get_serial_sequence('experiments', 'experiment_id'), 200)`);
}

describe('the W&B namespaces migration', () => {
  it('keeps old runs under every entity they were logged with, for wandb and MLflow', async () => {
    const dir = path.join(tmp, 'db');
    const pg = await PGlite.create(dir);
    await migrate(drizzle(pg) as never, { migrationsFolder: migrationsBefore(path.join(tmp, 'before'), '0018_wandb_projects') });
    await fillAsBefore(drizzle(pg) as unknown as Orm);
    await pg.close();

    // The current app migrates the database at startup.
    const t = await startTestApp(['--backend-store-uri', `pglite://${dir}`]);
    try {
      const w = wandbClient(t, await newKey(t, 'alice'));
      const runsOf = async (entity: string, project: string) => {
        const res = await w.gql(RUNS, { project, entity });
        expect(res.body.errors).toBeUndefined();
        return res.body.data.project ? res.body.data.project.runs.edges.map((e: { node: { name: string } }) => e.node.name).sort() : null;
      };
      expect(await runsOf('alice', 'shared')).toEqual(['run-alice', 'run-vision']);
      expect(await runsOf('vision', 'shared')).toEqual(['run-alice', 'run-vision']);
      expect(await runsOf('vision', 'team-only')).toEqual([]);

      const byName = async (name: string) => (await t.api.get('/api/2.0/mlflow/experiments/get-by-name').query({ experiment_name: name })).body.experiment;
      expect((await byName('shared')).experiment_id).toBe('101');
      const search = await t.api.post('/api/2.0/mlflow/runs/search').send({ experiment_ids: ['101'] });
      expect(search.body.runs.map((r: { info: { run_id: string } }) => r.info.run_id).sort()).toEqual(['run-alice', 'run-vision']);

      // The old owners keep logging into the old experiment; a new entity gets its own.
      const alice = await w.upsert({ name: 'run-alice-2', project: 'shared', entity: 'alice' });
      const bob = await w.upsert({ name: 'run-bob', project: 'shared', entity: 'bob' });
      await w.upsert({ name: 'run-carol', project: 'mlflow-only', entity: 'carol' });
      await w.upsert({ name: 'run-dana', project: 'team-only', entity: 'dana' });
      expect(alice.bucket.project.name).toBe('shared');
      expect(bob.bucket.project.name).toBe('shared');
      expect(await runsOf('bob', 'shared')).toEqual(['run-bob']);
      expect(await runsOf('alice', 'shared')).toEqual(['run-alice', 'run-alice-2', 'run-vision']);
      const bobExp = (await byName('bob/shared')).experiment_id;
      expect(bobExp).not.toBe('101');
      // The UI's deep links (/<entity>/<project>) follow the same mapping.
      const resolve = async (entity: string) => (await t.api.get('/api/2.0/cairn/ui/wandb/resolve').query({ entity, project: 'shared' })).body.experiment_id;
      expect([await resolve('alice'), await resolve('vision'), await resolve('bob')]).toEqual(['101', '101', bobExp]);
      // An experiment no entity had logged to (created with MLflow) goes to its first W&B entity.
      expect(await runsOf('carol', 'mlflow-only')).toEqual(['run-carol']);
      expect((await byName('mlflow-only')).experiment_id).toBe('103');
      // The team's project stayed the team's.
      expect(await runsOf('dana', 'team-only')).toEqual(['run-dana']);
      expect(await runsOf('vision', 'team-only')).toEqual([]);
      expect(await byName('dana/team-only')).toBeDefined();
    } finally {
      await t.close();
    }
  });
});
