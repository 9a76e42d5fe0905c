import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { expect, freePort, shoot, test } from './fixtures.js';

// The team pages (docs/teams.md), on a Cairn with accounts: a team admin sees members with roles,
// adds one, changes a role and removes one; a member sees the same page read-only; the team's
// projects and models list who else they are shared with, and what is shared with the team shows
// its level. Its own Cairn, since the shared one runs without auth.

const root = path.resolve(import.meta.dirname, '../..');
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const user = (name: string) => ({ username: name, password: `${name}-password-1` });
const ALICE = user('alice');
const BOB = user('bob');
const CAROL = user('carol');
const DAVE = user('dave');
type Account = typeof ADMIN;

const basic = (u: Account) => `Basic ${Buffer.from(`${u.username}:${u.password}`).toString('base64')}`;

let server: ChildProcess | undefined;
let url = '';
let runId = '';
let detectorId = '';

async function call(as: Account, apiPath: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/${apiPath}`, { method: 'POST', headers: { Authorization: basic(as), 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${apiPath} as ${as.username}: ${res.status} ${text}`);
  const json = text ? JSON.parse(text) : {};
  if (json.errors) throw new Error(`${apiPath} as ${as.username}: ${text}`);
  return json;
}

test.beforeAll(async () => {
  test.setTimeout(180_000);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  server = spawn(
    process.execPath,
    ['bin/cairn.js', 'server', '--host', '127.0.0.1', '--port', String(port), '--backend-store-uri', 'memory://', '--workers', '1',
      '--app-name', 'basic-auth', '--auth-default-permission', 'NO_PERMISSIONS'],
    { cwd: root, stdio: 'ignore', env: { ...process.env, MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN.password } },
  );
  for (let i = 0; ; i++) {
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) break;
    if (i > 600 || server.exitCode !== null) throw new Error(`auth-enabled Cairn did not start (exit ${server.exitCode})`);
    await new Promise((r) => setTimeout(r, 250));
  }
  for (const u of [ALICE, BOB, CAROL, DAVE]) await call(ADMIN, 'api/2.0/mlflow/users/create', u);
  await call(ALICE, 'api/2.0/cairn/teams/create', { name: 'vision' });
  await call(ALICE, 'api/2.0/cairn/teams/members/set', { team: 'vision', username: 'bob', role: 'member' });
  await call(DAVE, 'api/2.0/cairn/teams/create', { name: 'audio' });
  // The team's project, created as the wandb client does (upsertBucket with the team as entity),
  // and its model (created with the cairn.team tag).
  const { key } = (await call(BOB, 'api/2.0/cairn/keys/create', {})) as { key: string };
  const wandbAuth = { username: 'api', password: key };
  await call(wandbAuth, 'graphql', {
    query: 'mutation($e: String, $p: String) { upsertBucket(input: {entityName: $e, modelName: $p, name: "r1"}) { bucket { id } } }',
    variables: { e: 'vision', p: 'detector' },
  });
  await call(BOB, 'api/2.0/mlflow/registered-models/create', { name: 'detector-model', tags: [{ key: 'cairn.team', value: 'vision' }] });
  const detector = (await (await fetch(`${url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=detector`, { headers: { Authorization: basic(ALICE) } })).json()).experiment.experiment_id;
  await call(ALICE, 'api/2.0/cairn/teams/share', { resource_type: 'experiment', resource_id: detector, team: 'audio', permission: 'READ' });
  await call(ALICE, 'api/2.0/cairn/teams/share', { resource_type: 'experiment', resource_id: detector, username: 'carol', permission: 'EDIT' });
  // Activity on a run of the team's project: bob creates it and tags it, alice writes its notes.
  runId = ((await call(BOB, 'api/2.0/mlflow/runs/create', { experiment_id: detector, run_name: 'bobs-run' })).run as { info: { run_id: string } }).info.run_id;
  await call(BOB, 'api/2.0/mlflow/runs/set-tag', { run_id: runId, key: 'stage', value: 'tuning' });
  await call(ALICE, 'api/2.0/mlflow/runs/set-tag', { run_id: runId, key: 'mlflow.note.content', value: 'looks good' });
  detectorId = detector;
  // Something dave's team shares with vision.
  const speech = (await call(DAVE, 'api/2.0/mlflow/experiments/create', { name: 'speech' })).experiment_id;
  await call(DAVE, 'api/2.0/cairn/teams/share', { resource_type: 'experiment', resource_id: speech, team: 'vision', permission: 'EDIT' });
});

