/**
 * report.html: a self-contained page of SVG training curves and a comparison table, written atomically; and the
 * metrics.jsonl reader.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TorchError } from '../lib/errors';
import { type MetricsRow, type ReportRun, readMetrics, renderReport, writeReport } from '../lib/cli/report';

function row(epoch: number, split: MetricsRow['split'], loss: number, top1: number, extra: Partial<MetricsRow> = {}): MetricsRow {
  return { epoch, split, loss, top1, top5: 99, lr: 0.1, seconds: 2, ...extra };
}

const student: ReportRun = {
  name: 'student',
  metrics: [
    row(0, 'train', 3, 50), row(0, 'val', 2.5, 55),
    row(1, 'train', 2, 70), row(1, 'val', 2, 72),
    row(2, 'train', 1, 80), row(2, 'val', 1.5, 78),
    row(2, 'test', 1.6, 77),
  ],
};
const kd: ReportRun = {
  name: 'student+kd <T=4>',
  metrics: [0, 1, 2].flatMap((e) => [
    row(e, 'train', 2.5 - e, 60 + 10 * e, { overallLoss: 3 - e, objectiveLoss: 2 - e / 2, distillLoss: 1 - e / 4 }),
    row(e, 'val', 2.2 - e / 2, 62 + 10 * e),
  ]),
};

/** The points of the polylines of one plot, run and split. */
function polyline(html: string, metric: string, run: string, split: string): [number, number][] {
  const svg = html.split('<svg').find((s) => s.includes(`data-metric="${metric}"`)) ?? '';
  const re = new RegExp(`<polyline class="series" data-run="${run}" data-split="${split}"[^>]* points="([^"]*)"`);
  const m = re.exec(svg);
  if (!m) throw new Error(`no ${metric}/${run}/${split} polyline`);
  return m[1].split(' ').map((p) => p.split(',').map(Number) as [number, number]);
}

function domain(html: string, metric: string): number[] {
  const m = new RegExp(`data-metric="${metric}" data-domain="([^"]*)"`).exec(html);
  return (m?.[1] ?? '').split(' ').map(Number);
}

