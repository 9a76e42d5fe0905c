import { fields, text, type Field } from '../tensorboard/protobuf.js';

/**
 * A run's telemetry as the client's sender stores it in the config (`_wandb.t`): a TelemetryRecord
 * keyed by field number, its strings as strings, its messages of flags as the list of the flags set,
 * and Labels as a map of strings. wandb-core's resume refuses a run whose config has no `_wandb.t`
 * ("run does not exist", as it treats a sweep run created ahead of time), so an imported offline run
 * needs it to be resumable with `wandb.init(resume="must")`.
 */
export type Telemetry = Record<string, string | number[] | Record<string, string>>;

// TelemetryRecord (the client's wandb_telemetry.proto): python_version, cli_version,
// huggingface_version, core_version, platform are strings; label is Labels (strings); the other
// message fields (imports_init, imports_finish, feature, env, deprecated) hold booleans only.
const STRINGS = new Set([4, 5, 6, 12, 13]);
const LABELS = 9;
const FLAGS = new Set([1, 2, 3, 8, 10]);

export function decodeTelemetry(buf: Uint8Array): Telemetry {
  const t: Telemetry = {};
  for (const f of fields(buf)) {
    if (f.type !== 2) continue;
    if (STRINGS.has(f.no)) t[String(f.no)] = text(f);
    else if (f.no === LABELS) t[String(f.no)] = Object.fromEntries(sub(f).filter((g) => g.type === 2).map((g) => [String(g.no), text(g)]));
    else if (FLAGS.has(f.no)) t[String(f.no)] = sub(f).filter((g) => g.type === 0 && g.varint).map((g) => g.no);
  }
  return t;
}

const sub = (f: Field) => [...fields(f.bytes ?? new Uint8Array())];

/** Later records add to earlier ones, as protobuf's merge does: flags accumulate, strings are replaced. */
export function mergeTelemetry(into: Telemetry, more: Telemetry): Telemetry {
  for (const [k, v] of Object.entries(more)) {
    const had = into[k];
    if (Array.isArray(v) && Array.isArray(had)) into[k] = [...new Set([...had, ...v])].sort((a, b) => a - b);
    else if (typeof v === 'object' && !Array.isArray(v) && typeof had === 'object' && !Array.isArray(had)) into[k] = { ...had, ...v };
    else into[k] = v;
  }
  return into;
}
