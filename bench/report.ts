import type { Options } from './options.js';
import { fmtCount, type Row } from './scenarios.js';

export interface ServerResult {
  label: string;
  peakRssMiB: number;
  rows: Row[];
  failed: string[];
}

export interface PairResult {
  pair: 'postgres' | 'laptop';
  servers: Partial<Record<'mlflow' | 'cairn', ServerResult>>;
}

// The issue's targets, checked on Cairn's figures.
export const TARGETS = { mixedP99Ms: 50, ingestPointsPerS: 200_000, peakRssMiB: 250 };

const PAIR_TITLES = { postgres: 'MLflow and Cairn on the same Postgres server', laptop: 'laptop pair: MLflow on SQLite, Cairn on embedded PGlite' };

/**
 * The markdown tables printed at the end (and pasted into the README), what must fail the run (a
 * Cairn error, always), and the stated targets Cairn missed (they fail a full run; --quick sizes are
 * too small for the targets to mean anything, so there they are only printed).
 */
export function report(pairs: PairResult[], opts: Options): { text: string; failures: string[]; missed: string[] } {
  const out: string[] = [];
  const failures: string[] = [];
  const missed: string[] = [];
  for (const p of pairs) {
    const m = p.servers.mlflow;
    const c = p.servers.cairn;
    const names = [...new Set([...(m?.rows ?? []), ...(c?.rows ?? [])].map((r) => r.name))];
    const find = (s: ServerResult | undefined, n: string) => s?.rows.find((r) => r.name === n);
    out.push(`\n### ${PAIR_TITLES[p.pair]}${opts.quick ? ' (--quick sizes: not comparable to a full run)' : ''}\n`);
    // Non-default server flags change what the ratios mean (e.g. one mlflow worker instead of 4).
    const flags = [['mlflow server', opts.mlflowArgs], ['Cairn', opts.cairnArgs]].filter(([, a]) => a.length).map(([who, a]) => `${who} \`${(a as string[]).join(' ')}\``);
    if (flags.length) out.push(`Extra flags: ${flags.join('; ')}.\n`);
    out.push('| Scenario | MLflow | Cairn | Cairn vs MLflow | Target |');
    out.push('| --- | ---: | ---: | ---: | --- |');
    for (const n of names) {
      const mr = find(m, n);
      const cr = find(c, n);
      const r = (cr ?? mr)!;
      const ratio = ratioOf(mr, cr);
      const target = r.target ? `≥ ${r.target}×${ratio === undefined ? '' : ratio >= r.target ? ' ✓' : ' ✗'}` : '';
      if (r.target && ratio !== undefined && ratio < r.target) missed.push(`${p.pair}: ${r.title}: ${ratio.toFixed(1)}× (target ≥ ${r.target}×)`);
      out.push(`| ${r.title} | ${cell(mr)} | ${cell(cr)} | ${ratio === undefined ? '–' : `${ratio.toFixed(1)}×`} | ${target} |`);
    }
    out.push('\nLatency per request (ms, p50 / p95 / p99) and peak RSS of each server\'s process tree during the scenario:\n');
    out.push('| Scenario | MLflow latency | Cairn latency | MLflow RSS | Cairn RSS |');
    out.push('| --- | ---: | ---: | ---: | ---: |');
    for (const n of names) {
      const mr = find(m, n);
      const cr = find(c, n);
      const r = (cr ?? mr)!;
      if (r.unit === 'ms' || n.startsWith('growth_ingest_') && n !== 'growth_ingest_total') continue;
      out.push(`| ${r.title} | ${latency(mr)} | ${latency(cr)} | ${rss(mr)} | ${rss(cr)} |`);
    }
    if (c) {
      const checks: string[] = [];
      const paced = find(c, 'mixed_paced');
      if (paced?.stats) {
        const s = paced.stats;
        const met = s.p99 < TARGETS.mixedP99Ms && s.errors === 0;
        checks.push(`${paced.title}: p99 ${s.p99} ms with ${s.errors} errors (target < ${TARGETS.mixedP99Ms} ms, 0 errors): ${met ? 'met' : 'MISSED'}`);
        if (!met) missed.push(`${p.pair}: ${paced.title}: p99 ${s.p99} ms, ${s.errors} errors (target < ${TARGETS.mixedP99Ms} ms, 0 errors)`);
      }
      const saturating = find(c, 'mixed');
      if (saturating?.stats) {
        const s = saturating.stats;
        checks.push(`${saturating.title}: p99 ${s.p99} ms with ${s.errors} errors at ${num(s.rps)} req/s (closed loop: latency is the queue, clients / throughput)`);
      }
      const ingest = find(c, 'growth_ingest_total');
      if (ingest?.value !== undefined) {
        const met = ingest.value >= TARGETS.ingestPointsPerS;
        checks.push(`sustained ingestion ${fmtCount(ingest.value)} points/s (target ≥ ${fmtCount(TARGETS.ingestPointsPerS)}): ${met ? 'met' : 'MISSED'}`);
        if (!met && p.pair === 'postgres') missed.push(`${p.pair}: sustained ingestion ${fmtCount(ingest.value)} points/s (target ≥ ${fmtCount(TARGETS.ingestPointsPerS)})`);
      }
      const rssMet = c.peakRssMiB <= TARGETS.peakRssMiB;
      checks.push(`Cairn peak RSS ${c.peakRssMiB} MiB across all scenarios (target ≤ ${TARGETS.peakRssMiB} MiB): ${rssMet ? 'met' : 'MISSED'}`);
      if (!rssMet) missed.push(`${p.pair}: Cairn peak RSS ${c.peakRssMiB} MiB (target ≤ ${TARGETS.peakRssMiB} MiB)`);
      out.push('\n' + checks.map((x) => `- ${x}`).join('\n'));
      // The bench proves Cairn works end to end: any Cairn error fails the run (timings never do).
      for (const f of c.failed) failures.push(`${c.label}: ${f}`);
      for (const r of c.rows) if (r.stats?.errors) failures.push(`${c.label}: ${r.name}: ${r.stats.errors} failed requests (first: ${r.stats.firstError})`);
      // A search shape that failed (a whole scenario that failed is in c.failed already: its row is named for it).
      for (const r of c.rows) if (r.error && r.name !== r.title) failures.push(`${c.label}: ${r.name}: ${r.error}`);
    }
    if (m?.failed.length) out.push(`\nMLflow scenarios that could not run: ${m.failed.join('; ')}`);
    const mErrors = (m?.rows ?? []).filter((r) => r.stats?.errors);
    if (mErrors.length) out.push(`\nMLflow request errors: ${mErrors.map((r) => `${r.name} ${r.stats!.errors} (${r.stats!.firstError?.slice(0, 120)})`).join('; ')}`);
  }
  if (missed.length) out.push(`\nTargets missed${opts.quick ? ' (informational at --quick sizes)' : ''}:\n${missed.map((x) => `- ${x}`).join('\n')}`);
  return { text: out.join('\n'), failures, missed };
}

