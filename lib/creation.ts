/**
 * Factory functions: torch.tensor, zeros, ones, full, empty, randn, rand, randint, arange, linspace, eye, ...
 * Random factories draw from libtorch's default generator, so after `manualSeed(s)` they give the numbers Python's
 * `torch.manual_seed(s)` gives on the same libtorch.
 */
import { DType, Device, describe, deviceCode, dtypeCode, dtypeName } from './dtype';
import { N, NestedArray, ShapeArgs, Tensor, int, num, shapeOf, wrap } from './tensor';

/** Options of the factory functions. */
export interface TensorOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

/** Options of {@link tensor}: also `shape`, to give flat data a shape. */
export interface TensorDataOptions extends TensorOptions {
  shape?: number[];
}

type AnyTypedArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Uint16Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

const TYPED_DTYPE: [new (...a: never[]) => unknown, DType][] = [
  [Float32Array, 'float32'],
  [Float64Array, 'float64'],
  [Int32Array, 'int32'],
  [Int16Array, 'int16'],
  [Int8Array, 'int8'],
  [Uint8Array, 'uint8'],
  [Uint8ClampedArray, 'uint8'],
  [Uint16Array, 'int32'],
  [Uint32Array, 'int64'],
  [BigInt64Array, 'int64'],
  [BigUint64Array, 'int64'],
];

function typedDtype(data: AnyTypedArray): DType {
  for (const [cls, dt] of TYPED_DTYPE) if (data instanceof cls) return dt;
  throw new TypeError('unsupported typed array');
}

function opts(o: TensorOptions | undefined, defaultDtype: DType = 'float32'): [number, number, boolean] {
  if (o !== undefined && (o === null || typeof o !== 'object')) throw new TypeError(`Expected an options object but received ${describe(o)}`);
  const dtype = dtypeCode(o?.dtype ?? defaultDtype);
  const device = o?.device === undefined ? -1 : deviceCode(o.device);
  const rg = o?.requiresGrad ?? false;
  if (typeof rg !== 'boolean') throw new TypeError(`Expected a boolean for requiresGrad but received ${describe(rg)}`);
  return [dtype, device, rg];
}

/** Splits trailing options off `(2, 3, {dtype})` / `([2, 3], {dtype})`. */
function shapeAndOptions<T extends object>(args: unknown[]): [number[], T | undefined] {
  const last = args[args.length - 1];
  const hasOpts = last !== undefined && last !== null && typeof last === 'object' && !Array.isArray(last);
  const shapeArgs = (hasOpts ? args.slice(0, -1) : args) as ShapeArgs;
  return [shapeOf(shapeArgs), hasOpts ? (last as T) : undefined];
}

/** Flattens rectangular nested arrays; returns the shape and whether values are booleans / all integers. */
function flatten(data: NestedArray): { shape: number[]; values: number[]; bool: boolean; integral: boolean } {
  const shape: number[] = [];
  let probe: NestedArray = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
    if (probe === undefined) break;
  }
  const values: number[] = [];
  let bool = true;
  let integral = true;
  const walk = (v: NestedArray, depth: number): void => {
    if (depth === shape.length) {
      if (typeof v === 'boolean') values.push(v ? 1 : 0);
      else if (typeof v === 'number') {
        bool = false;
        if (!Number.isInteger(v)) integral = false;
        values.push(v);
      } else if (Array.isArray(v)) {
        throw new RangeError(`tensor(): ragged nested array (expected a number at depth ${depth})`);
      } else {
        throw new TypeError(`tensor(): expected numbers or booleans but found ${describe(v)}`);
      }
      return;
    }
    if (!Array.isArray(v)) throw new RangeError(`tensor(): ragged nested array (expected an array at depth ${depth})`);
    if (v.length !== shape[depth]) {
      throw new RangeError(`tensor(): ragged nested array (expected length ${shape[depth]} at depth ${depth}, got ${v.length})`);
    }
    for (const x of v) walk(x, depth + 1);
  };
  walk(data, 0);
  if (values.length === 0) bool = false;
  return { shape, values, bool, integral };
}

// Integer ranges for data converted into integer dtypes. As in PyTorch, an out-of-range value (or NaN/±Infinity)
// is an error rather than a silent wrap-around; whole negative numbers may wrap into uint8 (Python ints do).
const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  int64: [-(2 ** 63), 2 ** 63 - 1024],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  int16: [-32768, 32767],
  int8: [-128, 127],
  uint8: [0, 255],
};

