/**
 * The Tensor class: a handle to a libtorch tensor with PyTorch's methods.
 *
 * Lifetime: the garbage collector frees a tensor's native memory (its bytes are reported to V8, so memory pressure
 * triggers collection); `dispose()`, `using` and {@link tidy} free it early and deterministically.
 */
import { native } from './binding';
import { DType, Device, describe, deviceCode, deviceName, dtypeCode, dtypeName, setCudaCheck } from './dtype';
import { TorchError, refuseAsync } from './errors';

/** @internal */
export const N = native();
setCudaCheck(
  () => cudaAvailable(),
  () => N.cudaCurrentDevice(),
);

let cudaAvailableCache: boolean | null = null;
/** @internal */
export function cudaAvailable(): boolean {
  if (cudaAvailableCache === null) cudaAvailableCache = N.cudaIsAvailable();
  return cudaAvailableCache;
}

// Garbage collection of native memory.
//
// The native side attaches GC finalizers that run inside V8's collector (so memory is freed even in a long
// synchronous loop). Attaching one costs about as much as a small op, so small tensors (under 16 KiB, flagged by
// the native side) are tracked in groups: each belongs to an Arena of up to 32 tensors created one after another
// and holds it strongly; once full, the Arena alone gets a finalizer, which releases all its handles when every
// member is unreachable. Large tensors get their own. Handles carry a generation, so releasing an already-disposed
// handle is a no-op and dispose() needs no bookkeeping. The cost: a small tensor that stays reachable keeps up to
// 31 small neighbours (< 496 KiB) alive with it; dispose() and tidy() free at once regardless.
const ARENA_SIZE = 32;
class Arena {
  ids: number[] = [];
}
let arena = new Arena();
const scopes: Tensor[][] = [];

/** Values accepted where PyTorch accepts a tensor or a Python number. */
export type TensorOrScalar = Tensor | number | boolean;
/** A shape given as an array or as separate numbers: `reshape([2, 3])` or `reshape(2, 3)`. */
export type ShapeArgs = [number[]] | number[];
/** Nested arrays of numbers or booleans, as accepted by `torch.tensor`. */
export type NestedArray = number | boolean | NestedArray[];

/** `{values, indices}` as PyTorch's named tuples; also destructures as `[values, indices]`. */
export class ValuesIndices {
  constructor(
    readonly values: Tensor,
    readonly indices: Tensor,
  ) {}
  *[Symbol.iterator](): IterableIterator<Tensor> {
    yield this.values;
    yield this.indices;
  }
}

// Op codes shared with native/ops.cc.
const U = { neg: 0, exp: 1, log: 2, sqrt: 3, abs: 4, sign: 5, sigmoid: 6, tanh: 7, relu: 8, clone: 9, detach: 10,
  contiguous: 11, t: 12, floor: 13, ceil: 14, round: 15, sin: 16, cos: 17, rsqrt: 18, reciprocal: 19, log1p: 20,
  expm1: 21, square: 22, logicalNot: 23, isnan: 24, isfinite: 25, log2: 26, erf: 27, trunc: 28, isinf: 29, any: 30,
  all: 31, flatten: 32, squeeze: 33, silu: 34 } as const;
const B = { add: 0, sub: 1, mul: 2, div: 3, pow: 4, eq: 5, ne: 6, lt: 7, le: 8, gt: 9, ge: 10, maximum: 11,
  minimum: 12, matmul: 13, mm: 14, bmm: 15, remainder: 16, atan2: 17, logicalAnd: 18, logicalOr: 19,
  floorDivide: 20, dot: 21, divFloor: 22, divTrunc: 23, logicalXor: 24, rsub: 100, rdiv: 101, rpow: 102 } as const;
const R = { sum: 0, mean: 1, amax: 2, amin: 3, logsumexp: 4, prod: 5, nansum: 6, any: 7, all: 8 } as const;
const S = { reshape: 0, view: 1, expand: 2, permute: 3, repeat: 4, flip: 5 } as const;
const D = { flatten: 0, squeeze: 1, unsqueeze: 2, transpose: 3, select: 4, cumsum: 5, softmax: 6, logSoftmax: 7,
  tril: 8, triu: 9, movedim: 10 } as const;

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

/** @internal */
export function handleOf(t: unknown, what = 'tensor'): number {
  if (t instanceof Tensor) return t.h;
  throw new TypeError(`Expected a Tensor for ${what} but received ${describe(t)}`);
}

function isScalar(v: unknown): v is number | boolean {
  return typeof v === 'number' || typeof v === 'boolean';
}

/** @internal Wrap a fresh native handle. */
export function wrap(h: number): Tensor {
  return new Tensor(h, INTERNAL);
}

/** @internal */
export function wrapPair(hs: number[] | [number, number]): ValuesIndices {
  return new ValuesIndices(wrap(hs[0]), wrap(hs[1]));
}

const INTERNAL = Symbol('torchkd.internal');

function dims(dim: number | number[] | undefined | null): number | number[] | undefined {
  if (dim === undefined || dim === null) return undefined;
  if (Array.isArray(dim)) return dim.map((d) => int(d, 'dim'));
  return int(dim, 'dim');
}

/** Options of reductions such as `sum` and `mean`. */
export interface ReduceOptions {
  keepdim?: boolean;
  dtype?: DType;
}

