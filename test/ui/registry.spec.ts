import { runPython } from './clients.js';
import { call, createExperiment, createRun, expect, shoot, test, unique } from './fixtures.js';

// Model registry pages on data logged through the REST API and the real mlflow client (prompts).

interface Mv { model_version: { current_stage: string; description: string; tags?: { key: string; value: string }[] } }
interface Rm { registered_model: { description?: string; aliases?: { alias: string; version: string }[]; tags?: { key: string; value: string }[] } }

let model: string;
let runId: string;
let expId: string;

test.beforeAll(async () => {
  model = unique('classifier');
  expId = await createExperiment(unique('registry'));
  runId = await createRun(expId, { name: 'trainer' });
  await call('POST', 'registered-models/create', { name: model, description: 'first description' });
  for (let i = 0; i < 2; i++) await call('POST', 'model-versions/create', { name: model, source: `runs:/${runId}/model`, run_id: runId });
});

test('models list: search, and prompts kept apart', async ({ page }) => {
  const prompt = unique('summarize');
  runPython(`
import mlflow
mlflow.genai.register_prompt(name=${JSON.stringify(prompt)}, template="Summarize: {{text}}", commit_message="first")
mlflow.genai.register_prompt(name=${JSON.stringify(prompt)}, template="Summarize in one line: {{text}}", commit_message="shorter")
`);
  await page.goto('/#/models');
  await expect(page.getByTestId('model-row').filter({ hasText: model })).toBeVisible();
  await expect(page.getByTestId('model-row').filter({ hasText: prompt })).toHaveCount(0);
  await page.getByLabel('Search models').fill(model.slice(0, 14));
  await expect(page.getByTestId('model-row')).toHaveCount(1);
  await shoot(page, 'models');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Prompts' }).click();
  const row = page.getByTestId('model-row').filter({ hasText: prompt });
  await expect(row).toBeVisible();
  await shoot(page, 'prompts');
  await row.getByRole('link', { name: prompt }).click();
  // Every version's template, newest first; a version's own link shows that version.
  await expect(page.getByTestId('prompt-version')).toHaveCount(2);
  await expect(page.getByTestId('prompt-version').first()).toContainText('Summarize in one line: {{text}}');
  await expect(page.getByTestId('prompt-version').nth(1)).toContainText('Summarize: {{text}}');
  await shoot(page, 'prompt');
  await page.getByRole('link', { name: 'Version 1' }).click();
  await expect(page.getByTestId('prompt-version')).toHaveCount(1);
  await expect(page.getByTestId('prompt-version')).toContainText('Summarize: {{text}}');
});

test('model page: description, tags, versions; version page: stage, aliases, tags, description', async ({ page }) => {
  await page.goto(`/#/models/${encodeURIComponent(model)}`);
  await expect(page.getByTestId('version-row')).toHaveCount(2);
  await expect(page.getByTestId('description-text')).toHaveText('first description');
  await page.getByRole('button', { name: 'Edit description' }).click();
  await page.getByLabel('description').fill('A better description');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('description-text')).toHaveText('A better description');
  let rm = await call<Rm>('GET', `registered-models/get?name=${encodeURIComponent(model)}`);
  expect(rm.registered_model.description).toBe('A better description');

  await page.getByLabel('Tag key').fill('team');
  await page.getByLabel('Tag value').fill('vision');
  await page.getByRole('button', { name: 'Add tag' }).click();
  await expect(page.getByTestId('tags')).toContainText('team');
  await shoot(page, 'model');
  rm = await call<Rm>('GET', `registered-models/get?name=${encodeURIComponent(model)}`);
  expect(rm.registered_model.tags?.find((t) => t.key === 'team')?.value).toBe('vision');

  await page.getByRole('link', { name: 'Version 2' }).click();
  await expect(page.getByRole('heading', { name: `${model} · Version 2` })).toBeVisible();

  await page.getByLabel('Stage').selectOption('Staging');
  await expect(page.locator('.page-actions .badge')).toHaveText('Staging');
  let mv = await call<Mv>('GET', `model-versions/get?name=${encodeURIComponent(model)}&version=2`);
  expect(mv.model_version.current_stage).toBe('Staging');

  await page.getByLabel('New alias').fill('champion');
  await page.getByRole('button', { name: 'Add alias' }).click();
  await expect(page.getByTestId('version-aliases')).toContainText('@champion');
  rm = await call<Rm>('GET', `registered-models/get?name=${encodeURIComponent(model)}`);
  expect(rm.registered_model.aliases).toEqual([{ alias: 'champion', version: '2' }]);
  await shoot(page, 'model-version');

  await page.getByRole('button', { name: 'Remove alias champion' }).click();
  await expect(page.getByTestId('version-aliases')).toContainText('No aliases');
  rm = await call<Rm>('GET', `registered-models/get?name=${encodeURIComponent(model)}`);
  expect(rm.registered_model.aliases ?? []).toEqual([]);

  await page.getByLabel('Tag key').fill('validated');
  await page.getByLabel('Tag value').fill('true');
  await page.getByRole('button', { name: 'Add tag' }).click();
  await expect(page.getByTestId('tags')).toContainText('validated');
  await page.getByRole('button', { name: 'Remove tag validated' }).click();
  await expect(page.getByTestId('tags')).not.toContainText('validated');

  await page.getByRole('button', { name: 'Edit description' }).click();
  await page.getByLabel('description').fill('v2 notes');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('description-text')).toHaveText('v2 notes');
  mv = await call<Mv>('GET', `model-versions/get?name=${encodeURIComponent(model)}&version=2`);
  expect(mv.model_version.description).toBe('v2 notes');
  expect(mv.model_version.tags ?? []).toEqual([]);

  // Back on the model page the version shows its stage.
  await page.getByRole('link', { name: model }).click();
  await expect(page.getByTestId('version-row').filter({ hasText: 'Version 2' })).toContainText('Staging');
});