function checkIntegerData(values: ArrayLike<number>, dtype: number): void {
  const name = dtypeName(dtype);
  const range = INT_RANGE[name];
  if (range === undefined) return;
  const [lo, hi] = range;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v >= lo && v <= hi) continue;
    if (name === 'uint8' && Number.isInteger(v) && v < 0 && v >= -255) continue;
    throw new RangeError(`tensor(): the value ${v} (at flat index ${i}) cannot be converted to ${name} without overflow`);
  }
}

/**
 * A tensor from data: a number, a boolean, nested arrays, or a typed array (int64 from BigInt64Array).
 * Like PyTorch, integer data gives int64, other numbers float32, booleans bool, unless `dtype` says otherwise.
 *
 * @example
 * torch.tensor([[1, 2], [3, 4]], { dtype: 'float32' });
 * torch.tensor(new Float32Array(6), { shape: [2, 3] });
 */
export function tensor(data: NestedArray | AnyTypedArray, options: TensorDataOptions = {}): Tensor {
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    const typed = data as AnyTypedArray;
    const [dt, dev, rg] = opts(options, typedDtype(typed));
    if (typed instanceof Float32Array || typed instanceof Float64Array) checkIntegerData(typed, dt);
    const shape = options.shape !== undefined ? shapeOf([options.shape]) : [typed.length];
    return wrap(N.fromTypedArray(typed, dt, shape, dev, rg));
  }
  if (data instanceof Tensor) throw new TypeError('tensor() expects data, not a Tensor; use t.clone().detach()');
  if (typeof data !== 'number' && typeof data !== 'boolean' && !Array.isArray(data)) {
    throw new TypeError(`tensor() expects numbers, booleans, nested arrays or a typed array but received ${describe(data)}`);
  }
  const flat = flatten(data);
  const inferred: DType = flat.values.length === 0 ? 'float32' : flat.bool ? 'bool' : flat.integral ? 'int64' : 'float32';
  const [dt, dev, rg] = opts(options, inferred);
  checkIntegerData(flat.values, dt);
  let shape = flat.shape;
  if (options.shape !== undefined) shape = shapeOf([options.shape]);
  // Doubles carry every JS number exactly; libtorch converts to the target dtype as Python would.
  return wrap(N.fromTypedArray(Float64Array.from(flat.values), dt, shape, dev, rg));
}

/** zeros(2, 3) or zeros([2, 3], {dtype}). */
export function zeros(...args: (number | number[] | TensorOptions)[]): Tensor {
  const [shape, o] = shapeAndOptions<TensorOptions>(args);
  const [dt, dev, rg] = opts(o);
  return wrap(N.full(shape, 0, dt, dev, rg));
}

export function ones(...args: (number | number[] | TensorOptions)[]): Tensor {
  const [shape, o] = shapeAndOptions<TensorOptions>(args);
  const [dt, dev, rg] = opts(o);
  return wrap(N.full(shape, 1, dt, dev, rg));
}

/** A tensor filled with `value`; the dtype defaults as in PyTorch (int64 for integers, bool for booleans). */
export function full(shape: number[], value: number | boolean, options: TensorOptions = {}): Tensor {
  if (typeof value !== 'number' && typeof value !== 'boolean') throw new TypeError(`full(): expected a number for value but received ${describe(value)}`);
  const inferred: DType = typeof value === 'boolean' ? 'bool' : Number.isInteger(value) ? 'int64' : 'float32';
  const [dt, dev, rg] = opts(options, inferred);
  return wrap(N.full(shapeOf([shape]), value, dt, dev, rg));
}

/** Uninitialised memory. */
export function empty(...args: (number | number[] | TensorOptions)[]): Tensor {
  const [shape, o] = shapeAndOptions<TensorOptions>(args);
  const [dt, dev, rg] = opts(o);
  return wrap(N.empty(shape, dt, dev, rg));
}

/** Standard normal samples from the default generator. */
export function randn(...args: (number | number[] | TensorOptions)[]): Tensor {
  const [shape, o] = shapeAndOptions<TensorOptions>(args);
  const [dt, dev, rg] = opts(o);
  return wrap(N.random(0, shape, dt, dev, rg));
}

/** Uniform [0, 1) samples from the default generator. */
export function rand(...args: (number | number[] | TensorOptions)[]): Tensor {
  const [shape, o] = shapeAndOptions<TensorOptions>(args);
  const [dt, dev, rg] = opts(o);
  return wrap(N.random(1, shape, dt, dev, rg));
}

