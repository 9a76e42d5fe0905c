import type { Run } from '../../api/types';
import { runName } from '../../api/types';
import { axisOf, valueOf, type Column } from './values';

// Scatter of one column against another (a param against a metric, typically), one dot per run.

const W = 520;
const H = 300;
const P = { l: 56, r: 16, t: 14, b: 40 };

export function Scatter({ runs, colors, x, y }: { runs: Run[]; colors: string[]; x?: Column; y?: Column }) {
  if (!x || !y) return <div className="muted">Choose two columns.</div>;
  const ax = axisOf(runs.map((r) => valueOf(r, x)));
  const ay = axisOf(runs.map((r) => valueOf(r, y)));
  const px = (t: number) => P.l + t * (W - P.l - P.r);
  const py = (t: number) => P.t + (1 - t) * (H - P.t - P.b);
  return (
    <svg className="scatter" viewBox={`0 0 ${W} ${H}`} width="100%" height={H} data-testid="scatter" role="img" aria-label={`${y.key} against ${x.key}`}>
      <rect x={P.l} y={P.t} width={W - P.l - P.r} height={H - P.t - P.b} className="scatter-frame" />
      {ax.ticks.map((t) => (
        <g key={`x${t.label}${t.at}`}>
          <line x1={px(t.at)} x2={px(t.at)} y1={P.t} y2={H - P.b} className="scatter-grid" />
          <text x={px(t.at)} y={H - P.b + 14} textAnchor="middle" className="pc-tick">{t.label}</text>
        </g>
      ))}
      {ay.ticks.map((t) => (
        <g key={`y${t.label}${t.at}`}>
          <line x1={P.l} x2={W - P.r} y1={py(t.at)} y2={py(t.at)} className="scatter-grid" />
          <text x={P.l - 6} y={py(t.at) + 3} textAnchor="end" className="pc-tick">{t.label}</text>
        </g>
      ))}
      <text x={(P.l + W - P.r) / 2} y={H - 6} textAnchor="middle" className="pc-title">{x.key}</text>
      <text x={12} y={(P.t + H - P.b) / 2} textAnchor="middle" className="pc-title" transform={`rotate(-90 12 ${(P.t + H - P.b) / 2})`}>{y.key}</text>
      {runs.map((r, k) => {
        const a = ax.pos(valueOf(r, x));
        const b = ay.pos(valueOf(r, y));
        if (a === undefined || b === undefined) return null;
        return (
          <circle key={r.info.run_id} cx={px(a)} cy={py(b)} r={6} fill={colors[k]} className="scatter-dot" data-testid="scatter-dot">
            <title>{`${runName(r)}\n${x.key}: ${valueOf(r, x)}\n${y.key}: ${valueOf(r, y)}`}</title>
          </circle>
        );
      })}
    </svg>
  );
}
