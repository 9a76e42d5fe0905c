import { describe, experimentActivity } from '../api/activity';
import { getExperiment } from '../api/mlflow';
import { PageHeader } from '../components/shell';
import { Empty, ErrorBox, Loading } from '../components/states';
import { fmtAgo, fmtTime } from '../format';
import { useAsync } from '../hooks';
import { href } from '../router';

/** Who did what to an experiment's runs, newest first (docs/teams.md#activity). */
export function ExperimentActivityPage({ experimentId }: { experimentId: string }) {
  const exp = useAsync(() => getExperiment(experimentId), [experimentId]);
  const events = useAsync(() => experimentActivity(experimentId), [experimentId]);
  const name = exp.data?.name ?? experimentId;
  return (
    <div className="page">
      <PageHeader
        crumbs={[{ label: 'Experiments', href: href('/experiments') }, { label: name, href: href(`/experiments/${experimentId}`) }]}
        title="Activity"
      />
      {events.error ? (
        <ErrorBox error={events.error} onRetry={events.reload} />
      ) : !events.data ? (
        <Loading />
      ) : events.data.length === 0 ? (
        <Empty title="No activity recorded">Runs created and changed from now on show here.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="experiment-activity">
            <thead>
              <tr>
                <th>When</th>
                <th>Who</th>
                <th>What</th>
                <th>Run</th>
              </tr>
            </thead>
            <tbody>
              {events.data.map((e, i) => (
                <tr key={i}>
                  <td title={fmtTime(e.at)}>{fmtAgo(e.at)}</td>
                  <td>{e.username ?? 'unknown'}</td>
                  <td>{describe(e)}</td>
                  <td>
                    <a href={href(`/experiments/${experimentId}/runs/${e.run_id}`)}>{e.run_name || e.run_id}</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
