/**
 * @internal Argument checks of the hand-written API (factories, modules, optimizers); the generated ops use
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
