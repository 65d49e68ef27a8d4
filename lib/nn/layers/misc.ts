/**
 * Layers in TypeScript over torch.nn.functional: embedding, pooling (other than the native 2-D ones), resampling,
 * padding, reshaping, activations, dropout variants and PReLU — each with PyTorch's options, checks and printout.
 */
import { TorchError } from '../../errors';
import type { Dropout1dArgs, EmbeddingArgs, PReLUArgs, UnflattenArgs, UpsampleArgs } from '../../generated/modules';
import * as F from '../../generated/functional';
import { Tensor, type ValuesIndices } from '../../tensor';
import { Module, Parameter } from '../module';
import { constant_, normal_ } from '../init';
import { N, param, py, pyFloat, tuple } from './base';
import { implicitDim } from './native';

/** A lookup table of vectors. */
export class EmbeddingImpl extends Module<[Tensor], Tensor> {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx: number | null;
  readonly maxNorm: number | null;
  readonly normType: number;
  readonly scaleGradByFreq: boolean;
  readonly sparse: boolean;
  declare weight: Tensor;
  constructor(a: EmbeddingArgs, kind = '') {
    super();
    this._kind = kind;
    let pad = a.paddingIdx;
    if (pad !== null) {
      if (pad >= a.numEmbeddings || pad < -a.numEmbeddings) throw new TorchError('Padding_idx must be within num_embeddings', 'VALUE_ERROR');
      if (pad < 0) pad += a.numEmbeddings;
    }
    this.numEmbeddings = a.numEmbeddings;
    this.embeddingDim = a.embeddingDim;
    this.paddingIdx = pad;
    this.maxNorm = a.maxNorm;
    this.normType = a.normType;
    this.scaleGradByFreq = a.scaleGradByFreq;
    this.sparse = a.sparse;
    if (a.weight === null) {
      this.registerParameter('weight', param([a.numEmbeddings, a.embeddingDim], a));
      this.weight.requiresGrad = !a.freeze;
      this.resetParameters();
    } else {
      const s = a.weight.shape;
      if (s.length !== 2 || s[0] !== a.numEmbeddings || s[1] !== a.embeddingDim) throw new TorchError('Shape of weight does not match num_embeddings and embedding_dim', 'VALUE_ERROR');
      this.registerParameter('weight', Parameter(a.weight, !a.freeze));
    }
  }
  /** PyTorch's reset_parameters: N(0, 1), the padding row zero. */
  resetParameters(): void {
    normal_(this.weight);
    this.fillPaddingIdxWithZero();
  }
  private fillPaddingIdxWithZero(): void {
    if (this.paddingIdx === null) return;
    const prev = N.setGradEnabled(false);
    try {
      this.weight.select(0, this.paddingIdx).fill_(0);
    } finally {
      N.setGradEnabled(prev);
    }
  }
  override forward(x: Tensor): Tensor {
    return F.embedding(x, this.weight, this.paddingIdx, this.maxNorm, this.normType, this.scaleGradByFreq, this.sparse);
  }
  override extraRepr(): string {
    let s = `${this.numEmbeddings}, ${this.embeddingDim}`;
    if (this.paddingIdx !== null) s += `, padding_idx=${this.paddingIdx}`;
    if (this.maxNorm !== null) s += `, max_norm=${pyFloat(this.maxNorm)}`;
    if (this.normType !== 2) s += `, norm_type=${pyFloat(this.normType)}`;
    if (this.scaleGradByFreq) s += ', scale_grad_by_freq=True';
    if (this.sparse) s += ', sparse=True';
    return s;
  }
}

type PoolArgs = {
  kernelSize?: number[];
  stride?: number[] | null;
  padding?: number[];
  dilation?: number[];
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number | null;
  outputSize?: number[];
  returnIndices?: boolean;
};

