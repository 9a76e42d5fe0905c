import type { Page } from '@playwright/test';
import { runPython } from './clients.js';
import { call, expect, serverUrl, shoot, test, unique } from './fixtures.js';

// The Traces view on traces the real mlflow 3.18 client logs: the experiment's Traces tab (search
// grammar, state filter, paging), a trace's waterfall with span inputs/outputs/attributes/events
// and its assessments, and the run page's Traces tab for traces logged in (or linked to) a run.

/** StartTraceV3 over HTTP, in the shape the client sends (a trace without spans, as a bare info). */
async function startTrace(body: unknown): Promise<unknown> {
  const res = await fetch(`${serverUrl()}/api/3.0/mlflow/traces`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`StartTraceV3: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Presses a key in the span tree and waits for the span it chooses. */
async function keyTo(page: Page, key: string, span: string): Promise<void> {
  await page.keyboard.press(key);
  await expect(page.getByTestId('span-detail-name')).toHaveText(span);
}

function seedTraces(experiment: string): { runId: string; errorTrace: string; linked: string } {
  const out = runPython(`
import time, mlflow
from mlflow.entities import SpanEvent, SpanType, AssessmentSource
mlflow.tracing.enable()
mlflow.set_experiment(${JSON.stringify(experiment)})

@mlflow.trace(span_type=SpanType.RETRIEVER)
def retrieve(q):
    time.sleep(0.02)
    return [{"doc": "cairns are stacks of stones", "score": 0.93}]

@mlflow.trace(span_type=SpanType.LLM)
def generate(q, docs):
    span = mlflow.get_current_active_span()
    span.set_attribute("mlflow.llm.model", "gpt-4o")
    span.set_attribute("mlflow.llm.cost", {"input_cost": 0.01, "output_cost": 0.02, "total_cost": 0.03})
    time.sleep(0.03)
    return "A cairn is a pile of stones."

@mlflow.trace(name="answer", span_type=SpanType.AGENT)
def answer(q):
    mlflow.update_current_trace(tags={"env": "prod"})
    docs = retrieve(q)
    return generate(q, docs)

with mlflow.start_run() as run:
    answer("what is a cairn?")
    in_run = mlflow.get_last_active_trace_id()
# Six batches call a tool (one of them about basalt), one calls a cheaper model.
for i in range(12):
    with mlflow.start_span(f"batch-{i:02d}") as s:
        s.set_inputs({"i": i})
        if i % 2 == 0:
            with mlflow.start_span("lookup", span_type=SpanType.TOOL) as t:
                t.set_inputs({"query": "basalt" if i == 4 else "granite"})
                time.sleep(0.05)
        if i == 3:
            with mlflow.start_span("summarize", span_type=SpanType.LLM) as m:
                m.set_inputs({"text": "the hiker's cairn"})
                m.set_attribute("mlflow.llm.model", "gpt-4o-mini")
                m.set_attribute("mlflow.llm.cost", {"input_cost": 0.0005, "output_cost": 0.001, "total_cost": 0.0015})
        s.set_outputs(i * i)
try:
    with mlflow.start_span("failing", span_type=SpanType.TOOL) as s:
        s.set_attributes({"tool": "calculator", "retries": 2})
        s.add_event(SpanEvent("retry", attributes={"attempt": 1}))
        raise ValueError("division by zero")
except ValueError:
    pass
error_trace = mlflow.get_last_active_trace_id()
with mlflow.start_span("linked-later") as s:
    s.set_inputs("x")
linked = mlflow.get_last_active_trace_id()
mlflow.flush_trace_async_logging()
mlflow.log_feedback(trace_id=in_run, name="correct", value=True, rationale="matches the docs",
                    source=AssessmentSource(source_type="HUMAN", source_id="alice"))
mlflow.log_expectation(trace_id=in_run, name="expected_answer", value="a pile of stones")
mlflow.MlflowClient().link_traces_to_run([linked], run.info.run_id)
print("IDS", run.info.run_id, in_run, error_trace, linked)
`);
  const [, runId, , errorTrace, linked] = out.split('\n').find((l) => l.startsWith('IDS '))!.split(' ');
  return { runId, errorTrace, linked };
}

test('traces: list, search, paging, waterfall, span detail, assessments, run link', async ({ page }) => {
  test.setTimeout(600_000);
  const name = unique('traces');
  const { runId, errorTrace, linked } = seedTraces(name);
  const { experiment } = await call<{ experiment: { experiment_id: string } }>('GET', `experiments/get-by-name?experiment_name=${name}`);
  const exp = experiment.experiment_id;

  // The experiment page has a Traces tab next to Runs.
  await page.goto(`/#/experiments/${exp}`);
  await page.getByRole('navigation', { name: 'Experiment sections' }).getByRole('link', { name: 'Traces' }).click();
  await expect(page).toHaveURL(new RegExp(`#/experiments/${exp}/traces$`));
  const rows = page.getByTestId('trace-row');
  await expect(rows).toHaveCount(15);
  await expect(page.getByTestId('trace-page')).toContainText('Page 1 · 15 traces (last page)');

  // The overview's spans view: the tool calls (six lookups, one failing call) tool by tool, and
  // what the model calls cost, model by model.
  const overview = page.getByTestId('trace-overview');
  await expect(overview.getByTestId('overview-tool-calls').locator('.overview-value')).toHaveText('7 · 1 failed');
  await expect(overview.getByTestId('overview-cost').locator('.overview-value')).toHaveText('$0.0315');
  const tools = overview.getByTestId('overview-tool-row');
  await expect(tools).toHaveCount(2);
  // Each lookup sleeps 50 ms.
  const slept = /^(5\d|[6-9]\d|\d{3}) ms$/;
  await expect(tools.nth(0).locator('td')).toHaveText([/^lookup/, '6', '0', slept, slept]);
  await expect(tools.nth(1).locator('td')).toHaveText([/^failing/, '1', '1', /ms$/, /ms$/]);
  const costs = overview.getByTestId('overview-cost-row');
  await expect(costs).toHaveCount(2);
  await expect(costs.nth(0).locator('td')).toHaveText(['gpt-4o', '$0.03', '95%']);
  await expect(costs.nth(1).locator('td')).toHaveText(['gpt-4o-mini', '$0.0015', '5%']);
  await shoot(page, 'traces-overview-spans');

  // Words in the box are looked for in the spans' text (inputs, outputs, attributes), as MLflow's
  // UI does, whatever their case; a quote in them is one.
  const box = page.getByTestId('trace-filter');
  const search = async (text: string) => {
    await box.fill(text);
    await box.press('Enter');
  };
  await search('BASALT');
  await expect(rows).toHaveCount(1);
  await expect(rows.first().getByTestId('trace-name')).toHaveText('batch-04');
  await search('granite');
  await expect(rows).toHaveCount(5);
  await search("hiker's");
  await expect(rows).toHaveCount(1);
  await expect(rows.first().getByTestId('trace-name')).toHaveText('batch-03');
  // The retriever's output, in neither the request nor the response of its trace.
  await search('stacks of stones');
  await expect(rows).toHaveCount(1);
  await expect(rows.first().getByTestId('trace-name')).toHaveText('answer');
  await search('obsidian');
  await expect(page.getByText('No trace matches')).toBeVisible();
  await expect(page.getByTestId('trace-list')).toContainText("trace.text ILIKE '%obsidian%'");
  // A tool in the overview narrows the list to the traces that called it, the words kept.
  await search('granite');
  await overview.getByRole('button', { name: 'lookup' }).click();
  await expect(box).toHaveValue("trace.text ILIKE '%granite%' AND span.type = 'TOOL' AND span.name = 'lookup'");
  await expect(rows).toHaveCount(5);
  await search('');
  await overview.getByRole('button', { name: 'failing' }).click();
  await expect(rows).toHaveCount(1);
  await expect(rows.first().getByTestId('trace-name')).toHaveText('failing');
  await search('');
  // The traces with a span of a type.
  await page.getByLabel('Span type').selectOption('TOOL');
  await expect(rows).toHaveCount(7);
  await page.getByLabel('Span type').selectOption('LLM');
  await expect(rows).toHaveCount(2);
  await expect(page.getByTestId('traces-table')).toContainText('batch-03');
  await page.getByLabel('Span type').selectOption('');
  await expect(rows).toHaveCount(15);

  // The search_traces grammar, sent as typed.
  await page.getByTestId('trace-filter').fill("tags.env = 'prod'");
  await page.getByTestId('trace-filter').press('Enter');
  await expect(rows).toHaveCount(1);
  await expect(rows.first().getByTestId('trace-name')).toHaveText('answer');
  await page.getByTestId('trace-filter').fill("name LIKE 'batch-%' AND execution_time >= 0");
  await page.getByTestId('trace-filter').press('Enter');
  await expect(rows).toHaveCount(12);
  // A filter outside the grammar shows the server's own message.
  await page.getByTestId('trace-filter').fill('nonsense ~~ 3');
  await page.getByTestId('trace-filter').press('Enter');
  await expect(page.getByRole('alert')).toContainText('INVALID_PARAMETER_VALUE');
  await page.getByTestId('trace-filter').fill('');
  await page.getByTestId('trace-filter').press('Enter');
  await page.getByLabel('Trace state').selectOption('ERROR');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('failing');
  await page.getByLabel('Trace state').selectOption('');
  await expect(rows).toHaveCount(15);

  // Paging follows the server's page tokens, 50 traces a page: 40 more traces (by HTTP) make two pages.
  const more = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      startTrace({
        trace: {
          trace_info: {
            trace_id: `tr-${(i + 1).toString(16).padStart(32, 'a')}`,
            trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: exp } },
            request_time: new Date(Date.now() - 86_400_000 - i * 1000).toISOString(),
            execution_duration: '0.010s',
            state: 'OK',
            trace_metadata: {},
            tags: { 'mlflow.traceName': `http-${i}` },
          },
        },
      }),
    ),
  );
  expect(more).toHaveLength(40);
  await page.reload();
  await expect(rows).toHaveCount(50);
  await page.getByTestId('trace-next').click();
  await expect(rows).toHaveCount(5);
  await expect(page.getByTestId('trace-page')).toContainText('Page 2');
  await page.getByRole('button', { name: '← Previous' }).click();
  await expect(rows).toHaveCount(50);

  // A trace: the waterfall in tree order, the chosen span's inputs and outputs, the assessments.
  await page.getByTestId('trace-filter').fill("tags.env = 'prod'");
  await page.getByTestId('trace-filter').press('Enter');
  await rows.first().getByRole('link').click();
  await expect(page.getByTestId('trace-title')).toHaveText('answer');
  const spans = page.getByTestId('span-row');
  await expect(spans).toHaveCount(3);
  await expect(spans.nth(0)).toContainText('AGENT');
  await expect(spans.nth(1)).toContainText('retrieve');
  await expect(spans.nth(2)).toContainText('generate');
  await expect(page.getByTestId('span-inputs')).toContainText('what is a cairn?');
  await spans.nth(1).click();
  await expect(page.getByTestId('span-detail-name')).toHaveText('retrieve');
  await expect(page.getByTestId('span-outputs')).toContainText('cairns are stacks of stones');
  await expect(page.getByTestId('assessment-row')).toHaveCount(2);
  await expect(page.getByTestId('assessments')).toContainText('matches the docs');
  await expect(page.getByTestId('assessments')).toContainText('alice');
  await expect(page.getByTestId('assessments')).toContainText('a pile of stones');
  await expect(page.getByTestId('trace-facts').getByRole('link')).toHaveAttribute('href', new RegExp(`runs/${runId}`));
  await shoot(page, 'trace-waterfall');

  // The failed span: its attributes, its events (the exception the client recorded) and status.
  await page.goto(`/#/experiments/${exp}/traces/${errorTrace}`);
  await expect(page.getByTestId('span-detail')).toContainText('ERROR');
  await expect(page.getByTestId('span-attributes')).toContainText('calculator');
  await expect(page.getByTestId('span-events')).toContainText('retry');
  await expect(page.getByTestId('span-events')).toContainText('exception');
  await expect(page.getByTestId('span-events')).toContainText('division by zero');

  // The run page lists the run's traces: the one logged in it and the one linked afterwards.
  await page.goto(`/#/experiments/${exp}/runs/${runId}?tab=traces`);
  await expect(rows).toHaveCount(2);
  await expect(page.getByTestId('traces-table')).toContainText('answer');
  await expect(page.getByTestId('traces-table')).toContainText('linked-later');
  await expect(page.locator(`a[href$="/traces/${linked}"]`)).toHaveCount(1);
  // Its overview counts the run's traces only, the linked one included.
  await expect(page.getByTestId('overview-traces').locator('.overview-value')).toHaveText('2');
  // The run's model call cost; none of its traces called a tool, so no tool tile.
  await expect(page.getByTestId('overview-cost').locator('.overview-value')).toHaveText('$0.03');
  await expect(page.getByTestId('overview-tool-calls')).toHaveCount(0);
  await expect(page.getByTestId('overview-tools')).toHaveCount(0);
  await expect(page.getByTestId('overview-cost-row')).toHaveCount(1);
  await shoot(page, 'run-traces-overview');
  await page.goto(`/#/experiments/${exp}/traces`);
  await expect(rows).toHaveCount(50);
  await shoot(page, 'traces-list');
});

