import { useEffect } from 'react';
import { getRun } from '../api/mlflow';
import { ErrorBox, Loading } from '../components/states';
import { useAsync } from '../hooks';
import { navigate } from '../router';

// `/#/run/<id>`: a run known only by id (a model version's source run) continues on its page.
export function RunByIdPage({ runId }: { runId: string }) {
  const run = useAsync(() => getRun(runId), [runId]);
  useEffect(() => {
    if (run.data) navigate(`/experiments/${run.data.info.experiment_id}/runs/${runId}`, { replace: true });
  }, [run.data, runId]);
  if (run.error) return <div className="page"><ErrorBox error={run.error} onRetry={run.reload} /></div>;
  return <div className="page"><Loading /></div>;
}
