import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, repoRoot, startServer, stopServer, type ServerProcess } from '../harness/crash-server.js';

// One embedded database, one process: a second `cairn server`, or `cairn db migrate`, on the same
// data folder is refused at once, naming the process that holds it. Real processes throughout.

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-lock-'));
const dbDir = path.join(dataDir, 'db');
const uri = `pglite://${dbDir}`;
const lockFile = `${dbDir}.lock`;
const running: ServerProcess[] = [];

const cairn = (args: string[]) =>
  spawnSync(process.execPath, ['bin/cairn.js', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000, env: { ...process.env, MLFLOW_PORT: '', TEST_DATABASE_URL: '' } });

function expectRefusedBy(res: ReturnType<typeof cairn>, pid: number): void {
  expect(res.status, res.stderr).toBe(2);
  const lines = res.stderr.trim().split('\n');
  expect(lines, res.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^cairn: the embedded database in .* is in use by process ${pid}\\b`));
}

afterEach(async () => {
  for (const s of running.splice(0)) await stopServer(s);
});

async function start(): Promise<ServerProcess> {
  const s = await startServer(uri, dataDir);
  running.push(s);
  return s;
}

async function api(s: ServerProcess, endpoint: string, body?: unknown): Promise<any> {
  const res = await fetch(`${s.baseUrl}/api/2.0/mlflow${endpoint}`, body ? { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } } : {});
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

beforeAll(() => ensureBuilt());
afterAll(async () => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('the embedded database folder is locked to one process', () => {
  it('refuses a second server and db migrate while the first runs, and frees the folder on exit', async () => {
    const first = await start();
    expect(fs.readFileSync(lockFile, 'utf8').trim()).toBe(String(first.proc.pid));
    const { experiment_id: id } = await api(first, '/experiments/create', { name: 'kept-through-the-lock' });

    expectRefusedBy(cairn(['server', '--port', '0', '--backend-store-uri', uri, '--workers', '1']), first.proc.pid!);
    expectRefusedBy(cairn(['server', '--port', '0', '--data-dir', dataDir, '--workers', '1']), first.proc.pid!);
    expectRefusedBy(cairn(['db', 'migrate', '--backend-store-uri', uri]), first.proc.pid!);
    // The refused processes left the holder's lock alone, and the holder still serves.
    expect(fs.readFileSync(lockFile, 'utf8').trim()).toBe(String(first.proc.pid));
    await api(first, `/experiments/get?experiment_id=${id}`);

    await stopServer(first);
    expect(fs.existsSync(lockFile), 'the lock is released on exit').toBe(false);
    const migrate = cairn(['db', 'migrate', '--backend-store-uri', uri]);
    expect(migrate.status, migrate.stderr).toBe(0);
    expect(fs.existsSync(lockFile), 'db migrate releases the lock too').toBe(false);

    const second = await start();
    expect((await api(second, `/experiments/get?experiment_id=${id}`)).experiment.name).toBe('kept-through-the-lock');
    await stopServer(second);
  }, 300_000);

  it('takes over a stale lock left by a killed server', async () => {
    const killed = await start();
    killed.proc.kill('SIGKILL');
    await killed.exited;
    expect(fs.readFileSync(lockFile, 'utf8').trim(), 'SIGKILL leaves the lock behind').toBe(String(killed.proc.pid));
    const next = await start();
    expect(fs.readFileSync(lockFile, 'utf8').trim()).toBe(String(next.proc.pid));
    await stopServer(next);
  }, 300_000);

  it('refuses while the PID in the lock is alive, whatever the process', async () => {
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(lockFile, `${holder.pid}\n`);
      expectRefusedBy(cairn(['db', 'migrate', '--backend-store-uri', uri]), holder.pid!);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
    }
    const migrate = cairn(['db', 'migrate', '--backend-store-uri', uri]);
    expect(migrate.status, `a dead holder's lock is stale: ${migrate.stderr}`).toBe(0);
  }, 300_000);
});