/** Options of `std` and `var`: `correction` (default 1, Bessel's) or PyTorch's older `unbiased` flag. */
export interface StdVarOptions {
  keepdim?: boolean;
  correction?: number;
  unbiased?: boolean;
}

/** How {@link Tensor.to}, `cpu()` and `cuda()` copy: PyTorch's `non_blocking` and `copy`. */
export interface TensorCopyOptions {
  /** Copy asynchronously with respect to the host where possible (pinned host memory <-> GPU). Default false. */
  nonBlocking?: boolean;
  /** Always return a new tensor, even when device and dtype already match. Default false. */
  copy?: boolean;
}

/** The object form of {@link Tensor.to}'s target. */
export interface TensorToOptions extends TensorCopyOptions {
  device?: Device;
  dtype?: DType;
}

function copyOptions(o: unknown, what: string): { nonBlocking: boolean; copy: boolean } {
  if (o === undefined) return { nonBlocking: false, copy: false };
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new TypeError(`${what}: expected an options object ({nonBlocking, copy}) but received ${describe(o)}`);
  const { nonBlocking = false, copy = false } = o as TensorCopyOptions;
  if (typeof nonBlocking !== 'boolean') throw new TypeError(`${what}: expected a boolean for nonBlocking but received ${describe(nonBlocking)}`);
  if (typeof copy !== 'boolean') throw new TypeError(`${what}: expected a boolean for copy but received ${describe(copy)}`);
  return { nonBlocking, copy };
}

/**
 * A multi-dimensional array on a device, with autograd. Created by {@link tensor} and the other factory functions.
 *
 * @example
 * const x = torch.tensor([[1, 2], [3, 4]], { dtype: 'float32', requiresGrad: true });
 * x.mul(x).sum().backward();  // x.grad is 2·x
 */
export class Tensor {
  /** @internal The native handle; -1 once disposed. */
  _h: number;
  /** @internal The GC group of a small tensor (kept alive by it), or null. */
  private readonly _arena: Arena | null;

  /** @internal Tensors are made by torch.tensor() and the other factories, not with `new`. */
  constructor(fromNative: number, token?: symbol) {
    if (token !== INTERNAL) throw new TypeError('Tensors are created with torch.tensor(), torch.zeros() and friends');
    if (fromNative < 0) {
      const h = -fromNative - 1;
      this._h = h;
      this._arena = null;
      N.track(this, h);
    } else {
      this._h = fromNative;
      const a = arena;
      this._arena = a;
      if (a.ids.push(fromNative) === ARENA_SIZE) {
        N.track(a, a.ids);
        a.ids = [];
        arena = new Arena();
      }
    }
    if (scopes.length !== 0) scopes[scopes.length - 1].push(this);
  }

  /** @internal The live handle (throws when disposed). */
  get h(): number {
    const h = this._h;
    if (h < 0) throw new TorchError('this tensor was disposed and can no longer be used', 'DISPOSED');
    return h;
  }

  /** Frees the native memory now (idempotent). The tensor cannot be used afterwards. */
  dispose(): void {
    const h = this._h;
    if (h < 0) return;
    this._h = -1;
    N.release(h);
  }

  /** `using x = torch.ones(3)` disposes x at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** True once disposed. */
  get isDisposed(): boolean {
    return this._h < 0;
  }

  // ---- properties ------------------------------------------------------------------------------------------------

  /** The sizes of each dimension (a fresh array). */
  get shape(): number[] {
    return N.shape(this.h);
  }
  /** The element type. */
  get dtype(): DType {
    return dtypeName(N.dtype(this.h));
  }
  /** `'cpu'` or `'cuda:N'`. */
  get device(): Device {
    return deviceName(N.device(this.h));
  }
  /** Number of dimensions. */
  get ndim(): number {
    return N.ndim(this.h);
  }
  /** Number of dimensions (PyTorch's `dim()`). */
  dim(): number {
    return N.ndim(this.h);
  }
  /** Number of elements. */
  numel(): number {
    return N.numel(this.h);
  }
  /** The shape, or the size of one dimension. */
  size(): number[];
  size(dim: number): number;
  size(dim?: number): number[] | number {
    return dim === undefined ? N.shape(this.h) : N.size(this.h, int(dim, 'dim'));
  }
  /** Strides in elements. */
  stride(): number[] {
    return N.stride(this.h);
  }
  /** True if laid out contiguously in row-major order. */
  isContiguous(): boolean {
    return N.isContiguous(this.h);
  }
  /** Whether autograd records operations on this tensor. */
  get requiresGrad(): boolean {
    return N.requiresGrad(this.h);
  }
  set requiresGrad(v: boolean) {
    if (typeof v !== 'boolean') throw new TypeError(`requiresGrad must be a boolean, got ${describe(v)}`);
    N.setRequiresGrad(this.h, v);
  }
  /** Sets requiresGrad in place and returns this tensor (PyTorch's `requires_grad_`). */
  requiresGrad_(v = true): this {
    this.requiresGrad = v;
    return this;
  }
  /** The accumulated gradient, or null. Assign null to clear it (as `x.grad = None`). */
  get grad(): Tensor | null {
    const g = N.grad(this.h);
    return g === null ? null : wrap(g);
  }
  set grad(g: Tensor | null) {
    N.setGrad(this.h, g === null ? -1 : handleOf(g, 'grad'));
  }
  /** True for tensors created by the user (not the result of a recorded op). */
  get isLeaf(): boolean {
    return N.isLeaf(this.h);
  }
  /** Name of the autograd node that produced this tensor, or null. */
  get gradFn(): string | null {
    return N.gradFn(this.h);
  }
  /** Keep `.grad` for this non-leaf tensor during backward. */
  retainGrad(): void {
    N.retainGrad(this.h);
  }