test('a chat trace: tokens and feedback in the list, messages, a linked span, folding and keys in the tree', async ({ page }) => {
  test.setTimeout(300_000);
  const name = unique('chat-traces');
  const out = runPython(`
import mlflow
from mlflow.entities import SpanType
mlflow.set_experiment(${JSON.stringify(name)})

@mlflow.trace(name="retrieve", span_type=SpanType.RETRIEVER)
def retrieve(q):
    return [{"doc": "cairns mark trails"}]

@mlflow.trace(name="chat", span_type=SpanType.CHAT_MODEL)
def chat(messages):
    span = mlflow.get_current_active_span()
    span.set_attribute("mlflow.chat.tokenUsage", {"input_tokens": 1200, "output_tokens": 34, "total_tokens": 1234})
    span.set_attribute("mlflow.llm.model", "gpt-cairn-mini")
    return {"choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "A cairn is a pile of stones that marks a trail."}}]}

@mlflow.trace(name="agent", span_type=SpanType.AGENT)
def agent(q):
    docs = retrieve(q)
    return chat([{"role": "system", "content": "Answer in one sentence."},
                 {"role": "user", "content": [{"type": "text", "text": q}]}])

agent("what is a cairn?")
tid = mlflow.get_last_active_trace_id()
mlflow.flush_trace_async_logging()
mlflow.log_feedback(trace_id=tid, name="helpful", value=True)
mlflow.log_feedback(trace_id=tid, name="tone", value="terse")
print("TRACE", tid)
`);
  const traceId = out.split('\n').find((l) => l.startsWith('TRACE '))!.split(' ')[1];
  const { experiment } = await call<{ experiment: { experiment_id: string } }>('GET', `experiments/get-by-name?experiment_name=${name}`);
  const exp = experiment.experiment_id;

  // The list: the trace's total tokens (the client's sum over its LLM spans) and its feedback.
  await page.goto(`/#/experiments/${exp}/traces`);
  // Counts are written in the browser's locale.
  const [n1234, n1200] = await page.evaluate(() => [(1234).toLocaleString(), (1200).toLocaleString()]);
  const tokens = `${n1234} (${n1200} in, 34 out)`;
  const row = page.getByTestId('trace-row');
  await expect(row).toHaveCount(1);
  await expect(row.getByTestId('trace-tokens')).toHaveText(n1234);
  await expect(row.getByTestId('trace-feedback')).toContainText('helpful: ✓');
  await expect(row.getByTestId('trace-feedback')).toContainText('tone: terse');
  await expect(row).toContainText('A cairn is a pile of stones');
  // The overview above the list: the server's trace metrics for the last 7 days.
  const overview = page.getByTestId('trace-overview');
  await expect(overview.getByTestId('overview-traces').locator('.overview-value')).toHaveText('1');
  await expect(overview.getByTestId('overview-errors')).toContainText('0 · 0.0%');
  await expect(overview.getByTestId('overview-tokens')).toContainText(n1234);
  // A model but no tool call and no cost: neither tile.
  await expect(overview.getByTestId('overview-tool-calls')).toHaveCount(0);
  await expect(overview.getByTestId('overview-cost')).toHaveCount(0);
  await expect(overview.getByTestId('overview-feedback').filter({ hasText: 'helpful' })).toContainText('1 avg · 1');
  await expect(overview.getByTestId('overview-feedback').filter({ hasText: 'tone' })).toContainText('1 given');
  await expect(overview.getByTestId('overview-chart-traces').locator('canvas')).toBeVisible();
  await shoot(page, 'traces-list-chat');
  // A click anywhere on the row opens the trace.
  await row.getByTestId('trace-tokens').click();
  await expect(page).toHaveURL(new RegExp(`#/experiments/${exp}/traces/${traceId}$`));
  await expect(page.getByTestId('trace-tokens')).toContainText(tokens);

  // The chat span: its model, its tokens, its messages (system, user with a text block, assistant).
  const spans = page.getByTestId('span-row');
  await expect(spans).toHaveCount(3);
  await spans.nth(2).click();
  await expect(page.getByTestId('span-detail-name')).toHaveText('chat');
  await expect(page).toHaveURL(/[?&]span=[0-9a-f]{16}$/);
  await expect(page.getByTestId('span-model')).toHaveText('gpt-cairn-mini');
  await expect(page.getByTestId('span-tokens')).toHaveText(tokens);
  const asked = page.getByTestId('span-inputs-chat').getByTestId('chat-message');
  await expect(asked).toHaveCount(2);
  await expect(asked.nth(0)).toContainText('system');
  await expect(asked.nth(0)).toContainText('Answer in one sentence.');
  await expect(asked.nth(1)).toContainText('user');
  await expect(asked.nth(1)).toContainText('what is a cairn?');
  await expect(page.getByTestId('span-outputs-chat')).toContainText('assistant');
  await expect(page.getByTestId('span-outputs-chat')).toContainText('marks a trail');
  await expect(page.getByTestId('span-attributes')).not.toContainText('mlflow.chat.tokenUsage');
  await shoot(page, 'trace-chat-span');
  // The same payloads as JSON, a click away, pretty-printed.
  await page.getByRole('button', { name: 'Show JSON' }).first().click();
  await expect(page.getByTestId('span-inputs')).toContainText('"role": "system"');
  await expect(page.getByTestId('span-outputs')).toContainText('"finish_reason": "stop"');
  await page.getByRole('button', { name: 'Show as chat' }).first().click();
  await expect(page.getByTestId('span-inputs-chat')).toBeVisible();

  // Feedback added here is a human's, read back by the client as its own log_feedback's would be.
  await page.getByRole('button', { name: 'Add feedback' }).click();
  const form = page.getByTestId('feedback-form');
  await expect(form.getByRole('button', { name: 'Add' })).toBeDisabled();
  await form.getByLabel('Feedback name').fill('accurate');
  await page.getByTestId('feedback-form').scrollIntoViewIfNeeded();
  await shoot(page, 'trace-feedback-form');
  await form.getByLabel('Feedback kind').selectOption('text');
  await expect(form.getByRole('button', { name: 'Add' })).toBeDisabled();
  await form.getByLabel('Feedback kind').selectOption('number');
  await form.getByLabel('Feedback value').fill('high');
  await expect(form.getByRole('button', { name: 'Add' })).toBeDisabled();
  await form.getByLabel('Feedback value').fill('0.25');
  await form.getByLabel('Rationale').fill('misses why cairns are built');
  await form.getByRole('button', { name: 'Add' }).click();
  await expect(form).toHaveCount(0);
  await expect(page.getByTestId('assessment-row')).toHaveCount(3);
  await expect(page.getByTestId('assessments')).toContainText('misses why cairns are built');
  await expect(page.getByTestId('span-detail-name')).toHaveText('chat');
  const readBack = runPython(`
import mlflow
t = mlflow.get_trace(${JSON.stringify(traceId)})
a = [x for x in t.info.assessments if x.name == "accurate"][0]
print("READ", a.value, a.source.source_type, a.source.source_id, a.rationale)
`);
  expect(readBack).toContain('READ 0.25 HUMAN cairn-ui misses why cairns are built');
  await page.getByTestId('assessments').scrollIntoViewIfNeeded();
  await shoot(page, 'trace-feedback');

  // Tags are edited in place, as set_trace_tag and delete_trace_tag would.
  const tags = page.getByRole('region', { name: 'Tags', exact: true });
  await tags.getByLabel('Tag key').fill('reviewed');
  await tags.getByLabel('Tag value').fill('by-ui');
  await tags.getByRole('button', { name: 'Add tag' }).click();
  await expect(tags.getByTestId('tags')).toContainText('reviewed');
  await tags.getByLabel('Tag key').fill('scratch');
  await tags.getByRole('button', { name: 'Add tag' }).click();
  await expect(tags.getByTestId('tags')).toContainText('scratch');
  await tags.getByRole('button', { name: 'Remove tag scratch' }).click();
  await expect(tags.getByTestId('tags')).not.toContainText('scratch');
  const tagged = runPython(`
import mlflow
t = mlflow.get_trace(${JSON.stringify(traceId)})
print("TAGS", t.info.tags.get("reviewed"), "scratch" in t.info.tags)
`);
  expect(tagged).toContain('TAGS by-ui False');

  // The chosen span is in the URL: a reload (or a shared link) opens the trace on it.
  await page.reload();
  await expect(page.getByTestId('span-detail-name')).toHaveText('chat');

  // The arrow keys move along the tree; ← on a parent folds it, → unfolds it.
  await spans.nth(2).focus();
  await keyTo(page, 'ArrowUp', 'retrieve');
  await keyTo(page, 'ArrowLeft', 'agent');
  await page.keyboard.press('ArrowLeft');
  await expect(spans).toHaveCount(1);
  await expect(page.getByRole('treeitem').first()).toHaveAttribute('aria-expanded', 'false');
  await page.keyboard.press('ArrowRight');
  await expect(spans).toHaveCount(3);
  await keyTo(page, 'ArrowDown', 'retrieve');
  // The chevron folds with the mouse, without choosing the span.
  await page.getByTestId('span-fold').click();
  await expect(spans).toHaveCount(1);
  await expect(page.getByTestId('span-detail-name')).toHaveText('agent');
  await page.getByTestId('span-fold').click();
  await expect(spans).toHaveCount(3);

  // Deleting the trace from its page, after a confirmation, leads back to the (now empty) list.
  await page.getByRole('button', { name: 'Delete trace' }).click();
  await page.getByRole('dialog', { name: 'Delete this trace?' }).getByRole('button', { name: 'Delete' }).click();
  await expect(page).toHaveURL(new RegExp(`#/experiments/${exp}/traces$`));
  await expect(page.getByText('No traces yet')).toBeVisible();
  // The overview says so in a line, without tiles of zeros.
  await expect(page.getByTestId('overview-empty')).toHaveText('No traces in the last 7 days.');
  await expect(page.getByTestId('overview-traces')).toHaveCount(0);
});

