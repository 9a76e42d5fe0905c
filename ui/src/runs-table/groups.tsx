import { runGroups, type RunsQuery } from '../api/mlflow';
import { ErrorBox, Loading } from '../components/states';
import { fmtNumber } from '../format';
import { useAsync } from '../hooks';
import { quoteKey } from './columns';

// Runs grouped by a param, tag or attribute value, with the run count and the mean (and min–max)
// of the shown metrics per group, computed on the server. A click filters the table to a group.

export type GroupKind = 'param' | 'tag' | 'attribute';

export const GROUP_PRESETS: { id: string; label: string }[] = [
  { id: 'tag:wandb.group', label: 'W&B group' },
  { id: 'tag:wandb.job_type', label: 'W&B job type' },
  { id: 'attribute:user_id', label: 'User' },
  { id: 'attribute:status', label: 'Status' },
];

export function parseGroup(id: string | null): { kind: GroupKind; key: string } | undefined {
  const m = id?.match(/^(param|tag|attribute):(.+)$/);
  return m ? { kind: m[1] as GroupKind, key: m[2] } : undefined;
}

const sq = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const entity = { param: 'params', tag: 'tags', attribute: 'attributes' } as const;

export function groupClause(by: { kind: GroupKind; key: string }, value: string): string {
  return `${entity[by.kind]}.${quoteKey(by.key)} = ${sq(value)}`;
}

export function GroupsTable({ query, by, metrics, onPick }: { query: RunsQuery; by: { kind: GroupKind; key: string }; metrics: string[]; onPick: (value: string) => void }) {
  const res = useAsync(() => runGroups(query, by, metrics.slice(0, 50)), [JSON.stringify(query), by.kind, by.key, metrics.join('\u0000')]);
  if (res.error) return <ErrorBox error={res.error} onRetry={res.reload} />;
  if (!res.data) return <Loading label="Grouping runs…" />;
  return (
    <div className="table-wrap groups" data-testid="groups-table">
      <table className="table">
        <thead>
          <tr>
            <th>{by.key}</th>
            <th className="num">Runs</th>
            {metrics.map((m) => <th key={m} className="num" title="mean (min – max)">{m}</th>)}
          </tr>
        </thead>
        <tbody>
          {res.data.groups.map((g) => (
            <tr key={g.value ?? '\u0000'} data-testid="group-row">
              <td>
                {g.value === null ? <span className="muted">(not set)</span> : <button className="linklike" onClick={() => onPick(g.value!)}>{g.value}</button>}
              </td>
              <td className="num">{g.run_count}</td>
              {metrics.map((m) => {
                const a = g.metrics[m];
                return (
                  <td key={m} className="num mono">
                    {a ? <>{fmtNumber(a.mean)} <span className="muted">({fmtNumber(a.min)} – {fmtNumber(a.max)})</span></> : ''}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      {res.data.truncated && <div className="muted picker-note">Only the largest groups are shown.</div>}
    </div>
  );
}
