/**
 * Layers backed by libtorch C++-frontend modules: a Sequential of them runs its whole forward in one native call,
 * and their default initialisation is libtorch's, which equals PyTorch's (after `torch.manualSeed(s)` the same
 * architecture starts from bit-identical weights). Options the C++ modules lack (padding modes, in-place, implicit
 * softmax dims) switch that instance to the TypeScript forward, which calls the same F functions as Python.
 */
import { TorchError } from '../../errors';
import type {
  AdaptiveAvgPool2dArgs,
  AvgPool2dArgs,
  BatchNorm1dArgs,
  Conv2dArgs,
  DropoutArgs,
  FlattenArgs,
  LinearArgs,
  MaxPool2dArgs,
} from '../../generated/modules';
import * as F from '../../generated/functional';
import type { Tensor } from '../../tensor';
import { resetLinearLike } from '../init';
import { batchNormForward, resetNormParameters, resetRunningStatistics } from './norm';
import { type Factory, NativeLayer, py, pyFloat, rngIfFactory, tuple } from './base';

/** y = x·Wᵀ + b. Parameters `weight` [out, in] and `bias` [out]. */
export class LinearImpl extends NativeLayer {
  readonly inFeatures: number;
  readonly outFeatures: number;
  constructor(a: LinearArgs, kind = '') {
    const rng = rngIfFactory(a);
    super('Linear', { inFeatures: a.inFeatures, outFeatures: a.outFeatures, bias: a.bias });
    this.inFeatures = a.inFeatures;
    this.outFeatures = a.outFeatures;
    // Without inputs the native layer leaves its initialisation here (native/module.cc), as applyFactory does too.
    if (a.inFeatures === 0 && rng === null) resetLinearLike(this.weight, this.bias);
    this.applyFactory(a, () => resetLinearLike(this.weight, this.bias), rng);
  }
  get weight(): Tensor {
    return this.param('weight') as Tensor;
  }
  get bias(): Tensor | null {
    return this.param('bias');
  }
  /** Re-initialises weight and bias as PyTorch's reset_parameters. */
  resetParameters(): void {
    resetLinearLike(this.weight, this.bias);
  }
  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${py(this.bias !== null)}`;
  }
}

/** PyTorch's padding for a non-'zeros' padding mode: (left, right) per dim, last dim first. */
export function reversedPadding(padding: number[] | 'same' | 'valid', kernelSize: number[], dilation: number[]): number[] {
  const n = kernelSize.length;
  if (typeof padding === 'string') {
    const out = new Array<number>(2 * n).fill(0);
    if (padding === 'same') {
      for (let d = 0; d < n; d++) {
        const i = n - 1 - d;
        const total = dilation[d] * (kernelSize[d] - 1);
        const left = Math.floor(total / 2);
        out[2 * i] = left;
        out[2 * i + 1] = total - left;
      }
    }
    return out;
  }
  const out: number[] = [];
  for (let d = n - 1; d >= 0; d--) out.push(padding[d], padding[d]);
  return out;
}

/** The checks of PyTorch's _ConvNd constructor. */
export function checkConv(a: { inChannels: number; outChannels: number; groups: number; padding: number[] | string; stride: number[] }): void {
  if (a.groups <= 0) throw new TorchError('groups must be a positive integer', 'VALUE_ERROR');
  if (a.inChannels % a.groups !== 0) throw new TorchError('in_channels must be divisible by groups', 'VALUE_ERROR');
  if (a.outChannels % a.groups !== 0) throw new TorchError('out_channels must be divisible by groups', 'VALUE_ERROR');
  if (a.padding === 'same' && a.stride.some((s) => s !== 1)) throw new TorchError("padding='same' is not supported for strided convolutions", 'VALUE_ERROR');
}

/** PyTorch's _ConvNd.extra_repr. */
export function convRepr(a: {
  inChannels: number;
  outChannels: number;
  kernelSize: number[];
  stride: number[];
  padding: number[] | string;
  dilation: number[];
  outputPadding?: number[];
  groups: number;
  bias: boolean;
  paddingMode: string;
}): string {
  let s = `${a.inChannels}, ${a.outChannels}, kernel_size=${tuple(a.kernelSize)}, stride=${tuple(a.stride)}`;
  const zeros = (v: number[]): boolean => v.every((x) => x === 0);
  if (typeof a.padding === 'string' ? true : !zeros(a.padding)) s += `, padding=${typeof a.padding === 'string' ? a.padding : tuple(a.padding)}`;
  if (!a.dilation.every((x) => x === 1)) s += `, dilation=${tuple(a.dilation)}`;
  if (a.outputPadding && !zeros(a.outputPadding)) s += `, output_padding=${tuple(a.outputPadding)}`;
  if (a.groups !== 1) s += `, groups=${a.groups}`;
  if (!a.bias) s += ', bias=False';
  if (a.paddingMode !== 'zeros') s += `, padding_mode=${a.paddingMode}`;
  return s;
}

/** 2-D convolution (native unless the padding is a string or the padding mode is not 'zeros'). */
export class Conv2dImpl extends NativeLayer {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[] | 'same' | 'valid';
  readonly dilation: number[];
  readonly groups: number;
  readonly paddingMode: 'zeros' | 'reflect' | 'replicate' | 'circular';
  private readonly reversedPadding: number[];
  constructor(a: Conv2dArgs, kind = '') {
    checkConv(a);
    const rng = rngIfFactory(a);
    const numeric = typeof a.padding !== 'string';
    super('Conv2d', {
      inChannels: a.inChannels,
      outChannels: a.outChannels,
      kernelSize: a.kernelSize,
      stride: a.stride,
      padding: numeric ? a.padding : [0, 0],
      dilation: a.dilation,
      groups: a.groups,
      bias: a.bias,
    });
    this.inChannels = a.inChannels;
    this.outChannels = a.outChannels;
    this.kernelSize = a.kernelSize;
    this.stride = a.stride;
    this.padding = a.padding;
    this.dilation = a.dilation;
    this.groups = a.groups;
    this.paddingMode = a.paddingMode;
    this.reversedPadding = reversedPadding(a.padding, a.kernelSize, a.dilation);
    this.applyFactory(a, () => resetLinearLike(this.weight, this.bias), rng);
  }
  get weight(): Tensor {
    return this.param('weight') as Tensor;
  }
  get bias(): Tensor | null {
    return this.param('bias');
  }
  protected override jsForward(): boolean {
    return typeof this.padding === 'string' || this.paddingMode !== 'zeros';
  }
  override forward(x: Tensor): Tensor {
    if (!this.jsForward()) return super.forward(x);
    if (this.paddingMode !== 'zeros') {
      const padded = F.pad(x, this.reversedPadding, this.paddingMode);
      return F.conv2d(padded, this.weight, this.bias, this.stride, 0, this.dilation, this.groups);
    }
    return F.conv2d(x, this.weight, this.bias, this.stride, this.padding as 'same' | 'valid', this.dilation, this.groups);
  }
  override extraRepr(): string {
    return convRepr({ ...this, bias: this.bias !== null });
  }
}

/** Batch normalisation (1-D and 2-D), native (without a bias, the TypeScript forward). */
export class BatchNormNativeImpl extends NativeLayer {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  private readonly noBias: boolean;
  constructor(a: BatchNorm1dArgs, kind: string) {
    super(kind, { numFeatures: a.numFeatures, eps: a.eps, momentum: a.momentum, affine: a.affine, trackRunningStats: a.trackRunningStats });
    this.numFeatures = a.numFeatures;
    this.eps = a.eps;
    this.momentum = a.momentum;
    this.affine = a.affine;
    this.trackRunningStats = a.trackRunningStats;
    this.noBias = a.affine && !a.bias;
    if (this.noBias) this._parameters.set('bias', null);
    this.applyFactory(a as Factory, null, null);
  }
  protected override jsForward(): boolean {
    return this.noBias;
  }
  override forward(x: Tensor): Tensor {
    if (!this.noBias) return super.forward(x);
    const d = x.ndim;
    const ok = this._kind === 'BatchNorm1d' ? d === 2 || d === 3 : d === 4;
    if (!ok) throw new TorchError(`expected ${this._kind === 'BatchNorm1d' ? '2D or 3D' : '4D'} input (got ${d}D input)`, 'VALUE_ERROR');
    return batchNormForward(
      {
        training: this.training,
        trackRunningStats: this.trackRunningStats,
        momentum: this.momentum,
        eps: this.eps,
        weight: this.weight,
        bias: null,
        runningMean: this.runningMean,
        runningVar: this.runningVar,
        numBatchesTracked: this.numBatchesTracked,
      },
      x,
    );
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
  /** Zeros the running statistics (running_var to ones), as PyTorch's reset_running_stats. */
  resetRunningStats(): void {
    if (this.trackRunningStats) resetRunningStatistics(this.runningMean, this.runningVar, this.numBatchesTracked);
  }
  /** PyTorch's reset_parameters: running statistics reset, weight ones, bias zeros. */
  resetParameters(): void {
    resetNormParameters(this);
  }
  override extraRepr(): string {
    return `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${this.momentum === null ? 'None' : pyFloat(this.momentum)}, affine=${py(this.affine)}, bias=${py(this.bias !== null)}, track_running_stats=${py(this.trackRunningStats)}`;
  }
}

/** 2-D max pooling, native. */
export class MaxPool2dImpl extends NativeLayer {
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[];
  readonly dilation: number[];
  readonly ceilMode: boolean;
  /** With returnIndices, `call()` gives `{values, indices}` (PyTorch's (output, indices)); the typings say Tensor. */
  readonly returnIndices: boolean;
  constructor(a: MaxPool2dArgs, kind = '') {
    const stride = a.stride ?? a.kernelSize;
    super('MaxPool2d', { kernelSize: a.kernelSize, stride, padding: a.padding, dilation: a.dilation, ceilMode: a.ceilMode });
    this.kernelSize = a.kernelSize;
    this.stride = stride;
    this.padding = a.padding;
    this.dilation = a.dilation;
    this.ceilMode = a.ceilMode;
    this.returnIndices = a.returnIndices;
  }
  protected override jsForward(): boolean {
    return this.returnIndices;
  }
  override forward(x: Tensor): Tensor {
    if (!this.returnIndices) return super.forward(x);
    return F.maxPool2dWithIndices(x, this.kernelSize, this.stride, this.padding, this.dilation, this.ceilMode) as unknown as Tensor;
  }
  override extraRepr(): string {
    const one = (v: number[]): string => (v[0] === v[1] ? String(v[0]) : tuple(v));
    return `kernel_size=${one(this.kernelSize)}, stride=${one(this.stride)}, padding=${one(this.padding)}, dilation=${one(this.dilation)}, ceil_mode=${py(this.ceilMode)}`;
  }
}

/** 2-D average pooling, native (a divisor override runs the TypeScript forward). */
export class AvgPool2dImpl extends NativeLayer {
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[];
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;
  constructor(a: AvgPool2dArgs, kind = '') {
    const stride = a.stride ?? a.kernelSize;
    super('AvgPool2d', { kernelSize: a.kernelSize, stride, padding: a.padding, ceilMode: a.ceilMode, countIncludePad: a.countIncludePad });
    this.kernelSize = a.kernelSize;
    this.stride = stride;
    this.padding = a.padding;
    this.ceilMode = a.ceilMode;
    this.countIncludePad = a.countIncludePad;
    this.divisorOverride = a.divisorOverride;
  }
  protected override jsForward(): boolean {
    return this.divisorOverride !== null;
  }
  override forward(x: Tensor): Tensor {
    if (!this.jsForward()) return super.forward(x);
    return F.avgPool2d(x, this.kernelSize, this.stride, this.padding, this.ceilMode, this.countIncludePad, this.divisorOverride);
  }
  override extraRepr(): string {
    const one = (v: number[]): string => (v[0] === v[1] ? String(v[0]) : tuple(v));
    return `kernel_size=${one(this.kernelSize)}, stride=${one(this.stride)}, padding=${one(this.padding)}`;
  }
}

/** 2-D adaptive average pooling, native. */
export class AdaptiveAvgPool2dImpl extends NativeLayer {
  readonly outputSize: number[];
  constructor(a: AdaptiveAvgPool2dArgs, kind = '') {
    super('AdaptiveAvgPool2d', { outputSize: a.outputSize });
    this.outputSize = a.outputSize;
  }
  override extraRepr(): string {
    return `output_size=${this.outputSize[0] === this.outputSize[1] ? this.outputSize[0] : tuple(this.outputSize)}`;
  }
}

/** Flattens dims startDim..endDim, native. */
export class FlattenImpl extends NativeLayer {
  readonly startDim: number;
  readonly endDim: number;
  constructor(a: FlattenArgs, kind = '') {
    super('Flatten', { startDim: a.startDim, endDim: a.endDim });
    this.startDim = a.startDim;
    this.endDim = a.endDim;
  }
  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

/** Dropout, native (in place runs the TypeScript forward). */
export class DropoutNativeImpl extends NativeLayer {
  readonly p: number;
  readonly inplace: boolean;
  constructor(a: DropoutArgs, kind = '') {
    if (!(a.p >= 0 && a.p <= 1)) throw new TorchError(`dropout probability has to be between 0 and 1, but got ${a.p}`, 'VALUE_ERROR');
    super('Dropout', { p: a.p });
    this.p = a.p;
    this.inplace = a.inplace;
  }
  protected override jsForward(): boolean {
    return this.inplace;
  }
  override forward(x: Tensor): Tensor {
    return this.inplace ? F.dropout(x, this.p, this.training, true) : super.forward(x);
  }
  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=${py(this.inplace)}`;
  }
}

