import { useState } from 'react';
import { isMissingEndpoint } from '../api/client';
import { currentUser, getTeam, removeMember, ROLES, setMember, type Role, type TeamResource } from '../api/teams';
import { PageHeader } from '../components/shell';
import { Empty, ErrorBox, Loading } from '../components/states';
import { useAsync } from '../hooks';
import { href } from '../router';
import { ShareForm, Shares } from './team-sharing';
import { NoAccounts } from './teams';

const KIND_LABEL = { experiment: 'Project', registered_model: 'Model' } as const;

const resourceHref = (r: TeamResource) =>
  r.resource_type === 'experiment' ? href(`/experiments/${r.resource_id}`) : href(`/models/${encodeURIComponent(r.resource_id)}`);

/** One team: its members and roles (changed by its admins), its projects and models, and their shares. */
export function TeamPage({ name }: { name: string }) {
  // Bumped when a share is made or ended, so each resource's share list reloads.
  const [sharesVersion, setSharesVersion] = useState(0);
  const sharesChanged = () => setSharesVersion((v) => v + 1);
  const page = useAsync(() => Promise.all([getTeam(name), currentUser()]), [name]);
  if (page.error && isMissingEndpoint(page.error)) return <NoAccounts />;
  const crumbs = [{ label: 'Teams', href: href('/teams') }];
  if (page.error) {
    return (
      <div className="page">
        <PageHeader title={name} crumbs={crumbs} />
        <ErrorBox error={page.error} onRetry={page.reload} />
      </div>
    );
  }
  if (!page.data) return <Loading />;
  const [team, me] = page.data;
  const myRole = team.members.find((m) => m.username === me.username)?.role;
  const isAdmin = me.is_admin || myRole === 'admin';
  return (
    <div className="page">
      <PageHeader title={name} crumbs={crumbs} actions={<span className="badge">{myRole ? `you: ${myRole}` : 'server admin'}</span>} />
      <div className="grid-2">
        <Members team={name} members={team.members} canManage={isAdmin} me={me.username} onChange={page.reload} />
        <section className="card">
          <h2 className="card-title">Shared with this team</h2>
          {team.shared_with_team.length === 0 ? (
            <p className="muted">Nothing is shared with {name}.</p>
          ) : (
            <table className="table" data-testid="shared-with-team">
              <tbody>
                {team.shared_with_team.map((r) => (
                  <tr key={`${r.resource_type}:${r.resource_id}`}>
                    <td>{KIND_LABEL[r.resource_type]}</td>
                    <td>
                      <a href={resourceHref(r)}>{r.name}</a>
                    </td>
                    <td>
                      <span className="badge">{r.permission}</span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
      <section className="card" style={{ marginTop: 12 }}>
        <h2 className="card-title">Projects and models of {name}</h2>
        {team.owned.length === 0 ? (
          <Empty title="No projects yet">
            <pre>{`wandb.init(entity="${name}", project="my-project")`}</pre>
          </Empty>
        ) : (
          <table className="table" data-testid="team-owned">
            <thead>
              <tr>
                <th>Kind</th>
                <th>Name</th>
                <th>Shared with</th>
              </tr>
            </thead>
            <tbody>
              {team.owned.map((r) => (
                <tr key={`${r.resource_type}:${r.resource_id}`}>
                  <td>{KIND_LABEL[r.resource_type]}</td>
                  <td>
                    <a href={resourceHref(r)}>{r.name}</a>
                  </td>
                  <td>
                    <Shares resource={r} canManage={isAdmin} version={sharesVersion} onChange={sharesChanged} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {isAdmin && team.owned.length > 0 && <ShareForm owned={team.owned} onChange={sharesChanged} />}
      </section>
    </div>
  );
}

function Members({ team, members, canManage, me, onChange }: { team: string; members: { username: string; role: Role }[]; canManage: boolean; me: string; onChange: () => void }) {
  const [error, setError] = useState<unknown>();
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('member');
  const act = async (fn: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await fn();
      onChange();
      return true;
    } catch (err) {
      setError(err);
      return false;
    }
  };
  return (
    <section className="card">
      <h2 className="card-title">Members</h2>
      <table className="table" data-testid="team-members">
        <tbody>
          {members.map((m) => (
            <tr key={m.username}>
              <td>{m.username}</td>
              <td>
                {canManage ? (
                  <select className="input" aria-label={`Role of ${m.username}`} value={m.role} onChange={(e) => act(() => setMember(team, m.username, e.target.value as Role))}>
                    {ROLES.map((r) => (
                      <option key={r}>{r}</option>
                    ))}
                  </select>
                ) : (
                  <span className="badge">{m.role}</span>
                )}
              </td>
              <td>
                {(canManage || m.username === me) && (
                  <button className="btn btn-ghost" aria-label={`Remove ${m.username}`} onClick={() => act(() => removeMember(team, m.username))}>
                    {m.username === me ? 'Leave' : 'Remove'}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {canManage && (
        <form
          className="toolbar"
          onSubmit={(e) => {
            e.preventDefault();
            void act(() => setMember(team, username.trim(), role)).then((ok) => ok && setUsername(''));
          }}
        >
          <input className="input" aria-label="Username to add" placeholder="username" value={username} onChange={(e) => setUsername(e.target.value)} />
          <select className="input" aria-label="Role to add" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
          <button className="btn" type="submit" disabled={!username.trim()}>
            Add member
          </button>
        </form>
      )}
      {error !== undefined && <ErrorBox error={error} />}
    </section>
  );
}
