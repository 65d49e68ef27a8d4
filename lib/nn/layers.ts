/**
 * Built-in layers, constructed as in PyTorch (`new nn.Linear(20, 16)`, `new nn.Conv2d(1, 20, 5)`), backed by libtorch
 * C++-frontend modules whose parameter names, shapes and default initialisation match torch.nn: after
 * `torch.manualSeed(s)` the same architecture starts from bit-identical weights in Node and in Python.
 */
import { native } from '../binding';
import { describe } from '../dtype';
import { Tensor, intPair } from '../tensor';
import { Module } from './module';

const N = native();

const pair = intPair;

function intOpt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`Expected an integer for ${what} but received ${describe(v)}`);
  return v;
}


/** A layer whose forward runs in libtorch; its parameters and buffers are exposed as properties. */
abstract class NativeLayer extends Module {
  protected constructor(kind: string, options: object) {
    super();
    this._adoptNative(N.createModule(kind, options));
  }

  /** @internal */
  protected param(name: string): Tensor | null {
    return this._parameters.get(name) ?? null;
  }

  /** @internal */
  protected buffer(name: string): Tensor | null {
    return this._buffers.get(name) ?? null;
  }
}

/** y = x·Wᵀ + b. Parameters `weight` [out, in] and `bias` [out]. */
export class Linear extends NativeLayer {
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: { bias?: boolean } = {},
  ) {
    super('Linear', { inFeatures: intOpt(inFeatures, 'inFeatures'), outFeatures: intOpt(outFeatures, 'outFeatures'), bias: options.bias ?? true });
  }
  get weight(): Tensor {
    return this.param('weight') as Tensor;
  }
  get bias(): Tensor | null {
    return this.param('bias');
  }
  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null ? 'True' : 'False'}`;
  }
}

/** Options of {@link Conv2d}. */
export interface Conv2dOptions {
  stride?: number | number[];
  padding?: number | number[];
  dilation?: number | number[];
  groups?: number;
  bias?: boolean;
}

/** 2-D convolution; `new nn.Conv2d(inChannels, outChannels, kernelSize, stride?, padding?)` or options. */
export class Conv2d extends NativeLayer {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: number | number[],
    strideOrOptions: number | number[] | Conv2dOptions = 1,
    padding: number | number[] = 0,
  ) {
    const o: Conv2dOptions =
      typeof strideOrOptions === 'object' && !Array.isArray(strideOrOptions) ? strideOrOptions : { stride: strideOrOptions, padding };
    const k = pair(kernelSize, 'kernelSize');
    const s = pair(o.stride ?? 1, 'stride');
    const p = pair(o.padding ?? 0, 'padding');
    super('Conv2d', {
      inChannels: intOpt(inChannels, 'inChannels'),
      outChannels: intOpt(outChannels, 'outChannels'),
      kernelSize: k,
      stride: s,
      padding: p,
      dilation: pair(o.dilation ?? 1, 'dilation'),
      groups: intOpt(o.groups ?? 1, 'groups'),
      bias: o.bias ?? true,
    });
    this.kernelSize = k;
    this.stride = s;
    this.padding = p;
  }
  get weight(): Tensor {
    return this.param('weight') as Tensor;
  }
  get bias(): Tensor | null {
    return this.param('bias');
  }
  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernel_size=(${this.kernelSize.join(', ')}), stride=(${this.stride.join(', ')})`;
  }
}

/** Options of the batch-norm layers (PyTorch's defaults). */
export interface BatchNormOptions {
  eps?: number;
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
}

abstract class BatchNorm extends NativeLayer {
  protected constructor(kind: string, readonly numFeatures: number, o: BatchNormOptions) {
    super(kind, {
      numFeatures: intOpt(numFeatures, 'numFeatures'),
      eps: o.eps ?? 1e-5,
      momentum: o.momentum === undefined ? 0.1 : o.momentum,
      affine: o.affine ?? true,
      trackRunningStats: o.trackRunningStats ?? true,
    });
  }
  get weight(): Tensor | null {
    return this.param('weight');
  }
  get bias(): Tensor | null {
    return this.param('bias');
  }
  get runningMean(): Tensor | null {
    return this.buffer('running_mean');
  }
  get runningVar(): Tensor | null {
    return this.buffer('running_var');
  }
  get numBatchesTracked(): Tensor | null {
    return this.buffer('num_batches_tracked');
  }
  override extraRepr(): string {
    return `${this.numFeatures}`;
  }
}

/** Batch normalisation over (N, C) or (N, C, L). */
export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super('BatchNorm1d', numFeatures, options);
  }
}

/** Batch normalisation over (N, C, H, W). */
export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super('BatchNorm2d', numFeatures, options);
  }
}

export class ReLU extends NativeLayer {
  constructor() {
    super('ReLU', {});
  }
}

export class LeakyReLU extends NativeLayer {
  constructor(readonly negativeSlope = 0.01) {
    super('LeakyReLU', { negativeSlope });
  }
}

export class GELU extends NativeLayer {
  constructor(options: { approximate?: 'none' | 'tanh' } = {}) {
    super('GELU', { approximate: options.approximate ?? 'none' });
  }
}

