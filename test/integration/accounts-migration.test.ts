// Existing data keeps working across the accounts migration (0004): the owners of W&B keys issued
// before accounts existed become accounts, and their keys keep logging in.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { afterAll, describe, expect, it } from 'vitest';
import { rows, type Orm } from '../../src/db/connect.js';
import { newApiKey, verifyApiKey } from '../../src/domain/wandb/api-keys.js';
import { MIGRATIONS, migrationsBefore } from '../harness/migrations.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-migration-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('the accounts migration', () => {
  it('turns the owners of existing W&B keys into accounts whose keys still work', async () => {
    const pg = await PGlite.create();
    const db = drizzle(pg) as unknown as Orm;
    try {
      await migrate(db as never, { migrationsFolder: migrationsBefore(path.join(tmp, 'before'), '0004_accounts') });
      const keys = [newApiKey('alice', 1000), newApiKey('alice', 2000), newApiKey('bob', 3000)];
      for (const k of keys) {
        await db.execute(sql`insert into wandb_api_keys (key_hash, key_prefix, user_name, created_at) values (${k.hash}, ${k.prefix}, ${k.userName}, ${k.createdAt})`);
      }
      await migrate(db as never, { migrationsFolder: MIGRATIONS });
      const users = await rows<{ username: string; password_hash: string | null; is_admin: boolean; created_at: string | number }>(
        db,
        sql`select username, password_hash, is_admin, created_at from users order by username`,
      );
      expect(users.map((u) => [u.username, u.password_hash, u.is_admin, Number(u.created_at)])).toEqual([
        ['alice', null, false, 1000],
        ['bob', null, false, 3000],
      ]);
      expect(await verifyApiKey(db, keys[1].key, Date.now())).toMatchObject({ name: 'alice', isAdmin: false });
      expect(await verifyApiKey(db, keys[2].key, Date.now())).toMatchObject({ name: 'bob' });
    } finally {
      await pg.close();
    }
  });
});
