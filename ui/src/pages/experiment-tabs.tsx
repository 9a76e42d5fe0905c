import { href } from '../router';

// The tabs of one experiment's page: its runs and its traces (MLflow 3's paths for both).
export function ExperimentTabs({ experimentId, active }: { experimentId: string; active: 'runs' | 'traces' }) {
  const tabs = [
    { id: 'runs', label: 'Runs', href: href(`/experiments/${experimentId}`) },
    { id: 'traces', label: 'Traces', href: href(`/experiments/${experimentId}/traces`) },
  ] as const;
  return (
    <nav className="tabs" aria-label="Experiment sections">
      {tabs.map((t) => (
        <a key={t.id} href={t.href} className={active === t.id ? 'active' : undefined} aria-current={active === t.id ? 'page' : undefined}>
          {t.label}
        </a>
      ))}
    </nav>
  );
}