test.afterAll(() => {
  server?.kill('SIGTERM');
});

test('a team admin manages members and roles, and sees the projects, models and shares', async ({ browser }) => {
  const context = await browser.newContext({ httpCredentials: ALICE });
  const page = await context.newPage();
  await page.goto(`${url}/#/teams`);
  await expect(page.getByTestId('teams-table').getByRole('row', { name: /vision admin/ })).toBeVisible();
  await page.getByTestId('teams-table').getByRole('link', { name: 'vision' }).click();
  await expect(page.getByRole('heading', { name: 'vision', exact: true })).toBeVisible();

  const members = page.getByTestId('team-members');
  await expect(members.getByRole('row')).toHaveCount(2);
  await expect(page.getByLabel('Role of bob')).toHaveValue('member');

  // The team's project, shared with a team and a user; its model, shared with nobody else.
  const owned = page.getByTestId('team-owned');
  const project = owned.getByRole('row', { name: /Project detector/ });
  await expect(project.getByText('team audio · READ')).toBeVisible();
  await expect(project.getByText('carol · EDIT')).toBeVisible();
  await expect(project.getByText('bob · MANAGE')).toBeVisible(); // the creator's own row
  await expect(owned.getByRole('row', { name: /Model detector-model/ })).toBeVisible();
  await expect(page.getByTestId('shared-with-team').getByRole('row', { name: /Project speech EDIT/ })).toBeVisible();

  // Add carol as a viewer, make her a member, remove bob.
  await page.getByLabel('Username to add').fill('carol');
  await page.getByLabel('Role to add').selectOption('viewer');
  await page.getByRole('button', { name: 'Add member' }).click();
  await expect(page.getByLabel('Role of carol')).toHaveValue('viewer');
  await page.getByLabel('Role of carol').selectOption('member');
  await page.getByRole('button', { name: 'Remove bob' }).click();
  await expect(members.getByRole('row')).toHaveCount(2);
  await expect(page.getByLabel('Role of bob')).toHaveCount(0);

  // A refused change shows the API's own words: an unknown account, the last admin leaving.
  await page.getByLabel('Username to add').fill('nobody-here');
  await page.getByRole('button', { name: 'Add member' }).click();
  await expect(page.getByTestId('error-message')).toContainText('nobody-here');
  await page.getByRole('button', { name: 'Remove alice' }).click();
  await expect(page.getByTestId('error-message')).toContainText('last admin');
  await shoot(page, 'team-page-admin');

  // The server agrees: carol is a member, bob is gone.
  const check = await (await fetch(`${url}/api/2.0/cairn/teams/get?name=vision`, { headers: { Authorization: basic(ALICE) } })).json();
  expect(check.members).toEqual([{ username: 'alice', role: 'admin' }, { username: 'carol', role: 'member' }]);
  await context.close();
});