/** MaxPool1d/3d, AvgPool1d/3d and the adaptive pools. */
export class PoolImpl extends Module<[Tensor], Tensor> {
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[];
  readonly dilation: number[];
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;
  readonly divisorOverride: number | null;
  readonly outputSize: number[];
  /** With returnIndices, `call()` gives `{values, indices}` (PyTorch's (output, indices)); the typings say Tensor. */
  readonly returnIndices: boolean;
  constructor(a: PoolArgs, kind: string) {
    super();
    this._kind = kind;
    this.returnIndices = a.returnIndices ?? false;
    this.kernelSize = a.kernelSize ?? [];
    this.stride = a.stride ?? this.kernelSize;
    this.padding = a.padding ?? [];
    this.dilation = a.dilation ?? [];
    this.ceilMode = a.ceilMode ?? false;
    this.countIncludePad = a.countIncludePad ?? true;
    this.divisorOverride = a.divisorOverride ?? null;
    this.outputSize = a.outputSize ?? [];
  }
  override forward(x: Tensor): Tensor {
    if (this.returnIndices) return this.withIndices(x) as unknown as Tensor;
    switch (this._kind) {
      case 'MaxPool1d':
        return F.maxPool1d(x, this.kernelSize, this.stride, this.padding, this.dilation, this.ceilMode);
      case 'MaxPool3d':
        return F.maxPool3d(x, this.kernelSize, this.stride, this.padding, this.dilation, this.ceilMode);
      case 'AvgPool1d':
        return F.avgPool1d(x, this.kernelSize, this.stride, this.padding, this.ceilMode, this.countIncludePad);
      case 'AvgPool3d':
        return F.avgPool3d(x, this.kernelSize, this.stride, this.padding, this.ceilMode, this.countIncludePad, this.divisorOverride);
      case 'AdaptiveAvgPool1d':
        return F.adaptiveAvgPool1d(x, this.outputSize);
      case 'AdaptiveAvgPool3d':
        return F.adaptiveAvgPool3d(x, this.outputSize);
      case 'AdaptiveMaxPool1d':
        return F.adaptiveMaxPool1d(x, this.outputSize);
      case 'AdaptiveMaxPool2d':
        return F.adaptiveMaxPool2d(x, this.outputSize);
      default:
        return F.adaptiveMaxPool3d(x, this.outputSize);
    }
  }
  private withIndices(x: Tensor): ValuesIndices {
    switch (this._kind) {
      case 'MaxPool1d':
        return F.maxPool1dWithIndices(x, this.kernelSize, this.stride, this.padding, this.dilation, this.ceilMode);
      case 'MaxPool3d':
        return F.maxPool3dWithIndices(x, this.kernelSize, this.stride, this.padding, this.dilation, this.ceilMode);
      case 'AdaptiveMaxPool1d':
        return F.adaptiveMaxPool1dWithIndices(x, this.outputSize);
      case 'AdaptiveMaxPool2d':
        return F.adaptiveMaxPool2dWithIndices(x, this.outputSize);
      default:
        return F.adaptiveMaxPool3dWithIndices(x, this.outputSize);
    }
  }
  override extraRepr(): string {
    const one = (v: number[]): string => (v.every((e) => e === v[0]) ? String(v[0]) : tuple(v));
    const name = this._kind;
    if (name.startsWith('Adaptive')) return `output_size=${one(this.outputSize)}`;
    if (name.startsWith('Max')) return `kernel_size=${one(this.kernelSize)}, stride=${one(this.stride)}, padding=${one(this.padding)}, dilation=${one(this.dilation)}, ceil_mode=${py(this.ceilMode)}`;
    if (name === 'AvgPool1d') return `kernel_size=${tuple(this.kernelSize)}, stride=${tuple(this.stride)}, padding=${tuple(this.padding)}`;
    return `kernel_size=${one(this.kernelSize)}, stride=${one(this.stride)}, padding=${one(this.padding)}`;
  }
}

