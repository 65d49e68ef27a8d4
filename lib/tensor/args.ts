/**
 * Internal: Argument handling of the generated op functions (lib/generated/): the one place where a JS value is
 * checked against the type an op's specification gives it, with Python's errors for keyword mistakes. Each checker
 * returns what crosses to native (a tensor becomes its handle; null/undefined optionals become -1 or null).
 */
import { type DType, type Device, describe, deviceCode, dtypeCode, memoryFormatCode } from '../dtype';
import type { Tensor } from '../generated/tensor';
import type { TensorBase } from './base';
import { tensorClass } from './base';

/** A trailing options object of an op call. */
export type Opts = Record<string, unknown>;

/** A plain object (not a tensor, array or class instance): what an options object is. */
export function isOptions(v: unknown): v is Opts {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function isScalar(v: unknown): v is number | boolean {
  return typeof v === 'number' || typeof v === 'boolean';
}

function expected(fn: string, what: string, name: string, v: unknown): TypeError {
  return new TypeError(`${fn}: expected ${what} for ${name} but received ${describe(v)}`);
}

/** A wrong value for a parameter (TypeError). */
export function bad(fn: string, name: string, what: string, v: unknown): TypeError {
  return expected(fn, what, name, v);
}

export function missing(fn: string, name: string): TypeError {
  return new TypeError(`${fn}: missing required argument '${name}'`);
}

export function twice(fn: string, name: string): TypeError {
  return new TypeError(`${fn}: got multiple values for argument '${name}' (positionally and in the options object)`);
}

export function tooMany(fn: string, max: number, n: number): TypeError {
  return new TypeError(`${fn}: takes ${max} positional argument${max === 1 ? '' : 's'} but ${n} were given`);
}

/** Throws for a key the op does not take, listing the ones it does. */
export function onlyKeys(o: Opts, keys: Set<string>, fn: string): void {
  for (const k in o) {
    if (!keys.has(k)) {
      const list = [...keys].map((x) => `'${x}'`).join(', ');
      if ((k === 'sizeAverage' || k === 'reduce') && keys.has('reduction')) {
        throw new TypeError(`${fn}: '${k}' is one of PyTorch's deprecated loss options; give reduction: 'none' | 'mean' | 'sum' instead`);
      }
      throw new TypeError(`${fn}: got an unexpected option '${k}'${list ? ` (it takes ${list})` : ' (it takes none)'}`);
    }
  }
}

export function hasOnlyKeys(o: Opts, keys: Set<string>): boolean {
  for (const k in o) if (!keys.has(k)) return false;
  return true;
}

/** For choosing a signature: the value is given and of the right kind. */
export function given(v: unknown, kind: (v: unknown) => boolean): boolean {
  return v !== undefined && kind(v);
}

/** For choosing a signature: the value is absent or of the right kind. */
export function absentOr(v: unknown, kind: (v: unknown) => boolean): boolean {
  return v === undefined || kind(v);
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof tensorClass()) return 'Tensor';
  if (isOptions(v)) return `{${Object.keys(v).join(', ')}}`;
  return typeof v;
}

/** None of an op's signatures fits: PyTorch's "received an invalid combination of arguments", listing them. */
export function noSignature(fn: string, a: unknown[], sigs: string[]): TypeError {
  // A ported `torch.max(outputs.data, 1)` passes the uncalled method: say what it is and what to write instead.
  const dataMethod = tensorClass().prototype.data;
  const hint = a.some((v) => v === dataMethod)
    ? "\n(a function was passed: Tensor.data is a method here, giving a typed array; PyTorch's .data is .detach(), or the tensor itself)"
    : '';
  return new TypeError(`${fn}: received an invalid combination of arguments (${a.map(kindOf).join(', ')}); expected one of:\n  ${sigs.join('\n  ')}${hint}`);
}

// ---- checkers ---------------------------------------------------------------------------------------------------

export function tensor(v: unknown, fn: string, name: string): number {
  if (v instanceof tensorClass()) return (v as TensorBase).h;
  throw expected(fn, 'a Tensor', name, v);
}

/** A tensor kept as itself (module constructors). */
export function tensorObj(v: unknown, fn: string, name: string): Tensor {
  if (v instanceof tensorClass()) return v as Tensor;
  throw expected(fn, 'a Tensor', name, v);
}

export function tensorObjOpt(v: unknown, fn: string, name: string): Tensor | null {
  return v === null || v === undefined ? null : tensorObj(v, fn, name);
}

/** A dtype name, checked (module constructors keep the name). */
export function dtypeNameOpt(v: unknown, fn: string, name: string): DType | null {
  if (v === null || v === undefined) return null;
  dtypeCode(v, `${fn} ${name}`);
  return v as DType;
}

/** A device name, checked. */
export function deviceOpt(v: unknown, fn: string, name: string): Device | null {
  if (v === null || v === undefined) return null;
  deviceCode(v);
  return v as Device;
}

export function tensorOpt(v: unknown, fn: string, name: string): number {
  if (v === null || v === undefined) return -1;
  return tensor(v, fn, name);
}

