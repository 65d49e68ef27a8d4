/**
 * `report.html`: training curves of one or several runs, as one self-contained page (inline SVG and CSS, no
 * scripts, nothing fetched), so it opens anywhere, offline, and can be attached to an issue or a CI artefact.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { TorchError } from '../errors';

/** Which pass a metrics row measures. */
export type MetricsSplit = 'train' | 'val' | 'test';

/** One line of `metrics.jsonl`: the summary of one pass over a split in one epoch. */
export interface MetricsRow {
  /** Epoch number (0-based, as Distiller counts). */
  epoch: number;
  split: MetricsSplit;
  /** Mean loss of the pass (the student's objective loss; for training, the loss that was minimised). */
  loss: number;
  /** Top-1 accuracy in percent. */
  top1: number;
  /** Top-5 accuracy in percent. */
  top5: number;
  /** Learning rate during the pass. */
  lr: number;
  /** Wall-clock seconds of the pass. */
  seconds: number;
  /** With distillation: the weighted total loss. */
  overallLoss?: number;
  /** With distillation: the student's loss against the labels. */
  objectiveLoss?: number;
  /** With distillation: the distillation (KL) loss. */
  distillLoss?: number;
}

/** A run to plot: a name for the legend and its metrics rows. */
export interface ReportRun {
  name: string;
  metrics: MetricsRow[];
}

const NUMERIC = ['loss', 'top1', 'top5', 'lr', 'seconds'] as const;
const OPTIONAL = ['overallLoss', 'objectiveLoss', 'distillLoss'] as const;
const SPLITS: readonly MetricsSplit[] = ['train', 'val', 'test'];

/**
 * Parses a `metrics.jsonl` file (one JSON object per line; blank lines skipped). `null` values (how JSON carries
 * NaN) read as NaN. Errors name the file and line.
 *
 * @example
 * const rows = readMetrics('runs/kd/metrics.jsonl');
 * const val = rows.filter((r) => r.split === 'val');
 */
