import { useState } from 'react';
import { shareResource, SHARE_LEVELS, sharesOf, unshareResource, type Grantee, type Share, type ShareLevel, type TeamResource } from '../api/teams';
import { ErrorBox } from '../components/states';
import { useAsync } from '../hooks';

const KIND_LABEL = { experiment: 'Project', registered_model: 'Model' } as const;
const keyOf = (r: TeamResource) => `${r.resource_type}:${r.resource_id}`;
const granteeOf = (s: Share): Grantee => (s.team ? { team: s.team } : { username: s.username ?? '' });
const label = (s: Share) => (s.team ? `team ${s.team}` : (s.username ?? ''));

/**
 * Who else a resource is shared with: other teams, and users' own permission rows. Team admins
 * may end a share here (`version` changes when the share form changed something, to reload).
 */
export function Shares({ resource, canManage, version, onChange }: { resource: TeamResource; canManage: boolean; version: number; onChange: () => void }) {
  const [error, setError] = useState<unknown>();
  const shares = useAsync(() => sharesOf(resource), [resource.resource_type, resource.resource_id, version]);
  if (shares.error) return <span className="muted">{shares.error.message}</span>;
  if (!shares.data) return <span className="muted">…</span>;
  if (shares.data.length === 0) return <span className="muted">only the team</span>;
  const remove = async (s: Share) => {
    setError(undefined);
    try {
      await unshareResource(resource, granteeOf(s));
      onChange();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <span className="chips">
        {shares.data.map((s) => (
          <span key={s.team ? `t:${s.team}` : `u:${s.username}`} className="chip" title={s.team ? 'a team' : 'a user'}>
            {label(s)} · {s.permission}
            {canManage && (
              <button className="btn btn-ghost" aria-label={`Unshare ${resource.name} from ${label(s)}`} title="End this share" onClick={() => void remove(s)}>
                ×
              </button>
            )}
          </span>
        ))}
      </span>
      {error !== undefined && <ErrorBox error={error} />}
    </>
  );
}

/** The team admins' form: share one of the team's projects or models with a team or a user. */
export function ShareForm({ owned, onChange }: { owned: TeamResource[]; onChange: () => void }) {
  const [resource, setResource] = useState(keyOf(owned[0]));
  const [kind, setKind] = useState<'team' | 'username'>('team');
  const [name, setName] = useState('');
  const [level, setLevel] = useState<ShareLevel>('READ');
  const [error, setError] = useState<unknown>();
  const chosen = owned.find((r) => keyOf(r) === resource) ?? owned[0];
  const submit = async () => {
    setError(undefined);
    try {
      await shareResource(chosen, kind === 'team' ? { team: name.trim() } : { username: name.trim() }, level);
      setName('');
      onChange();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <>
      <form
        className="toolbar"
        style={{ marginTop: 12 }}
        data-testid="share-form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <span className="muted">Share</span>
        <select className="input" aria-label="Resource to share" value={keyOf(chosen)} onChange={(e) => setResource(e.target.value)}>
          {owned.map((r) => (
            <option key={keyOf(r)} value={keyOf(r)}>
              {KIND_LABEL[r.resource_type]} {r.name}
            </option>
          ))}
        </select>
        <span className="muted">with</span>
        <select className="input" aria-label="Share with a" value={kind} onChange={(e) => setKind(e.target.value as 'team' | 'username')}>
          <option value="team">team</option>
          <option value="username">user</option>
        </select>
        <input className="input" aria-label="Team or user to share with" placeholder={kind === 'team' ? 'team name' : 'username'} value={name} onChange={(e) => setName(e.target.value)} />
        <select className="input" aria-label="Share level" value={level} onChange={(e) => setLevel(e.target.value as ShareLevel)}>
          {SHARE_LEVELS.map((l) => (
            <option key={l}>{l}</option>
          ))}
        </select>
        <button className="btn" type="submit" disabled={!name.trim()}>
          Share
        </button>
      </form>
      {error !== undefined && <ErrorBox error={error} />}
    </>
  );
}
