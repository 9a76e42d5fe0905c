import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// `cairn server --ui mlflow`: the web UI that ships, already built, inside the user's own Python
// `mlflow` package (mlflow/server/js/build). Cairn never copies or bundles it; it only finds it.

export interface MlflowUi {
  /** The build folder: index.html and static files, served as `mlflow server` serves them. */
  dir: string;
  /** The package's version (mlflow/version.py), for the start-up banner; undefined when unread. */
  version?: string;
}

export class MlflowUiNotFound extends Error {}

const BUILD = path.join('server', 'js', 'build');

/**
 * `given` is the --mlflow-ui-path value: the build folder itself, the `mlflow` package folder,
 * the site-packages folder holding it, or a Python interpreter that can import mlflow. Without it,
 * `python3` (then `python`) on PATH is asked where its mlflow is.
 */
export function locateMlflowUi(given: string | undefined, env: NodeJS.ProcessEnv = process.env): MlflowUi {
  if (given) {
    const p = path.resolve(given);
    const stat = fs.statSync(p, { throwIfNoEntry: false });
    if (!stat) throw new MlflowUiNotFound(`--mlflow-ui-path '${given}' does not exist`);
    const pkg = stat.isFile() ? packageOf(p, env) : [p, path.join(p, 'mlflow')].find((d) => isPackage(d)) ?? (isBuild(p) ? path.resolve(p, '../../..') : undefined);
    const dir = isBuild(p) ? p : pkg && path.join(pkg, BUILD);
    if (!dir || !isBuild(dir)) {
      throw new MlflowUiNotFound(`--mlflow-ui-path '${given}' holds no MLflow UI build (a folder with index.html, the mlflow package, its site-packages, or a Python with mlflow installed)`);
    }
    return { dir, version: pkg ? versionOf(pkg) : undefined };
  }
  for (const python of ['python3', 'python']) {
    const pkg = packageOf(python, env);
    if (pkg && isBuild(path.join(pkg, BUILD))) return { dir: path.join(pkg, BUILD), version: versionOf(pkg) };
  }
  throw new MlflowUiNotFound(
    "--ui mlflow needs a Python mlflow installation (pip install mlflow): none was found through python3 on PATH; point --mlflow-ui-path at it (the mlflow package folder or a Python that imports it)",
  );
}

const isBuild = (dir: string) => fs.existsSync(path.join(dir, 'index.html')) && fs.existsSync(path.join(dir, 'static'));
const isPackage = (dir: string) => fs.existsSync(path.join(dir, 'server', '__init__.py')) && fs.existsSync(path.join(dir, 'version.py'));

// find_spec locates the package without importing it (importing mlflow takes seconds).
const FIND_MLFLOW = 'import importlib.util as u\ns = u.find_spec("mlflow")\nprint(s.submodule_search_locations[0] if s and s.submodule_search_locations else "")';

function packageOf(python: string, env: NodeJS.ProcessEnv): string | undefined {
  const res = spawnSync(python, ['-c', FIND_MLFLOW], { encoding: 'utf8', timeout: 20_000, env, stdio: ['ignore', 'pipe', 'ignore'] });
  const dir = res.status === 0 ? res.stdout.trim() : '';
  return dir && isPackage(dir) ? dir : undefined;
}

function versionOf(pkg: string): string | undefined {
  try {
    return /^VERSION\s*=\s*["']([^"']+)["']/m.exec(fs.readFileSync(path.join(pkg, 'version.py'), 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}
