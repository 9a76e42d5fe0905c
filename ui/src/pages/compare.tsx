import { getRun } from '../api/mlflow';
import { runName } from '../api/types';
import { PageHeader } from '../components/shell';
import { ErrorBox, Loading, StatusBadge } from '../components/states';
import { useAsync } from '../hooks';
import { href } from '../router';

// Placeholder for the compare view (selected runs side by side); the full page replaces this file.
export function ComparePage({ runIds }: { runIds: string[] }) {
  const runs = useAsync(() => Promise.all(runIds.map(getRun)), [runIds.join(',')]);
  if (runs.error) return <div className="page"><ErrorBox error={runs.error} onRetry={runs.reload} /></div>;
  if (!runs.data) return <div className="page"><Loading /></div>;
  return (
    <div className="page">
      <PageHeader crumbs={[{ label: 'Experiments', href: href('/experiments') }]} title={`Compare ${runs.data.length} runs`} />
      <div className="table-wrap">
        <table className="table" data-testid="compare-table">
          <tbody>
            {runs.data.map((r) => (
              <tr key={r.info.run_id}>
                <td><a href={href(`/experiments/${r.info.experiment_id}/runs/${r.info.run_id}`)}>{runName(r)}</a></td>
                <td><StatusBadge status={r.info.status} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
