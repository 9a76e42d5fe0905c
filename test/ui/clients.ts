import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serverUrl } from './fixtures.js';

// The pinned mlflow and wandb clients (the venv scripts/compat.sh builds), run against the test
// server so the UI is tested on links and data the real clients produce.

const root = path.resolve(import.meta.dirname, '../..');

let venvPython: string | undefined;

/** The compat venv's python: scripts/venv.sh names it (its key is computed there only) and builds it if missing. */
export function clientPython(): string {
  venvPython ??= path.join(
    execFileSync('bash', [path.join(root, 'scripts/venv.sh')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim(),
    'bin',
    'python',
  );
  return venvPython;
}

function clientEnv(dir: string, env: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WANDB_') && !k.startsWith('MLFLOW_'))),
    HOME: dir,
    MLFLOW_TRACKING_URI: serverUrl(),
    WANDB_BASE_URL: serverUrl(),
    WANDB_DIR: dir,
    WANDB_CONFIG_DIR: path.join(dir, 'wandb-config'),
    WANDB_CACHE_DIR: path.join(dir, 'wandb-cache'),
    WANDB_DATA_DIR: path.join(dir, 'wandb-data'),
    WANDB_ERROR_REPORTING: 'false',
    WANDB_DISABLE_GIT: 'true',
    WANDB_DISABLE_CODE: 'true',
    WANDB_INIT_TIMEOUT: '120',
    PYTHONUNBUFFERED: '1',
    ...env,
  };
}

// A guard against a hung client, not a timing check: on a loaded 2-core machine the MLflow UI seed (models, a prompt) takes minutes.
const CLIENT_TIMEOUT_MS = 600_000;

export function runPython(script: string, env: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-ui-client-'));
  try {
    // The clients print their links to stdout (mlflow) and stderr (wandb): both are returned.
    const res = spawnSync(clientPython(), ['-c', script], { cwd: dir, encoding: 'utf8', timeout: CLIENT_TIMEOUT_MS, env: clientEnv(dir, env), stdio: ['ignore', 'pipe', 'pipe'] });
    if (res.status !== 0) throw new Error(`client script failed (${res.status ?? res.signal}):\n${res.stdout}\n${res.stderr}`);
    return `${res.stdout}\n${res.stderr}`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** runPython without blocking the event loop, so two clients can run at once. */
export async function runPythonAsync(script: string, env: Record<string, string> = {}): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-ui-client-'));
  try {
    const child = spawn(clientPython(), ['-c', script], { cwd: dir, env: clientEnv(dir, env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), CLIENT_TIMEOUT_MS);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c, s) => resolve([c, s]));
    }).finally(() => clearTimeout(timer));
    if (code !== 0) throw new Error(`client script failed (${code ?? signal}):\n${out}\n${err}`);
    return `${out}\n${err}`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function wandbKey(user: string): string {
  const dataDir = process.env.CAIRN_UI_DATA_DIR;
  if (!dataDir) throw new Error('CAIRN_UI_DATA_DIR is unset');
  return execFileSync(process.execPath, ['bin/cairn.js', 'keys', 'create', '--user', user, '--data-dir', dataDir], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').pop()!.trim();
}
