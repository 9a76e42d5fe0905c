import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures.js';
import { isFailure, recordCalls, seed, startCairn, startRealMlflow, withoutStatus, type Call, type Seeded, type Server } from './mlflow-ui-harness.js';

// MLflow's own web UI (`cairn server --ui mlflow`, the build inside the compat venv's mlflow 3.18.0)
// served by Cairn, page by page, beside the real `mlflow server` 3.18.0 holding the same data logged
// by the real mlflow client. On each page: what the page shows is there, no request fails on Cairn
// that the real server answers, and the API requests (method, path, status) are the same, but for
// the differences listed in EXPECTED_DIFFERENCES and TIMING_DEPENDENT with their reasons.
//
// Without the compat venv (no mlflow installed) these tests fail, saying how to build it: they
// never pass without having looked at the UI.

interface PageCase {
  name: string;
  route: (s: Seeded) => string;
  shows: (page: Page) => Locator;
}

const json = (v: unknown) => encodeURIComponent(JSON.stringify(v));

const PAGES: PageCase[] = [
  { name: 'experiments list', route: () => '/#/experiments', shows: (p) => p.getByText('mlflow-ui-demo').first() },
  { name: 'runs table', route: (s) => `/#/experiments/${s.experiment_id}/runs`, shows: (p) => p.getByText('trial-2').first() },
  { name: 'runs charts', route: (s) => `/#/experiments/${s.experiment_id}/runs?compareRunsMode=CHART`, shows: (p) => p.getByText('accuracy').first() },
  { name: 'experiment overview', route: (s) => `/#/experiments/${s.experiment_id}/overview`, shows: (p) => p.getByText(/Send your first trace/).first() },
  { name: 'run overview', route: (s) => `/#/experiments/${s.experiment_id}/runs/${s.runs[0]}`, shows: (p) => p.getByText('optimizer').first() },
  { name: 'run model metrics', route: (s) => `/#/experiments/${s.experiment_id}/runs/${s.runs[0]}/model-metrics`, shows: (p) => p.getByText('loss', { exact: true }).first() },
  { name: 'run system metrics', route: (s) => `/#/experiments/${s.experiment_id}/runs/${s.runs[0]}/system-metrics`, shows: (p) => p.getByText(/cpu_utilization/).first() },
  { name: 'run artifacts, text preview', route: (s) => `/#/experiments/${s.experiment_id}/runs/${s.runs[0]}/artifacts/notes/readme.txt`, shows: (p) => p.getByText('hello from the artifact preview') },
  { name: 'run artifacts, image preview', route: (s) => `/#/experiments/${s.experiment_id}/runs/${s.runs[0]}/artifacts/images/sample.png`, shows: (p) => p.locator('img[src^="blob:"]').first() },
  { name: 'compare runs', route: (s) => `/#/compare-runs?runs=${json(s.runs.slice(0, 2))}&experiments=${json([s.experiment_id])}`, shows: (p) => p.getByText('trial-1').first() },
  { name: 'logged models', route: (s) => `/#/experiments/${s.experiment_id}/models`, shows: (p) => p.getByText('demo-logged-model').first() },
  { name: 'logged model', route: (s) => `/#/experiments/${s.experiment_id}/models/${s.model_id}`, shows: (p) => p.getByText('demo-logged-model').first() },
  { name: 'logged model artifacts', route: (s) => `/#/experiments/${s.experiment_id}/models/${s.model_id}/artifacts`, shows: (p) => p.getByText('MLmodel').first() },
  { name: 'registry list', route: () => '/#/models', shows: (p) => p.getByText('demo-model').first() },
  { name: 'registered model', route: (s) => `/#/models/${s.model}`, shows: (p) => p.getByText('Version 1').first() },
  { name: 'model version', route: (s) => `/#/models/${s.model}/versions/1`, shows: (p) => p.getByText('champion').first() },
  { name: 'prompts list', route: () => '/#/prompts', shows: (p) => p.getByText('demo-prompt').first() },
  { name: 'prompt', route: (s) => `/#/prompts/${s.prompt}`, shows: (p) => p.getByText(/from the prompt registry/).first() },
];

/**
 * Differences from the real server that are deliberate, by page ('*': every page). A call listed
 * here may appear on one side only; everything else must match exactly.
 */
