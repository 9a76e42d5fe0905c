import type { Run } from '../../api/types';
import { bucketsFor } from '../../charts/metric-chart';
import { primeSeries } from '../../charts/series-batch';
import { settingsFromQuery } from '../../charts/settings';
import { chartSections } from './charts-tab';

// The run page's charts tab would ask for its series only after rendering, laying out and observing
// every chart (a long task, then a frame for the observers, then the batching window: 0.12-0.36 s on
// the shared bench machine). As soon as the run's metric keys are known, this sends the series of
// the charts the first screen will show, sized from the page's width, so the answers are on their
// way while the page renders. Only those: a row below the fold would share the 2 cores with them
// (charts below load as they scroll near, as before).

// Mirrors the CSS: .chart-grid columns of at least 420 px with a 12 px gap, and a card's 12 px
// padding and 1 px border on each side around its plot; a card is about 270 px tall, and the page's
// header, facts, tabs and toolbar take about 150 px above the first row.
const MIN_COLUMN = 420;
const GAP = 12;
const CARD_INSET = 2 * 12 + 2;
const CARD_HEIGHT = 270;
const ABOVE_CHARTS = 150;

export interface FirstScreen {
  keys: string[];
  buckets: number;
}

/** The first screen's metric keys and their plot width's bucket count, for a page of this content width. */
export function firstScreen(run: Run, contentWidth: number, viewportHeight: number): FirstScreen {
  const metricKeys = (run.data.metrics ?? []).map((m) => m.key).filter((k) => !k.startsWith('system/'));
  const columns = Math.max(1, Math.floor((contentWidth + GAP) / (MIN_COLUMN + GAP)));
  const plotWidth = Math.floor((contentWidth - (columns - 1) * GAP) / columns - CARD_INSET);
  const rows = Math.max(1, Math.ceil((viewportHeight - ABOVE_CHARTS) / CARD_HEIGHT));
  const ordered = chartSections(metricKeys, false).flatMap(([, ks]) => ks);
  return { keys: ordered.slice(0, columns * rows), buckets: bucketsFor(plotWidth) };
}

/** Sends the first screen's series when the page opens on the charts tab (the default with metrics). */
export function primeFirstScreen(run: Run, query: URLSearchParams): void {
  if ((query.get('tab') ?? 'charts') !== 'charts') return;
  const page = document.querySelector<HTMLElement>('.main .page');
  if (!page) return;
  const style = getComputedStyle(page);
  const width = page.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  if (!(width > 0)) return;
  const { keys, buckets } = firstScreen(run, width, window.innerHeight);
  if (!keys.length) return;
  const xAxis = settingsFromQuery(query).xAxis === 'step' ? 'step' : 'timestamp';
  primeSeries({ run_ids: [run.info.run_id], x_axis: xAxis, buckets }, keys);
}