/** Resampling (F.interpolate). */
export class UpsampleImpl extends Module<[Tensor], Tensor> {
  readonly size: number | number[] | null;
  readonly scaleFactor: number | number[] | null;
  readonly mode: UpsampleArgs['mode'];
  readonly alignCorners: boolean | null;
  readonly recomputeScaleFactor: boolean | null;
  constructor(a: UpsampleArgs, kind = '') {
    super();
    this._kind = kind;
    this.size = a.size;
    this.scaleFactor = a.scaleFactor;
    this.mode = a.mode;
    this.alignCorners = a.alignCorners;
    this.recomputeScaleFactor = a.recomputeScaleFactor;
  }
  override forward(x: Tensor): Tensor {
    const { size, scaleFactor: s } = this;
    // A number is repeated for every spatial dim, a list names each (F.interpolate's two forms).
    if (Array.isArray(size) || Array.isArray(s)) {
      const list = (v: number | number[] | null): number[] | null => (v === null ? null : Array.isArray(v) ? v : [v]);
      return F.interpolate(x, list(size), list(s), this.mode, this.alignCorners, this.recomputeScaleFactor);
    }
    return F.interpolate(x, size, s, this.mode, this.alignCorners, this.recomputeScaleFactor);
  }
  override extraRepr(): string {
    const v = (l: number | number[], f: (n: number) => string): string => (typeof l === 'number' ? f(l) : `(${l.map(f).join(', ')})`);
    const info = this.scaleFactor !== null ? `scale_factor=${v(this.scaleFactor, pyFloat)}` : `size=${this.size === null ? 'None' : v(this.size, String)}`;
    return `${info}, mode='${this.mode}'`;
  }
}

/** Splits one dim into several sizes. */
export class UnflattenImpl extends Module<[Tensor], Tensor> {
  readonly dim: number;
  readonly unflattenedSize: number[];
  constructor(a: UnflattenArgs, kind = '') {
    super();
    this._kind = kind;
    this.dim = a.dim;
    this.unflattenedSize = a.unflattenedSize;
  }
  override forward(x: Tensor): Tensor {
    return x.unflatten(this.dim, this.unflattenedSize);
  }
  override extraRepr(): string {
    return `dim=${this.dim}, unflattened_size=${tuple(this.unflattenedSize)}`;
  }
}

/** The padding layers (constant, zero, reflection, replication, circular). */
export class PadImpl extends Module<[Tensor], Tensor> {
  readonly padding: number[];
  readonly value: number;
  constructor(a: { padding: number[]; value?: number }, kind: string) {
    super();
    this._kind = kind;
    this.padding = a.padding;
    this.value = a.value ?? 0;
  }
  private mode(): 'constant' | 'reflect' | 'replicate' | 'circular' {
    const n = this._kind;
    if (n.startsWith('Reflection')) return 'reflect';
    if (n.startsWith('Replication')) return 'replicate';
    if (n.startsWith('Circular')) return 'circular';
    return 'constant';
  }
  override forward(x: Tensor): Tensor {
    const mode = this.mode();
    return mode === 'constant' ? F.pad(x, this.padding, mode, this.value) : F.pad(x, this.padding, mode);
  }
  override extraRepr(): string {
    return this._kind.startsWith('Constant') ? `padding=${tuple(this.padding)}, value=${pyFloat(this.value)}` : tuple(this.padding);
  }
}

type ActArgs = Record<string, number | boolean | string | null>;

