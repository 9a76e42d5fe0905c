import { runGroups, type ViewType } from '../api/mlflow';
import { useAsync } from '../hooks';

// A quick filter on one tag's values (W&B group, job type), the values listed by the server.
export function TagValueFilter({ experimentIds, viewType, tagKey, label, value, onChange }: { experimentIds: string[]; viewType: ViewType; tagKey: string; label: string; value: string; onChange: (v: string) => void }) {
  const values = useAsync(
    () => runGroups({ experimentIds, filter: '', viewType, orderBy: [] }, { kind: 'tag', key: tagKey }, []).then((r) => r.groups.map((g) => g.value).filter((v): v is string => v !== null)),
    [experimentIds.join(','), viewType, tagKey],
  );
  if (!values.data?.length && !value) return null;
  return (
    <select className="input" aria-label={label} value={value} onChange={(e) => onChange(e.target.value)} style={{ maxWidth: 180 }}>
      <option value="">Any {label.toLowerCase()}</option>
      {value && !values.data?.includes(value) && <option value={value}>{value}</option>}
      {(values.data ?? []).map((v) => <option key={v} value={v}>{v}</option>)}
    </select>
  );
}
