/**
 * TensorBase: a handle to a libtorch tensor, with what is not an op — properties, values out, device and dtype
 * conversion, autograd entry points, lifetime and printing. The op methods are generated onto the `Tensor` subclass
 * (lib/generated/tensor.ts) from the op specification.
 *
 * Lifetime: the garbage collector frees a tensor's native memory (its bytes are reported to V8, so memory pressure
 * triggers collection); `dispose()`, `using` and `tidy` free it early and deterministically.
 */
import { DType, Device, type MemoryFormat, describe, deviceCode, deviceName, dtypeCode, dtypeName, memoryFormatCode, setCudaCheck } from '../dtype';
import { TorchError } from '../errors';
import type { Tensor } from '../generated/tensor';
import { Arena, setLifetimeClasses, track } from './lifetime';
import { FAILED, throwPending } from '../binding';
import { N, R, ok } from './native';
import { formatTensor } from './print';

/** @internal */
/** @internal */
export type { Opts } from './args';

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

/** A Python number where PyTorch takes a `Scalar`. */
export type Scalar = number | boolean;
/** Values accepted where PyTorch accepts a tensor or a Python number. */
export type TensorOrScalar = Tensor | number | boolean;
/** Loss reductions. */
export type Reduction = 'none' | 'mean' | 'sum';
/** A shape given as an array or as separate numbers: `reshape([2, 3])` or `reshape(2, 3)`. */
export type ShapeArgs = [number[]] | number[];
/** Nested arrays of numbers or booleans, as accepted by `torch.tensor`. */
export type NestedArray = number | boolean | NestedArray[];

declare const BOOL: unique symbol;
/**
 * A tensor known (to the type checker) to hold booleans: what comparisons, `isnan` and friends return. Its `item()`
 * is typed `boolean`; any other tensor's is `number`. At run time it is an ordinary {@link Tensor}.
 */
export type BoolTensor = Tensor & { readonly [BOOL]: true };

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
  /** @internal */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `torch.return_types(\nvalues=${formatTensor(this.values)},\nindices=${formatTensor(this.indices)})`;
  }
}

const INTERNAL = Symbol('torchkd.internal');
let TensorClass: (new (code: number, token: symbol) => Tensor) | null = null;

/** @internal Called once by lib/generated/tensor.ts with the full Tensor class. */
export function registerTensorClass(cls: new (code: number, token: symbol) => Tensor): void {
  TensorClass = cls;
}

/** @internal The Tensor class (for instanceof checks without importing the generated module). */
export function tensorClass(): new (...a: never[]) => Tensor {
  return TensorClass as unknown as new (...a: never[]) => Tensor;
}

/** @internal Wraps a fresh native result (a handle, negated when large), or throws the error of a failed call. */
export function wrap(code: number): Tensor {
  if (typeof code !== 'number') {
    if ((code as unknown) === FAILED) throwPending();
    throw new TypeError(`internal: expected a tensor handle, got ${describe(code)}`);
  }
  return new (TensorClass as new (code: number, token: symbol) => Tensor)(code, INTERNAL);
}

/** @internal */
export function wrapList(codes: number[]): Tensor[] {
  if (!Array.isArray(codes)) ok(codes);
  return codes.map((c) => wrap(c));
}

/** @internal */
export function wrapPair(codes: number[] | [number, number]): ValuesIndices {
  if (!Array.isArray(codes)) ok(codes);
  return new ValuesIndices(wrap(codes[0]), wrap(codes[1]));
}

/** @internal */
export function handleOf(t: unknown, what = 'tensor'): number {
  if (t instanceof TensorBase) return t.h;
  throw new TypeError(`Expected a Tensor for ${what} but received ${describe(t)}`);
}

/** How {@link TensorBase.to}, `cpu()` and `cuda()` copy: PyTorch's `non_blocking` and `copy`. */
export interface TensorCopyOptions {
  /** Copy asynchronously with respect to the host where possible (pinned host memory <-> GPU). Default false. */
  nonBlocking?: boolean;
  /** Always return a new tensor, even when device and dtype already match. Default false. */
  copy?: boolean;
  /** The layout of the result (`torch.channelsLast` for NHWC); by default the one this tensor has (`preserveFormat`). */
  memoryFormat?: MemoryFormat;
}

/** The object form of {@link TensorBase.to}'s target. */
export interface TensorToOptions extends TensorCopyOptions {
  device?: Device;
  dtype?: DType;
}

function copyOptions(o: unknown, what: string): { nonBlocking: boolean; copy: boolean; memoryFormat: number | undefined } {
  if (o === undefined) return { nonBlocking: false, copy: false, memoryFormat: undefined };
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new TypeError(`${what}: expected an options object ({nonBlocking, copy, memoryFormat}) but received ${describe(o)}`);
  const { nonBlocking = false, copy = false, memoryFormat } = o as TensorCopyOptions;
  if (typeof nonBlocking !== 'boolean') throw new TypeError(`${what}: expected a boolean for nonBlocking but received ${describe(nonBlocking)}`);
  if (typeof copy !== 'boolean') throw new TypeError(`${what}: expected a boolean for copy but received ${describe(copy)}`);
  return { nonBlocking, copy, memoryFormat: memoryFormat === undefined ? undefined : memoryFormatCode(memoryFormat, what) };
}

function int(v: unknown, what: string): number {
  if (typeof v !== 'number') throw new TypeError(`Expected an integer for ${what} but received ${describe(v)}`);
  if (!Number.isInteger(v)) throw new RangeError(`Expected an integer for ${what} but received ${v}`);
  return v;
}

