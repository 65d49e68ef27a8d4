/**
 * Convolutions other than the native Conv2d (./native.ts), and Bilinear: parameters made and initialised as
 * PyTorch's _ConvNd / _ConvTransposeNd / Bilinear do, forward through torch.nn.functional.
 */
import type { BilinearArgs, Conv1dArgs, ConvTranspose1dArgs } from '../../generated/modules';
import * as F from '../../generated/functional';
import type { Tensor } from '../../tensor';
import { Module } from '../module';
import { resetLinearLike, uniform_ } from '../init';
import { param } from './base';
import { checkConv, convRepr, reversedPadding } from './native';

function dimsOf(name: string): number {
  return Number(/(\d)d$/.exec(name)?.[1]);
}

/** Conv1d and Conv3d. */
export class ConvNdImpl extends Module<[Tensor], Tensor> {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[] | 'same' | 'valid';
  readonly dilation: number[];
  readonly groups: number;
  readonly paddingMode: 'zeros' | 'reflect' | 'replicate' | 'circular';
  private readonly reversedPadding: number[];
  declare weight: Tensor;
  declare bias: Tensor | null;
  constructor(a: Conv1dArgs, kind: string) {
    super();
    this._kind = kind;
    checkConv(a);
    this.inChannels = a.inChannels;
    this.outChannels = a.outChannels;
    this.kernelSize = a.kernelSize;
    this.stride = a.stride;
    this.padding = a.padding;
    this.dilation = a.dilation;
    this.groups = a.groups;
    this.paddingMode = a.paddingMode;
    this.reversedPadding = reversedPadding(a.padding, a.kernelSize, a.dilation);
    this.registerParameter('weight', param([a.outChannels, a.inChannels / a.groups, ...a.kernelSize], a));
    this.registerParameter('bias', a.bias ? param([a.outChannels], a) : null);
    this.resetParameters();
  }
  /** PyTorch's reset_parameters. */
  resetParameters(): void {
    resetLinearLike(this.weight, this.bias);
  }
  override forward(x: Tensor): Tensor {
    const conv = dimsOf(this._kind) === 1 ? F.conv1d : F.conv3d;
    if (this.paddingMode !== 'zeros') return conv(F.pad(x, this.reversedPadding, this.paddingMode), this.weight, this.bias, this.stride, 0, this.dilation, this.groups);
    if (typeof this.padding === 'string') return conv(x, this.weight, this.bias, this.stride, this.padding, this.dilation, this.groups);
    return conv(x, this.weight, this.bias, this.stride, this.padding, this.dilation, this.groups);
  }
  override extraRepr(): string {
    return convRepr({ ...this, bias: this.bias !== null });
  }
}

/** ConvTranspose1d/2d/3d. */
export class ConvTransposeNdImpl extends Module<[Tensor], Tensor> {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[];
  readonly outputPadding: number[];
  readonly dilation: number[];
  readonly groups: number;
  readonly paddingMode = 'zeros' as const;
  declare weight: Tensor;
  declare bias: Tensor | null;
  constructor(a: ConvTranspose1dArgs, kind: string) {
    super();
    this._kind = kind;
    checkConv({ ...a, stride: a.stride });
    this.inChannels = a.inChannels;
    this.outChannels = a.outChannels;
    this.kernelSize = a.kernelSize;
    this.stride = a.stride;
    this.padding = a.padding;
    this.outputPadding = a.outputPadding;
    this.dilation = a.dilation;
    this.groups = a.groups;
    this.registerParameter('weight', param([a.inChannels, a.outChannels / a.groups, ...a.kernelSize], a));
    this.registerParameter('bias', a.bias ? param([a.outChannels], a) : null);
    this.resetParameters();
  }
  resetParameters(): void {
    resetLinearLike(this.weight, this.bias);
  }
  override forward(x: Tensor): Tensor {
    const d = dimsOf(this._kind);
    const conv = d === 1 ? F.convTranspose1d : d === 2 ? F.convTranspose2d : F.convTranspose3d;
    return conv(x, this.weight, this.bias, this.stride, this.padding, this.outputPadding, this.groups, this.dilation);
  }
  override extraRepr(): string {
    return convRepr({ ...this, bias: this.bias !== null });
  }
}

/** y = x1ᵀ·A·x2 + b. */
export class BilinearImpl extends Module<[Tensor, Tensor], Tensor> {
  readonly in1Features: number;
  readonly in2Features: number;
  readonly outFeatures: number;
  declare weight: Tensor;
  declare bias: Tensor | null;
  constructor(a: BilinearArgs, kind = '') {
    super();
    this._kind = kind;
    this.in1Features = a.in1Features;
    this.in2Features = a.in2Features;
    this.outFeatures = a.outFeatures;
    this.registerParameter('weight', param([a.outFeatures, a.in1Features, a.in2Features], a));
    this.registerParameter('bias', a.bias ? param([a.outFeatures], a) : null);
    this.resetParameters();
  }
  /** PyTorch's Bilinear.reset_parameters: U(±1/√in1_features) for weight and bias. */
  resetParameters(): void {
    const bound = 1 / Math.sqrt(this.weight.size(1));
    uniform_(this.weight, -bound, bound);
    if (this.bias) uniform_(this.bias, -bound, bound);
  }
  override forward(x1: Tensor, x2: Tensor): Tensor {
    return F.bilinear(x1, x2, this.weight, this.bias);
  }
  override extraRepr(): string {
    return `in1_features=${this.in1Features}, in2_features=${this.in2Features}, out_features=${this.outFeatures}, bias=${this.bias !== null ? 'True' : 'False'}`;
  }
}
