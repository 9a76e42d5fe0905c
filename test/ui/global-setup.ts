import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCairn } from './server.js';

// One real Cairn for the browser tests: the built server (dist/, including dist/ui) on the embedded
// PGlite in a temp data dir (so `cairn keys create --data-dir` can hand the wandb client a key),
// artifacts in the same folder. Its URL and data dir reach the tests through CAIRN_UI_URL/_DATA_DIR.

const root = path.resolve(import.meta.dirname, '../..');

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!fs.existsSync(path.join(root, 'dist/ui/index.html')) || !fs.existsSync(path.join(root, 'dist/src/main.js'))) {
    throw new Error('The UI tests need the built server and UI: run `npm run build` first');
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-ui-test-'));
  const cairn = await startCairn(['--data-dir', dataDir]);
  process.env.CAIRN_UI_URL = cairn.url;
  process.env.CAIRN_UI_DATA_DIR = dataDir;
  return async () => {
    await cairn.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
}
