/**
 * Normalisation layers in TypeScript over torch.nn.functional (BatchNorm1d/2d are native: ./native.ts), with
 * PyTorch's parameters, buffers, initialisation and forward logic (running statistics, cumulative averages when
 * momentum is null, unbatched inputs).
 */
import { TorchError } from '../../errors';
import type { BatchNorm3dArgs, GroupNormArgs, InstanceNorm1dArgs, LayerNormArgs, RMSNormArgs } from '../../generated/modules';
import * as F from '../../generated/functional';
import { Tensor, wrap } from '../../tensor';
import { Module } from '../module';
import { type Factory, N, buffer, param, py, pyFloat, tuple } from './base';
import { ones_, zeros_ } from '../init';

/** What _BatchNorm.forward reads from its module. */
export interface BatchNormState {
  training: boolean;
  trackRunningStats: boolean;
  momentum: number | null;
  eps: number;
  weight: Tensor | null;
  bias: Tensor | null;
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  numBatchesTracked: Tensor | null;
}

/** PyTorch's _BatchNorm.forward (after the input-dim check). */
export function batchNormForward(m: BatchNormState, x: Tensor): Tensor {
  let factor = m.momentum ?? 0.0;
  if (m.training && m.trackRunningStats && m.numBatchesTracked !== null) {
    const prev = N.setGradEnabled(false);
    try {
      m.numBatchesTracked.add_(1);
    } finally {
      N.setGradEnabled(prev);
    }
    factor = m.momentum === null ? 1.0 / m.numBatchesTracked.item() : m.momentum;
  }
  const bnTraining = m.training ? true : m.runningMean === null && m.runningVar === null;
  const useRunning = !m.training || m.trackRunningStats;
  return F.batchNorm(x, useRunning ? m.runningMean : null, useRunning ? m.runningVar : null, m.weight, m.bias, bnTraining, factor, m.eps);
}

/** PyTorch's _NormBase.reset_running_stats: running_mean zeros, running_var ones, num_batches_tracked 0 (if tracked). */
/** PyTorch's _NormBase.reset_parameters for any norm layer: running statistics reset, weight ones, bias zeros. */
export function resetNormParameters(layer: { resetRunningStats(): void; weight: Tensor | null; bias: Tensor | null }): void {
  layer.resetRunningStats();
  if (layer.weight) ones_(layer.weight);
  if (layer.bias) zeros_(layer.bias);
}

export function resetRunningStatistics(runningMean: Tensor | null, runningVar: Tensor | null, numBatchesTracked: Tensor | null): void {
  if (runningMean === null || runningVar === null || numBatchesTracked === null) return;
  zeros_(runningMean);
  ones_(runningVar);
  const prev = N.setGradEnabled(false);
  try {
    numBatchesTracked.zero_();
  } finally {
    N.setGradEnabled(prev);
  }
}

function normBuffers(mod: Module, numFeatures: number, track: boolean, f: Factory): void {
  if (track) {
    mod.registerBuffer('running_mean', buffer(wrap(N.full([numFeatures], 0, 6, -1, false)), f));
    mod.registerBuffer('running_var', buffer(wrap(N.full([numFeatures], 1, 6, -1, false)), f));
    mod.registerBuffer('num_batches_tracked', buffer(wrap(N.full([], 0, 4, -1, false)), { device: f.device, dtype: null }));
  } else {
    mod.registerBuffer('running_mean', null);
    mod.registerBuffer('running_var', null);
    mod.registerBuffer('num_batches_tracked', null);
  }
}

/** The parameters and buffers of PyTorch's _NormBase. */
abstract class NormBase extends Module<[Tensor], Tensor> {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  declare weight: Tensor | null;
  declare bias: Tensor | null;
  declare running_mean: Tensor | null;
  declare running_var: Tensor | null;
  declare num_batches_tracked: Tensor | null;
  protected constructor(a: BatchNorm3dArgs, kind = '') {
    super();
    this._kind = kind;
    this.numFeatures = a.numFeatures;
    this.eps = a.eps;
    this.momentum = a.momentum;
    this.affine = a.affine;
    this.trackRunningStats = a.trackRunningStats;
    if (a.affine) {
      this.registerParameter('weight', param([a.numFeatures], a));
      this.registerParameter('bias', a.bias ? param([a.numFeatures], a) : null);
    } else {
      this.registerParameter('weight', null);
      this.registerParameter('bias', null);
    }
    normBuffers(this, a.numFeatures, a.trackRunningStats, a);
    this.resetParameters();
  }
  get runningMean(): Tensor | null {
    return this.running_mean;
  }
  get runningVar(): Tensor | null {
    return this.running_var;
  }
  get numBatchesTracked(): Tensor | null {
    return this.num_batches_tracked;
  }
  /** Zeros the running statistics (running_var to ones). */
  resetRunningStats(): void {
    if (this.trackRunningStats) resetRunningStatistics(this.running_mean, this.running_var, this.num_batches_tracked);
  }
  /** PyTorch's reset_parameters: running statistics reset, weight ones, bias zeros. */
  resetParameters(): void {
    resetNormParameters(this);
  }
  override extraRepr(): string {
    return `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${this.momentum === null ? 'None' : pyFloat(this.momentum)}, affine=${py(this.affine)}, bias=${py(this.bias !== null)}, track_running_stats=${py(this.trackRunningStats)}`;
  }
}

