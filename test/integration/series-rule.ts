// The bucket rule of POST metrics/series computed here in the same float math: what the endpoint
// must answer point for point, whichever way it reads the history.

export interface Point {
  step: number;
  timestamp: number;
  value: number;
}

/** a > b in (step, timestamp, value) order, NaN greatest as in Postgres. */
export function greater(a: number[], b: number[]): boolean {
  for (let k = 0; k < 3; k++) {
    const [x, y] = [Number.isNaN(a[k]) ? Infinity : a[k], Number.isNaN(b[k]) ? Infinity : b[k]];
    if (x !== y || Number.isNaN(a[k]) !== Number.isNaN(b[k])) return Number.isNaN(a[k]) || (!Number.isNaN(b[k]) && x > y);
  }
  return false;
}

const wire = (v: number) => (Number.isNaN(v) ? 'NaN' : v);

export function byRule(all: Point[], buckets: number, lo?: number, hi?: number) {
  const pts = all.filter((p) => (lo === undefined || p.step >= Math.ceil(lo)) && (hi === undefined || p.step <= Math.floor(hi)));
  const l = lo ?? Math.min(...pts.map((p) => p.step));
  const h = hi ?? Math.max(...pts.map((p) => p.step));
  const scale = buckets / (h - l);
  const cols = new Map<number, { last: number[]; min?: number; max?: number; count: number }>();
  for (const p of pts) {
    const b = Math.min(buckets - 1, Math.max(0, Math.floor((p.step - l) * scale)));
    const c = cols.get(b) ?? { last: [-Infinity, 0, 0], count: 0 };
    const me = [p.step, p.timestamp, p.value];
    if (greater(me, c.last)) c.last = me;
    if (!Number.isNaN(p.value)) {
      c.min = c.min === undefined ? p.value : Math.min(c.min, p.value);
      c.max = c.max === undefined ? p.value : Math.max(c.max, p.value);
    }
    c.count++;
    cols.set(b, c);
  }
  return [...cols.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, c]) => ({ x: c.last[0], step: c.last[0], timestamp: c.last[1], value: wire(c.last[2]), min: c.min ?? 'NaN', max: c.max ?? 'NaN', count: c.count }));
}

/** The block summaries (32 steps each) of a history, as metric_blocks must hold them. */
export function blocksOf(all: Point[]) {
  const blocks = new Map<number, { count: number; min: number | null; max: number | null; last: number[] }>();
  for (const p of all) {
    const k = Math.floor(p.step / 32);
    const b = blocks.get(k) ?? { count: 0, min: null, max: null, last: [-Infinity, 0, 0] };
    b.count++;
    if (!Number.isNaN(p.value)) {
      b.min = b.min === null ? p.value : Math.min(b.min, p.value);
      b.max = b.max === null ? p.value : Math.max(b.max, p.value);
    }
    const me = [p.step, p.timestamp, p.value];
    if (greater(me, b.last)) b.last = me;
    blocks.set(k, b);
  }
  return [...blocks.entries()]
    .sort(([a], [b]) => a - b)
    .map(([block, b]) => ({ block, count: b.count, min: b.min, max: b.max, last: b.last.map(wire) }));
}