  // ---- values out ------------------------------------------------------------------------------------------------

  /** The single value of a one-element tensor (int64 values are returned as numbers). */
  item(): number | boolean {
    return N.item(this.h);
  }
  /**
   * A copy of the elements as a typed array (Float32Array for float32, BigInt64Array for int64, Uint8Array for
   * bool/uint8; float16 and bfloat16 widen to Float32Array).
   */
  data(): Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array {
    return N.data(this.h);
  }
  /**
   * A zero-copy typed-array view of a contiguous CPU tensor's memory: writes through it change the tensor, and the
   * memory stays alive while the view does. Safe only while no op resizes the tensor in place.
   */
  dataView(): Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array {
    return N.dataView(this.h);
  }
  /** Nested arrays of numbers (or booleans), like PyTorch's `tolist()`. */
  toArray(): NestedArray {
    const shape = this.shape;
    const flat = this.data();
    const isBool = this.dtype === 'bool';
    const at = (i: number): number | boolean => {
      const v = flat[i];
      return typeof v === 'bigint' ? Number(v) : isBool ? v !== 0 : (v as number);
    };
    if (shape.length === 0) return at(0);
    let offset = 0;
    const build = (d: number): NestedArray[] => {
      const out: NestedArray[] = [];
      for (let i = 0; i < shape[d]; i++) out.push(d === shape.length - 1 ? at(offset++) : build(d + 1));
      return out;
    };
    return build(0);
  }
  /** PyTorch-style printout, e.g. `tensor([[1., 2.], [3., 4.]])`. */
  toString(): string {
    return formatTensor(this);
  }

  // ---- conversion ------------------------------------------------------------------------------------------------