/** Batch normalisation over (N, C, D, H, W). */
export class BatchNormImpl extends NormBase {
  constructor(a: BatchNorm3dArgs, kind = '') {
    super(a);
  }
  override forward(x: Tensor): Tensor {
    if (x.ndim !== 5) throw new TorchError(`expected 5D input (got ${x.ndim}D input)`, 'VALUE_ERROR');
    return batchNormForward(this, x);
  }
}

/** Instance normalisation; an unbatched input is batched for the call, as PyTorch does. */
export class InstanceNormImpl extends NormBase {
  constructor(a: InstanceNorm1dArgs, kind: string) {
    super(a);
    this._kind = kind;
  }
  private spatial(): number {
    return Number(/(\d)d$/.exec(this._kind)?.[1] ?? 2);
  }
  override forward(x: Tensor): Tensor {
    const d = this.spatial();
    if (x.ndim !== d + 1 && x.ndim !== d + 2) throw new TorchError(`expected ${d + 1}D or ${d + 2}D input (got ${x.ndim}D input)`, 'VALUE_ERROR');
    const featureDim = x.ndim - d - 1;
    if (x.size(featureDim) !== this.numFeatures) {
      if (this.affine) throw new TorchError(`expected input's size at dim=${featureDim} to match num_features (${this.numFeatures}), but got: ${x.size(featureDim)}.`, 'VALUE_ERROR');
      process.emitWarning(`input's size at dim=${featureDim} does not match num_features. You can silence this warning by not passing in num_features, which is not used because affine=False`);
    }
    const run = (input: Tensor): Tensor =>
      F.instanceNorm(input, this.running_mean, this.running_var, this.weight, this.bias, this.training || !this.trackRunningStats, this.momentum ?? 0.0, this.eps);
    if (x.ndim === d + 1) return run(x.unsqueeze(0)).squeeze(0);
    return run(x);
  }
}

/** Layer normalisation over the trailing `normalizedShape` dims. */
export class LayerNormImpl extends Module<[Tensor], Tensor> {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  declare weight: Tensor | null;
  declare bias: Tensor | null;
  constructor(a: LayerNormArgs, kind = '') {
    super();
    this._kind = kind;
    this.normalizedShape = a.normalizedShape;
    this.eps = a.eps;
    this.elementwiseAffine = a.elementwiseAffine;
    this.registerParameter('weight', a.elementwiseAffine ? param(a.normalizedShape, a) : null);
    this.registerParameter('bias', a.elementwiseAffine && a.bias ? param(a.normalizedShape, a) : null);
    this.resetParameters();
  }
  resetParameters(): void {
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }
  override forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
  override extraRepr(): string {
    return `${tuple(this.normalizedShape)}, eps=${pyFloat(this.eps)}, elementwise_affine=${py(this.elementwiseAffine)}, bias=${py(this.bias !== null)}`;
  }
}

/** Group normalisation. */
export class GroupNormImpl extends Module<[Tensor], Tensor> {
  readonly numGroups: number;
  readonly numChannels: number;
  readonly eps: number;
  readonly affine: boolean;
  declare weight: Tensor | null;
  declare bias: Tensor | null;
  constructor(a: GroupNormArgs, kind = '') {
    super();
    this._kind = kind;
    if (a.numGroups <= 0 || a.numChannels % a.numGroups !== 0) throw new TorchError(`num_channels (${a.numChannels}) must be divisible by num_groups (${a.numGroups})`, 'VALUE_ERROR');
    this.numGroups = a.numGroups;
    this.numChannels = a.numChannels;
    this.eps = a.eps;
    this.affine = a.affine;
    this.registerParameter('weight', a.affine ? param([a.numChannels], a) : null);
    this.registerParameter('bias', a.affine && a.bias ? param([a.numChannels], a) : null);
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }
  override forward(x: Tensor): Tensor {
    return F.groupNorm(x, this.numGroups, this.weight, this.bias, this.eps);
  }
  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${pyFloat(this.eps)}, affine=${py(this.affine)}, bias=${py(this.bias !== null)}`;
  }
}

/** Root-mean-square normalisation. */
export class RMSNormImpl extends Module<[Tensor], Tensor> {
  readonly normalizedShape: number[];
  readonly eps: number | null;
  readonly elementwiseAffine: boolean;
  declare weight: Tensor | null;
  constructor(a: RMSNormArgs, kind = '') {
    super();
    this._kind = kind;
    this.normalizedShape = a.normalizedShape;
    this.eps = a.eps;
    this.elementwiseAffine = a.elementwiseAffine;
    this.registerParameter('weight', a.elementwiseAffine ? param(a.normalizedShape, a) : null);
    if (this.weight) ones_(this.weight);
  }
  override forward(x: Tensor): Tensor {
    return F.rmsNorm(x, this.normalizedShape, this.weight, this.eps);
  }
  override extraRepr(): string {
    return `${tuple(this.normalizedShape)}, eps=${this.eps === null ? 'None' : pyFloat(this.eps)}, elementwise_affine=${py(this.elementwiseAffine)}`;
  }
}
