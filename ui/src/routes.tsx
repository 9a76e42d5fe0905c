import type { RouteDef } from './router';
import { ComparePage } from './pages/compare';
import { ExperimentActivityPage } from './pages/experiment-activity';
import { ExperimentsPage } from './pages/experiments';
import { LoggedModelPage, LoggedModelsPage } from './pages/logged-models';
import { ModelPage } from './pages/model';
import { ModelVersionPage } from './pages/model-version';
import { ModelsPage } from './pages/models';
import { PromptPage } from './pages/prompt';
import { RunByIdPage } from './pages/run-by-id';
import { RunPage } from './pages/run';
import { RunsPage } from './pages/runs';
import { TracePage } from './pages/traces/trace-page';
import { TracesPage } from './pages/traces/traces-page';
import { TeamPage } from './pages/team';
import { TeamsPage } from './pages/teams';
import { WandbResolvePage } from './pages/wandb-resolve';

// Every page of the UI, one line each. Patterns are hash routes (`/#/experiments/1`); `/wandb/...`
// are the W&B path routes the wandb client prints (see router.ts). The first match wins.
export const ROUTES: RouteDef[] = [
  { pattern: '/', render: () => <ExperimentsPage /> },
  { pattern: '/experiments', render: () => <ExperimentsPage /> },
  { pattern: '/experiments/:id', render: (p) => <RunsPage experimentIds={[p.id]} /> },
  { pattern: '/runs', render: (_, q) => <RunsPage experimentIds={(q.get('experiments') ?? '').split(',').filter(Boolean)} /> },
  // MLflow 3's UI paths for the same pages, so its links and bookmarks land too.
  { pattern: '/experiments/:id/models/:modelId', render: (p) => <LoggedModelPage id={p.modelId} /> },
  { pattern: '/experiments/:id/traces', render: (p) => <TracesPage experimentId={p.id} /> },
  { pattern: '/experiments/:id/traces/:traceId', render: (p) => <TracePage key={p.traceId} experimentId={p.id} traceId={p.traceId} /> },
  { pattern: '/experiments/:id/activity', render: (p) => <ExperimentActivityPage experimentId={p.id} /> },
  { pattern: '/experiments/:id/:tab', render: (p) => <RunsPage experimentIds={[p.id]} /> },
  { pattern: '/compare-experiments/:any', render: (_, q) => <RunsPage experimentIds={jsonList(q.get('experiments'))} /> },
  { pattern: '/experiments/:id/runs/:runId', render: (p, q) => <RunPage experimentId={p.id} runId={p.runId} query={q} /> },
  { pattern: '/compare', render: (_, q) => <ComparePage query={q} /> },
  { pattern: '/run/:runId', render: (p) => <RunByIdPage runId={p.runId} /> },
  { pattern: '/models', render: () => <ModelsPage /> },
  { pattern: '/models/:name', render: (p) => <ModelPage name={p.name} /> },
  { pattern: '/models/:name/versions/:version', render: (p) => <ModelVersionPage name={p.name} version={p.version} /> },
  { pattern: '/logged-models', render: () => <LoggedModelsPage /> },
  { pattern: '/logged-models/:id', render: (p) => <LoggedModelPage id={p.id} /> },
  { pattern: '/prompts', render: () => <ModelsPage prompts /> },
  { pattern: '/prompts/:name', render: (p) => <PromptPage name={p.name} /> },
  { pattern: '/prompts/:name/versions/:version', render: (p) => <PromptPage name={p.name} version={p.version} /> },
  { pattern: '/teams', render: () => <TeamsPage /> },
  { pattern: '/teams/:name', render: (p) => <TeamPage name={p.name} /> },
  { pattern: '/compare-runs', render: (_, q) => <ComparePage query={withList(q, 'runs')} /> },
  { pattern: '/wandb/:entity/:project', render: (p) => <WandbResolvePage entity={p.entity} project={p.project} /> },
  { pattern: '/wandb/:entity/:project/runs/:run', render: (p) => <WandbResolvePage entity={p.entity} project={p.project} run={p.run} /> },
  { pattern: '/wandb/:entity/:project/sweeps/:sweep', render: (p) => <WandbResolvePage entity={p.entity} project={p.project} sweep={p.sweep} /> },
];

/** A JSON array of strings from the query (`?runs=["a","b"]`, MLflow's form), or a comma list. */
function jsonList(raw: string | null): string[] {
  if (!raw) return [];
  try {
    const v = JSON.parse(raw);
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return raw.split(',').filter(Boolean);
  }
}

/** The query with a JSON-array param (MLflow's `?runs=["a","b"]`) rewritten as a comma list. */
function withList(q: URLSearchParams, key: string): URLSearchParams {
  const out = new URLSearchParams(q);
  out.set(key, jsonList(q.get(key)).join(','));
  return out;
}
