import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * The real `mlflow server` comes from the venv scripts/compat.sh uses: scripts/venv.sh builds it
 * when missing (under a lock, so a bench and a test run started together never delete each other's
 * install) and prints its path.
 */
export function mlflowVenv(repo: string, log: (msg: string) => void): string {
  log('checking the mlflow venv (scripts/venv.sh; a minute or so the first time)');
  try {
    return execFileSync('bash', [path.join(repo, 'scripts/venv.sh')], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  } catch (err) {
    throw new Error(`could not create the mlflow venv (needs python3 with venv, flock and access to PyPI): ${(err as Error).message}`);
  }
}