test('a team admin shares a project or model with a team or a user, and ends a share', async ({ browser }) => {
  const context = await browser.newContext({ httpCredentials: ALICE });
  const page = await context.newPage();
  await page.goto(`${url}/#/teams/vision`);
  const owned = page.getByTestId('team-owned');
  const model = owned.getByRole('row', { name: /Model detector-model/ });
  await expect(model.getByText('bob · MANAGE')).toBeVisible(); // its creator's row; nobody else yet
  await expect(model.getByText('team audio')).toHaveCount(0);

  // The model with team audio at EDIT, then with the user dave at READ.
  const form = page.getByTestId('share-form');
  await form.getByLabel('Resource to share').selectOption({ label: 'Model detector-model' });
  await form.getByLabel('Team or user to share with').fill('audio');
  await form.getByLabel('Share level').selectOption('EDIT');
  await form.getByRole('button', { name: 'Share' }).click();
  await expect(model.getByText('team audio · EDIT')).toBeVisible();
  await form.getByLabel('Share with a').selectOption('user');
  await form.getByLabel('Team or user to share with').fill('dave');
  await form.getByLabel('Share level').selectOption('READ');
  await form.getByRole('button', { name: 'Share' }).click();
  await expect(model.getByText('dave · READ')).toBeVisible();
  await shoot(page, 'team-share-form');

  // End carol's share of the project; an unknown team is refused with the server's words.
  const project = owned.getByRole('row', { name: /Project detector/ });
  await project.getByRole('button', { name: 'Unshare detector from carol' }).click();
  await expect(project.getByText('carol · EDIT')).toHaveCount(0);
  await form.getByLabel('Share with a').selectOption('team');
  await form.getByLabel('Team or user to share with').fill('no-such-team');
  await form.getByRole('button', { name: 'Share' }).click();
  await expect(page.getByTestId('error-message')).toContainText('no-such-team');

  // The server agrees.
  const sharesOf = async (type: string, id: string) =>
    (await (await fetch(`${url}/api/2.0/cairn/teams/shares?resource_type=${type}&resource_id=${encodeURIComponent(id)}`, { headers: { Authorization: basic(ALICE) } })).json()).shares;
  expect(await sharesOf('registered_model', 'detector-model')).toEqual(
    expect.arrayContaining([{ team: 'audio', permission: 'EDIT' }, { username: 'dave', permission: 'READ' }]),
  );
  expect(await sharesOf('experiment', detectorId)).not.toContainEqual(expect.objectContaining({ username: 'carol' }));
  // dave now reads the model through his own permission row.
  const asDave = await fetch(`${url}/api/2.0/mlflow/registered-models/get?name=detector-model`, { headers: { Authorization: basic(DAVE) } });
  expect(asDave.status).toBe(200);
  await context.close();
});

test('a member sees the team read-only; a non-member is refused', async ({ browser }) => {
  const carol = await browser.newContext({ httpCredentials: CAROL });
  const page = await carol.newPage();
  await page.goto(`${url}/#/teams/vision`);
  await expect(page.getByTestId('team-members').getByRole('row', { name: /alice admin/ })).toBeVisible();
  await expect(page.getByLabel('Role of alice')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Add member' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Remove carol' })).toHaveText('Leave');
  await carol.close();

  const dave = await browser.newContext({ httpCredentials: DAVE });
  const refused = await dave.newPage();
  await refused.goto(`${url}/#/teams/vision`);
  await expect(refused.getByTestId('error-message')).toContainText('not a member');
  await dave.close();
});

test('the run page shows who created the run and who changed it; the experiment lists its activity', async ({ browser }) => {
  const context = await browser.newContext({ httpCredentials: ALICE });
  const page = await context.newPage();
  await page.goto(`${url}/#/experiments/${detectorId}/runs/${runId}`);
  await expect(page.getByTestId('activity-created')).toContainText('bob');
  await expect(page.getByTestId('activity-tags')).toContainText('bob');
  await expect(page.getByTestId('activity-notes')).toContainText('alice');
  await shoot(page, 'run-activity');

  await page.goto(`${url}/#/experiments/${detectorId}`);
  await page.getByRole('link', { name: 'Activity' }).click();
  const rows = page.getByTestId('experiment-activity').getByRole('row');
  // Newest first: alice's notes, bob's tags, bob's run (plus the header row and the wandb run r1).
  await expect(rows.nth(1)).toContainText('alice');
  await expect(rows.nth(1)).toContainText('changed the notes');
  await expect(rows.nth(2)).toContainText('changed the tags');
  await expect(rows.nth(3)).toContainText('created the run');
  await expect(rows.nth(3)).toContainText('bobs-run');
  await shoot(page, 'experiment-activity');
  await context.close();
});

