import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { connect, PGLITE_EXTENSIONS } from '../src/db/connect.js';
import { appRoot, templateKey, templatesFolder } from '../src/db/pglite-template.js';

// Part of `npm run build`: the embedded database a first start copies (src/db/pglite-template.ts),
// made with initdb and every migration. Skipped when the current one exists; older ones are removed.
const root = appRoot();
if (!root) throw new Error('migrations folder not found');
const folder = templatesFolder(root);
const key = templateKey(root);
const target = path.join(folder, key);
if (!fs.existsSync(path.join(target, 'PG_VERSION'))) {
  const staging = `${target}.tmp-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(folder, { recursive: true });
  const db = await connect(`pglite://${staging}`);
  await db.migrate();
  await db.close();
  fs.rmSync(`${staging}.lock`, { force: true });
  try {
    fs.renameSync(staging, target);
  } catch (err) {
    // Two builds at once (parallel test workers): the other one's template is as good as ours.
    fs.rmSync(staging, { recursive: true, force: true });
    if (!fs.existsSync(path.join(target, 'PG_VERSION'))) throw err;
  }
}
// The same database as a tarball, which `memory://` loads (currentTemplateDump).
const dump = `${target}.tar`;
if (!fs.existsSync(dump)) {
  const copy = `${target}.tmp-dump-${process.pid}`;
  fs.rmSync(copy, { recursive: true, force: true });
  fs.cpSync(target, copy, { recursive: true });
  const pg = await PGlite.create(copy, { extensions: PGLITE_EXTENSIONS });
  const tar = Buffer.from(await (await pg.dumpDataDir('none')).arrayBuffer());
  await pg.close();
  fs.rmSync(copy, { recursive: true, force: true });
  fs.writeFileSync(`${dump}.tmp-${process.pid}`, tar);
  fs.renameSync(`${dump}.tmp-${process.pid}`, dump);
}
for (const entry of fs.readdirSync(folder)) {
  if (entry !== key && entry !== `${key}.tar` && !entry.startsWith('.') && !entry.includes('.tmp-')) fs.rmSync(path.join(folder, entry), { recursive: true, force: true });
}
fs.writeFileSync(path.join(folder, '.built'), `${key}\n`);
