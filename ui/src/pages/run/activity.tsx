import { runActivity, type ActivityEvent } from '../../api/activity';
import { fmtAgo, fmtTime } from '../../format';
import { useAsync } from '../../hooks';

const LABELS: [ActivityEvent['kind'], string][] = [
  ['created', 'Created by'],
  ['tags', 'Tags changed by'],
  ['notes', 'Notes changed by'],
  ['stage', 'Stage changed by'],
  ['moved', 'Moved by'],
];

/**
 * Rows of the run's details: who created it and who last changed its tags, notes and stage or moved
 * it. Nothing when the record is empty (runs logged before it existed) or the server has no such
 * endpoint.
 */
export function RunActivity({ runId, reload }: { runId: string; reload: unknown }) {
  const events = useAsync(() => runActivity(runId), [runId, reload]);
  if (!events.data) return null;
  const last = new Map(events.data.map((e) => [e.kind, e]));
  return (
    <>
      {LABELS.filter(([kind]) => last.has(kind)).map(([kind, label]) => {
        const e = last.get(kind)!;
        return (
          <div key={kind} style={{ display: 'contents' }} data-testid={`activity-${kind}`}>
            <dt>{label}</dt>
            <dd title={fmtTime(e.at)}>
              {e.username ?? 'unknown'} <span className="muted">· {kind === 'stage' ? `${e.detail} · ` : kind === 'moved' ? `from ${e.detail} · ` : ''}{fmtAgo(e.at)}</span>
            </dd>
          </div>
        );
      })}
    </>
  );
}