test('a run moves to another project from its page and from the runs table; a refusal shows the reason', async ({ browser }) => {
  // dave's own scratch experiment (he manages it) and his team's speech project (he created it).
  const scratch = (await call(DAVE, 'api/2.0/mlflow/experiments/create', { name: 'dave-scratch' })).experiment_id as string;
  const speech = ((await (await fetch(`${url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=speech`, { headers: { Authorization: basic(DAVE) } })).json()).experiment
    .experiment_id) as string;
  const runOf = async (name: string) => ((await call(DAVE, 'api/2.0/mlflow/runs/create', { experiment_id: scratch, run_name: name })).run as { info: { run_id: string } }).info.run_id;
  const misfiled = await runOf('misfiled');
  const [b1, b2] = [await runOf('batch-1'), await runOf('batch-2')];
  const experimentOf = async (id: string) =>
    (await (await fetch(`${url}/api/2.0/mlflow/runs/get?run_id=${id}`, { headers: { Authorization: basic(DAVE) } })).json()).run.info.experiment_id as string;

  const context = await browser.newContext({ httpCredentials: DAVE });
  const page = await context.newPage();
  await page.goto(`${url}/#/experiments/${scratch}/runs/${misfiled}`);
  await page.getByRole('button', { name: 'Move to project…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Move run to project' });
  const choice = dialog.getByLabel('Destination project');
  // The list is what dave may read, without the run's own experiment; detector is only READ for him.
  await expect(choice.getByRole('option', { name: 'speech' })).toHaveCount(1);
  await expect(choice.getByRole('option', { name: 'dave-scratch' })).toHaveCount(0);
  await choice.selectOption({ label: 'detector' });
  await dialog.getByRole('button', { name: 'Move' }).click();
  await expect(dialog.getByText(/Permission denied: edit access to experiment/)).toBeVisible();
  expect(await experimentOf(misfiled)).toBe(scratch);
  await choice.selectOption({ label: 'speech' });
  // Choosing again clears the refusal: it was about the other project.
  await expect(dialog.getByText(/Permission denied/)).toHaveCount(0);
  // A modal dialog blocks the theme toggle that shoot() uses: one picture, in the current theme.
  await page.screenshot({ path: path.resolve(import.meta.dirname, '../../test-results/screens/run-move-dialog.png') });
  await dialog.getByRole('button', { name: 'Move' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page).toHaveURL(new RegExp(`#/experiments/${speech}/runs/${misfiled}`));
  await expect(page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'speech' })).toBeVisible();
  await expect(page.getByTestId('activity-moved')).toContainText('dave');
  await expect(page.getByTestId('activity-moved')).toContainText('from dave-scratch');
  expect(await experimentOf(misfiled)).toBe(speech);

  // Two runs at once from the runs table.
  await page.goto(`${url}/#/experiments/${scratch}`);
  for (const name of ['batch-1', 'batch-2']) await page.getByRole('row', { name: new RegExp(name) }).getByRole('checkbox').check();
  await page.getByTestId('bulk-bar').getByRole('button', { name: 'Move…' }).click();
  const bulk = page.getByRole('dialog', { name: 'Move 2 runs to project' });
  await bulk.getByLabel('Destination project').selectOption({ label: 'speech' });
  await bulk.getByRole('button', { name: 'Move' }).click();
  await expect(bulk).toHaveCount(0);
  await expect(page.getByRole('row', { name: /batch-1/ })).toHaveCount(0);
  expect([await experimentOf(b1), await experimentOf(b2)]).toEqual([speech, speech]);
  await context.close();
});