function ratioOf(m: Row | undefined, c: Row | undefined): number | undefined {
  if (!m?.value || !c?.value || m.notYet || c.notYet) return undefined;
  return m.unit === 'ms' ? m.value / c.value : c.value / m.value;
}

function cell(r: Row | undefined): string {
  if (!r) return '–';
  if (r.error) return 'failed';
  if (r.notYet) return 'not yet';
  if (r.value === undefined) return '–';
  const v = r.unit === 'ms' ? `${r.value.toFixed(r.value < 10 ? 1 : 0)} ms` : `${num(r.value)} ${r.unit}`;
  const extra = r.stats?.extra?.points_per_s ? ` (${fmtCount(r.stats.extra.points_per_s)} points/s)` : '';
  const errors = r.stats?.errors ? ` [${r.stats.errors} errors]` : '';
  return v + extra + errors;
}

function latency(r: Row | undefined): string {
  const s = r?.stats;
  if (!s || !Number.isFinite(s.p50)) return r?.notYet ? 'not yet' : '–';
  return `${s.p50} / ${s.p95} / ${s.p99}`;
}

const rss = (r: Row | undefined) => (r?.peakRssMiB ? `${Math.round(r.peakRssMiB)} MiB` : '–');

function num(v: number): string {
  if (v >= 100) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(v >= 10 ? 1 : 2);
}