  /**
   * Converts to a device and/or dtype, as PyTorch's `Tensor.to`: `to('cuda')`, `to('float64')`, `to(other)` (other's
   * device and dtype), `to({ device, dtype })`, with `{ nonBlocking, copy }` as the second argument (or in the
   * object). `nonBlocking` makes a copy from pinned host memory (see {@link Tensor.pinMemory}) to the GPU, or back,
   * asynchronous with respect to the host: a CPU result of such a copy is only complete after
   * `torch.cuda.synchronize()` (or an event), as in PyTorch. Returns this tensor itself when nothing changes and
   * `copy` is not set.
   */
  to(target: Device | DType | Tensor | TensorToOptions, options?: TensorCopyOptions): Tensor {
    const o = copyOptions(options, 'to()');
    let dt = -1;
    let dev: number | undefined;
    if (typeof target === 'string') {
      if (target === 'cpu' || target.startsWith('cuda')) dev = deviceCode(target);
      else dt = dtypeCode(target);
    } else if (target instanceof Tensor) {
      dt = N.dtype(target.h);
      dev = N.device(target.h);
    } else if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
      if (target.dtype !== undefined) dt = dtypeCode(target.dtype);
      if (target.device !== undefined) dev = deviceCode(target.device);
      const inner = copyOptions({ nonBlocking: target.nonBlocking, copy: target.copy }, 'to()');
      o.nonBlocking ||= inner.nonBlocking;
      o.copy ||= inner.copy;
    } else {
      throw new TypeError(`to() expects a device, a dtype, a tensor or {device, dtype}, got ${describe(target)}`);
    }
    return wrap(N.to(this.h, dt, dev, o.copy, o.nonBlocking));
  }
  /** A copy in CPU memory (this tensor itself when it is already there). */
  cpu(options?: TensorCopyOptions): Tensor {
    return this.to('cpu', options);
  }
  /** A copy on a CUDA device: the current one (see `torch.cuda.setDevice`) or `device`. */
  cuda(device?: number | Device, options?: TensorCopyOptions): Tensor {
    if (device === undefined || device === null) return this.to('cuda', options);
    if (typeof device === 'string' && !device.startsWith('cuda')) throw new RangeError(`cuda(): expected a CUDA device ('cuda' or 'cuda:N') or an index, got '${device}'`);
    return this.to(typeof device === 'string' ? device : `cuda:${int(device, 'device')}`, options);
  }
  /** Whether this tensor is on a CUDA device (PyTorch's `is_cuda`). */
  get isCuda(): boolean {
    return N.device(this.h) >= 0;
  }
  /** The CUDA device index, or -1 for a CPU tensor (PyTorch's `get_device()`). */
  getDevice(): number {
    return N.device(this.h);
  }
  /**
   * Tells the caching allocator that `stream` uses this CUDA tensor, so that its memory is not reused before the work
   * queued on that stream so far is done (PyTorch's `record_stream`), for a tensor made on one stream and used on
   * another.
   */
  recordStream(stream: { streamId: bigint; deviceIndex: number }): void {
    if (stream === null || typeof stream !== 'object' || typeof stream.streamId !== 'bigint') {
      throw new TypeError(`recordStream: expected a torch.cuda.Stream but received ${describe(stream)}`);
    }
    N.tensorRecordStream(this.h, stream.streamId, stream.deviceIndex);
  }
  /** Whether this CPU tensor is in page-locked (pinned) host memory. */
  isPinned(): boolean {
    return N.isPinned(this.h);
  }
  /**
   * A copy in page-locked host memory, from which `to('cuda', { nonBlocking: true })` is asynchronous (this tensor
   * itself when it is already pinned). Needs a usable CUDA device, as in PyTorch.
   */
  pinMemory(): Tensor {
    return wrap(N.pinMemory(this.h));
  }
  float(): Tensor {
    return this.to('float32');
  }
  double(): Tensor {
    return this.to('float64');
  }
  half(): Tensor {
    return this.to('float16');
  }
  bfloat16(): Tensor {
    return this.to('bfloat16');
  }
  long(): Tensor {
    return this.to('int64');
  }
  int(): Tensor {
    return this.to('int32');
  }
  bool(): Tensor {
    return this.to('bool');
  }
  contiguous(): Tensor {
    return wrap(N.unary(U.contiguous, this.h));
  }
  clone(): Tensor {
    return wrap(N.unary(U.clone, this.h));
  }
  /** A tensor sharing storage, outside the autograd graph. */
  detach(): Tensor {
    return wrap(N.unary(U.detach, this.h));
  }

  // ---- arithmetic ------------------------------------------------------------------------------------------------

  /** this + alpha·other (broadcasting). */
  add(other: TensorOrScalar, alpha?: number | { alpha?: number }): Tensor {
    return binary(B.add, this, other, alphaOf(alpha));
  }
  /** this − alpha·other. */
  sub(other: TensorOrScalar, alpha?: number | { alpha?: number }): Tensor {
    return binary(B.sub, this, other, alphaOf(alpha));
  }
  mul(other: TensorOrScalar): Tensor {
    return binary(B.mul, this, other);
  }
  /** True division; `{roundingMode: 'floor' | 'trunc'}` as in PyTorch. */
  div(other: TensorOrScalar, options?: { roundingMode?: 'floor' | 'trunc' | null }): Tensor {
    const mode = options?.roundingMode;
    if (mode === undefined || mode === null) return binary(B.div, this, other);
    if (mode === 'floor') return binary(B.divFloor, this, other);
    if (mode === 'trunc') return binary(B.divTrunc, this, other);
    throw new RangeError(`div(): roundingMode must be 'floor', 'trunc' or null, got ${describe(mode)}`);
  }
  pow(exponent: TensorOrScalar): Tensor {
    return binary(B.pow, this, exponent);
  }
  remainder(other: TensorOrScalar): Tensor {
    return binary(B.remainder, this, other);
  }
  maximum(other: Tensor): Tensor {
    return binary(B.maximum, this, other);
  }
  minimum(other: Tensor): Tensor {
    return binary(B.minimum, this, other);
  }
  neg(): Tensor {
    return wrap(N.unary(U.neg, this.h));
  }
  exp(): Tensor {
    return wrap(N.unary(U.exp, this.h));
  }
  log(): Tensor {
    return wrap(N.unary(U.log, this.h));
  }
  log2(): Tensor {
    return wrap(N.unary(U.log2, this.h));
  }
  log1p(): Tensor {
    return wrap(N.unary(U.log1p, this.h));
  }
  expm1(): Tensor {
    return wrap(N.unary(U.expm1, this.h));
  }
  sqrt(): Tensor {
    return wrap(N.unary(U.sqrt, this.h));
  }
  rsqrt(): Tensor {
    return wrap(N.unary(U.rsqrt, this.h));
  }
  square(): Tensor {
    return wrap(N.unary(U.square, this.h));
  }
  reciprocal(): Tensor {
    return wrap(N.unary(U.reciprocal, this.h));
  }
  abs(): Tensor {
    return wrap(N.unary(U.abs, this.h));
  }
  sign(): Tensor {
    return wrap(N.unary(U.sign, this.h));
  }
  floor(): Tensor {
    return wrap(N.unary(U.floor, this.h));
  }
  ceil(): Tensor {
    return wrap(N.unary(U.ceil, this.h));
  }
  round(): Tensor {
    return wrap(N.unary(U.round, this.h));
  }
  trunc(): Tensor {
    return wrap(N.unary(U.trunc, this.h));
  }
  sin(): Tensor {
    return wrap(N.unary(U.sin, this.h));
  }
  cos(): Tensor {
    return wrap(N.unary(U.cos, this.h));
  }
  erf(): Tensor {
    return wrap(N.unary(U.erf, this.h));
  }
  sigmoid(): Tensor {
    return wrap(N.unary(U.sigmoid, this.h));
  }
  tanh(): Tensor {
    return wrap(N.unary(U.tanh, this.h));
  }
  relu(): Tensor {
    return wrap(N.unary(U.relu, this.h));
  }
  /** Clamps into [min, max]; either bound may be omitted (`clamp({min: 0})`). */
  clamp(min?: number | null | { min?: number | null; max?: number | null }, max?: number | null): Tensor {
    let lo = min as number | null | undefined;
    let hi = max;
    if (min !== null && typeof min === 'object') ({ min: lo, max: hi } = min);
    if (lo !== undefined && lo !== null) num(lo, 'min');
    if (hi !== undefined && hi !== null) num(hi, 'max');
    return wrap(N.clamp(this.h, lo, hi));
  }

  // ---- comparison and logic -------------------------------------------------------------------------------------

  eq(other: TensorOrScalar): Tensor {
    return binary(B.eq, this, other);
  }
  ne(other: TensorOrScalar): Tensor {
    return binary(B.ne, this, other);
  }
  lt(other: TensorOrScalar): Tensor {
    return binary(B.lt, this, other);
  }
  le(other: TensorOrScalar): Tensor {
    return binary(B.le, this, other);
  }
  gt(other: TensorOrScalar): Tensor {
    return binary(B.gt, this, other);
  }
  ge(other: TensorOrScalar): Tensor {
    return binary(B.ge, this, other);
  }
  logicalAnd(other: Tensor): Tensor {
    return binary(B.logicalAnd, this, other);
  }
  logicalOr(other: Tensor): Tensor {
    return binary(B.logicalOr, this, other);
  }
  logicalNot(): Tensor {
    return wrap(N.unary(U.logicalNot, this.h));
  }
  isnan(): Tensor {
    return wrap(N.unary(U.isnan, this.h));
  }
  isfinite(): Tensor {
    return wrap(N.unary(U.isfinite, this.h));
  }
  isinf(): Tensor {
    return wrap(N.unary(U.isinf, this.h));
  }
  /** True when shapes and all elements are equal. */
  equal(other: Tensor): boolean {
    return N.equal(this.h, handleOf(other, 'other'));
  }
  allclose(other: Tensor, options: { rtol?: number; atol?: number; equalNan?: boolean } = {}): boolean {
    return N.allclose(this.h, handleOf(other, 'other'), options.rtol ?? 1e-5, options.atol ?? 1e-8, options.equalNan ?? false);
  }

  // ---- reductions ------------------------------------------------------------------------------------------------

  sum(dim?: number | number[] | null, options: ReduceOptions | boolean = {}): Tensor {
    return reduce(R.sum, this, dim, options);
  }
  mean(dim?: number | number[] | null, options: ReduceOptions | boolean = {}): Tensor {
    return reduce(R.mean, this, dim, options);
  }
  prod(dim?: number | null, options: ReduceOptions | boolean = {}): Tensor {
    return reduce(R.prod, this, dim, options);
  }
  amax(dim?: number | number[] | null, keepdim = false): Tensor {
    return reduce(R.amax, this, dim, { keepdim });
  }
  amin(dim?: number | number[] | null, keepdim = false): Tensor {
    return reduce(R.amin, this, dim, { keepdim });
  }
  logsumexp(dim: number | number[], keepdim = false): Tensor {
    return reduce(R.logsumexp, this, dim, { keepdim });
  }
  /** True if any element is non-zero (optionally along a dim). */
  any(dim?: number, keepdim = false): Tensor {
    return reduce(R.any, this, dim, { keepdim });
  }
  all(dim?: number, keepdim = false): Tensor {
    return reduce(R.all, this, dim, { keepdim });
  }
  /** The maximum (no dim), or `{values, indices}` along a dim. */
  max(): Tensor;
  max(dim: number, keepdim?: boolean): ValuesIndices;
  max(dim?: number, keepdim = false): Tensor | ValuesIndices {
    if (dim === undefined) return wrap(N.maxMin(true, this.h) as number);
    return wrapPair(N.maxMin(true, this.h, int(dim, 'dim'), keepdim) as [number, number]);
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): ValuesIndices;
  min(dim?: number, keepdim = false): Tensor | ValuesIndices {
    if (dim === undefined) return wrap(N.maxMin(false, this.h) as number);
    return wrapPair(N.maxMin(false, this.h, int(dim, 'dim'), keepdim) as [number, number]);
  }
  argmax(dim?: number | null, keepdim = false): Tensor {
    return wrap(N.argMaxMin(true, this.h, dims(dim) as number | undefined, keepdim));
  }
  argmin(dim?: number | null, keepdim = false): Tensor {
    return wrap(N.argMaxMin(false, this.h, dims(dim) as number | undefined, keepdim));
  }
  std(dim?: number | number[] | null, options: StdVarOptions = {}): Tensor {
    return stdVar(false, this, dim, options);
  }
  var(dim?: number | number[] | null, options: StdVarOptions = {}): Tensor {
    return stdVar(true, this, dim, options);
  }
  cumsum(dim: number, options: { dtype?: DType } = {}): Tensor {
    return wrap(N.dimOp(D.cumsum, this.h, int(dim, 'dim'), options.dtype === undefined ? -1 : dtypeCode(options.dtype)));
  }

  // ---- matrix ----------------------------------------------------------------------------------------------------

  matmul(other: Tensor): Tensor {
    return wrap(N.binary(B.matmul, this.h, handleOf(other, 'other')));
  }
  mm(other: Tensor): Tensor {
    return wrap(N.binary(B.mm, this.h, handleOf(other, 'other')));
  }
  bmm(other: Tensor): Tensor {
    return wrap(N.binary(B.bmm, this.h, handleOf(other, 'other')));
  }
  dot(other: Tensor): Tensor {
    return wrap(N.binary(B.dot, this.h, handleOf(other, 'other')));
  }
  /** Transpose of a ≤2-D tensor. */
  t(): Tensor {
    return wrap(N.unary(U.t, this.h));
  }

  // ---- shape -----------------------------------------------------------------------------------------------------

  reshape(...shape: ShapeArgs): Tensor {
    return wrap(N.shapeOp(S.reshape, this.h, shapeOf(shape)));
  }
  view(...shape: ShapeArgs): Tensor {
    return wrap(N.shapeOp(S.view, this.h, shapeOf(shape)));
  }
  expand(...shape: ShapeArgs): Tensor {
    return wrap(N.shapeOp(S.expand, this.h, shapeOf(shape)));
  }
  permute(...dims_: ShapeArgs): Tensor {
    return wrap(N.shapeOp(S.permute, this.h, shapeOf(dims_, 'dims')));
  }
  repeat(...sizes: ShapeArgs): Tensor {
    return wrap(N.shapeOp(S.repeat, this.h, shapeOf(sizes, 'sizes')));
  }
  flip(...dims_: ShapeArgs): Tensor {
    return wrap(N.shapeOp(S.flip, this.h, shapeOf(dims_, 'dims')));
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return wrap(N.dimOp(D.flatten, this.h, int(startDim, 'startDim'), int(endDim, 'endDim')));
  }
  squeeze(dim?: number): Tensor {
    if (dim === undefined) return wrap(N.unary(U.squeeze, this.h));
    return wrap(N.dimOp(D.squeeze, this.h, int(dim, 'dim')));
  }
  unsqueeze(dim: number): Tensor {
    return wrap(N.dimOp(D.unsqueeze, this.h, int(dim, 'dim')));
  }
  transpose(dim0: number, dim1: number): Tensor {
    return wrap(N.dimOp(D.transpose, this.h, int(dim0, 'dim0'), int(dim1, 'dim1')));
  }
  movedim(source: number, destination: number): Tensor {
    return wrap(N.dimOp(D.movedim, this.h, int(source, 'source'), int(destination, 'destination')));
  }
  select(dim: number, index: number): Tensor {
    return wrap(N.dimOp(D.select, this.h, int(dim, 'dim'), int(index, 'index')));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return wrap(N.narrow(this.h, int(dim, 'dim'), int(start, 'start'), int(length, 'length')));
  }
  /** Python's `x[start:end:step]` along `dim`. */
  slice(dim: number, start?: number | null, end?: number | null, step = 1): Tensor {
    return wrap(N.slice(this.h, int(dim, 'dim'), start ?? null, end ?? null, int(step, 'step')));
  }
  /** Rows picked by an int64 index tensor or a bool mask along dim 0 (Python's `x[idx]`). */
  index(idx: Tensor): Tensor {
    return wrap(N.indexWith(this.h, handleOf(idx, 'index')));
  }
  split(splitSizeOrSections: number | number[], dim = 0): Tensor[] {
    const arg = Array.isArray(splitSizeOrSections) ? shapeOf([splitSizeOrSections], 'split sizes') : int(splitSizeOrSections, 'split size');
    return N.split(this.h, arg, int(dim, 'dim')).map(wrap);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return N.chunk(this.h, int(chunks, 'chunks'), int(dim, 'dim')).map(wrap);
  }
  unbind(dim = 0): Tensor[] {
    return N.unbind(this.h, int(dim, 'dim')).map(wrap);
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return wrap(N.indexOp(0, this.h, int(dim, 'dim'), handleOf(index, 'index')));
  }
  gather(dim: number, index: Tensor): Tensor {
    return wrap(N.indexOp(1, this.h, int(dim, 'dim'), handleOf(index, 'index')));
  }
  scatter(dim: number, index: Tensor, src: Tensor | number): Tensor {
    const scalar = isScalar(src);
    return wrap(N.scatter(this.h, int(dim, 'dim'), handleOf(index, 'index'), scalar ? (src as number) : handleOf(src, 'src'), scalar));
  }
  maskedFill(mask: Tensor, value: TensorOrScalar): Tensor {
    const scalar = isScalar(value);
    return wrap(N.maskedFill(this.h, handleOf(mask, 'mask'), scalar ? value : handleOf(value, 'value'), scalar));
  }
  /** Elements of this where `condition`, else of `other` (PyTorch's `Tensor.where`). */
  where(condition: Tensor, other: TensorOrScalar): Tensor {
    return whereImpl(condition, this, other);
  }
  tril(diagonal = 0): Tensor {
    return wrap(N.dimOp(D.tril, this.h, int(diagonal, 'diagonal')));
  }
  triu(diagonal = 0): Tensor {
    return wrap(N.dimOp(D.triu, this.h, int(diagonal, 'diagonal')));
  }

  // ---- activations and sorting -----------------------------------------------------------------------------------

  softmax(dim: number, options: { dtype?: DType } = {}): Tensor {
    return wrap(N.dimOp(D.softmax, this.h, int(dim, 'dim'), options.dtype === undefined ? -1 : dtypeCode(options.dtype)));
  }
  logSoftmax(dim: number, options: { dtype?: DType } = {}): Tensor {
    return wrap(N.dimOp(D.logSoftmax, this.h, int(dim, 'dim'), options.dtype === undefined ? -1 : dtypeCode(options.dtype)));
  }
  topk(k: number, dim = -1, largest = true, sorted = true): ValuesIndices {
    return wrapPair(N.topk(this.h, int(k, 'k'), int(dim, 'dim'), largest, sorted));
  }
  sort(dim = -1, descending = false, options: { stable?: boolean } = {}): ValuesIndices {
    return wrapPair(N.sort(this.h, int(dim, 'dim'), descending, options.stable ?? false));
  }
  argsort(dim = -1, descending = false, options: { stable?: boolean } = {}): Tensor {
    return wrap(N.argsort(this.h, int(dim, 'dim'), descending, options.stable ?? false));
  }

  // ---- autograd --------------------------------------------------------------------------------------------------

  /** Computes gradients of this (scalar) tensor w.r.t. graph leaves, accumulating into `.grad`. */
  backward(gradient?: Tensor | null, options: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    N.backward(this.h, gradient ? handleOf(gradient, 'gradient') : -1, options.retainGraph ?? false, options.createGraph ?? false);
  }

  // ---- in place --------------------------------------------------------------------------------------------------

  add_(other: TensorOrScalar, alpha?: number | { alpha?: number }): this {
    return inplace(0, this, other, alphaOf(alpha));
  }
  sub_(other: TensorOrScalar, alpha?: number | { alpha?: number }): this {
    return inplace(1, this, other, alphaOf(alpha));
  }
  mul_(other: TensorOrScalar): this {
    return inplace(2, this, other);
  }
  div_(other: TensorOrScalar): this {
    return inplace(3, this, other);
  }
  clampMin_(min: number): this {
    return inplace(11, this, num(min, 'min'));
  }
  fill_(value: TensorOrScalar): this {
    return inplace(50, this, value);
  }
  copy_(src: Tensor): this {
    N.inplace(51, this.h, handleOf(src, 'src'), null, false);
    return this;
  }
  zero_(): this {
    N.inplaceUnary(0, this.h);
    return this;
  }
  uniform_(from = 0, to = 1): this {
    N.inplaceUnary(1, this.h, num(from, 'from'), num(to, 'to'));
    return this;
  }
  normal_(mean = 0, std = 1): this {
    N.inplaceUnary(2, this.h, num(mean, 'mean'), num(std, 'std'));
    return this;
  }
  relu_(): this {
    N.inplaceUnary(3, this.h);
    return this;
  }
}