test('a trace of 3,000 spans: the tree keeps only a screenful of rows in the page, and the keys reach both ends', async ({ page }) => {
  test.setTimeout(300_000);
  const name = unique('big-trace');
  const out = runPython(`
import mlflow
mlflow.set_experiment(${JSON.stringify(name)})
with mlflow.start_span("pipeline") as root:
    for g in range(30):
        with mlflow.start_span(f"batch-{g:02d}"):
            for k in range(99):
                with mlflow.start_span(f"step-{g:02d}-{k:02d}") as s:
                    s.set_inputs({"k": k})
tid = root.trace_id
mlflow.flush_trace_async_logging()
print("TRACE", tid)
`);
  const traceId = out.split('\n').find((l) => l.startsWith('TRACE '))!.split(' ')[1];
  const { experiment } = await call<{ experiment: { experiment_id: string } }>('GET', `experiments/get-by-name?experiment_name=${name}`);
  await page.goto(`/#/experiments/${experiment.experiment_id}/traces/${traceId}`);
  await expect(page.getByTestId('trace-facts')).toContainText(/Spans\s*3,?001/);
  const spans = page.getByTestId('span-row');
  await expect(spans.first()).toContainText('pipeline');
  // Virtualized: a screenful and a margin, not 3,001 rows.
  expect(await spans.count()).toBeLessThan(100);
  await spans.first().click();
  await keyTo(page, 'End', 'step-29-98');
  await expect(page.locator('[data-span-id]:focus')).toContainText('step-29-98');
  await keyTo(page, 'ArrowLeft', 'batch-29');
  await keyTo(page, 'Home', 'pipeline');
  // Folding the root leaves one row; unfolding brings the tree back, still virtualized.
  await page.keyboard.press('ArrowLeft');
  await expect(spans).toHaveCount(1);
  await page.keyboard.press('ArrowRight');
  await expect(spans.nth(1)).toContainText('batch-00');
  expect(await spans.count()).toBeLessThan(100);

  // Find: typing jumps to the first match (unfolding what hides it), Enter to the next, and the
  // count says where in the matches the chosen span is.
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowLeft'); // fold batch-00
  const find = page.getByLabel('Find span');
  await find.fill('step-00-5');
  await expect(page.getByTestId('span-detail-name')).toHaveText('step-00-50');
  await expect(page.getByTestId('span-find-count')).toHaveText('1 of 10 spans');
  await find.press('Enter');
  await expect(page.getByTestId('span-detail-name')).toHaveText('step-00-51');
  await find.press('Shift+Enter');
  await find.press('Shift+Enter');
  await expect(page.getByTestId('span-detail-name')).toHaveText('step-00-59');
  await expect(page.getByTestId('span-find-count')).toHaveText('10 of 10 spans');
  await find.fill('step-27-9');
  await expect(page.getByTestId('span-detail-name')).toHaveText('step-27-90');
  await expect(page.locator('[data-span-id].match')).not.toHaveCount(0);
  await shoot(page, 'trace-3000-spans');
  await find.fill('no-such-span');
  await expect(page.getByTestId('span-find-count')).toHaveText('no span matches');

  // A link to a span deep in the tree opens the trace scrolled to it.
  const link = page.url();
  expect(link).toContain('span=');
  await page.goto('about:blank');
  await page.goto(link);
  await expect(page.getByTestId('span-detail-name')).toHaveText('step-27-90');
  await expect(page.locator('[data-span-id].on')).toBeInViewport();

  // Folding the chosen span's parent leaves the parent chosen, not the root.
  await page.getByLabel('Find span').fill('step-27-0');
  await expect(page.getByTestId('span-detail-name')).toHaveText('step-27-00');
  await page.locator('[data-span-id]').filter({ hasText: 'batch-27' }).getByTestId('span-fold').click();
  await expect(page.getByTestId('span-detail-name')).toHaveText('batch-27');
  await expect(page.locator('[data-span-id].on')).toBeInViewport();
});