const EXPECTED_DIFFERENCES: { pages: string[]; call: Call; reason: string }[] = [
  {
    pages: ['model version'],
    call: 'GET /model-versions/get-artifact 501',
    reason: "The real server's server-info says it may presign model-version downloads, so the UI asks for a presigned URL, gets 501 from a local artifact store and falls back; Cairn's server-info says it does not presign, so the UI skips that round trip.",
  },
  {
    pages: ['model version'],
    call: 'GET /model-versions/get-artifact 200',
    reason: "The model version's MLmodel: read from the real server through /model-versions/get-artifact after the presign fallback above; Cairn's model version carries its model_id, so the UI reads it from the logged model's artifacts (next line).",
  },
  {
    pages: ['model version'],
    call: 'GET /ajax-api/2.0/mlflow-artifacts/artifacts/{experiment}/models/{model_id}/artifacts/MLmodel 200',
    reason: 'The same MLmodel file, read from the logged model Cairn names in the model version (model_id).',
  },
];

const allowed = (pageName: string, call: Call, experimentId: string) =>
  EXPECTED_DIFFERENCES.some((d) => (d.pages.includes(pageName) || d.pages.includes('*')) && d.call === call.replace(`/artifacts/${experimentId}/`, '/artifacts/{experiment}/'));

// The real server sometimes answers 500 (assistant/config and assistant/providers race its
// auth-plugin check): a request the real server fails is no reference, so it is left out of both
// logs for that page (a Cairn failure is still caught by the first check below).
const brokenOnReal = (calls: Call[]) => new Set(calls.filter((c) => / 5\d\d$/.test(c) && !c.endsWith(' 501')).map(withoutStatus));

/**
 * Calls the UI makes or skips depending on the order its lazy chunks and responses arrive in (seen
 * on either server from one load to the next). Each may appear on one side only, if it succeeded.
 */
const TIMING_DEPENDENT: { call: string; reason: string }[] = [
  { call: 'GET /ajax-api/2.0/mlflow/experiments/get', reason: "The runs page's experiment loader fetches by REST when it mounts before the GraphQL experiment query has settled." },
  {
    call: 'GET /ajax-api/2.0/mlflow/metrics/get-history-bulk-interval',
    reason: "The runs charts ask for metric histories once their chart cards have laid out in view; a load whose cards settle after the page has shown `accuracy` and gone quiet makes the request after the log ends (seen once on Cairn in four CI runs on 2026-12-04, the page showing its charts).",
  },
];

const timingDependent = (call: Call) => !isFailure(call) && TIMING_DEPENDENT.some((t) => t.call === withoutStatus(call));

const SHOWN_WITHIN = 90_000;

let cairn: Server;
let real: Server;

test.beforeAll(async () => {
  test.setTimeout(600_000);
  // Each server is seeded as soon as it is up, both at once (a seed is minutes of the client's CPU
  // and waiting under load; one after the other, they were the longest part of this spec).
  [cairn, real] = await Promise.all([startCairn(), startRealMlflow()].map(async (up) => {
    const s = await up;
    return { ...s, ids: await seed(s.url) };
  }));
});

test.afterAll(async () => {
  await Promise.all([cairn?.stop(), real?.stop()]);
});

async function visit(page: Page, server: Server, pc: PageCase): Promise<Call[]> {
  const recorder = recordCalls(page, server.url);
  await page.goto(server.url + pc.route(server.ids));
  // 90 s: a page's first render (MLflow's bundle parsed and compiled by a renderer sharing two
  // cores with the other lane) took up to 12 s at a load of 4-10, and CI's load is higher.
  await expect.soft(pc.shows(page), `${pc.name} on ${server === cairn ? 'Cairn' : 'the real server'}`).toBeVisible({ timeout: SHOWN_WITHIN });
  return recorder.calls();
}