// Python's implicit softmax dim (deprecated there, with a warning): 0 for 0-, 1- and 3-D inputs, else 1.
export function implicitDim(name: string, ndim: number): number {
  process.emitWarning(`Implicit dimension choice for ${name} has been deprecated. Change the call to include dim=X as an argument.`);
  return ndim === 0 || ndim === 1 || ndim === 3 ? 0 : 1;
}

type NativeActivationArgs = { inplace?: boolean; negativeSlope?: number; approximate?: 'none' | 'tanh'; dim?: number | null };

/** ReLU, LeakyReLU, GELU, Sigmoid, Tanh, Softmax, LogSoftmax: native, unless in place or without a softmax dim. */
export class NativeActivationImpl extends NativeLayer {
  readonly inplace: boolean;
  readonly negativeSlope: number;
  readonly approximate: 'none' | 'tanh';
  readonly dim: number | null;
  constructor(a: NativeActivationArgs, kind: string) {
    const dim = a.dim ?? null;
    super(kind, { negativeSlope: a.negativeSlope ?? 0.01, approximate: a.approximate ?? 'none', dim: dim ?? 0 });
    this.inplace = a.inplace ?? false;
    this.negativeSlope = a.negativeSlope ?? 0.01;
    this.approximate = a.approximate ?? 'none';
    this.dim = dim;
  }
  protected override jsForward(): boolean {
    return this.inplace || ((this._kind === 'Softmax' || this._kind === 'LogSoftmax') && this.dim === null);
  }
  override forward(x: Tensor): Tensor {
    if (!this.jsForward()) return super.forward(x);
    switch (this._kind) {
      case 'ReLU':
        return F.relu(x, true);
      case 'LeakyReLU':
        return F.leakyRelu(x, this.negativeSlope, true);
      case 'Softmax':
        return F.softmax(x, this.dim ?? implicitDim('softmax', x.ndim));
      default:
        return F.logSoftmax(x, this.dim ?? implicitDim('log_softmax', x.ndim));
    }
  }
  override extraRepr(): string {
    switch (this._kind) {
      case 'ReLU':
        return this.inplace ? 'inplace=True' : '';
      case 'LeakyReLU':
        return `negative_slope=${pyFloat(this.negativeSlope)}${this.inplace ? ', inplace=True' : ''}`;
      case 'GELU':
        return `approximate='${this.approximate}'`;
      case 'Softmax':
      case 'LogSoftmax':
        return `dim=${this.dim === null ? 'None' : this.dim}`;
      default:
        return '';
    }
  }
}
