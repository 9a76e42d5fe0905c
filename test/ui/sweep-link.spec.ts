import { runPython, wandbKey } from './clients.js';
import { expect, test, unique } from './fixtures.js';

// The sweep URL `wandb sweep` / `wandb.sweep` prints (`/<entity>/<project>/sweeps/<id>`) lands on
// the project's runs filtered to that sweep: its MLflow parent run and its trials.
test('wandb: the printed sweep link lists the sweep runs', async ({ page }) => {
  const project = unique('deep-sweep');
  const out = runPython(
    `
import json, wandb
sweep_id = wandb.sweep({"method": "grid", "parameters": {"a": {"values": [1, 2]}}}, project=${JSON.stringify(project)})
def train():
    run = wandb.init()
    run.log({"score": run.config.a})
    run.finish()
wandb.agent(sweep_id, function=train, count=2, project=${JSON.stringify(project)})
api = wandb.Api()
print("RESULT " + json.dumps({"id": sweep_id, "url": api.sweep(f"{api.default_entity}/${project}/{sweep_id}").url}))
`,
    { WANDB_API_KEY: wandbKey('alice') },
  );
  const result = JSON.parse(out.match(/RESULT (.*)/)![1]) as { id: string; url: string };
  expect(result.url).toMatch(new RegExp(`/alice/${project}/sweeps/${result.id}$`));
  await page.goto(result.url);
  await expect(page).toHaveURL(/\/#\/experiments\/\d+\?filter=/);
  await expect(page.getByTestId('run-row')).toHaveCount(3);
  await page.reload();
  await expect(page.getByTestId('run-row')).toHaveCount(3);
});
