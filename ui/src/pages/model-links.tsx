import { href } from '../router';

export function ModelTabs({ active }: { active: 'registered' | 'logged' }) {
  return (
    <nav className="tabs" aria-label="Model views">
      <a href={href('/models')} className={active === 'registered' ? 'active' : undefined}>Registered models</a>
      <a href={href('/logged-models')} className={active === 'logged' ? 'active' : undefined}>Logged models</a>
    </nav>
  );
}

/** A link to a run by id; `/#/run/<id>` finds its experiment. */
export function RunRef({ runId }: { runId?: string }) {
  if (!runId) return <span className="muted">—</span>;
  return <a className="mono" href={href(`/run/${runId}`)}>{runId.slice(0, 12)}</a>;
}

export const stageBadge = (stage?: string) =>
  stage && stage !== 'None' ? <span className={`badge stage-${stage.toLowerCase()}`}>{stage}</span> : <span className="muted">—</span>;
