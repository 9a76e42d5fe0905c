// Display formats shared by the pages.

export function fmtTime(ms: number | string | undefined): string {
  const n = Number(ms);
  if (!ms || !Number.isFinite(n) || n <= 0) return '—';
  const d = new Date(n);
  const pad = (x: number) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fmtAgo(ms: number | string | undefined, now = Date.now()): string {
  const n = Number(ms);
  if (!ms || !Number.isFinite(n) || n <= 0) return '—';
  const s = Math.round((now - n) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  if (s < 86400 * 30) return `${Math.round(s / 86400)} d ago`;
  return fmtTime(n).slice(0, 10);
}

export function fmtDuration(start: number | string | undefined, end: number | string | undefined, running = false): string {
  const a = Number(start);
  const b = end ? Number(end) : running ? Date.now() : NaN;
  if (!start || !Number.isFinite(a) || !Number.isFinite(b) || b < a) return '—';
  let s = Math.round((b - a) / 1000);
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  s %= 60;
  return h ? `${h}h ${m}m` : `${m}m ${s}s`;
}

export function fmtNumber(v: number | string | undefined): string {
  if (v === undefined || v === null || v === '') return '';
  if (typeof v === 'string') return v; // "NaN", "Infinity"
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return v.toExponential(3);
  return String(Number(v.toPrecision(5)));
}
