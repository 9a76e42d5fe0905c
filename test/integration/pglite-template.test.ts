// A first start on an empty embedded data folder copies the database `npm run build` made
// (src/db/pglite-template.ts) instead of running initdb and every migration; so does every
// in-memory database (`memory://`), from the same database as a tarball.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, rows } from '../../src/db/connect.js';
import { appRoot, currentTemplate, currentTemplateDump, seedFromTemplate, templateKey } from '../../src/db/pglite-template.js';
import { ensureBuilt } from '../harness/crash-server.js';

const root = appRoot()!;
let scratch: string;

beforeAll(() => {
  ensureBuilt();
  // `npm run build` makes it; make sure it is there for this test's checkout (it is skipped when current).
  execFileSync(process.execPath, [path.join(root, 'dist', 'scripts', 'write-pglite-template.js')], { cwd: root, stdio: 'inherit' });
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-template-'));
}, 600_000);
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe('the embedded database template', () => {
  it('exists for the current migrations after a build', () => {
    const dir = currentTemplate(root);
    expect(dir).toBe(path.join(root, 'dist', 'pglite-template', templateKey(root)));
    expect(fs.existsSync(path.join(dir!, 'PG_VERSION'))).toBe(true);
  });

  it('fills an empty folder with a migrated database that opens as usual', async () => {
    const dbDir = path.join(scratch, 'fresh', 'db');
    fs.mkdirSync(dbDir, { recursive: true });
    expect(seedFromTemplate(dbDir)).toBe(true);
    expect(fs.readdirSync(path.dirname(dbDir))).toEqual(['db']); // no staging folder left behind
    const db = await connect(`pglite://${dbDir}`);
    try {
      await db.migrate(); // nothing left to apply
      const tables = await rows<{ n: number }>(db.orm, sql`select count(*)::int as n from information_schema.tables where table_name in ('experiments', 'runs', 'metrics')`);
      expect(tables[0].n).toBe(3);
      const applied = await rows<{ n: number }>(db.orm, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
      const journal = JSON.parse(fs.readFileSync(path.join(root, 'migrations', 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
      expect(applied[0].n).toBe(journal.entries.length);
    } finally {
      await db.close();
    }
    // A folder that already holds a database is never overwritten.
    expect(seedFromTemplate(dbDir)).toBe(false);
  });

  it('is what an in-memory database starts from: migrated before migrate() runs', async () => {
    expect(currentTemplateDump(root)).toBe(path.join(root, 'dist', 'pglite-template', `${templateKey(root)}.tar`));
    const db = await connect('memory://');
    try {
      const applied = await rows<{ n: number }>(db.orm, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
      const journal = JSON.parse(fs.readFileSync(path.join(root, 'migrations', 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
      expect(applied[0].n).toBe(journal.entries.length);
      await db.migrate(); // nothing left to apply
      const tables = await rows<{ n: number }>(db.orm, sql`select count(*)::int as n from information_schema.tables where table_name in ('experiments', 'runs', 'traces')`);
      expect(tables[0].n).toBe(3);
    } finally {
      await db.close();
    }
  });

  it('leaves a non-empty folder that is not a database alone', () => {
    const dbDir = path.join(scratch, 'occupied');
    fs.mkdirSync(dbDir, { recursive: true });
    fs.writeFileSync(path.join(dbDir, 'notes.txt'), 'mine');
    expect(seedFromTemplate(dbDir)).toBe(false);
    expect(fs.readdirSync(dbDir)).toEqual(['notes.txt']);
  });

  it('is keyed by the migrations: another set of migrations has no template', () => {
    const other = path.join(scratch, 'other-root');
    fs.cpSync(path.join(root, 'migrations'), path.join(other, 'migrations'), { recursive: true });
    expect(templateKey(other)).toBe(templateKey(root));
    fs.appendFileSync(path.join(other, 'migrations', fs.readdirSync(path.join(other, 'migrations')).find((f) => f.endsWith('.sql'))!), '\n-- changed\n');
    expect(templateKey(other)).not.toBe(templateKey(root));
    expect(currentTemplate(other)).toBeUndefined();
  });
});
