import { sql } from 'drizzle-orm';
import { rows } from '../../db/connect.js';
import type { Deps } from '../../deps.js';
import { flattenRow } from '../wandb/flatten.js';
import { isPlainObject, parseWandbJson, parseWandbObject } from '../wandb/json.js';
import { readSmallRunFile, requireRun, type RunRecord } from './run-files.js';

// W&B media as the client logs it: each wandb.Image, wandb.Table, wandb.Histogram, ... is a dict
// with a `_type` in a history line (files it refers to are uploaded as run files at `path`).
// wandb.plot.confusion_matrix logs its data as the table `<key>_table` and names it from the run
// config's `_wandb.visualize.<key>` (panelDefId wandb/confusion_matrix/v1).

export const MEDIA_LIMITS = { items: 10_000, inlineTables: 20, inlineTableBytes: 64 * 1024 } as const;

export type MediaType = 'image' | 'images' | 'table' | 'histogram' | 'confusion_matrix' | 'other';

export interface MediaItem {
  key: string;
  step: number;
  type: MediaType;
  caption?: string;
  file_path?: string;
  width?: number;
  height?: number;
  /** For charts built on a table (wandb.plot.*): the history key of the table. */
  table_key?: string;
  /** For charts built on a table: W&B's panel id, e.g. wandb/confusion_matrix/v1. */
  chart?: string;
  value: Record<string, unknown>;
}

const TYPES: Record<string, MediaType> = {
  'image-file': 'image',
  'images/separated': 'images',
  images: 'images',
  'table-file': 'table',
  'partitioned-table': 'table',
  'joined-table': 'table',
  histogram: 'histogram',
};

// Types of history values that are not media.
const PLAIN_TYPES = new Set(['number', 'string', 'boolean', 'nil', 'list', 'map']);

export async function runMedia(deps: Deps, input: { run_id: string; key?: string }): Promise<{ items: MediaItem[]; truncated: boolean }> {
  const run = await requireRun(deps.db, input.run_id);
  const [wandb] = await rows<{ history_keys: string; config: string | null }>(
    deps.db,
    sql`select history_keys, config from wandb_runs where run_id = ${run.run_id}`,
  );
  if (!wandb || !hasMedia(wandb.history_keys, input.key)) return { items: [], truncated: false };
  const charts = chartsByTable(wandb.config);
  // Only lines holding a media dict are read and parsed; one more than the cap tells truncation.
  const lines = await rows<{ step: number | string | null; line_no: number; content: string }>(
    deps.db,
    sql`select step, line_no, content from wandb_history where run_id = ${run.run_id} and content like '%"\\_type"%'
        order by step, line_no limit ${MEDIA_LIMITS.items + 1}`,
  );
  const items: MediaItem[] = [];
  for (const line of lines) {
    const row = flattenRow(parseWandbObject(line.content, 'history line'));
    const step = line.step === null ? line.line_no : Number(line.step);
    for (const [key, value] of Object.entries(row)) {
      if (key.startsWith('_') || !isPlainObject(value) || typeof value._type !== 'string') continue;
      const item = toItem(key, step, value, charts.get(key));
      if (input.key === undefined || item.key === input.key || item.table_key === input.key) items.push(item);
    }
  }
  await inlineSmallTables(deps, run, items);
  const truncated = lines.length > MEDIA_LIMITS.items || items.length > MEDIA_LIMITS.items;
  return { items: items.slice(0, MEDIA_LIMITS.items), truncated };
}

function hasMedia(historyKeys: string, key: string | undefined): boolean {
  const stats = JSON.parse(historyKeys) as Record<string, Record<string, number>>;
  return Object.entries(stats).some(([k, types]) => (key === undefined || k === key || k.startsWith(`${key}_`)) && Object.keys(types).some((t) => !PLAIN_TYPES.has(t)));
}

interface Chart {
  key: string;
  panel: string;
  title?: string;
}

/** Tables that a wandb.plot chart was built on, by table key, from the config's `_wandb.visualize`. */
function chartsByTable(config: string | null): Map<string, Chart> {
  const out = new Map<string, Chart>();
  if (!config) return out;
  let parsed: unknown;
  try {
    parsed = parseWandbJson(config, 'config');
  } catch {
    return out;
  }
  const wandb = isPlainObject(parsed) && isPlainObject(parsed._wandb) ? parsed._wandb : undefined;
  const internal = wandb && isPlainObject(wandb.value) ? wandb.value : undefined;
  const visualize = internal && isPlainObject(internal.visualize) ? internal.visualize : {};
  for (const [key, spec] of Object.entries(visualize)) {
    const panelConfig = isPlainObject(spec) && isPlainObject(spec.panel_config) ? spec.panel_config : undefined;
    if (!panelConfig) continue;
    const table = findTableKey(panelConfig.userQuery, 0);
    const panel = typeof panelConfig.panelDefId === 'string' ? panelConfig.panelDefId : '';
    const strings = isPlainObject(panelConfig.stringSettings) ? panelConfig.stringSettings : {};
    if (table) out.set(table, { key, panel, title: typeof strings.title === 'string' ? strings.title : undefined });
  }
  return out;
}

/** The `tableKey` argument somewhere in a chart's user query. */
function findTableKey(node: unknown, depth: number): string | undefined {
  if (depth > 16) return undefined;
  if (Array.isArray(node)) {
    for (const n of node) {
      const found = findTableKey(n, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  if (!isPlainObject(node)) return undefined;
  if (node.name === 'tableKey' && typeof node.value === 'string') return node.value;
  for (const v of Object.values(node)) {
    const found = findTableKey(v, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function toItem(key: string, step: number, value: Record<string, unknown>, chart: Chart | undefined): MediaItem {
  const type = TYPES[value._type as string] ?? 'other';
  const item: MediaItem = { key, step, type, value };
  if (typeof value.path === 'string') item.file_path = value.path;
  if (typeof value.caption === 'string') item.caption = value.caption;
  if (typeof value.width === 'number') item.width = value.width;
  if (typeof value.height === 'number') item.height = value.height;
  if (type === 'table' && chart) {
    item.key = chart.key;
    item.table_key = key;
    item.chart = chart.panel;
    if (chart.panel.includes('confusion_matrix')) item.type = 'confusion_matrix';
    if (chart.title && !item.caption) item.caption = chart.title;
  }
  return item;
}

/** The columns and rows of the last few small tables, read from their files, go into their value. */
async function inlineSmallTables(deps: Deps, run: RunRecord, items: MediaItem[]): Promise<void> {
  const tables = items
    .filter((i) => (i.type === 'table' || i.type === 'confusion_matrix') && i.file_path)
    .filter((i) => typeof i.value.size !== 'number' || i.value.size <= MEDIA_LIMITS.inlineTableBytes)
    .slice(-MEDIA_LIMITS.inlineTables);
  await Promise.all(
    tables.map(async (item) => {
      const text = await readSmallRunFile(deps, run, item.file_path!, MEDIA_LIMITS.inlineTableBytes);
      if (text === undefined) return;
      let table: unknown;
      try {
        table = parseWandbJson(text, 'table');
      } catch {
        return;
      }
      if (isPlainObject(table) && Array.isArray(table.columns) && Array.isArray(table.data)) {
        item.value = { ...item.value, columns: table.columns, data: table.data };
      }
    }),
  );
}