test("a chat app's traces: user and session columns, each value narrowing the list to its traces", async ({ page }) => {
  test.setTimeout(300_000);
  const name = unique('sessions');
  runPython(`
import mlflow
mlflow.set_experiment(${JSON.stringify(name)})

@mlflow.trace(name="turn")
def turn(user, session, text):
    mlflow.update_current_trace(metadata={"mlflow.trace.user": user, "mlflow.trace.session": session})
    return text.upper()

turn("alice", "conv-1", "hello")
first = mlflow.get_last_active_trace_id()
turn("alice", "conv-1", "and then?")
turn("bob", "conv-2", "hi")
bobs = mlflow.get_last_active_trace_id()
mlflow.flush_trace_async_logging()
mlflow.log_feedback(trace_id=first, name="resolved", value=True)
mlflow.log_feedback(trace_id=bobs, name="mood", value="it's fine")
`);
  const { experiment } = await call<{ experiment: { experiment_id: string } }>('GET', `experiments/get-by-name?experiment_name=${name}`);
  await page.goto(`/#/experiments/${experiment.experiment_id}/traces`);
  const rows = page.getByTestId('trace-row');
  await expect(rows).toHaveCount(3);
  await expect(page.getByTestId('traces-table').getByRole('columnheader', { name: 'Session' })).toBeVisible();
  await rows.getByTestId('trace-session').getByText('conv-1').first().click();
  await expect(rows).toHaveCount(2);
  await expect(page.getByTestId('trace-filter')).toHaveValue("metadata.`mlflow.trace.session` = 'conv-1'");
  await page.getByTestId('trace-filter').fill('');
  await page.getByTestId('trace-filter').press('Enter');
  await expect(rows).toHaveCount(3);
  // A feedback chip narrows the list to the traces with that feedback (a quote in the value included).
  await rows.getByTestId('trace-feedback').getByRole('button', { name: 'resolved: ✓' }).click();
  await expect(rows).toHaveCount(1);
  await expect(page.getByTestId('trace-filter')).toHaveValue("feedback.`resolved` = 'true'");
  await expect(rows.first()).toContainText('HELLO');
  await page.getByTestId('trace-filter').fill('');
  await page.getByTestId('trace-filter').press('Enter');
  await rows.getByTestId('trace-feedback').getByRole('button', { name: "mood: it's fine" }).click();
  await expect(page.getByTestId('trace-filter')).toHaveValue("feedback.`mood` = 'it''s fine'");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('bob');
  await page.getByTestId('trace-filter').fill('');
  await page.getByTestId('trace-filter').press('Enter');
  await expect(rows).toHaveCount(3);
  await rows.getByTestId('trace-user').getByText('bob').click();
  await expect(rows).toHaveCount(1);
  // Refresh fetches the page again: a turn logged since appears.
  runPython(`
import mlflow
mlflow.set_experiment(${JSON.stringify(name)})
with mlflow.start_span("turn") as s:
    mlflow.update_current_trace(metadata={"mlflow.trace.user": "bob", "mlflow.trace.session": "conv-3"})
mlflow.flush_trace_async_logging()
`);
  await expect(rows).toHaveCount(1);
  const sessions = page.getByTestId('trace-overview').getByTestId('overview-sessions');
  await expect(sessions.locator('.overview-value')).toHaveText('2');
  await page.getByRole('button', { name: 'Refresh' }).click();
  await expect(rows).toHaveCount(2);
  // Refresh loads the overview again too: a third conversation.
  await expect(sessions.locator('.overview-value')).toHaveText('3');
  await page.getByLabel('Overview range').selectOption('24h');
  await expect(page).toHaveURL(/trange=24h/);
  await expect(page.getByTestId('overview-traces').locator('.overview-value')).toHaveText('4');
  await expect(rows.first()).toContainText('conv-3');
  await expect(rows.nth(1)).toContainText('conv-2');
  await shoot(page, 'traces-sessions');

  // Ticked traces are deleted after a confirmation; the client no longer finds them.
  await rows.first().getByRole('checkbox').check();
  await page.getByRole('button', { name: 'Delete 1 trace' }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete 1 trace?' });
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('conv-2');
  const left = runPython(`
import mlflow
exp = mlflow.get_experiment_by_name(${JSON.stringify(name)})
found = mlflow.search_traces(locations=[exp.experiment_id], return_type="list")
print("LEFT", sorted(t.info.trace_metadata.get("mlflow.trace.session") for t in found))
`);
  expect(left).toContain("LEFT ['conv-1', 'conv-1', 'conv-2']");
  // A list without users or sessions has neither column.
  await page.goto(`/#/experiments/${experiment.experiment_id}/traces?tfilter=${encodeURIComponent("name = 'none'")}`);
  await expect(page.getByTestId('traces-table')).toHaveCount(0);
});