describe('renderReport', () => {
  const single = renderReport([student]);
  const both = renderReport([student, kd]);

  it('is one well-formed page: an <svg> per plot, balanced tags, a table with a row per run', () => {
    for (const [html, plots, runs] of [[single, 2, 1], [both, 5, 2]] as const) {
      expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
      expect(html.match(/<svg /g)?.length).toBe(plots);
      expect(html.match(/<\/svg>/g)?.length).toBe(plots);
      for (const tag of ['html', 'head', 'body', 'table', 'thead', 'tbody', 'style', 'title', 'ul']) {
        expect(html.match(new RegExp(`<${tag}[ >]`, 'g'))?.length, tag).toBe(1);
        expect(html.match(new RegExp(`</${tag}>`, 'g'))?.length, tag).toBe(1);
      }
      const tbody = html.slice(html.indexOf('<tbody>'), html.indexOf('</tbody>'));
      expect(tbody.match(/<tr>/g)?.length).toBe(runs);
      expect(html.match(/<tr>/g)?.length).toBe(runs + 1);
    }
  });

  it('is self-contained: no scripts, links, external URLs or xmlns references', () => {
    for (const html of [single, both]) {
      expect(html).not.toMatch(/https?:|\/\/[a-z]|<script|<link|<img|url\(|@import|src=|href=/i);
    }
  });

  it('draws the points in epoch order, to scale on both axes', () => {
    const [x0, x1, y0, y1] = domain(single, 'loss');
    expect([x0, x1]).toEqual([0, 2]);
    expect(y0).toBeLessThanOrEqual(1);
    expect(y1).toBeGreaterThanOrEqual(3);
    const pts = polyline(single, 'loss', 'student', 'train');
    expect(pts.length).toBe(3);
    // x: equal steps, increasing with the epoch; y: screen coordinates grow downward as the loss falls.
    expect(pts[1][0] - pts[0][0]).toBeCloseTo(pts[2][0] - pts[1][0], 1);
    expect(pts[0][0]).toBeLessThan(pts[1][0]);
    expect(pts[0][1]).toBeLessThan(pts[1][1]);
    // Linear: loss 3 → 2 → 1 gives equal vertical steps; the plot area maps the domain onto [top, bottom].
    expect(pts[1][1] - pts[0][1]).toBeCloseTo(pts[2][1] - pts[1][1], 1);
    const perUnit = (pts[2][1] - pts[0][1]) / (3 - 1);
    const bottom = pts[0][1] + (3 - y0) * perUnit;
    const top = pts[0][1] - (y1 - 3) * perUnit;
    expect(bottom - top).toBeCloseTo(340 - 30 - 46, 1);
    const val = polyline(single, 'loss', 'student', 'val');
    expect(val[1][1]).toBeCloseTo(pts[1][1], 2); // both 2.0 at epoch 1
    const acc = polyline(single, 'top1', 'student', 'train');
    expect(acc[0][1]).toBeGreaterThan(acc[2][1]); // accuracy rises: higher on screen
  });

  it('sorts rows by epoch and breaks the line at a NaN', () => {
    const shuffled = renderReport([{ name: 'r', metrics: [row(2, 'train', 1, 3), row(0, 'train', 3, 1), row(1, 'train', 2, 2)] }]);
    const xs = polyline(shuffled, 'loss', 'r', 'train').map((p) => p[0]);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    const gap = renderReport([{ name: 'r', metrics: [row(0, 'train', 3, 1), row(1, 'train', NaN, 2), row(2, 'train', 1, 3), row(3, 'train', 0.5, 4)] }]);
    const loss = gap.split('<svg').find((s) => s.includes('data-metric="loss"')) ?? '';
    expect(loss.match(/<polyline/g)?.length).toBe(2);
  });

  it('has a legend, escapes run names and plots distillation loss components when present', () => {
    expect(both).toContain('student+kd &lt;T=4&gt;');
    expect(both).not.toContain('<T=4>');
    expect(both).toMatch(/<ul class="legend">.*student<\/li>.*validation<\/li>.*test<\/li><\/ul>/);
    for (const m of ['overallLoss', 'objectiveLoss', 'distillLoss']) expect(both).toContain(`data-metric="${m}"`);
    expect(single).not.toContain('data-metric="distillLoss"');
  });

  it('tabulates best and last top-1 per run', () => {
    const tbody = both.slice(both.indexOf('<tbody>'), both.indexOf('</tbody>'));
    const rows = tbody.split('<tr>').slice(1).map((r) => [...r.matchAll(/<td>(.*?)<\/td>/g)].map((m) => m[1].replace(/<[^>]+>/g, '')));
    expect(rows[0].slice(1)).toEqual(['3', '78.00 (epoch 2)', '78.00', '80.00', '80.00', '77.00', '14.0']);
    expect(rows[1].slice(1)).toEqual(['3', '82.00 (epoch 2)', '82.00', '80.00', '80.00', '—', '12.0']);
  });
});

describe('writeReport and readMetrics', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-report-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes atomically, replacing an old report and leaving no temporary file', () => {
    const out = path.join(dir, 'nested', 'report.html');
    writeReport(out, [student]);
    writeReport(out, [student, kd]);
    expect(fs.readFileSync(out, 'utf8')).toBe(renderReport([student, kd]));
    expect(fs.readdirSync(path.dirname(out))).toEqual(['report.html']);
  });

  it('round-trips metrics.jsonl rows, with null for NaN and blank lines skipped', () => {
    const file = path.join(dir, 'metrics.jsonl');
    const rows = [...student.metrics, kd.metrics[0]];
    fs.writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n\n${JSON.stringify({ ...row(3, 'val', 1, 2), loss: null })}\n`);
    const back = readMetrics(file);
    expect(back.slice(0, rows.length)).toEqual(rows);
    expect(back[rows.length].loss).toBeNaN();
    expect(renderReport([{ name: 'file', metrics: back }])).toContain('data-run="file"');
  });

  it('names the file and line of a bad row', () => {
    const file = path.join(dir, 'bad.jsonl');
    fs.writeFileSync(file, `${JSON.stringify(row(0, 'train', 1, 2))}\n{"epoch": 1, "split": "dev"}\n`);
    expect(() => readMetrics(file)).toThrow(TorchError);
    expect(() => readMetrics(file)).toThrow(`${file}:2: 'split' must be 'train', 'val' or 'test'`);
    fs.writeFileSync(file, 'not json\n');
    expect(() => readMetrics(file)).toThrow(`${file}:1: not a JSON object`);
    expect(() => readMetrics(path.join(dir, 'none.jsonl'))).toThrow(/cannot read metrics file .*none.jsonl': ENOENT/);
  });
});