export function tensors(v: unknown, fn: string, name: string): number[] {
  if (!Array.isArray(v)) throw expected(fn, 'an array of Tensors', name, v);
  const out = new Array<number>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = tensor(v[i], fn, `${name}[${i}]`);
  return out;
}

export function scalar(v: unknown, fn: string, name: string): number | boolean {
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  throw expected(fn, 'a number', name, v);
}

export function scalarOpt(v: unknown, fn: string, name: string): number | boolean | null {
  return v === null || v === undefined ? null : scalar(v, fn, name);
}

export function int(v: unknown, fn: string, name: string): number {
  if (typeof v !== 'number') throw expected(fn, 'an integer', name, v);
  if (!Number.isInteger(v)) throw new RangeError(`${fn}: expected an integer for ${name} but received ${describe(v)}`);
  return v;
}

export function intOpt(v: unknown, fn: string, name: string): number | null {
  return v === null || v === undefined ? null : int(v, fn, name);
}

export function ints(v: unknown, fn: string, name: string): number[] {
  if (!Array.isArray(v)) throw expected(fn, 'an array of integers', name, v);
  for (let i = 0; i < v.length; i++) int(v[i], fn, `${name}[${i}]`);
  return v as number[];
}

export function intsOpt(v: unknown, fn: string, name: string): number[] | null {
  return v === null || v === undefined ? null : ints(v, fn, name);
}

/**
 * PyTorch's int[N]: an integer (repeated N times; for N = 1 one dim) or a list (of N integers; any length for N = 1).
 */
export function intsN(v: unknown, n: number, fn: string, name: string): number[] {
  if (typeof v === 'number') {
    int(v, fn, name);
    return n === 1 ? [v] : new Array<number>(n).fill(v);
  }
  if (Array.isArray(v)) {
    if (n !== 1 && v.length !== n && v.length !== 1) {
      throw new RangeError(`${fn}: expected an integer or ${n} integers for ${name} but received ${v.length}`);
    }
    ints(v, fn, name);
    return n !== 1 && v.length === 1 ? new Array<number>(n).fill(v[0]) : (v as number[]);
  }
  throw expected(fn, n === 1 ? 'an integer or an array of integers' : `an integer or a list of ${n} integers`, name, v);
}

export function intsNOpt(v: unknown, n: number, fn: string, name: string): number[] | null {
  return v === null || v === undefined ? null : intsN(v, n, fn, name);
}

export function float(v: unknown, fn: string, name: string): number {
  if (typeof v !== 'number') throw expected(fn, 'a number', name, v);
  return v;
}

export function floatOpt(v: unknown, fn: string, name: string): number | null {
  return v === null || v === undefined ? null : float(v, fn, name);
}

/** A number or a list of numbers, as a list. */
export function floatsOpt(v: unknown, fn: string, name: string): number[] | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return [v];
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) float(v[i], fn, `${name}[${i}]`);
    return v as number[];
  }
  throw expected(fn, 'a number or an array of numbers', name, v);
}

export function bool(v: unknown, fn: string, name: string): boolean {
  if (typeof v !== 'boolean') throw expected(fn, 'a boolean', name, v);
  return v;
}

export function boolOpt(v: unknown, fn: string, name: string): boolean | null {
  return v === null || v === undefined ? null : bool(v, fn, name);
}

export function str(v: unknown, fn: string, name: string): string {
  if (typeof v !== 'string') throw expected(fn, 'a string', name, v);
  return v;
}

export function choice<T extends string>(v: unknown, choices: readonly T[], fn: string, name: string): T {
  if (typeof v === 'string' && (choices as readonly string[]).includes(v)) return v as T;
  const list = choices.map((c) => `'${c}'`).join(', ');
  if (typeof v !== 'string') throw expected(fn, `one of ${list}`, name, v);
  throw new RangeError(`${fn}: expected one of ${list} for ${name} but received ${describe(v)}`);
}

export function choiceOpt<T extends string>(v: unknown, choices: readonly T[], fn: string, name: string): T | null {
  return v === null || v === undefined ? null : choice(v, choices, fn, name);
}

/** A dtype name as its native code, or -1 for none. */
export function dtypeOpt(v: unknown, fn: string, name: string): number {
  if (v === null || v === undefined) return -1;
  return dtypeCode(v, `${fn} ${name}`);
}

/** A memory-format name (torch.channelsLast, ...) as its native code. */
export function memoryFormat(v: unknown, fn: string, name: string): number {
  return memoryFormatCode(v, fn, name);
}

const REDUCTIONS: Record<string, number> = { none: 0, mean: 1, sum: 2 };

/** 'none' | 'mean' | 'sum' as at::Reduction's codes. */
export function reduction(v: unknown, fn: string, name: string): number {
  const code = typeof v === 'string' ? REDUCTIONS[v] : undefined;
  if (code !== undefined) return code;
  if (typeof v !== 'string') throw expected(fn, "one of 'none', 'mean', 'sum'", name, v);
  throw new RangeError(`${fn}: expected reduction to be one of 'none', 'mean', 'sum' but received ${describe(v)}`);
}

/** Throws `err` (for use in expressions). */
export function fail(err: Error): never {
  throw err;
}
