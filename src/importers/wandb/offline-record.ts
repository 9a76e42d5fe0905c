import { fields, int64, text, type Field } from '../tensorboard/protobuf.js';
import { decodeTelemetry, type Telemetry } from './offline-telemetry.js';

/**
 * The few parts of a `wandb_internal.Record` an import needs, decoded by field number (see the
 * client's wandb_internal.proto): run (17), history (2), summary (3), config (5), stats (7), exit (18),
 * telemetry (11). Everything else (console output, metric definitions, artifacts...) is stepped over.
 */
export interface KeyedValue {
  /** `key`, or `nested_key` when the value sits inside nested dicts */
  path: string[];
  valueJson: string;
}

export interface OfflineRunRecord {
  runId: string;
  entity: string;
  project: string;
  displayName: string;
  notes: string;
  group: string;
  jobType: string;
  host: string;
  tags: string[];
  config: KeyedValue[];
  startTime?: Timestamp;
  telemetry?: Telemetry;
}

export type OfflineRecord =
  | { kind: 'run'; run: OfflineRunRecord }
  | { kind: 'history'; items: KeyedValue[]; step?: number }
  | { kind: 'summary'; update: KeyedValue[]; remove: string[][] }
  | { kind: 'config'; update: KeyedValue[]; remove: string[][] }
  | { kind: 'stats'; items: KeyedValue[]; timestamp?: Timestamp }
  | { kind: 'exit'; exitCode: number }
  | { kind: 'telemetry'; telemetry: Telemetry }
  | { kind: 'other' };

const sub = (f: Field) => fields(f.bytes ?? new Uint8Array());

/** ConfigItem, SummaryItem, HistoryItem and StatsItem share key (1), nested_key (2), value_json (16). */
function keyed(f: Field): KeyedValue {
  let key = '';
  const nested: string[] = [];
  let valueJson = 'null';
  for (const g of sub(f)) {
    if (g.no === 1 && g.type === 2) key = text(g);
    else if (g.no === 2 && g.type === 2) nested.push(text(g));
    else if (g.no === 16 && g.type === 2) valueJson = text(g);
  }
  return { path: nested.length ? nested : [key], valueJson };
}

/** A google.protobuf.Timestamp: seconds and nanoseconds, kept apart so differences stay exact. */
export interface Timestamp {
  s: number;
  n: number;
}

export const seconds = (t: Timestamp) => t.s + t.n / 1e9;
/** Seconds from `from` to `to`, to the nanosecond (as the client's sync computes a stats row's _runtime). */
export const elapsed = (from: Timestamp, to: Timestamp) => Number((to.s - from.s + (to.n - from.n) / 1e9).toFixed(9));

function timestamp(f: Field): Timestamp {
  let s = 0;
  let n = 0;
  for (const g of sub(f)) {
    if (g.no === 1 && g.type === 0) s = int64(g);
    else if (g.no === 2 && g.type === 0) n = int64(g);
  }
  return { s, n };
}

function updates(f: Field): { update: KeyedValue[]; remove: string[][] } {
  const update: KeyedValue[] = [];
  const remove: string[][] = [];
  for (const g of sub(f)) {
    if (g.no === 1 && g.type === 2) update.push(keyed(g));
    else if (g.no === 2 && g.type === 2) remove.push(keyed(g).path);
  }
  return { update, remove };
}

function runRecord(f: Field): OfflineRunRecord {
  const r: OfflineRunRecord = { runId: '', entity: '', project: '', displayName: '', notes: '', group: '', jobType: '', host: '', tags: [], config: [] };
  const strings: Record<number, keyof OfflineRunRecord> = { 1: 'runId', 2: 'entity', 3: 'project', 6: 'group', 7: 'jobType', 8: 'displayName', 9: 'notes', 13: 'host' };
  for (const g of sub(f)) {
    if (g.type !== 2) continue;
    if (strings[g.no]) (r as unknown as Record<string, string>)[strings[g.no]] = text(g);
    else if (g.no === 10) r.tags.push(text(g));
    else if (g.no === 4) r.config = updates(g).update;
    else if (g.no === 17) r.startTime = timestamp(g);
    else if (g.no === 19) r.telemetry = decodeTelemetry(g.bytes ?? new Uint8Array());
  }
  return r;
}

export function decodeRecord(buf: Uint8Array): OfflineRecord {
  for (const f of fields(buf)) {
    if (f.type !== 2) continue;
    switch (f.no) {
      case 17:
        return { kind: 'run', run: runRecord(f) };
      case 2: {
        const items: KeyedValue[] = [];
        let step: number | undefined;
        for (const g of sub(f)) {
          if (g.no === 1 && g.type === 2) items.push(keyed(g));
          else if (g.no === 2 && g.type === 2) for (const h of sub(g)) if (h.no === 1 && h.type === 0) step = int64(h);
        }
        return { kind: 'history', items, step };
      }
      case 3:
        return { kind: 'summary', ...updates(f) };
      case 5:
        return { kind: 'config', ...updates(f) };
      case 7: {
        const items: KeyedValue[] = [];
        let ts: Timestamp | undefined;
        for (const g of sub(f)) {
          if (g.no === 3 && g.type === 2) items.push(keyed(g));
          else if (g.no === 2 && g.type === 2) ts = timestamp(g);
        }
        return { kind: 'stats', items, timestamp: ts };
      }
      case 11:
        return { kind: 'telemetry', telemetry: decodeTelemetry(f.bytes ?? new Uint8Array()) };
      case 18: {
        let exitCode = 0;
        for (const g of sub(f)) if (g.no === 1 && g.type === 0) exitCode = Number(BigInt.asIntN(32, g.varint ?? 0n));
        return { kind: 'exit', exitCode };
      }
    }
  }
  return { kind: 'other' };
}
