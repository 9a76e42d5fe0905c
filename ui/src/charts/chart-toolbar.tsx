import type { ChartSettings, XAxisKind } from './settings';

const AXES: { value: XAxisKind; label: string }[] = [
  { value: 'step', label: 'Step' },
  { value: 'time', label: 'Wall time' },
  { value: 'relative', label: 'Relative' },
];

/** The controls every chart on a page shares. */
export function ChartToolbar({ settings, onChange, children }: { settings: ChartSettings; onChange: (s: ChartSettings) => void; children?: React.ReactNode }) {
  return (
    <div className="toolbar chart-toolbar" data-testid="chart-toolbar">
      {children}
      <div className="grow" />
      <span className="field-label">X axis</span>
      <div className="seg" role="group" aria-label="X axis">
        {AXES.map((a) => (
          <button key={a.value} aria-pressed={settings.xAxis === a.value} onClick={() => onChange({ ...settings, xAxis: a.value })}>
            {a.label}
          </button>
        ))}
      </div>
      <label className="smooth">
        <span className="field-label">Smoothing</span>
        <input
          type="range"
          min={0}
          max={0.99}
          step={0.01}
          value={settings.smoothing}
          aria-label="Smoothing"
          onChange={(e) => onChange({ ...settings, smoothing: Number(e.target.value) })}
        />
        <span className="mono smooth-val">{settings.smoothing.toFixed(2)}</span>
      </label>
      <label className="check">
        <input type="checkbox" checked={settings.log} onChange={(e) => onChange({ ...settings, log: e.target.checked })} /> Log scale
      </label>
      <label className="check">
        <input type="checkbox" checked={settings.band} onChange={(e) => onChange({ ...settings, band: e.target.checked })} /> Min/max band
      </label>
    </div>
  );
}
