import { useEffect } from 'react';
import { resolveWandb } from '../api/mlflow';
import { ErrorBox, Loading } from '../components/states';
import { useAsync } from '../hooks';
import { href, navigate } from '../router';

// `/<entity>/<project>[/runs/<id> | /sweeps/<id>]`, as the wandb client prints: find the experiment
// (and run) and continue on the canonical hash route, so the page and a later reload show the same
// thing. A sweep is the experiment's runs filtered to its id (its MLflow parent run and trials).
export function WandbResolvePage({ entity, project, run, sweep }: { entity: string; project: string; run?: string; sweep?: string }) {
  const res = useAsync(() => resolveWandb(entity, project, run), [entity, project, run]);
  useEffect(() => {
    if (!res.data) return;
    const { experiment_id, run_id } = res.data;
    if (sweep) navigate(href(`/experiments/${experiment_id}`, { filter: `tags.\`wandb.sweep_id\` = '${sweep.replace(/'/g, "\\'")}'` }), { replace: true });
    else navigate(run_id ? `/experiments/${experiment_id}/runs/${run_id}` : `/experiments/${experiment_id}`, { replace: true });
  }, [res.data, sweep]);
  if (res.error) return <div className="page"><ErrorBox error={res.error} onRetry={res.reload} /></div>;
  return <div className="page"><Loading label={`Opening ${entity}/${project}${run ? ` run ${run}` : sweep ? ` sweep ${sweep}` : ''}…`} /></div>;
}
