import { runGroups, type ViewType } from '../api/mlflow';
import { useAsync } from '../hooks';

// Quick filters on one field's values (user, W&B group, job type, any tag), the values listed by
// the server (runs/groups over the same experiments and lifecycle view).

type By = { kind: 'tag' | 'attribute'; key: string };

export function ValueFilter({ experimentIds, viewType, by, label, value, onChange, hideWhenEmpty = true }: { experimentIds: string[]; viewType: ViewType; by: By; label: string; value: string; onChange: (v: string) => void; hideWhenEmpty?: boolean }) {
  const values = useAsync(
    () => runGroups({ experimentIds, filter: '', viewType, orderBy: [] }, by, []).then((r) => r.groups.map((g) => g.value).filter((v): v is string => v !== null && v !== '')),
    [experimentIds.join(','), viewType, by.kind, by.key],
  );
  if (hideWhenEmpty && !values.data?.length && !value) return null;
  return (
    <select className="input quick" aria-label={label} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">Any {label.replace(/^[A-Z][a-z]/, (m) => m.toLowerCase())}</option>
      {value && !values.data?.includes(value) && <option value={value}>{value}</option>}
      {(values.data ?? []).slice(0, 1000).map((v) => <option key={v} value={v}>{v}</option>)}
    </select>
  );
}

/** Any tag: first its key, then one of its values. System tags (mlflow.*, wandb.*) are left out. */
export function TagFilter({ experimentIds, viewType, tags, tagKey, value, onChange }: { experimentIds: string[]; viewType: ViewType; tags: string[]; tagKey: string; value: string; onChange: (key: string, value: string) => void }) {
  const keys = tags.filter((k) => !k.startsWith('mlflow.') && !k.startsWith('wandb.'));
  if (!keys.length && !tagKey) return null;
  return (
    <>
      <select className="input quick" aria-label="Tag" value={tagKey} onChange={(e) => onChange(e.target.value, '')}>
        <option value="">Any tag</option>
        {tagKey && !keys.includes(tagKey) && <option value={tagKey}>{tagKey}</option>}
        {keys.slice(0, 500).map((k) => <option key={k} value={k}>{k}</option>)}
      </select>
      {tagKey && (
        <ValueFilter experimentIds={experimentIds} viewType={viewType} by={{ kind: 'tag', key: tagKey }} label={`${tagKey} value`} value={value} onChange={(v) => onChange(tagKey, v)} hideWhenEmpty={false} />
      )}
    </>
  );
}
