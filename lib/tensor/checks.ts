/**
 * Internal: Argument checks of the hand-written API (factories, modules, optimizers); the generated ops use
 * lib/tensor/args.ts.
 */
import { describe } from '../dtype';
import type { ShapeArgs } from './base';

/** @internal */
export function int(v: unknown, what: string): number {
  if (typeof v !== 'number') throw new TypeError(`Expected an integer for ${what} but received ${describe(v)}`);
  if (!Number.isInteger(v)) throw new RangeError(`Expected an integer for ${what} but received ${v}`);
  return v;
}

/** @internal An integer or a pair of integers (PyTorch's `_pair`), as [a, b]. */
export function intPair(v: unknown, what: string): [number, number] {
  if (typeof v === 'number') return [int(v, what), int(v, what)];
  if (Array.isArray(v) && v.length === 2) return [int(v[0], what), int(v[1], what)];
  throw new TypeError(`Expected an integer or a pair of integers for ${what} but received ${describe(v)}`);
}

/** @internal */
export function num(v: unknown, what: string): number {
  if (typeof v !== 'number') throw new TypeError(`Expected a number for ${what} but received ${describe(v)}`);
  return v;
}

/** @internal Accepts (2, 3) or ([2, 3]). */
export function shapeOf(args: ShapeArgs | (number | number[])[], what = 'shape'): number[] {
  const list = args.length === 1 && Array.isArray(args[0]) ? (args[0] as number[]) : (args as number[]);
  if (!Array.isArray(list)) throw new TypeError(`Expected an array of integers for ${what}`);
  for (const d of list) int(d, what);
  return list;
}

/**
 * @internal Python's calling convention for a hand-written constructor or function: the parameters after the fixed
 * ones positionally, or any of them by name in a trailing options object (`new StepLR(opt, { stepSize: 30 })`).
 * Unknown names, a name given twice, too many positional values and missing required ones are TypeErrors, as in
 * Python. `keywordOnly` names may only come in the options object.
 */
export function positionalOrOptions(
  fn: string,
  rest: unknown[],
  names: string[],
  options: { required?: string[]; keywordOnly?: string[] } = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const kw = options.keywordOnly ?? [];
  let n = rest.length;
  const last = rest[n - 1];
  let o: Record<string, unknown> | null = null;
  if (n > 0 && last !== null && typeof last === 'object' && !Array.isArray(last) && Object.getPrototypeOf(last) === Object.prototype) {
    o = last as Record<string, unknown>;
    n--;
  }
  if (n > names.length) throw new TypeError(`${fn}: takes ${names.length} positional argument${names.length === 1 ? '' : 's'} after the first but ${n} were given`);
  for (let i = 0; i < n; i++) if (rest[i] !== undefined) out[names[i]] = rest[i];
  if (o) {
    const all = [...names, ...kw];
    for (const [k, v] of Object.entries(o)) {
      if (!all.includes(k)) throw new TypeError(`${fn}: got an unexpected option '${k}' (it takes ${all.map((x) => `'${x}'`).join(', ')})`);
      if (k in out) throw new TypeError(`${fn}: got multiple values for argument '${k}'`);
      if (v !== undefined) out[k] = v;
    }
  }
  for (const r of options.required ?? []) if (out[r] === undefined) throw new TypeError(`${fn}: missing required argument '${r}'`);
  return out;
}