export class Sigmoid extends NativeLayer {
  constructor() {
    super('Sigmoid', {});
  }
}

export class Tanh extends NativeLayer {
  constructor() {
    super('Tanh', {});
  }
}

export class Identity extends NativeLayer {
  constructor() {
    super('Identity', {});
  }
}

/** Options of the 2-D pooling layers; stride defaults to the kernel size. */
export interface Pool2dOptions {
  stride?: number | number[] | null;
  padding?: number | number[];
  dilation?: number | number[];
  ceilMode?: boolean;
  countIncludePad?: boolean;
}

export class MaxPool2d extends NativeLayer {
  constructor(kernelSize: number | number[], strideOrOptions: number | number[] | Pool2dOptions | null = null, padding: number | number[] = 0) {
    const o: Pool2dOptions = strideOrOptions !== null && typeof strideOrOptions === 'object' && !Array.isArray(strideOrOptions) ? strideOrOptions : { stride: strideOrOptions, padding };
    const k = pair(kernelSize, 'kernelSize');
    super('MaxPool2d', {
      kernelSize: k,
      stride: o.stride == null ? k : pair(o.stride, 'stride'),
      padding: pair(o.padding ?? 0, 'padding'),
      dilation: pair(o.dilation ?? 1, 'dilation'),
      ceilMode: o.ceilMode ?? false,
    });
  }
}

export class AvgPool2d extends NativeLayer {
  constructor(kernelSize: number | number[], strideOrOptions: number | number[] | Pool2dOptions | null = null, padding: number | number[] = 0) {
    const o: Pool2dOptions = strideOrOptions !== null && typeof strideOrOptions === 'object' && !Array.isArray(strideOrOptions) ? strideOrOptions : { stride: strideOrOptions, padding };
    const k = pair(kernelSize, 'kernelSize');
    super('AvgPool2d', {
      kernelSize: k,
      stride: o.stride == null ? k : pair(o.stride, 'stride'),
      padding: pair(o.padding ?? 0, 'padding'),
      ceilMode: o.ceilMode ?? false,
      countIncludePad: o.countIncludePad ?? true,
    });
  }
}

export class AdaptiveAvgPool2d extends NativeLayer {
  constructor(outputSize: number | number[]) {
    super('AdaptiveAvgPool2d', { outputSize: pair(outputSize, 'outputSize') });
  }
}

export class Flatten extends NativeLayer {
  constructor(startDim = 1, endDim = -1) {
    super('Flatten', { startDim: intOpt(startDim, 'startDim'), endDim: intOpt(endDim, 'endDim') });
  }
}

export class Dropout extends NativeLayer {
  constructor(readonly p = 0.5) {
    super('Dropout', { p });
  }
  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

export class Softmax extends NativeLayer {
  constructor(readonly dim: number) {
    super('Softmax', { dim: intOpt(dim, 'dim') });
  }
}

export class LogSoftmax extends NativeLayer {
  constructor(readonly dim: number) {
    super('LogSoftmax', { dim: intOpt(dim, 'dim') });
  }
}

/**
 * Runs its children in order. Children are named '0', '1', ... (or by key when built from an object, like an
 * OrderedDict). When every child is a native layer (or a native Sequential) the whole forward is one native call.
 *
 * @example
 * const mlp = new nn.Sequential(new nn.Linear(784, 100), new nn.ReLU(), new nn.Linear(100, 10));
 */
export class Sequential extends Module {
  private _seqNative: number | null | undefined = undefined;

  constructor(...modules: Module[] | [Record<string, Module>]) {
    super();
    const entries: [string, Module][] =
      modules.length === 1 && !(modules[0] instanceof Module) && typeof modules[0] === 'object'
        ? Object.entries(modules[0] as Record<string, Module>)
        : (modules as Module[]).map((m, i) => [String(i), m]);
    for (const [name, m] of entries) {
      if (!(m instanceof Module)) throw new TypeError(`Sequential expects Modules but received ${describe(m)}`);
      this._modules.set(name, m);
    }
  }

  override registerModule(name: string, module: Module | null): void {
    super.registerModule(name, module);
    this._seqNative = undefined;
  }

  /** Appends a module (named by its index). */
  append(module: Module): this {
    this.registerModule(String(this._modules.size), module);
    return this;
  }

  get length(): number {
    return this._modules.size;
  }

  /** The child at an index. */
  at(index: number): Module {
    const list = [...this._modules.values()];
    const m = list[index < 0 ? list.length + index : index];
    if (!m) throw new RangeError(`index ${index} is out of range for a Sequential of ${list.length}`);
    return m;
  }

  override nativeHandle(): number | null {
    if (this._seqNative === undefined) {
      const kids = [...this._modules.entries()];
      const handles = kids.map(([, m]) => m.nativeHandle());
      if (kids.length && handles.every((h) => h !== null)) {
        const h = N.createSequential(kids.map(([n]) => n), handles as number[]);
        this._seqNative = h;
        this._setNative(h);
      } else {
        this._seqNative = null;
      }
    }
    return this._seqNative;
  }

  override forward(x: Tensor): Tensor {
    if (this.nativeHandle() !== null) return super.forward(x);
    let out = x;
    for (const m of this._modules.values()) out = m.forward(out);
    return out;
  }
}