/** Element-wise activations and the other stateless layers over one F function. */
export class ActivationImpl extends Module<[Tensor], Tensor> {
  /** The constructor options, by PyTorch's names (camelCased). */
  readonly options: Readonly<ActArgs>;
  constructor(a: object, kind: string) {
    super();
    this._kind = kind;
    this.options = Object.freeze({ ...(a as ActArgs) });
  }
  override forward(x: Tensor, y?: Tensor): Tensor {
    const o = this.options as Record<string, never>;
    switch (this._kind) {
      case 'Softmin':
        return F.softmin(x, o.dim ?? implicitDim('softmin', x.ndim));
      case 'ReLU6':
        return F.relu6(x, o.inplace);
      case 'ELU':
        return F.elu(x, o.alpha, o.inplace);
      case 'SELU':
        return F.selu(x, o.inplace);
      case 'CELU':
        return F.celu(x, o.alpha, o.inplace);
      case 'SiLU':
        return F.silu(x, o.inplace);
      case 'Mish':
        return F.mish(x, o.inplace);
      case 'Hardswish':
        return F.hardswish(x, o.inplace);
      case 'Hardsigmoid':
        return F.hardsigmoid(x, o.inplace);
      case 'Hardtanh':
        return F.hardtanh(x, o.minVal, o.maxVal, o.inplace);
      case 'Threshold':
        return F.threshold(x, o.threshold, o.value, o.inplace);
      case 'Softplus':
        return F.softplus(x, o.beta, o.threshold);
      case 'Softsign':
        return F.softsign(x);
      case 'Tanhshrink':
        return F.tanhshrink(x);
      case 'LogSigmoid':
        return F.logsigmoid(x);
      case 'GLU':
        return F.glu(x, o.dim);
      case 'PixelShuffle':
        return F.pixelShuffle(x, o.upscaleFactor);
      case 'CosineSimilarity':
        return F.cosineSimilarity(x, y as Tensor, o.dim, o.eps);
      case 'PairwiseDistance':
        return F.pairwiseDistance(x, y as Tensor, o.p, o.eps, o.keepdim);
      default:
        throw new TypeError(`${this._kind}: no forward`);
    }
  }
  override extraRepr(): string {
    const o = this.options;
    const f = (v: unknown): string => (typeof v === 'number' ? pyFloat(v) : py(v));
    const inplace = o.inplace ? ', inplace=True' : '';
    switch (this._kind) {
      case 'Softmin':
        return `dim=${o.dim === null ? 'None' : o.dim}`;
      case 'ELU':
      case 'CELU':
        return `alpha=${f(o.alpha)}${inplace}`;
      case 'Hardtanh':
        return `min_val=${f(o.minVal)}, max_val=${f(o.maxVal)}${inplace}`;
      case 'Threshold':
        return `threshold=${py(o.threshold)}, value=${py(o.value)}${inplace}`;
      case 'Softplus':
        return `beta=${f(o.beta)}, threshold=${f(o.threshold)}`;
      case 'GLU':
        return `dim=${o.dim}`;
      case 'PixelShuffle':
        return `upscale_factor=${o.upscaleFactor}`;
      case 'Hardswish':
      case 'Hardsigmoid':
        return '';
      default:
        return o.inplace ? 'inplace=True' : '';
    }
  }
}

/** Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout. */
export class DropoutImpl extends Module<[Tensor], Tensor> {
  readonly p: number;
  readonly inplace: boolean;
  constructor(a: Dropout1dArgs, kind: string) {
    super();
    this._kind = kind;
    if (!(a.p >= 0 && a.p <= 1)) throw new TorchError(`dropout probability has to be between 0 and 1, but got ${a.p}`, 'VALUE_ERROR');
    this.p = a.p;
    this.inplace = a.inplace;
  }
  override forward(x: Tensor): Tensor {
    switch (this._kind) {
      case 'Dropout1d':
        return F.dropout1d(x, this.p, this.training, this.inplace);
      case 'Dropout2d':
        return F.dropout2d(x, this.p, this.training, this.inplace);
      case 'Dropout3d':
        return F.dropout3d(x, this.p, this.training, this.inplace);
      case 'AlphaDropout':
        return F.alphaDropout(x, this.p, this.training);
      default:
        return F.featureAlphaDropout(x, this.p, this.training);
    }
  }
  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=${py(this.inplace)}`;
  }
}

/** PReLU: a learnable negative slope, shared or per channel. */
export class PReLUImpl extends Module<[Tensor], Tensor> {
  readonly numParameters: number;
  readonly init: number;
  declare weight: Tensor;
  constructor(a: PReLUArgs, kind = '') {
    super();
    this._kind = kind;
    this.numParameters = a.numParameters;
    this.init = a.init;
    this.registerParameter('weight', param([a.numParameters], a));
    this.resetParameters();
  }
  resetParameters(): void {
    constant_(this.weight, this.init);
  }
  override forward(x: Tensor): Tensor {
    return F.prelu(x, this.weight);
  }
  override extraRepr(): string {
    return `num_parameters=${this.numParameters}`;
  }
}

/** An identity map that accepts (and ignores) any constructor arguments, as PyTorch's. */
export class Identity extends Module<[Tensor], Tensor> {
  constructor(...args: unknown[]) {
    super();
    void args;
  }
  override forward(x: Tensor): Tensor {
    return x;
  }
}