// One test, one step a page, soft assertions: a page that differs is reported without hiding the
// pages after it, and the two servers are started and seeded once.
test("MLflow's UI on Cairn: every page works as on the real mlflow server", async ({ browser }) => {
  test.setTimeout(1_200_000);
  for (const pc of PAGES) {
    await test.step(pc.name, async () => {
      // Both servers at once: most of a visit is waiting for the page to go quiet (up to 20 s on
      // pages that poll), so visiting them one after the other doubled the spec's time.
      const context = await browser.newContext();
      const [cairnPage, realPage] = [await context.newPage(), await context.newPage()];
      const [onCairnAll, onRealAll] = await Promise.all([visit(cairnPage, cairn, pc), visit(realPage, real, pc)]);
      await context.close();
      const broken = brokenOnReal(onRealAll);
      const [onCairn, onReal] = [onCairnAll, onRealAll].map((log) => log.filter((c) => !broken.has(withoutStatus(c))));

      const answeredByReal = new Set(onReal.filter((c) => !isFailure(c)).map(withoutStatus));
      const failedOnlyOnCairn = onCairnAll.filter((c) => isFailure(c) && answeredByReal.has(withoutStatus(c)));
      expect.soft(failedOnlyOnCairn, `${pc.name}: requests that fail on Cairn and not on the real server`).toEqual([]);

      const differs = (mine: Call[], theirs: Call[], experimentId: string) =>
        mine.filter((c) => !theirs.includes(c) && !allowed(pc.name, c, experimentId) && !timingDependent(c));
      const onlyCairn = differs(onCairn, onReal, cairn.ids.experiment_id);
      const onlyReal = differs(onReal, onCairn, real.ids.experiment_id);
      expect.soft({ onlyCairn, onlyReal }, `${pc.name}: network logs differ (Cairn: ${onCairn.join(', ')})`).toEqual({ onlyCairn: [], onlyReal: [] });
    });
  }
});

test("Cairn's own UI moves to /cairn/ and still reaches the API at the server's root", async ({ page }) => {
  const calls = recordCalls(page, cairn.url);
  await page.goto(`${cairn.url}/cairn/#/experiments`);
  await expect(page.getByRole('heading', { name: 'Experiments' })).toBeVisible();
  await expect(page.getByText('mlflow-ui-demo')).toBeVisible();
  const made = await calls.calls();
  expect(made.filter(isFailure)).toEqual([]);
  expect(made.some((c) => c.startsWith('POST /api/2.0/mlflow/experiments/search '))).toBe(true);
  // Opened on a run's URL, index.html's early runs/get (ui/src/api/prefetch.ts) goes to the API at
  // the root too, and the page takes its answer instead of asking again.
  const runGets: string[] = [];
  page.on('request', (r) => r.url().includes('/runs/get?') && runGets.push(new URL(r.url()).pathname));
  await page.goto('about:blank');
  await page.goto(`${cairn.url}/cairn/#/experiments/${cairn.ids.experiment_id}/runs/${cairn.ids.runs[0]}?tab=overview`);
  await expect(page.getByTestId('run-details')).toBeVisible();
  expect(runGets).toEqual(['/api/2.0/mlflow/runs/get']);
  // The W&B run links the wandb client prints land in Cairn's UI, MLflow's having no such page.
  await page.goto(`${cairn.url}/alice/mnist/runs/abc`);
  expect(new URL(page.url()).pathname).toBe('/cairn/alice/mnist/runs/abc');
});

// With accounts on, as with MLflow's basic-auth server: the API asks the browser for credentials
// (a Basic challenge), and a signed-in user's pages load with every API request answered.
test("MLflow's UI on Cairn with --app-name basic-auth: the browser signs in with HTTP Basic", async ({ browser }) => {
  test.setTimeout(600_000);
  const admin = { username: 'admin', password: 'admin-password-1' };
  const server = await startCairn(['--app-name', 'basic-auth'], { MLFLOW_AUTH_ADMIN_PASSWORD: admin.password });
  try {
    const ids = await seed(server.url, { MLFLOW_TRACKING_USERNAME: admin.username, MLFLOW_TRACKING_PASSWORD: admin.password });
    const refused = await fetch(`${server.url}/ajax-api/2.0/mlflow/experiments/search?max_results=25`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Basic /);

    const context = await browser.newContext({ httpCredentials: admin });
    for (const pc of PAGES.filter((p) => ['experiments list', 'runs table', 'run overview', 'run artifacts, image preview', 'model version', 'prompt'].includes(p.name))) {
      const page = await context.newPage();
      const recorder = recordCalls(page, server.url);
      await page.goto(server.url + pc.route(ids));
      await expect.soft(pc.shows(page), pc.name).toBeVisible({ timeout: SHOWN_WITHIN });
      const failed = (await recorder.calls()).filter(isFailure);
      expect.soft(failed, `${pc.name}: failed requests with credentials`).toEqual([]);
      await page.close();
    }
    await context.close();
  } finally {
    await server.stop();
  }
});