export function readMetrics(file: string): MetricsRow[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new TorchError(`cannot read metrics file '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'VALUE_ERROR');
  }
  const rows: MetricsRow[] = [];
  text.split('\n').forEach((line, k) => {
    if (line.trim() === '') return;
    const where = `${file}:${k + 1}`;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new TorchError(`${where}: not a JSON object: ${line.slice(0, 80)}`, 'VALUE_ERROR');
    }
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new TorchError(`${where}: expected a JSON object`, 'VALUE_ERROR');
    if (typeof o.epoch !== 'number' || !Number.isInteger(o.epoch)) throw new TorchError(`${where}: 'epoch' must be an integer`, 'VALUE_ERROR');
    if (!SPLITS.includes(o.split as MetricsSplit)) throw new TorchError(`${where}: 'split' must be 'train', 'val' or 'test'`, 'VALUE_ERROR');
    const num = (key: string): number => {
      const v = o[key];
      if (v === undefined || v === null) return NaN;
      if (typeof v !== 'number') throw new TorchError(`${where}: '${key}' must be a number`, 'VALUE_ERROR');
      return v;
    };
    const row: MetricsRow = { epoch: o.epoch, split: o.split as MetricsSplit, loss: 0, top1: 0, top5: 0, lr: 0, seconds: 0 };
    for (const key of NUMERIC) row[key] = num(key);
    for (const key of OPTIONAL) if (o[key] !== undefined) row[key] = num(key);
    rows.push(row);
  });
  return rows;
}

// ---- plotting --------------------------------------------------------------------------------------------------

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const W = 720;
const H = 340;
const M = { left: 64, right: 20, top: 30, bottom: 46 };

/** One line of a plot. */
interface Series {
  run: string;
  split: string;
  color: string;
  dash: string;
  points: [number, number][];
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** A "nice" step (1, 2 or 5 × 10^k) that cuts `span` into about `count` parts. */
function niceStep(span: number, count: number): number {
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/** Axis domain rounded out to nice ticks, and the ticks. */
function axis(lo: number, hi: number, count: number, integer: boolean): { lo: number; hi: number; ticks: number[] } {
  if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
  let step = niceStep(hi - lo, count);
  if (integer) step = Math.max(1, Math.round(step));
  const a = Math.floor(lo / step + 1e-9) * step;
  const b = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = a; v <= b + step * 1e-6; v += step) ticks.push(Number(v.toPrecision(12)));
  return { lo: a, hi: b, ticks };
}

function tickLabel(v: number): string {
  return Math.abs(v) >= 1000 || Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
}

/** An SVG line plot of several series against the epoch, with axes, ticks and grid lines. */
function linePlot(metric: string, title: string, yLabel: string, series: Series[]): string {
  const finite = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = finite.map((p) => p[0]);
  const ys = finite.map((p) => p[1]);
  const xa = axis(xs.length ? Math.min(...xs) : 0, xs.length ? Math.max(...xs) : 1, 8, true);
  const ya = axis(ys.length ? Math.min(...ys) : 0, ys.length ? Math.max(...ys) : 1, 5, false);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number): number => M.left + ((x - xa.lo) / (xa.hi - xa.lo)) * pw;
  const sy = (y: number): number => M.top + ph - ((y - ya.lo) / (ya.hi - ya.lo)) * ph;
  const f = (v: number): string => v.toFixed(2);
  const out: string[] = [];
  out.push(`<svg class="plot" data-metric="${metric}" data-domain="${xa.lo} ${xa.hi} ${ya.lo} ${ya.hi}" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">`);
  out.push(`<text x="${W / 2}" y="18" text-anchor="middle" class="title">${esc(title)}</text>`);
  for (const t of ya.ticks) {
    out.push(`<line class="grid" x1="${M.left}" x2="${M.left + pw}" y1="${f(sy(t))}" y2="${f(sy(t))}"/>`);
    out.push(`<text x="${M.left - 6}" y="${f(sy(t) + 4)}" text-anchor="end">${tickLabel(t)}</text>`);
  }
  for (const t of xa.ticks) {
    out.push(`<line class="tick" x1="${f(sx(t))}" x2="${f(sx(t))}" y1="${M.top + ph}" y2="${M.top + ph + 5}"/>`);
    out.push(`<text x="${f(sx(t))}" y="${M.top + ph + 18}" text-anchor="middle">${tickLabel(t)}</text>`);
  }
  out.push(`<line class="axis" x1="${M.left}" x2="${M.left + pw}" y1="${M.top + ph}" y2="${M.top + ph}"/>`);
  out.push(`<line class="axis" x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${H - 8}" text-anchor="middle">epoch</text>`);
  out.push(`<text x="14" y="${M.top + ph / 2}" text-anchor="middle" transform="rotate(-90 14 ${M.top + ph / 2})">${esc(yLabel)}</text>`);
  for (const s of series) {
    const attrs = `data-run="${esc(s.run)}" data-split="${s.split}" stroke="${s.color}"`;
    // A NaN (a diverged epoch) breaks the line rather than being drawn at an arbitrary height.
    const segments: [number, number][][] = [[]];
    for (const p of s.points) {
      if (Number.isFinite(p[1])) segments[segments.length - 1].push(p);
      else if (segments[segments.length - 1].length) segments.push([]);
    }
    for (const seg of segments.filter((g) => g.length)) {
      const pts = seg.map(([x, y]) => `${f(sx(x))},${f(sy(y))}`).join(' ');
      if (s.dash !== 'none') out.push(`<polyline class="series" ${attrs} fill="none" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} points="${pts}"/>`);
      for (const [x, y] of seg) out.push(`<circle ${attrs} fill="${s.dash === 'none' ? 'none' : s.color}" r="${s.dash === 'none' ? 4 : 2.5}" cx="${f(sx(x))}" cy="${f(sy(y))}"/>`);
    }
  }
  out.push('</svg>');
  return out.join('\n');
}

// ---- the page --------------------------------------------------------------------------------------------------

const STYLES: Record<MetricsSplit, { dash: string; label: string }> = {
  train: { dash: '', label: 'train' },
  val: { dash: '6 4', label: 'validation' },
  test: { dash: 'none', label: 'test' },
};

type NumericKey = 'loss' | 'top1' | 'overallLoss' | 'objectiveLoss' | 'distillLoss';

function seriesOf(runs: ReportRun[], key: NumericKey, splits: MetricsSplit[]): Series[] {
  const out: Series[] = [];
  runs.forEach((run, k) => {
    for (const split of splits) {
      const rows = run.metrics.filter((r) => r.split === split && r[key] !== undefined).sort((a, b) => a.epoch - b.epoch);
      if (rows.length === 0) continue;
      const points = rows.map((r): [number, number] => [r.epoch, r[key] as number]);
      out.push({ run: run.name, split, color: PALETTE[k % PALETTE.length], dash: STYLES[split].dash, points });
    }
  });
  return out;
}

function pct(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(2);
}

function summaryRow(run: ReportRun, k: number): string {
  const of = (split: MetricsSplit): MetricsRow[] => run.metrics.filter((r) => r.split === split).sort((a, b) => a.epoch - b.epoch);
  const val = of('val');
  const train = of('train');
  const test = of('test');
  const best = (rows: MetricsRow[]): MetricsRow | undefined =>
    rows.reduce<MetricsRow | undefined>((b, r) => (Number.isFinite(r.top1) && (b === undefined || r.top1 > b.top1) ? r : b), undefined);
  const bestVal = best(val);
  const epochs = new Set(train.map((r) => r.epoch)).size;
  const seconds = run.metrics.reduce((s, r) => s + (Number.isFinite(r.seconds) ? r.seconds : 0), 0);
  const cells = [
    `<td><span class="swatch" style="border-color:${PALETTE[k % PALETTE.length]}"></span>${esc(run.name)}</td>`,
    `<td>${epochs}</td>`,
    `<td>${pct(bestVal?.top1)}${bestVal ? ` <small>(epoch ${bestVal.epoch})</small>` : ''}</td>`,
    `<td>${pct(val[val.length - 1]?.top1)}</td>`,
    `<td>${pct(best(train)?.top1)}</td>`,
    `<td>${pct(train[train.length - 1]?.top1)}</td>`,
    `<td>${pct(test[test.length - 1]?.top1)}</td>`,
    `<td>${seconds.toFixed(1)}</td>`,
  ];
  return `<tr>${cells.join('')}</tr>`;
}

/**
 * The report page as a string: loss and top-1 plots (and the distillation loss components when the rows have
 * them), a legend, and a table of best/last top-1 per run.
 *
 * @example
 * const html = renderReport([{ name: 'student+kd', metrics: readMetrics('runs/kd/metrics.jsonl') }]);
 * fs.writeFileSync('report.html', html);
 */
export function renderReport(runs: ReportRun[], options: { title?: string } = {}): string {
  if (!Array.isArray(runs) || runs.some((r) => r === null || typeof r !== 'object' || typeof r.name !== 'string' || !Array.isArray(r.metrics))) {
    throw new TypeError('renderReport: expected an array of {name, metrics} runs');
  }
  const title = options.title ?? (runs.length === 1 ? `torchkd report: ${runs[0].name}` : `torchkd report: ${runs.length} runs`);
  const curves: MetricsSplit[] = ['train', 'val', 'test'];
  const plots = [
    linePlot('loss', 'Loss', 'loss', seriesOf(runs, 'loss', curves)),
    linePlot('top1', 'Top-1 accuracy', 'top-1 (%)', seriesOf(runs, 'top1', curves)),
  ];
  const kd = (['overallLoss', 'objectiveLoss', 'distillLoss'] as const).filter((key) => runs.some((r) => r.metrics.some((m) => m.split === 'train' && m[key] !== undefined)));
  const kdPlots = kd.map((key) => linePlot(key, `Training ${key.replace(/Loss$/, '')} loss (distillation)`, 'loss', seriesOf(runs, key, ['train'])));
  const present = curves.filter((s) => runs.some((r) => r.metrics.some((m) => m.split === s)));
  const legend = [
    ...runs.map((r, k) => `<li><span class="swatch" style="border-color:${PALETTE[k % PALETTE.length]}"></span>${esc(r.name)}</li>`),
    ...present.map((s) => `<li><span class="swatch ${s}"></span>${STYLES[s].label}</li>`),
  ];
  const head = ['run', 'epochs', 'best val top-1', 'last val top-1', 'best train top-1', 'last train top-1', 'test top-1', 'seconds'];
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
svg.plot { display: block; margin: 12px 0; background: #fff; }
svg text { font-size: 12px; fill: #333; } svg text.title { font-size: 14px; font-weight: 600; }
line.grid { stroke: #e5e5e5; } line.axis, line.tick { stroke: #444; }
ul.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 16px; }
.swatch { display: inline-block; width: 28px; margin-right: 6px; vertical-align: middle; border-top: 3px solid #444; }
.swatch.val { border-top-style: dashed; } .swatch.test { width: 8px; height: 8px; border: 2px solid #444; border-radius: 50%; }
table { border-collapse: collapse; margin-top: 16px; } th, td { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
</style>
</head>
<body>
<h1>${esc(title)}</h1>
<ul class="legend">${legend.join('')}</ul>
${[...plots, ...kdPlots].join('\n')}
<h2>${runs.length > 1 ? 'Comparison' : 'Summary'}</h2>
<table>
<thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead>
<tbody>
${runs.map(summaryRow).join('\n')}
</tbody>
</table>
</body>
</html>
`;
}

/**
 * Writes `report.html` for the runs, atomically (a temporary file in the same folder, then a rename), creating the
 * folder if needed.
 *
 * @example
 * writeReport('runs/report.html', [{ name: 'student', metrics: readMetrics('runs/student/metrics.jsonl') },
 *   { name: 'student+kd', metrics: readMetrics('runs/kd/metrics.jsonl') }]);
 */
export function writeReport(outPath: string, runs: ReportRun[], options: { title?: string } = {}): void {
  if (typeof outPath !== 'string' || outPath === '') throw new TypeError('writeReport: expected an output file path');
  const html = renderReport(runs, options);
  const dir = path.dirname(path.resolve(outPath));
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(outPath)}.${process.pid}.${Date.now()}.tmp`);
  try {
    fs.writeFileSync(tmp, html);
    fs.renameSync(tmp, outPath);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
