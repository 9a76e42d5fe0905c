import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The real `mlflow server` comes from the same venv scripts/compat.sh uses: cached under
 * ~/.cache/cairn (CAIRN_CACHE overrides), keyed by the requirement files, created the same way when
 * missing, so CI (which runs the compat tests first) never installs it twice.
 */
export function mlflowVenv(repo: string, log: (msg: string) => void): string {
  const req = path.join(repo, 'test/compat/requirements.txt');
  const pins = path.join(repo, 'test/compat/client-pins.txt');
  const cache = process.env.CAIRN_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'cairn');
  const hash = createHash('sha256').update(fs.readFileSync(req)).update(fs.readFileSync(pins)).digest('hex').slice(0, 12);
  const venv = path.join(cache, `venv-${hash}`);
  if (fs.existsSync(path.join(venv, 'bin', 'pytest')) && fs.existsSync(path.join(venv, 'bin', 'python'))) return venv;
  log(`creating the mlflow venv ${venv} (pip, a few minutes the first time)`);
  fs.mkdirSync(cache, { recursive: true });
  const tmp = `${venv}.tmp.${process.pid}`;
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    run('python3', ['-m', 'venv', tmp]);
    const pip = path.join(tmp, 'bin', 'pip');
    run(pip, ['install', '--quiet', '--disable-pip-version-check', '-r', req]);
    run(pip, ['install', '--quiet', '--disable-pip-version-check', '--no-deps', '-r', pins]);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`could not create the mlflow venv (needs python3 with venv and pip access to PyPI): ${(err as Error).message}`);
  }
  fs.rmSync(venv, { recursive: true, force: true });
  fs.renameSync(tmp, venv);
  return venv;
}
