import type { RouteDef } from './router';
import { ComparePage } from './pages/compare';
import { ExperimentsPage } from './pages/experiments';
import { RunPage } from './pages/run';
import { RunsPage } from './pages/runs';
import { WandbResolvePage } from './pages/wandb-resolve';

// Every page of the UI, one line each. Patterns are hash routes (`/#/experiments/1`); `/wandb/...`
// are the W&B path routes the wandb client prints (see router.ts). The first match wins.
export const ROUTES: RouteDef[] = [
  { pattern: '/', render: () => <ExperimentsPage /> },
  { pattern: '/experiments', render: () => <ExperimentsPage /> },
  { pattern: '/experiments/:id', render: (p) => <RunsPage experimentIds={[p.id]} /> },
  { pattern: '/runs', render: (_, q) => <RunsPage experimentIds={(q.get('experiments') ?? '').split(',').filter(Boolean)} /> },
  { pattern: '/experiments/:id/runs/:runId', render: (p, q) => <RunPage experimentId={p.id} runId={p.runId} query={q} /> },
  { pattern: '/compare', render: (_, q) => <ComparePage query={q} /> },
  { pattern: '/wandb/:entity/:project', render: (p) => <WandbResolvePage entity={p.entity} project={p.project} /> },
  { pattern: '/wandb/:entity/:project/runs/:run', render: (p) => <WandbResolvePage entity={p.entity} project={p.project} run={p.run} /> },
];
