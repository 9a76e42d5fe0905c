import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// A first start on an empty data folder used to run initdb inside PGlite's WASM and then every
// migration: 7 s on a quiet machine, over a minute under load. `npm run build` makes that database
// once (dist/pglite-template/<key>/, scripts/write-pglite-template.ts) and a first start copies it
// into place, which takes a fraction of a second. The key covers the migrations and the PGlite
// build, so a template made for other migrations or another PGlite is never used (the start then
// falls back to initdb). Nothing secret is in it: signing keys and the admin account are made at
// the first start, per installation.

/** The repository (or image) root: the folder holding migrations/. */
export function appRoot(start = path.dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'migrations', 'meta', '_journal.json'))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

function pgliteVersion(): string {
  const entry = import.meta.resolve?.('@electric-sql/pglite');
  for (let dir = entry ? path.dirname(fileURLToPath(entry)) : ''; dir && path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      const { name, version } = JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string; version?: string };
      if (name === '@electric-sql/pglite') return version ?? 'unknown';
    }
  }
  return 'unknown';
}

/** What the template was made from: every migration file and the PGlite version. */
export function templateKey(root: string): string {
  const hash = crypto.createHash('sha256').update(pgliteVersion());
  const dir = path.join(root, 'migrations');
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) hash.update(file).update(fs.readFileSync(path.join(dir, file)));
  hash.update(fs.readFileSync(path.join(dir, 'meta', '_journal.json')));
  return hash.digest('hex').slice(0, 16);
}

export const templatesFolder = (root: string) => path.join(root, 'dist', 'pglite-template');

/** The current template's folder, when `npm run build` made one for these migrations. */
export function currentTemplate(root = appRoot()): string | undefined {
  if (!root) return undefined;
  const dir = path.join(templatesFolder(root), templateKey(root));
  return fs.existsSync(path.join(dir, 'PG_VERSION')) ? dir : undefined;
}

/**
 * The current template as a tarball (PGlite's dumpDataDir), for in-memory databases: loading it
 * takes ~0.5 s where initdb in WASM and every migration take ~3 s (more under load), which is most
 * of what a test that starts the app on `memory://` used to spend before its first request.
 */
export function currentTemplateDump(root = appRoot()): string | undefined {
  if (!root) return undefined;
  const file = path.join(templatesFolder(root), `${templateKey(root)}.tar`);
  return fs.existsSync(file) ? file : undefined;
}

/**
 * Fills an empty (or absent) database folder from the template. The copy goes to a sibling folder
 * that is renamed into place once complete, so a start interrupted half-way leaves no half database.
 * False when there is no template or the folder already holds a database.
 */
export function seedFromTemplate(dbDir: string): boolean {
  if (fs.existsSync(path.join(dbDir, 'PG_VERSION'))) return false;
  const template = currentTemplate();
  if (!template) return false;
  if (fs.existsSync(dbDir) && fs.readdirSync(dbDir).length > 0) return false;
  const staging = `${dbDir}.seed-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.cpSync(template, staging, { recursive: true });
  fs.rmSync(dbDir, { recursive: true, force: true });
  fs.renameSync(staging, dbDir);
  return true;
}