/** The part of {@link Tensor} that is not an op: see the module comment. */
export class TensorBase {
  /** @internal The native handle; -1 once disposed. */
  private _h: number;
  /** @internal The GC group of a small tensor (kept alive by it), or null. */
  private readonly _arena: Arena | null;

  /** @internal Tensors are made by torch.tensor() and the other factories, not with `new`. */
  constructor(code: number, token?: symbol) {
    if (token !== INTERNAL) throw new TypeError('Tensors are created with torch.tensor(), torch.zeros() and friends');
    this._h = code < 0 ? -code - 1 : code;
    this._arena = track(this, code);
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
  /** The address of the first element (the storage's data plus this tensor's offset), as PyTorch's `data_ptr()`; 0 for a tensor without elements' memory. */
  dataPtr(): number {
    return N.dataPtr(this.h);
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
  /**
   * True if laid out contiguously in `memoryFormat`: row-major by default, or e.g. `torch.channelsLast` (NHWC), as
   * PyTorch's `is_contiguous(memory_format=...)`.
   */
  isContiguous(memoryFormat?: MemoryFormat | { memoryFormat?: MemoryFormat }): boolean {
    const f = memoryFormat !== null && typeof memoryFormat === 'object' && !Array.isArray(memoryFormat) ? memoryFormat.memoryFormat : memoryFormat;
    return f === undefined ? N.isContiguous(this.h) : N.isContiguous(this.h, memoryFormatCode(f, 'isContiguous()'));
  }
  /** Whether the dtype is a floating-point one. */
  isFloatingPoint(): boolean {
    const d = this.dtype;
    return d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';
  }
  /** Bytes per element. */
  elementSize(): number {
    return { float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1 }[this.dtype];
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

  /** The single value of a one-element tensor (int64 values are returned as numbers; bool as booleans). */
  item(this: BoolTensor): boolean;
  item(): number;
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
  /** PyTorch's `tolist()`: the same as {@link toArray}. */
  tolist(): NestedArray {
    return this.toArray();
  }
  /** PyTorch-style printout, e.g. `tensor([[1., 2.], [3., 4.]])` (summarised above 1000 elements). */
  toString(): string {
    return formatTensor(this);
  }
  /** `JSON.stringify(t)` gives its values as nested arrays (a number for a 0-d tensor). */
  toJSON(): NestedArray {
    return this.toArray();
  }
  /** @internal `console.log(t)` prints as PyTorch does. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return formatTensor(this);
  }

  // ---- conversion ------------------------------------------------------------------------------------------------

  /**
   * Converts to a device and/or dtype, as PyTorch's `Tensor.to`: `to('cuda')`, `to('float64')`, `to(other)` (other's
   * device and dtype), `to({ device, dtype })`, with `{ nonBlocking, copy }` as the second argument (or in the
   * object). `nonBlocking` makes a copy from pinned host memory (see {@link TensorBase.pinMemory}) to the GPU, or back,
   * asynchronous with respect to the host: a CPU result of such a copy is only complete after
   * `torch.cuda.synchronize()` (or an event), as in PyTorch. Returns this tensor itself when nothing changes and
   * `copy` is not set.
   */
  to(target: 'bool' | { dtype: 'bool'; device?: Device }, options?: TensorCopyOptions): BoolTensor;
  to(target: Device | DType | Tensor | TensorToOptions, options?: TensorCopyOptions): Tensor;
  to(target: Device | DType | Tensor | TensorToOptions, options?: TensorCopyOptions): Tensor {
    const o = copyOptions(options, 'to()');
    let dt = -1;
    let dev: number | undefined;
    if (typeof target === 'string') {
      if (target === 'cpu' || target.startsWith('cuda')) dev = deviceCode(target);
      else dt = dtypeCode(target);
    } else if (target instanceof TensorBase) {
      dt = N.dtype(target.h);
      dev = N.device(target.h);
    } else if (target !== null && typeof target === 'object' && !Array.isArray(target)) {
      if (target.dtype !== undefined) dt = dtypeCode(target.dtype);
      if (target.device !== undefined) dev = deviceCode(target.device);
      const inner = copyOptions({ nonBlocking: target.nonBlocking, copy: target.copy, memoryFormat: target.memoryFormat }, 'to()');
      o.nonBlocking ||= inner.nonBlocking;
      o.copy ||= inner.copy;
      o.memoryFormat ??= inner.memoryFormat;
    } else {
      throw new TypeError(`to() expects a device, a dtype, a tensor or {device, dtype}, got ${describe(target)}`);
    }
    return wrap(o.memoryFormat === undefined ? N.to(this.h, dt, dev, o.copy, o.nonBlocking) : N.to(this.h, dt, dev, o.copy, o.nonBlocking, o.memoryFormat));
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
  bool(): BoolTensor {
    return this.to('bool');
  }
  /** A new tensor of this dtype and device, filled from `data` (PyTorch's `new_tensor`). */
  typeAs(other: Tensor): Tensor {
    return this.to({ dtype: other.dtype });
  }

  // ---- autograd --------------------------------------------------------------------------------------------------

  /** Computes gradients of this (scalar) tensor w.r.t. graph leaves, accumulating into `.grad`. */
  backward(gradient?: Tensor | null, options: { retainGraph?: boolean; createGraph?: boolean } = {}): void {
    N.backward(this.h, gradient ? handleOf(gradient, 'gradient') : -1, options.retainGraph ?? false, options.createGraph ?? false);
  }
}

setLifetimeClasses(TensorBase as unknown as new (...a: never[]) => TensorBase, ValuesIndices);
