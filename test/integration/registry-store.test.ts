import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { rows, type Orm } from '../../src/db/connect.js';
import { startTestApp, uniqueName, type TestApp } from '../harness/app.js';
import { isolatedDatabase, type IsolatedDatabase } from '../harness/database.js';

// --registry-store-uri: the registry's rows go to the second database, runs and logged models stay in
// the backend store. On Postgres (TEST_DATABASE_URL) the registry is a database of its own on that
// server; on PGlite an embedded folder.

let t: TestApp;
let registry: IsolatedDatabase | undefined;
let folder: string | undefined;
beforeAll(async () => {
  let uri: string;
  if (process.env.TEST_DATABASE_URL) {
    registry = await isolatedDatabase();
    uri = registry.uri;
  } else {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-registry-store-'));
    uri = `pglite://${path.join(folder, 'db')}`;
  }
  t = await startTestApp(['--registry-store-uri', uri]);
}, 120_000);
afterAll(async () => {
  // On PGlite the readiness test below has closed the registry database already.
  await t?.close().catch(() => {});
  await registry?.drop();
  if (folder) fs.rmSync(folder, { recursive: true, force: true });
});

const post = (p: string, body: unknown) => t.api.post(`/api/2.0/mlflow/${p}`).send(body as object);
const count = async (db: Orm, query: ReturnType<typeof sql>) => (await rows<{ n: number }>(db, sql`select count(*)::int as n from (${query}) q`))[0].n;

describe('--registry-store-uri', () => {
  it('keeps registered models, versions, tags and aliases in the registry database, and runs and logged models in the backend store', async () => {
    expect(t.deps.registryDb).not.toBe(t.deps.db);
    const experimentId = (await post('experiments/create', { name: uniqueName('reg-store') })).body.experiment_id;
    const runId = (await post('runs/create', { experiment_id: experimentId })).body.run.info.run_id;
    const modelId = (await post('logged-models', { experiment_id: experimentId, source_run_id: runId, name: 'm' })).body.model.info.model_id;
    const name = uniqueName('reg-store-model');
    expect((await post('registered-models/create', { name, tags: [{ key: 'team', value: 'ml' }] })).status).toBe(200);
    const v1 = await post('model-versions/create', { name, source: `runs:/${runId}/model`, run_id: runId });
    expect(v1.status, JSON.stringify(v1.body)).toBe(200);
    const v2 = await post('model-versions/create', { name, source: `models:/${modelId}`, model_id: modelId });
    expect(v2.status, JSON.stringify(v2.body)).toBe(200);
    expect(v2.body.model_version).toMatchObject({ version: '2', run_id: runId });
    expect((await post('registered-models/alias', { name, alias: 'champion', version: '1' })).status).toBe(200);
    // A runs:/ source naming a run that is not in the backend store is refused as with one database.
    expect((await post('model-versions/create', { name, source: 'runs:/0123456789abcdef0123456789abcdef/model', run_id: '0123456789abcdef0123456789abcdef' })).status).toBe(400);

    const models = sql`select 1 from registered_models where name = ${name}`;
    const versions = sql`select 1 from model_versions v join registered_models m on m.id = v.registered_model_id where m.name = ${name}`;
    const aliases = sql`select 1 from registered_model_aliases a join registered_models m on m.id = a.registered_model_id where m.name = ${name}`;
    expect([await count(t.deps.registryDb, models), await count(t.deps.registryDb, versions), await count(t.deps.registryDb, aliases)]).toEqual([1, 2, 1]);
    expect([await count(t.deps.db, models), await count(t.deps.db, versions), await count(t.deps.db, aliases)]).toEqual([0, 0, 0]);
    expect(await count(t.deps.registryDb, sql`select 1 from runs where run_id = ${runId}`)).toBe(0);
    expect(await count(t.deps.db, sql`select 1 from runs where run_id = ${runId}`)).toBe(1);
    // The logged model's record of its registration is tracking data.
    const logged = await t.api.get(`/api/2.0/mlflow/logged-models/${modelId}`);
    expect(logged.body.model.info.tags).toContainEqual({ key: 'mlflow.modelVersions', value: `[{"name": "${name}", "version": 2}]` });

    const search = await t.api.get('/api/2.0/mlflow/registered-models/search').query({ filter: `name = '${name}'` });
    expect(search.body.registered_models.map((m: { name: string }) => m.name)).toEqual([name]);
    const byAlias = await t.api.get('/api/2.0/mlflow/registered-models/alias').query({ name, alias: 'champion' });
    expect(byAlias.body.model_version).toMatchObject({ version: '1', run_id: runId });
    expect((await t.api.get('/api/2.0/mlflow/model-versions/search').query({ filter: `run_id = '${runId}'` })).body.model_versions).toHaveLength(2);
  });

  // Last in this file: on PGlite it closes the registry database for good.
  it('/ready answers 503 while the registry database does not answer, and 200 again once it does', async () => {
    expect((await t.api.get('/ready')).text).toBe('READY');
    if (registry) {
      // A real outage of the second database: it refuses connections and its sessions are ended.
      const name = new URL(registry.uri).pathname.slice(1);
      const admin = async (statement: string) => {
        const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
        await client.connect();
        try {
          await client.query(statement);
        } finally {
          await client.end();
        }
      };
      await admin(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
      try {
        // Client sessions only: an autovacuum worker in that database is a superuser's, which a
        // test role may not end (a CI run failed so), and it is not Cairn's.
        await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND backend_type = 'client backend'`);
        const down = await t.api.get('/ready');
        expect([down.status, down.text]).toEqual([503, 'REGISTRY DATABASE UNAVAILABLE']);
      } finally {
        await admin(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
      }
      const back = await t.api.get('/ready');
      expect([back.status, back.text]).toEqual([200, 'READY']);
    } else {
      await (t.deps.registryDb as unknown as { $client: PGlite }).$client.close();
      const down = await t.api.get('/ready');
      expect([down.status, down.text]).toEqual([503, 'REGISTRY DATABASE UNAVAILABLE']);
    }
    // The backend store still answers: only the registry is named.
    expect((await t.api.get('/health')).status).toBe(200);
  });
});
