import { getExperiment } from '../api/mlflow';
import { PageHeader } from '../components/shell';
import { ErrorBox, Loading } from '../components/states';
import { useAsync } from '../hooks';
import { href } from '../router';

/** The runs of one or several experiments. */
export function RunsPage({ experimentIds }: { experimentIds: string[] }) {
  const exps = useAsync(() => Promise.all(experimentIds.map(getExperiment)), [experimentIds.join(',')]);
  if (exps.error) return <div className="page"><ErrorBox error={exps.error} onRetry={exps.reload} /></div>;
  if (!exps.data) return <div className="page"><Loading /></div>;
  return (
    <div className="page page-fill">
      <PageHeader crumbs={[{ label: 'Experiments', href: href('/experiments') }]} title={exps.data.map((e) => e.name).join(', ')} />
    </div>
  );
}