function alphaOf(alpha: number | { alpha?: number } | undefined): number | undefined {
  if (alpha === undefined) return undefined;
  if (typeof alpha === 'number') return alpha;
  if (alpha !== null && typeof alpha === 'object') return alpha.alpha === undefined ? undefined : num(alpha.alpha, 'alpha');
  throw new TypeError(`Expected a number or {alpha} for alpha but received ${describe(alpha)}`);
}

/** @internal */
export function binary(op: number, a: Tensor, b: TensorOrScalar, alpha?: number): Tensor {
  if (b instanceof Tensor) return wrap(N.binary(op, a.h, b.h, alpha));
  if (isScalar(b)) return wrap(N.binaryScalar(op, a.h, b, alpha));
  throw new TypeError(`Expected a Tensor or a number for other but received ${describe(b)}`);
}

/** @internal scalar ∘ tensor (scalar on the left): rsub, rdiv, rpow. */
export function binaryReversed(op: 'sub' | 'div' | 'pow', s: number, t: Tensor): Tensor {
  const code = op === 'sub' ? B.rsub : op === 'div' ? B.rdiv : B.rpow;
  return wrap(N.binaryScalar(code, t.h, num(s, 'input')));
}

function inplace<T extends Tensor>(op: number, a: T, b: TensorOrScalar, alpha?: number): T {
  if (b instanceof Tensor) N.inplace(op, a.h, b.h, alpha, false);
  else if (isScalar(b)) N.inplace(op, a.h, b, alpha, true);
  else throw new TypeError(`Expected a Tensor or a number but received ${describe(b)}`);
  return a;
}

