import { useState } from 'react';
import { getExperiment } from '../../api/mlflow';
import { PageHeader } from '../../components/shell';
import { ErrorBox } from '../../components/states';
import { useAsync } from '../../hooks';
import { href } from '../../router';
import { ExperimentTabs } from '../experiment-tabs';
import { TraceList } from './trace-list';
import { TraceOverview } from './overview';
import '../../styles/traces.css';

// An experiment's Traces tab (`/#/experiments/<id>/traces`, MLflow 3's path for the same tab).

export function TracesPage({ experimentId }: { experimentId: string }) {
  const exp = useAsync(() => getExperiment(experimentId), [experimentId]);
  const [changes, setChanges] = useState(0);
  if (exp.error) return <div className="page"><ErrorBox error={exp.error} onRetry={exp.reload} /></div>;
  const name = (exp.data?.name ?? 'name').replace(/['"\\$`]/g, '');
  return (
    <div className="page">
      <PageHeader
        crumbs={[{ label: 'Experiments', href: href('/experiments') }]}
        title={exp.data?.name ?? '…'}
        actions={<span className="muted mono">ID {experimentId}</span>}
      />
      <ExperimentTabs experimentId={experimentId} active="traces" />
      <TraceOverview experimentId={experimentId} changes={changes} />
      <TraceList
        onChanged={() => setChanges((n) => n + 1)}
        experimentId={experimentId}
        emptyHint={
          <>
            <p>Trace a function into this experiment:</p>
            <pre>{`export MLFLOW_TRACKING_URI=${window.location.origin}
python -c "import mlflow; mlflow.set_experiment('${name}')
@mlflow.trace
def answer(q): return q.upper()
answer('hello')"`}</pre>
          </>
        }
      />
    </div>
  );
}
