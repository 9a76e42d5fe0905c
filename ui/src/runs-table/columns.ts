import type { Run } from '../api/types';
import { runName, tagValue } from '../api/types';
import { fmtDuration, fmtNumber, fmtTime } from '../format';

// The runs table's columns. An id names the kind and key (`metric:loss`, `param:lr`, `tag:team`,
// `attr:start_time`); ids are what the URL keeps, so a shared link shows the same columns. A metric
// is shown as its latest value (`metric:`), or the least / greatest value of its history
// (`metric-min:`, `metric-max:`, sorted on the server by Cairn's min(...)/max(...) order terms).

export type ColumnKind = 'attr' | 'param' | 'metric' | 'metric-min' | 'metric-max' | 'tag';

export interface Column {
  id: string;
  kind: ColumnKind;
  key: string;
  label: string;
  width: number;
  numeric?: boolean;
  /** The MLflow order_by expression, or undefined when the server cannot sort by it. */
  orderKey?: string;
  text: (r: Run, ctx: { experimentName: (id: string) => string }) => string;
}

/** Quotes a key for MLflow's grammar when it is not a bare word. */
export const quoteKey = (key: string) => (/^[A-Za-z_][\w]*$/.test(key) ? key : `\`${key.replace(/`/g, '')}\``);

const ATTRS: Record<string, Omit<Column, 'id' | 'kind' | 'key'>> = {
  status: { label: 'Status', width: 104, orderKey: 'attributes.status', text: (r) => r.info.status },
  user_id: { label: 'User', width: 120, orderKey: 'attributes.user_id', text: (r) => r.info.user_id || tagValue(r.data.tags, 'mlflow.user') || '' },
  start_time: { label: 'Started', width: 150, orderKey: 'attributes.start_time', text: (r) => fmtTime(r.info.start_time) },
  end_time: { label: 'Ended', width: 150, orderKey: 'attributes.end_time', text: (r) => fmtTime(r.info.end_time) },
  duration: { label: 'Duration', width: 96, orderKey: 'attributes.duration', text: (r) => fmtDuration(r.info.start_time, r.info.end_time, r.info.status === 'RUNNING') },
  run_id: { label: 'Run ID', width: 280, orderKey: 'attributes.run_id', text: (r) => r.info.run_id },
  experiment_id: { label: 'Experiment', width: 160, orderKey: 'attributes.experiment_id', text: (r, c) => c.experimentName(r.info.experiment_id) },
  // Source and commit are the tags MLflow's client sets, so they sort as those tags.
  source: { label: 'Source', width: 180, orderKey: 'tags.`mlflow.source.name`', text: (r) => tagValue(r.data.tags, 'mlflow.source.name') ?? '' },
  git_commit: { label: 'Git commit', width: 100, orderKey: 'tags.`mlflow.source.git.commit`', text: (r) => (tagValue(r.data.tags, 'mlflow.source.git.commit') ?? '').slice(0, 10) },
};

export const ATTRIBUTE_KEYS = Object.keys(ATTRS);
export const DEFAULT_COLUMNS = ['attr:status', 'attr:user_id', 'attr:start_time', 'attr:duration'];

export function columnFor(id: string): Column | undefined {
  const i = id.indexOf(':');
  if (i < 0) return undefined;
  const kind = id.slice(0, i) as ColumnKind;
  const key = id.slice(i + 1);
  if (!key) return undefined;
  switch (kind) {
    case 'attr':
      return ATTRS[key] ? { id, kind, key, ...ATTRS[key] } : undefined;
    case 'metric':
      return {
        id, kind, key, label: key, width: 120, numeric: true, orderKey: `metrics.${quoteKey(key)}`,
        text: (r) => fmtNumber(r.data.metrics?.find((m) => m.key === key)?.value),
      };
    case 'metric-min':
    case 'metric-max': {
      const end = kind === 'metric-min' ? 'min' : 'max';
      return {
        id, kind, key, label: `${key} (${end})`, width: 130, numeric: true, orderKey: `${end}(metrics.${quoteKey(key)})`,
        text: (r) => fmtNumber(r.ranges?.[key]?.[end]),
      };
    }
    case 'param':
      return { id, kind, key, label: key, width: 120, orderKey: `params.${quoteKey(key)}`, text: (r) => r.data.params?.find((p) => p.key === key)?.value ?? '' };
    case 'tag':
      return { id, kind, key, label: key, width: 140, orderKey: `tags.${quoteKey(key)}`, text: (r) => tagValue(r.data.tags, key) ?? '' };
    default:
      return undefined;
  }
}

/** The metric keys whose min or max the columns show: what the runs search must return. */
export const rangeKeys = (columns: Column[]) => [...new Set(columns.filter((c) => c.kind === 'metric-min' || c.kind === 'metric-max').map((c) => c.key))].sort();

export const NAME_ORDER_KEY = 'attributes.run_name';
export const nameOf = runName;