function reduce(op: number, t: Tensor, dim: number | number[] | null | undefined, options: ReduceOptions | boolean): Tensor {
  const o = typeof options === 'boolean' ? { keepdim: options } : options;
  return wrap(N.reduce(op, t.h, dims(dim), o.keepdim ?? false, o.dtype === undefined ? -1 : dtypeCode(o.dtype)));
}

function stdVar(isVar: boolean, t: Tensor, dim: number | number[] | null | undefined, o: StdVarOptions): Tensor {
  const correction = o.correction !== undefined ? num(o.correction, 'correction') : o.unbiased === false ? 0 : 1;
  return wrap(N.stdVar(isVar, t.h, dims(dim), correction, o.keepdim ?? false));
}

/** @internal torch.where(condition, input, other) with scalars allowed for input/other. */
export function whereImpl(condition: Tensor, input: TensorOrScalar, other: TensorOrScalar): Tensor {
  const c = handleOf(condition, 'condition');
  const like = input instanceof Tensor ? input : other instanceof Tensor ? other : null;
  const asTensor = (v: TensorOrScalar): [number, boolean] => {
    if (v instanceof Tensor) return [v.h, false];
    if (!isScalar(v)) throw new TypeError(`torch.where expects tensors or numbers, got ${describe(v)}`);
    const dtype = like ? N.dtype(like.h) : typeof v === 'boolean' ? 11 : 6;
    return [N.full([], v, dtype, like ? N.device(like.h) : -1, false), true];
  };
  const [a, ta] = asTensor(input);
  const [b, tb] = asTensor(other);
  try {
    return wrap(N.where(c, a, b));
  } finally {
    if (ta) N.release(a);
    if (tb) N.release(b);
  }
}

