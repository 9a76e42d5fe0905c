import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// One real Cairn for the browser tests: the built server (dist/, including dist/ui) on the embedded
// PGlite in a temp data dir (so `cairn keys create --data-dir` can hand the wandb client a key),
// artifacts in the same folder. Its URL and data dir reach the tests through CAIRN_UI_URL/_DATA_DIR.

const root = path.resolve(import.meta.dirname, '../..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!fs.existsSync(path.join(root, 'dist/ui/index.html')) || !fs.existsSync(path.join(root, 'dist/src/main.js'))) {
    throw new Error('The UI tests need the built server and UI: run `npm run build` first');
  }
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-ui-test-'));
  const child = spawn(
    process.execPath,
    ['bin/cairn.js', 'server', '--host', '127.0.0.1', '--port', String(port), '--workers', '1', '--data-dir', dataDir],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } },
  );
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`Cairn exited during start-up:\n${log}`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (i > 600) throw new Error(`Cairn did not answer /health within 60 s:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  process.env.CAIRN_UI_URL = url;
  process.env.CAIRN_UI_DATA_DIR = dataDir;
  return async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
}
