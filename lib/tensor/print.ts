/**
 * PyTorch's tensor printer (torch/_tensor_str.py with the default print options: precision 4, linewidth 80,
 * threshold 1000, edgeitems 3): fixed-point with 4 decimals, integer mode ("1.") when every float is whole,
 * scientific when the magnitudes span > 1000× or leave [1e-4, 1e8), every element padded to the widest. Above the
 * threshold, each dim longer than 6 shows its first and last 3 entries around "...", and the formatting is chosen
 * from the shown values only, as PyTorch does.
 */
import type { Tensor } from '../generated/tensor';
import { type TensorBase, wrap } from './base';
import { R } from './native';

const PRECISION = 4;
const LINEWIDTH = 80;
const THRESHOLD = 1000;
const EDGEITEMS = 3;

function sciString(v: number, width = 0): string {
  let s = v.toExponential(PRECISION).replace(/e([+-])(\d)$/, 'e$10$2');
  if (Object.is(v, -0)) s = `-${s}`;
  return s.padStart(width);
}

function fixedString(v: number, digits: number): string {
  const s = v.toFixed(digits);
  return Object.is(v, -0) || (v < 0 && !s.startsWith('-')) ? `-${s}` : s;
}

class Formatter {
  private intMode = true;
  private sciMode = false;
  private maxWidth = 1;

  constructor(
    flat: (number | bigint)[],
    private readonly floating: boolean,
    private readonly isBool: boolean,
  ) {
    if (!floating) {
      for (const v of flat) this.maxWidth = Math.max(this.maxWidth, this.plain(v).length);
      return;
    }
    const vals = (flat as number[]).filter((v) => Number.isFinite(v) && v !== 0);
    if (vals.length === 0) return;
    let min = Infinity;
    let max = 0;
    for (const v of vals) {
      const a = Math.abs(v);
      if (a < min) min = a;
      if (a > max) max = a;
    }
    this.intMode = vals.every((v) => v === Math.ceil(v));
    const wide = max / min > 1000 || max > 1e8;
    if (this.intMode) {
      this.sciMode = wide;
      for (const v of vals) this.maxWidth = Math.max(this.maxWidth, wide ? sciString(v).length : fixedString(v, 0).length + 1);
    } else {
      this.sciMode = wide || min < 1e-4;
      for (const v of vals) this.maxWidth = Math.max(this.maxWidth, this.sciMode ? sciString(v).length : fixedString(v, PRECISION).length);
    }
  }

  private plain(v: number | bigint): string {
    return this.isBool ? (v ? 'True' : 'False') : String(v);
  }

  get width(): number {
    return this.maxWidth;
  }

  format(v: number | bigint): string {
    let s: string;
    if (!this.floating || typeof v === 'bigint') s = this.plain(v);
    else if (Number.isNaN(v)) s = 'nan';
    else if (!Number.isFinite(v)) s = v > 0 ? 'inf' : '-inf';
    else if (this.sciMode) s = sciString(v);
    else if (this.intMode) s = `${fixedString(v, 0)}.`;
    else s = fixedString(v, PRECISION);
    return s.padStart(this.maxWidth);
  }
}

/** The elements PyTorch shows: all of them, or per long dim the first and last EDGEITEMS (as get_summarized_data). */
function shownData(t: TensorBase, shape: number[], summarize: boolean): { flat: (number | bigint)[]; cut: boolean[] } {
  const cut = shape.map((n) => summarize && n > 2 * EDGEITEMS);
  if (!cut.some(Boolean)) return { flat: Array.from(t.data() as ArrayLike<number | bigint>), cut };
  let view = (t as Tensor).detach();
  const made = [view];
  try {
    cut.forEach((c, d) => {
      if (!c) return;
      const n = shape[d];
      const head = view.narrow(d, 0, EDGEITEMS);
      const tail = view.narrow(d, n - EDGEITEMS, EDGEITEMS);
      const joined = wrap(R.op_cat([head.h, tail.h], d));
      made.push(head, tail, joined);
      view = joined;
    });
    return { flat: Array.from(view.data() as ArrayLike<number | bigint>), cut };
  } finally {
    for (const m of made) m.dispose();
  }
}

/** The printout of a tensor, e.g. `tensor([[1., 2.], [3., 4.]])`. */
export function formatTensor(t: TensorBase): string {
  if (t.isDisposed) return 'tensor(<disposed>)';
  const dtype = t.dtype;
  const shape = t.shape;
  const numel = t.numel();
  const isFloat = dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
  const prefix = 'tensor(';
  let body: string;
  if (numel === 0) {
    body = '[]';
  } else {
    const summarize = numel > THRESHOLD;
    // int64 elements stay bigints, so they print exactly.
    const { flat, cut } = shownData(t, shape, summarize);
    const f = new Formatter(flat, isFloat, dtype === 'bool');
    const shown = shape.map((n, d) => (cut[d] ? 2 * EDGEITEMS : n));
    let k = 0;
    const vector = (indent: number): string => {
      const d = shape.length - 1;
      const perLine = Math.max(1, Math.floor((LINEWIDTH - indent) / (f.width + 2)));
      const items: string[] = [];
      for (let i = 0; i < shown[d]; i++) {
        if (cut[d] && i === EDGEITEMS) items.push(' ...');
        items.push(f.format(flat[k++]));
      }
      const lines: string[] = [];
      for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
      return `[${lines.join(`,\n${' '.repeat(indent + 1)}`)}]`;
    };
    const render = (d: number, indent: number): string => {
      if (d === shape.length - 1) return vector(indent);
      const slices: string[] = [];
      for (let i = 0; i < shown[d]; i++) {
        if (cut[d] && i === EDGEITEMS) slices.push('...');
        slices.push(render(d + 1, indent + 1));
      }
      const dimsLeft = shape.length - d;
      return `[${slices.join(`,${'\n'.repeat(dimsLeft - 1)}${' '.repeat(indent + 1)}`)}]`;
    };
    body = shape.length === 0 ? f.format(flat[0]) : render(0, prefix.length);
  }
  const extras: string[] = [];
  if (numel === 0 && shape.length !== 1) extras.push(`size=(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`);
  if (t.device !== 'cpu') extras.push(`device='${t.device}'`);
  if (dtype !== 'float32' && dtype !== 'int64' && dtype !== 'bool') extras.push(`dtype=torch.${dtype}`);
  if (t.requiresGrad) extras.push(t.gradFn ? `grad_fn=<${t.gradFn}>` : 'requires_grad=True');
  return `${prefix}${body}${extras.length ? `, ${extras.join(', ')}` : ''})`;
}
