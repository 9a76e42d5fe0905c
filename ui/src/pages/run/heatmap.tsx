import { useEffect, useRef } from 'react';
import { useCanvasColors } from '../../charts/theme-colors';

// Histograms over steps, W&B style: one column per step, value bins up the y axis (re-binned onto a
// shared range), darker where more values fell.

export function Heatmap({ columns, selected, height = 120 }: { columns: { bins: number[]; values: number[]; step: number }[]; selected: number; height?: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const colors = useCanvasColors();
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    const w = c.clientWidth;
    const dpr = window.devicePixelRatio || 1;
    c.width = w * dpr;
    c.height = height * dpr;
    const g = c.getContext('2d')!;
    g.scale(dpr, dpr);
    g.clearRect(0, 0, w, height);
    const lo = Math.min(...columns.map((k) => k.bins[0] ?? Infinity));
    const hi = Math.max(...columns.map((k) => k.bins[k.bins.length - 1] ?? -Infinity));
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi <= lo) return;
    const cw = w / columns.length;
    columns.forEach((col, i) => {
      const max = Math.max(1, ...col.values);
      col.values.forEach((v, b) => {
        const y0 = height - ((col.bins[b] - lo) / (hi - lo)) * height;
        const y1 = height - ((col.bins[b + 1] - lo) / (hi - lo)) * height;
        g.globalAlpha = Math.min(1, 0.08 + (v / max) * 0.92);
        g.fillStyle = colors.accent;
        g.fillRect(i * cw, y1, Math.max(1, cw - 0.5), Math.max(1, y0 - y1));
      });
    });
    g.globalAlpha = 1;
    g.strokeStyle = colors.fg;
    g.lineWidth = 1.5;
    g.strokeRect(selected * cw + 0.5, 0.5, Math.max(2, cw - 1), height - 1);
  }, [columns, selected, height, colors]);
  return <canvas ref={ref} className="heatmap" style={{ width: '100%', height }} data-testid="histogram-heatmap" />;
}
