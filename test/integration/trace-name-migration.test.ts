// The trace name as a column of `traces` (migrations 0027/0028) on a database the previous Cairn
// filled: its traces had their name only as the `mlflow.traceName` tag row. After the migration
// the name filter, which now reads the column, still finds them, and set_trace_tag moves them.
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

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-trace-name-migration-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const EXP = 301;
const ids = ['tr-a0000000000000000000000000000001', 'tr-a0000000000000000000000000000002', 'tr-a0000000000000000000000000000003'];

/** Three traces as the previous code wrote them: two named 'agent' by tag, the third without a name. */
async function fillAsBefore(db: Orm): Promise<void> {
  await db.execute(sql`insert into experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time)
    values (${EXP}, 'traced', ${`mlflow-artifacts:/${EXP}`}, 'active', 1000, 1000)`);
  for (const [i, id] of ids.entries()) {
    await db.execute(sql`insert into traces (trace_id, experiment_id, request_time, execution_duration, state, artifact_location)
      values (${id}, ${EXP}, ${1000 + i}, 5, 'OK', ${`mlflow-artifacts:/${EXP}/traces/${id}/artifacts`})`);
    if (i < 2) await db.execute(sql`insert into trace_tags (trace_id, key, value) values (${id}, 'mlflow.traceName', 'agent')`);
  }
  await db.execute(sql`select setval(pg_get_serial_sequence('experiments', 'experiment_id'), 400)`);
}

describe('the trace name column migration', () => {
  it('finds traces named by tag only before it by name, and set_trace_tag renames them', async () => {
    const dir = path.join(tmp, 'db');
    const pg = await PGlite.create(dir);
    await migrate(drizzle(pg) as never, { migrationsFolder: migrationsBefore(path.join(tmp, 'before'), '0027_trace_name_column') });
    await fillAsBefore(drizzle(pg) as unknown as Orm);
    await pg.close();

    // The current app migrates the database at startup.
    const t = await startTestApp(['--backend-store-uri', `pglite://${dir}`]);
    try {
      const search = async (filter: string, orderBy: string[] = []) => {
        const res = await t.api
          .post('/api/3.0/mlflow/traces/search')
          .send({ locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: String(EXP) } }], filter, order_by: orderBy });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        return ((res.body.traces ?? []) as { trace_id: string }[]).map((x) => x.trace_id);
      };
      expect(await search("name = 'agent'")).toEqual([ids[1], ids[0]]);
      expect(await search("tags.`mlflow.traceName` = 'agent'")).toEqual([ids[1], ids[0]]);
      expect(await search('tags.`mlflow.traceName` IS NULL')).toEqual([ids[2]]);
      expect(await search('', ['name ASC'])).toEqual([ids[1], ids[0], ids[2]]);

      expect((await t.api.patch(`/api/2.0/mlflow/traces/${ids[0]}/tags`).send({ key: 'mlflow.traceName', value: 'planner' })).status).toBe(200);
      expect((await t.api.patch(`/api/2.0/mlflow/traces/${ids[2]}/tags`).send({ key: 'mlflow.traceName', value: 'agent' })).status).toBe(200);
      expect(await search("name = 'planner'")).toEqual([ids[0]]);
      expect(await search("name = 'agent'")).toEqual([ids[2], ids[1]]);
      const info = (await t.api.get(`/api/3.0/mlflow/traces/${ids[0]}`)).body.trace.trace_info;
      expect(info.tags['mlflow.traceName']).toBe('planner');
    } finally {
      await t.close();
    }
  });
});
