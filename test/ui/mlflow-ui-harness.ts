import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page, Request } from '@playwright/test';
import { clientPython, runPythonAsync } from './clients.js';
import { freePort } from './fixtures.js';

// For test/ui/mlflow-ui.spec.ts: a Cairn serving MLflow's own UI (`--ui mlflow`, from the compat
// venv's mlflow 3.18.0) and the real `mlflow server` 3.18.0 beside it, both seeded by the real mlflow
// client with the same script, and a recorder of the API requests a page makes.

const root = path.resolve(import.meta.dirname, '../..');

export interface Server {
  url: string;
  ids: Seeded;
  stop(): Promise<void>;
}

export interface Seeded {
  experiment_id: string;
  runs: string[];
  model_id: string;
  model: string;
  prompt: string;
}

async function waitUp(url: string, child: ChildProcess, log: () => string, what: string): Promise<void> {
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited during start-up:\n${log()}`);
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) return;
    if (i > 1800) throw new Error(`${what} did not answer /health within 3 minutes:\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function start(what: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, port: number, dir: string): Promise<Omit<Server, 'ids'>> {
  // Its own process group: `mlflow server` runs uvicorn as a child, and stopping it must stop both.
  // Output goes to a file, not a pipe: nothing reads the server's access log while the tests run,
  // so a pipe would fill and stall the server mid-seed.
  const logPath = path.join(dir, 'server.log');
  const fd = fs.openSync(logPath, 'a');
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', fd, fd], detached: true });
  fs.closeSync(fd);
  const log = () => {
    try {
      return fs.readFileSync(logPath, 'utf8').slice(-20_000);
    } catch {
      return '';
    }
  };
  const url = `http://127.0.0.1:${port}`;
  await waitUp(url, child, log, what);
  return {
    url,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        process.kill(-child.pid!, 'SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Cairn with MLflow's UI at `/`, found through the compat venv's Python (as a user's own mlflow). */
export async function startCairn(extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Omit<Server, 'ids'>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-mlflow-ui-'));
  const port = await freePort();
  const args = ['bin/cairn.js', 'server', '--host', '127.0.0.1', '--port', String(port), '--workers', '1', '--backend-store-uri', 'memory://',
    '--data-dir', dir, '--ui', 'mlflow', '--mlflow-ui-path', clientPython(), ...extraArgs];
  return start('Cairn', process.execPath, args, { ...process.env, ...env }, root, port, dir);
}

/** The real `mlflow server` 3.18.0 from the compat venv, on SQLite, proxying artifacts to a folder. */
export async function startRealMlflow(): Promise<Omit<Server, 'ids'>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'real-mlflow-ui-'));
  const port = await freePort();
  const args = ['-m', 'mlflow', 'server', '--host', '127.0.0.1', '--port', String(port), '--workers', '1',
    '--backend-store-uri', `sqlite:///${path.join(dir, 'mlflow.db')}`, '--artifacts-destination', path.join(dir, 'artifacts')];
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MLFLOW_')));
  // The job runner (scorers, issue detection) starts worker processes the UI pages here never use.
  return start('mlflow server', clientPython(), args, { ...env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' }, dir, port, dir);
}

// What each page is shown on: three runs with params, metric histories (model and system metrics),
// a text, a JSON and an image artifact and a dataset input; a logged model registered as version 1
// of a registered model with an alias; a prompt.
const SEED = `
import json
import numpy as np
import pandas as pd
import mlflow
from mlflow import MlflowClient

mlflow.set_experiment("mlflow-ui-demo")
exp = mlflow.get_experiment_by_name("mlflow-ui-demo")

class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input):
        return model_input

runs, model_id = [], None
for i in range(3):
    with mlflow.start_run(run_name=f"trial-{i}") as r:
        mlflow.log_params({"lr": 0.01 * (i + 1), "layers": i + 2, "optimizer": "adam"})
        mlflow.set_tags({"team": "vision"})
        for step in range(20):
            mlflow.log_metrics({"loss": 1 / (step + 1 + i), "accuracy": step / 20}, step=step)
            mlflow.log_metrics({"system/cpu_utilization_percentage": 40 + step, "system/system_memory_usage_megabytes": 1000 + step}, step=step)
        mlflow.log_text("hello from the artifact preview\\n", "notes/readme.txt")
        mlflow.log_dict({"a": 1}, "config.json")
        mlflow.log_image(np.full((8, 8, 3), 200, dtype=np.uint8), "images/sample.png")
        mlflow.log_input(mlflow.data.from_pandas(pd.DataFrame({"x": [1, 2, 3]}), name="train-df"), context="training")
        if i == 0:
            info = mlflow.pyfunc.log_model(name="demo-logged-model", python_model=Echo(), pip_requirements=["mlflow"], registered_model_name="demo-model")
            model_id = info.model_id
        runs.append(r.info.run_id)

MlflowClient().set_registered_model_alias("demo-model", "champion", "1")
mlflow.genai.register_prompt(name="demo-prompt", template="Hello {{name}}, from the prompt registry!", commit_message="first")
print("SEEDED " + json.dumps({"experiment_id": exp.experiment_id, "runs": runs, "model_id": model_id, "model": "demo-model", "prompt": "demo-prompt"}))
`;

export async function seed(url: string, env: Record<string, string> = {}): Promise<Seeded> {
  const out = await runPythonAsync(SEED, { MLFLOW_TRACKING_URI: url, ...env });
  const line = out.split('\n').find((l) => l.startsWith('SEEDED '));
  if (!line) throw new Error(`the seed script printed no ids:\n${out}`);
  return JSON.parse(line.slice('SEEDED '.length)) as Seeded;
}

/** One API request as the comparison sees it: method, path with ids replaced, and status. */
export type Call = string;

/** The server's own ids in a path, replaced by their kind, so the two servers' logs compare. */
export function normalisePath(p: string): string {
  return p.replace(/m-[0-9a-f]{32}/g, '{model_id}').replace(/[0-9a-f]{32}/g, '{run_id}');
}

/**
 * Records every request the page sends to the server other than MLflow's static files (method,
 * normalised path, status; 'FAILED' when no response came), until the network has been quiet.
 */
export function recordCalls(page: Page, base: string): { calls: () => Promise<Call[]> } {
  const calls = new Set<Call>();
  let inflight = 0;
  let lastChange = Date.now();
  // The server's requests (blob: URLs of image previews are the page's own). Static files count
  // towards quiet (a lazy chunk still loading means more calls to come) but are not recorded.
  // A web worker's script (MLflow's TelemetryLogger.telemetry-worker.*.worker.js) is requested by
  // the page but never reported finished to it: counted, it kept every page "busy" until the 20 s
  // bound. It is a static file, never recorded, so it is left out of the count.
  const toServer = (req: Request) => {
    const u = new URL(req.url());
    if (u.pathname.endsWith('.worker.js')) return undefined;
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === new URL(base).origin ? u : undefined;
  };
  const recorded = (u: URL) => !u.pathname.startsWith('/static-files/') && u.pathname !== '/';
  page.on('request', (req) => {
    if (!toServer(req)) return;
    inflight++;
    lastChange = Date.now();
  });
  const done = async (req: Request, failed: boolean) => {
    const u = toServer(req);
    if (!u) return;
    const res = failed ? null : await req.response();
    if (recorded(u)) calls.add(`${req.method()} ${normalisePath(u.pathname)} ${res ? res.status() : 'FAILED'}`);
    inflight--;
    lastChange = Date.now();
  };
  page.on('requestfinished', (req) => void done(req, false));
  page.on('requestfailed', (req) => void done(req, true));
  return {
    // Quiet: nothing in flight and nothing started or ended for 3 s (bounded, for pages that poll).
    // 3 s, not less: a lazy chunk's calls can follow the first batch by two seconds under load.
    calls: async () => {
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && (inflight > 0 || Date.now() - lastChange < 3000)) await page.waitForTimeout(200);
      return [...calls].sort();
    },
  };
}

export const isFailure = (call: Call) => !/ [123]\d\d$/.test(call);
export const withoutStatus = (call: Call) => call.replace(/ \S+$/, '');