/** Integers in [low, high): `randint(10, [3])` or `randint(2, 10, [3])`. */
export function randint(lowOrHigh: number, highOrShape: number | number[], shapeOrOptions?: number[] | TensorOptions, options?: TensorOptions): Tensor {
  let low = 0;
  let high: number;
  let shape: number[];
  let o: TensorOptions | undefined;
  if (Array.isArray(highOrShape)) {
    high = lowOrHigh;
    shape = highOrShape;
    o = shapeOrOptions as TensorOptions | undefined;
  } else {
    low = lowOrHigh;
    high = highOrShape;
    shape = shapeOrOptions as number[];
    o = options;
  }
  const [dt, dev] = opts(o, 'int64');
  return wrap(N.randint(int(low, 'low'), int(high, 'high'), shapeOf([shape]), dt, dev));
}

/** A random permutation of 0..n-1. */
export function randperm(n: number, options: TensorOptions = {}): Tensor {
  const [dt, dev] = opts(options, 'int64');
  return wrap(N.randperm(int(n, 'n'), dt, dev));
}

/** `arange(end)`, `arange(start, end)` or `arange(start, end, step)`; int64 when all are integers. */
export function arange(a: number, b?: number | TensorOptions, c?: number | TensorOptions, d?: TensorOptions): Tensor {
  const nums = [a, b, c].filter((x) => typeof x === 'number') as number[];
  const o = [b, c, d].find((x) => x !== undefined && typeof x === 'object') as TensorOptions | undefined;
  const [start, end, step] = nums.length === 1 ? [0, nums[0], 1] : nums.length === 2 ? [nums[0], nums[1], 1] : [nums[0], nums[1], nums[2]];
  for (const v of [start, end, step]) num(v, 'arange bound');
  const inferred: DType = [start, end, step].every(Number.isInteger) ? 'int64' : 'float32';
  const [dt, dev, rg] = opts(o, inferred);
  return wrap(N.arange(start, end, step, dt, dev, rg));
}

export function linspace(start: number, end: number, steps: number, options: TensorOptions = {}): Tensor {
  const [dt, dev, rg] = opts(options);
  return wrap(N.linspace(num(start, 'start'), num(end, 'end'), int(steps, 'steps'), dt, dev, rg));
}

/** Identity matrix n×m (m defaults to n). */
export function eye(n: number, m?: number | TensorOptions, options?: TensorOptions): Tensor {
  const cols = typeof m === 'number' ? m : n;
  const o = typeof m === 'object' ? m : options;
  const [dt, dev, rg] = opts(o);
  return wrap(N.eye(int(n, 'n'), int(cols, 'm'), dt, dev, rg));
}

function likeOp(kind: number, t: Tensor, fill: number | undefined, o: { dtype?: DType } | undefined): Tensor {
  return wrap(N.like(kind, t.h, fill, o?.dtype === undefined ? -1 : dtypeCode(o.dtype)));
}
export const zerosLike = (t: Tensor, o?: { dtype?: DType }): Tensor => likeOp(0, t, undefined, o);
export const onesLike = (t: Tensor, o?: { dtype?: DType }): Tensor => likeOp(1, t, undefined, o);
export const fullLike = (t: Tensor, value: number, o?: { dtype?: DType }): Tensor => likeOp(2, t, num(value, 'value'), o);
export const randnLike = (t: Tensor, o?: { dtype?: DType }): Tensor => likeOp(3, t, undefined, o);
export const randLike = (t: Tensor, o?: { dtype?: DType }): Tensor => likeOp(4, t, undefined, o);
export const emptyLike = (t: Tensor, o?: { dtype?: DType }): Tensor => likeOp(5, t, undefined, o);

/** Seeds the CPU and all CUDA generators, as `torch.manual_seed`. */
export function manualSeed(seed: number | bigint): void {
  if (typeof seed === 'number') int(seed, 'seed');
  else if (typeof seed !== 'bigint') throw new TypeError(`manualSeed expects an integer but received ${describe(seed)}`);
  N.manualSeed(seed);
}

/** The seed of the default CPU generator. */
export function initialSeed(): number {
  return N.initialSeed();
}

/** The default CPU generator's state (torch.get_rng_state), a uint8 tensor. */
export function getRngState(): Tensor {
  return wrap(N.getRngState());
}

/** Restores a state from {@link getRngState} (torch.set_rng_state). */
export function setRngState(state: Tensor): void {
  N.setRngState(state.h);
}
