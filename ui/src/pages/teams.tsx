import { useState } from 'react';
import { isMissingEndpoint } from '../api/client';
import { createTeam, listTeams } from '../api/teams';
import { PageHeader } from '../components/shell';
import { Empty, ErrorBox, Loading } from '../components/states';
import { fmtTime } from '../format';
import { useAsync } from '../hooks';
import { href, navigate } from '../router';

/** The signed-in user's teams (every team, for a server admin), and founding a new one. */
export function TeamsPage() {
  const list = useAsync(listTeams, []);
  if (list.error && isMissingEndpoint(list.error)) return <NoAccounts />;
  return (
    <div className="page">
      <PageHeader title="Teams" />
      <CreateTeam onCreated={(name) => navigate(`/teams/${encodeURIComponent(name)}`)} />
      {list.error ? (
        <ErrorBox error={list.error} onRetry={list.reload} />
      ) : !list.data ? (
        <Loading />
      ) : list.data.length === 0 ? (
        <Empty title="No teams yet">Found one above, or ask a team admin to add you (docs/teams.md).</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="teams-table">
            <thead>
              <tr>
                <th>Team</th>
                <th>Your role</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((t) => (
                <tr key={t.name}>
                  <td>
                    <a href={href(`/teams/${encodeURIComponent(t.name)}`)}>{t.name}</a>
                  </td>
                  <td>{t.role ?? '—'}</td>
                  <td>{fmtTime(t.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function CreateTeam({ onCreated }: { onCreated: (name: string) => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>();
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      await createTeam(name.trim());
      onCreated(name.trim());
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form className="toolbar" onSubmit={submit}>
      <input className="input" aria-label="New team name" placeholder="New team name" value={name} onChange={(e) => setName(e.target.value)} />
      <button className="btn" type="submit" disabled={!name.trim()}>
        Create team
      </button>
      {error !== undefined && <ErrorBox error={error} />}
    </form>
  );
}

/** Teams need accounts; without them the endpoints do not exist (as on `mlflow server`). */
export function NoAccounts() {
  return (
    <div className="page">
      <PageHeader title="Teams" />
      <Empty title="Teams need accounts">
        Start Cairn with <code>--app-name basic-auth</code> to have accounts and teams (docs/security.md, docs/teams.md).
      </Empty>
    </div>
  );
}