// ---- lifetime helpers ------------------------------------------------------------------------------------------

/** Anything `tidy` can hand back: tensors, and arrays/objects holding them. */
export type TidyResult = unknown;

function collectKept(value: unknown, keep: Set<Tensor>, depth = 0): void {
  if (depth > 32 || value === null || typeof value !== 'object') return;
  if (value instanceof Tensor) {
    keep.add(value);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collectKept(v, keep, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype || value instanceof ValuesIndices)
    for (const v of Object.values(value)) collectKept(v, keep, depth + 1);
}

/**
 * Runs `fn` and disposes every tensor created inside it except those it returns (directly or inside arrays and
 * plain objects). Synchronous functions only. Nested tidies work; returned tensors move to the enclosing scope.
 *
 * @example
 * const loss = torch.tidy(() => model.forward(x).sub(y).square().mean());
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new TypeError(`tidy() expects a function, got ${describe(fn)}`);
  const scope: Tensor[] = [];
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    refuseAsync(result, 'tidy() only supports synchronous functions; the tensors it created were disposed');
  }
  const keep = new Set<Tensor>();
  collectKept(result, keep);
  const outer = scopes.length ? scopes[scopes.length - 1] : null;
  for (const t of scope) {
    if (keep.has(t)) outer?.push(t);
    else t.dispose();
  }
  return result;
}

/** Keeps a tensor out of the enclosing `tidy` scope (it will not be disposed at the scope's end). */
export function keep<T extends Tensor>(t: T): T {
  for (const scope of scopes) {
    const i = scope.lastIndexOf(t);
    if (i >= 0) scope.splice(i, 1);
  }
  return t;
}

/** Native memory held by live tensors: their count and the bytes of distinct storages, per device. */
export function memory(): { liveTensors: number; bytes: Record<string, number> } {
  const m = N.memory();
  return { liveTensors: m.liveTensors, bytes: m.bytes };
}

// ---- printing --------------------------------------------------------------------------------------------------

// A port of torch/_tensor_str.py (default print options: precision 4, linewidth 80, threshold 1000): fixed-point
// with 4 decimals, integer mode ("1.") when every float is whole, scientific when the magnitudes span > 1000× or
// leave [1e-4, 1e8), every element padded to the widest. Tensors over 1000 elements print a size placeholder.
const PRECISION = 4;
const LINEWIDTH = 80;

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
    const abs = vals.map(Math.abs);
    const min = Math.min(...abs);
    const max = Math.max(...abs);
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

function formatTensor(t: Tensor): string {
  if (t.isDisposed) return 'tensor(<disposed>)';
  const dtype = t.dtype;
  const shape = t.shape;
  const numel = t.numel();
  const isFloat = dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
  const prefix = 'tensor(';
  let body: string;
  if (numel === 0) {
    body = '[]';
  } else if (numel > 1000) {
    body = `[...${shape.join('x')} elements...]`;
  } else {
    // int64 elements stay bigints, so they print exactly.
    const flat = Array.from(t.data() as ArrayLike<number | bigint>);
    const f = new Formatter(flat, isFloat, dtype === 'bool');
    let k = 0;
    const vector = (indent: number): string => {
      const n = shape[shape.length - 1];
      const perLine = Math.max(1, Math.floor((LINEWIDTH - indent) / (f.width + 2)));
      const items: string[] = [];
      for (let i = 0; i < n; i++) items.push(f.format(flat[k++]));
      const lines: string[] = [];
      for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
      return `[${lines.join(`,\n${' '.repeat(indent + 1)}`)}]`;
    };
    const render = (d: number, indent: number): string => {
      if (d === shape.length - 1) return vector(indent);
      const slices: string[] = [];
      for (let i = 0; i < shape[d]; i++) slices.push(render(d + 1, indent + 1));
      const dimsLeft = shape.length - d;
      return `[${slices.join(`,${'\n'.repeat(dimsLeft - 1)}${' '.repeat(indent + 1)}`)}]`;
    };
    body = shape.length === 0 ? f.format(flat[0]) : render(0, prefix.length);
  }
  const extras: string[] = [];
  if (numel === 0 && shape.length !== 1) extras.push(`size=(${shape.join(', ')})`);
  if (t.device !== 'cpu') extras.push(`device='${t.device}'`);
  if (dtype !== 'float32' && dtype !== 'int64' && dtype !== 'bool') extras.push(`dtype=torch.${dtype}`);
  if (t.requiresGrad) extras.push(t.gradFn ? `grad_fn=<${t.gradFn}>` : 'requires_grad=True');
  return `${prefix}${body}${extras.length ? `, ${extras.join(', ')}` : ''})`;
}
