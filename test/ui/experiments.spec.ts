import { createExperiment, createRun, expect, shoot, test, unique } from './fixtures.js';

test('experiments list: search, counts, sort, create, rename, delete, restore', async ({ page }) => {
  const a = unique('alpha');
  const b = unique('beta');
  const idA = await createExperiment(a);
  await createExperiment(b);
  await createRun(idA, { name: 'r1' });
  await createRun(idA, { name: 'r2' });

  await page.goto('/#/experiments');
  const rowA = page.getByTestId('experiment-row').filter({ hasText: a });
  await expect(rowA).toBeVisible();
  await expect(rowA.getByTestId('run-count')).toHaveText('2');

  // Search narrows the list and is kept in the URL.
  await page.getByLabel('Search experiments').fill(b);
  await expect(page.getByTestId('experiment-row')).toHaveCount(1);
  await expect(page).toHaveURL(/q=beta/);
  await page.getByLabel('Search experiments').fill('');

  // Sort by name ascending, then descending.
  await page.getByRole('button', { name: /^Name/ }).click();
  await page.getByRole('button', { name: /^Name/ }).click();
  await expect(page).toHaveURL(/sort=name&dir=asc/);
  const names = await page.getByTestId('experiment-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name') ?? ''));
  expect(names).toEqual([...names].sort((x, y) => x.toLowerCase().localeCompare(y.toLowerCase())));
  await shoot(page, 'experiments');

  // Create: lands on the new experiment's page.
  const c = unique('created');
  await page.getByRole('button', { name: 'New experiment' }).click();
  await page.getByLabel('Name').fill(c);
  await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
  await expect(page).toHaveURL(/#\/experiments\/\d+/);
  await expect(page.getByRole('heading', { name: c })).toBeVisible();

  // Creating a duplicate shows the API's message in the dialog.
  await page.goto('/#/experiments');
  await page.getByRole('button', { name: 'New experiment' }).click();
  await page.getByLabel('Name').fill(c);
  await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('dialog').getByTestId('error-message')).toContainText(c);
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

  // Rename.
  const renamed = `${c}-renamed`;
  const rowC = page.getByTestId('experiment-row').filter({ hasText: c });
  await rowC.getByRole('button', { name: 'Rename' }).click();
  await page.getByLabel('New name').fill(renamed);
  await page.getByRole('dialog').getByRole('button', { name: 'Rename' }).click();
  await expect(page.getByTestId('experiment-row').filter({ hasText: renamed })).toBeVisible();

  // Delete, then restore from the Deleted view.
  await page.getByTestId('experiment-row').filter({ hasText: renamed }).getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByTestId('experiment-row').filter({ hasText: renamed })).toHaveCount(0);
  await page.getByRole('button', { name: 'Deleted' }).click();
  const deleted = page.getByTestId('experiment-row').filter({ hasText: renamed });
  await expect(deleted).toBeVisible();
  await deleted.getByRole('button', { name: 'Restore' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Restore' }).click();
  await expect(deleted).toHaveCount(0);
  await page.getByRole('button', { name: 'Active' }).click();
  await expect(page.getByTestId('experiment-row').filter({ hasText: renamed })).toBeVisible();
});

test('a new user sees what to run when no shown experiment has runs', async ({ page }) => {
  await page.goto('/#/experiments?q=Default');
  await expect(page.getByTestId('experiment-row')).toHaveCount(1);
  await expect(page.getByText('No runs yet')).toBeVisible();
  await expect(page.getByText(/MLFLOW_TRACKING_URI=http:\/\/127\.0\.0\.1:\d+/)).toBeVisible();
  await expect(page.getByText(/WANDB_BASE_URL=http:\/\/127\.0\.0\.1:\d+/)).toBeVisible();
  await shoot(page, 'experiments-first-run');
  // An experiment without runs says what to run to log one into it.
  const empty = unique('empty');
  const id = await createExperiment(empty);
  await page.goto(`/#/experiments/${id}`);
  await expect(page.getByText('No runs yet')).toBeVisible();
  await expect(page.getByText(`mlflow.set_experiment('${empty}')`)).toBeVisible();
  await shoot(page, 'runs-empty');
});

test('keyboard: arrows move between experiments, enter opens one', async ({ page }) => {
  await createExperiment(unique('kbd-a'));
  await createExperiment(unique('kbd-b'));
  await page.goto('/#/experiments?q=kbd-&sort=name&dir=asc');
  const links = page.getByTestId('experiment-row').getByRole('link');
  await expect(links).toHaveCount(2);
  await links.first().focus();
  await page.keyboard.press('ArrowDown');
  await expect(links.nth(1)).toBeFocused();
  await page.keyboard.press('ArrowUp');
  await expect(links.first()).toBeFocused();
  const name = await links.first().textContent();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: name! })).toBeVisible();
});
