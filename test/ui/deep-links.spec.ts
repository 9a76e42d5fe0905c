import { runPython, wandbKey } from './clients.js';
import { expect, shoot, test, unique } from './fixtures.js';

// Every link the real clients print lands on the right page, also after a reload.

test('mlflow: the printed run and experiment links, and a model version link', async ({ page }) => {
  const exp = unique('deep-mlflow');
  const model = unique('deep-model');
  const out = runPython(`
import json, mlflow
from mlflow import MlflowClient
mlflow.set_experiment(${JSON.stringify(exp)})
with mlflow.start_run(run_name="deep-link-run") as run:
    mlflow.log_param("learning_rate", "0.01")
    mlflow.log_metric("loss", 0.25)
c = MlflowClient()
c.create_registered_model(${JSON.stringify(model)})
mv = c.create_model_version(${JSON.stringify(model)}, source=f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
print("RESULT " + json.dumps({"run_id": run.info.run_id, "version": mv.version}))
`);
  const runUrl = out.match(/View run deep-link-run at: (\S+)/)?.[1];
  const expUrl = out.match(/View experiment at: (\S+)/)?.[1];
  const result = JSON.parse(out.match(/RESULT (.*)/)![1]) as { run_id: string; version: string };
  expect(runUrl).toMatch(new RegExp(`/#/experiments/\\d+/runs/${result.run_id}$`));
  expect(expUrl).toMatch(/\/#\/experiments\/\d+$/);

  await page.goto(runUrl!);
  await expect(page.getByTestId('run-name')).toHaveText('deep-link-run');
  // A run with metrics opens on its charts; the overview has its params and latest metrics.
  await expect(page.locator('[data-testid=metric-chart][data-key=loss]')).toHaveAttribute('data-total-points', '1');
  await page.getByRole('link', { name: 'Overview' }).click();
  await expect(page.getByTestId('run-params')).toContainText('learning_rate');
  await expect(page.getByTestId('run-metrics')).toContainText('0.25');
  await page.reload();
  await expect(page.getByTestId('run-name')).toHaveText('deep-link-run');
  await expect(page.getByTestId('run-params')).toContainText('learning_rate');

  await page.goto(expUrl!);
  await expect(page.getByRole('heading', { name: exp })).toBeVisible();
  await expect(page.getByTestId('run-row')).toHaveCount(1);
  await page.reload();
  await expect(page.getByTestId('run-row')).toContainText('deep-link-run');

  // The registry link, in the form MLflow's UI uses.
  const base = new URL(runUrl!).origin;
  await page.goto(`${base}/#/models/${encodeURIComponent(model)}/versions/${result.version}`);
  await expect(page.getByRole('heading', { name: `${model} · Version ${result.version}` })).toBeVisible();
  await page.reload();
  await expect(page.getByRole('heading', { name: `${model} · Version ${result.version}` })).toBeVisible();
  await expect(page.getByRole('link', { name: result.run_id.slice(0, 12) })).toBeVisible();
  await page.getByRole('link', { name: result.run_id.slice(0, 12) }).click();
  await expect(page.getByTestId('run-name')).toHaveText('deep-link-run');
});

test('wandb: the printed project and run links (path routes) resolve to the experiment and run', async ({ page }) => {
  const project = unique('deep-wandb');
  const out = runPython(
    `
import json, wandb
run = wandb.init(project=${JSON.stringify(project)}, name="wandb-deep", config={"lr": 0.1})
run.log({"loss": 0.5})
run.log({"loss": 0.375})
print("RESULT " + json.dumps({"url": run.url, "id": run.id}))
run.finish()
`,
    { WANDB_API_KEY: wandbKey('alice') },
  );
  const result = JSON.parse(out.match(/RESULT (.*)/)![1]) as { url: string; id: string };
  // The links the client printed for the user to click.
  const runUrl = out.match(/View run at (\S+)/)?.[1];
  const projectUrl = out.match(/View project at (\S+)/)?.[1];
  expect(runUrl).toBe(result.url);
  expect(runUrl).toMatch(new RegExp(`/alice/${project}/runs/${result.id}$`));
  expect(projectUrl).toMatch(new RegExp(`/alice/${project}$`));

  await page.goto(runUrl!);
  await expect(page).toHaveURL(/\/#\/experiments\/\d+\/runs\/[0-9a-zA-Z-]+$/);
  await expect(page.getByTestId('run-name')).toHaveText('wandb-deep');
  await expect(page.locator('[data-testid=metric-chart][data-key=loss]')).toHaveAttribute('data-total-points', '2');
  await page.getByRole('link', { name: 'Overview' }).click();
  await expect(page.getByTestId('run-metrics')).toContainText('0.375');
  await page.reload();
  await expect(page.getByTestId('run-name')).toHaveText('wandb-deep');

  await page.goto(projectUrl!);
  await expect(page.getByRole('heading', { name: project })).toBeVisible();
  await expect(page.getByTestId('run-row')).toContainText('wandb-deep');

  // An unknown project says so.
  await page.goto(`${new URL(result.url).origin}/nobody/${unique('missing')}`);
  await expect(page.getByTestId('error-message')).toBeVisible();
});
