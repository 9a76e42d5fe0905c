import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clientPython } from './clients.js';
import { expect, freePort, shoot, test } from './fixtures.js';

// W&B media on the run page, logged by the real pinned wandb client (the compat venv): images with
// captions over steps, a wandb.Table, histograms over steps, a confusion matrix and console output.
// wandb needs an API key, which `cairn keys create` writes for a database on disk, so this spec runs
// its own Cairn on an embedded PGlite folder rather than the shared in-memory one.

const root = path.resolve(import.meta.dirname, '../..');

const SCRIPT = `
import sys, numpy as np, wandb
run = wandb.init(entity="uitest", project=sys.argv[1], name="media-run", config={"optimizer": {"lr": 0.001, "name": "adam"}, "epochs": 3})
rng = np.random.default_rng(0)
for step in range(3):
    img = np.zeros((16, 16, 3), dtype=np.uint8); img[:, :, step] = 200
    print(f"epoch {step} loss={1.0 / (step + 1):.3f}", flush=True)
    wandb.log({
        "samples": wandb.Image(img, caption=f"sample at step {step}"),
        "weights": wandb.Histogram(rng.normal(step, 1, 500)),
        "loss": 1.0 / (step + 1),
    }, step=step)
table = wandb.Table(columns=["id", "label", "score"], data=[[1, "cat", 0.9], [2, "dog", 0.4], [3, "bird", 0.7]])
wandb.log({"predictions": table}, step=3)
wandb.log({"conf": wandb.plot.confusion_matrix(y_true=[0, 1, 1, 0, 1], preds=[0, 1, 0, 0, 1], class_names=["neg", "pos"])}, step=3)
print("RUN", run.id, flush=True)
run.finish()
`;

let server: ChildProcess | undefined;
let dir = '';
let url = '';

test.beforeAll(async () => {
  test.setTimeout(240_000);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-ui-wandb-'));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const store = `pglite://${path.join(dir, 'db')}`;
  server = spawn(process.execPath, ['bin/cairn.js', 'server', '--host', '127.0.0.1', '--port', String(port), '--backend-store-uri', store, '--data-dir', dir, '--workers', '1'], {
    cwd: root,
    stdio: 'ignore',
  });
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      /* starting */
    }
    if (i > 1200) throw new Error('the W&B test server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
});

test.afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => server!.once('exit', r));
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('W&B media: images with captions and a step slider, table grid, histograms over steps, confusion matrix, console', async ({ page }) => {
  test.setTimeout(300_000);
  const venvPython = clientPython();
  const key = spawnSync(process.execPath, ['bin/cairn.js', 'keys', 'create', '--user', 'uitest', '--backend-store-uri', `pglite://${path.join(dir, 'db')}`, '--data-dir', dir], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(key.status, key.stderr).toBe(0);
  const home = path.join(dir, 'home');
  fs.mkdirSync(home, { recursive: true });
  const env: Record<string, string> = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && !k.startsWith('WANDB_') && !k.startsWith('MLFLOW_'))) as Record<string, string>;
  Object.assign(env, {
    HOME: home,
    WANDB_DIR: dir,
    WANDB_CONFIG_DIR: path.join(dir, 'wandb-config'),
    WANDB_CACHE_DIR: path.join(dir, 'wandb-cache'),
    WANDB_DATA_DIR: path.join(dir, 'wandb-data'),
    WANDB_BASE_URL: url,
    WANDB_API_KEY: key.stdout.trim(),
    WANDB_SILENT: 'true',
    WANDB_ERROR_REPORTING: 'false',
    WANDB_DISABLE_GIT: 'true',
    WANDB_DISABLE_CODE: 'true',
    WANDB_INIT_TIMEOUT: '120',
  });
  fs.writeFileSync(path.join(dir, 'log_media.py'), SCRIPT);
  const project = `media-${Date.now().toString(36)}`;
  const py = spawnSync(venvPython, [path.join(dir, 'log_media.py'), project], { cwd: dir, env, encoding: 'utf8', timeout: 240_000 });
  expect(py.status, `${py.stdout}\n${py.stderr}`).toBe(0);
  const runId = /RUN (\S+)/.exec(py.stdout)![1];

  const resolved = (await (await fetch(`${url}/api/2.0/cairn/ui/wandb/resolve?entity=uitest&project=${project}&run=${runId}`)).json()) as { experiment_id: string; run_id: string };
  await page.goto(`${url}/#/experiments/${resolved.experiment_id}/runs/${resolved.run_id}?tab=media`);

  // Images: the latest step first, a slider to go back, captions shown.
  const samples = page.locator('[data-testid=media-panel][data-key=samples]');
  await expect(samples.locator('img')).toBeVisible();
  await expect(samples).toContainText('sample at step 2');
  await expect.poll(() => samples.locator('img').evaluate((el: HTMLImageElement) => el.naturalWidth)).toBe(16);
  await samples.getByLabel('Step of samples').fill('0');
  await expect(samples.getByTestId('media-step')).toHaveText('0');
  await expect(samples).toContainText('sample at step 0');

  // Table: a sortable grid.
  const table = page.locator('[data-testid=media-panel][data-key=predictions]');
  await expect(table.getByTestId('media-table').locator('tbody tr')).toHaveCount(3);
  await table.getByRole('button', { name: 'score' }).click();
  await expect(table.locator('tbody tr').first()).toContainText('dog');

  // Histograms over steps.
  const hist = page.locator('[data-testid=media-panel][data-key=weights]');
  await expect(hist.getByTestId('histogram-bars')).toBeVisible();
  await expect(hist.getByTestId('histogram-heatmap')).toBeVisible();

  // Confusion matrix: actual x predicted counts.
  const conf = page.locator('[data-testid=media-panel][data-key=conf]');
  await expect(conf.getByTestId('confusion-matrix')).toBeVisible();
  await expect(conf.getByTestId('confusion-matrix')).toContainText('neg');
  await expect(conf.getByTestId('confusion-matrix').locator('td').first()).toHaveText('2');
  await shoot(page, 'run-media');

  // Config as a params tree, and the console output the client streamed.
  await page.getByRole('link', { name: 'Overview' }).click();
  await expect(page.locator('[data-testid=param-row][data-key="optimizer.lr"]')).toContainText('0.001');
  await page.getByRole('link', { name: 'Logs' }).click();
  await expect(page.getByTestId('console-output')).toContainText('epoch 2 loss=0.333');
});