test('a bad edit shows the API error', async ({ page }) => {
  await page.goto(`/#/models/${encodeURIComponent(model)}/versions/1`);
  await page.getByLabel('New alias').fill('v1'); // MLflow reserves v<N> aliases
  await page.getByRole('button', { name: 'Add alias' }).click();
  await expect(page.getByTestId('error-message')).toBeVisible();
});

test('logged models list and page', async ({ page }) => {
  const name = unique('lm');
  const created = await call<{ model: { info: { model_id: string } } }>('POST', 'logged-models', { experiment_id: expId, name, source_run_id: runId });
  const id = created.model.info.model_id;
  await page.goto('/#/logged-models');
  const row = page.getByTestId('logged-model-row').filter({ hasText: name });
  await expect(row).toBeVisible();
  await shoot(page, 'logged-models');
  await row.getByRole('link', { name }).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
  await expect(page.getByText(id, { exact: true })).toBeVisible();
  await shoot(page, 'logged-model');
  // MLflow 3's own UI path for the same page.
  await page.goto(`/#/experiments/${expId}/models/${id}`);
  await expect(page.getByRole('heading', { name })).toBeVisible();

  // A model version registered from the logged model links to it.
  const registered = unique('from-lm');
  await call('POST', 'registered-models/create', { name: registered });
  const mv = await call<{ model_version: { version: string } }>('POST', 'model-versions/create', { name: registered, source: `models:/${id}`, run_id: runId, model_id: id });
  await page.goto(`/#/models/${encodeURIComponent(registered)}/versions/${mv.model_version.version}`);
  await page.getByRole('link', { name: id }).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
});

test('keyboard in the registry tables: arrows move between rows, enter opens one', async ({ page }) => {
  await call('POST', 'registered-models/create', { name: unique('kbd-model') });
  await page.goto('/#/models');
  const links = page.getByTestId('model-row').locator('td:first-child a');
  await expect(links.nth(1)).toBeVisible();
  await links.first().focus();
  await page.keyboard.press('ArrowDown');
  await expect(links.nth(1)).toBeFocused();
  await page.keyboard.press('k');
  await expect(links.first()).toBeFocused();
  await page.keyboard.press('End');
  await expect(links.last()).toBeFocused();
  const name = await links.last().textContent();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: name! })).toBeVisible();

  // A model's versions table too.
  await page.goto(`/#/models/${encodeURIComponent(model)}`);
  const versions = page.getByTestId('version-row').locator('td:first-child a');
  await expect(versions.nth(1)).toBeVisible();
  await versions.first().focus();
  await page.keyboard.press('ArrowDown');
  await expect(versions.nth(1)).toBeFocused();
});
