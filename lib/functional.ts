/**
 * torch.nn.functional (also `torch.F`): activations, losses and layer primitives, with PyTorch's argument order;
 * Python keyword arguments become a trailing options object.
 *
 * @example
 * const loss = F.crossEntropy(logits, labels, { labelSmoothing: 0.1 });
 */
import { describe } from './dtype';
import { N, Tensor, handleOf, int, intPair, num, wrap } from './tensor';

/** Loss reductions. `'batchmean'` is for klDiv only. */
export type Reduction = 'none' | 'mean' | 'sum';

const REDUCTION: Record<string, number> = { none: 0, mean: 1, sum: 2, batchmean: 3 };

function reduction(r: unknown, allowBatchmean = false): number {
  const v = r === undefined ? 'mean' : r;
  const code = typeof v === 'string' ? REDUCTION[v] : undefined;
  if (code === undefined || (code === 3 && !allowBatchmean)) {
    throw new RangeError(
      `Expected reduction to be one of 'none', 'mean', 'sum'${allowBatchmean ? ", 'batchmean'" : ''} but received ${describe(r)}`,
    );
  }
  return code;
}

function optHandle(t: Tensor | null | undefined, what: string): number {
  return t === undefined || t === null ? -1 : handleOf(t, what);
}

const pair = intPair;

function input(t: unknown, fn: string): Tensor {
  if (t instanceof Tensor) return t;
  throw new TypeError(`F.${fn}() expects a Tensor input but received ${describe(t)}`);
}

// ---- activations -------------------------------------------------------------------------------------------------

export const relu = (x: Tensor): Tensor => input(x, 'relu').relu();
export const sigmoid = (x: Tensor): Tensor => input(x, 'sigmoid').sigmoid();
export const tanh = (x: Tensor): Tensor => input(x, 'tanh').tanh();
export function silu(x: Tensor): Tensor {
  return wrap(N.unary(34, input(x, 'silu').h));
}
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return wrap(N.leakyRelu(input(x, 'leakyRelu').h, num(negativeSlope, 'negativeSlope')));
}
/** GELU; `{approximate: 'tanh'}` for the tanh approximation. */
export function gelu(x: Tensor, options: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  return wrap(N.gelu(input(x, 'gelu').h, options.approximate ?? 'none'));
}
export const softmax = (x: Tensor, dim: number): Tensor => input(x, 'softmax').softmax(dim);
export const logSoftmax = (x: Tensor, dim: number): Tensor => input(x, 'logSoftmax').logSoftmax(dim);

/** One-hot encoding of an int64 tensor (`numClasses = -1` infers it from the largest value). */
export function oneHot(x: Tensor, numClasses = -1): Tensor {
  return wrap(N.oneHot(input(x, 'oneHot').h, int(numClasses, 'numClasses')));
}

// ---- losses ------------------------------------------------------------------------------------------------------

/** Options of {@link klDiv}. */
export interface KlDivOptions {
  reduction?: Reduction | 'batchmean';
  logTarget?: boolean;
}

/**
 * KL divergence with `input` as log-probabilities (F.kl_div). `'batchmean'` divides the sum by `input.size(0)`.
 */
export function klDiv(inp: Tensor, target: Tensor, options: KlDivOptions = {}): Tensor {
  return wrap(N.klDiv(input(inp, 'klDiv').h, handleOf(target, 'target'), reduction(options.reduction, true), options.logTarget ?? false));
}

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  weight?: Tensor | null;
  ignoreIndex?: number;
  reduction?: Reduction;
  labelSmoothing?: number;
}

/** Cross entropy of logits against class indices (int64) or class probabilities. */
export function crossEntropy(inp: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  return wrap(
    N.crossEntropy(
      input(inp, 'crossEntropy').h,
      handleOf(target, 'target'),
      optHandle(options.weight, 'weight'),
      reduction(options.reduction),
      int(options.ignoreIndex ?? -100, 'ignoreIndex'),
      num(options.labelSmoothing ?? 0, 'labelSmoothing'),
    ),
  );
}

/** Negative log likelihood of log-probabilities against class indices. */
export function nllLoss(inp: Tensor, target: Tensor, options: Omit<CrossEntropyOptions, 'labelSmoothing'> = {}): Tensor {
  return wrap(
    N.nllLoss(input(inp, 'nllLoss').h, handleOf(target, 'target'), optHandle(options.weight, 'weight'), reduction(options.reduction), int(options.ignoreIndex ?? -100, 'ignoreIndex')),
  );
}

export function mseLoss(inp: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  return wrap(N.pointLoss(0, input(inp, 'mseLoss').h, handleOf(target, 'target'), reduction(options.reduction)));
}

export function l1Loss(inp: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  return wrap(N.pointLoss(1, input(inp, 'l1Loss').h, handleOf(target, 'target'), reduction(options.reduction)));
}

export function smoothL1Loss(inp: Tensor, target: Tensor, options: { reduction?: Reduction; beta?: number } = {}): Tensor {
  return wrap(N.pointLoss(2, input(inp, 'smoothL1Loss').h, handleOf(target, 'target'), reduction(options.reduction), num(options.beta ?? 1, 'beta')));
}

export function binaryCrossEntropy(inp: Tensor, target: Tensor, options: { weight?: Tensor | null; reduction?: Reduction } = {}): Tensor {
  return wrap(N.pointLoss(3, input(inp, 'binaryCrossEntropy').h, handleOf(target, 'target'), reduction(options.reduction), optHandle(options.weight, 'weight')));
}

export function binaryCrossEntropyWithLogits(
  inp: Tensor,
  target: Tensor,
  options: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {},
): Tensor {
  return wrap(
    N.bceWithLogits(input(inp, 'binaryCrossEntropyWithLogits').h, handleOf(target, 'target'), optHandle(options.weight, 'weight'), optHandle(options.posWeight, 'posWeight'), reduction(options.reduction)),
  );
}

// ---- layers ------------------------------------------------------------------------------------------------------

/** Zeroes elements with probability p (scaling the rest by 1/(1-p)) when training. */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  if (typeof training !== 'boolean') throw new TypeError(`dropout: training must be a boolean, got ${describe(training)}`);
  return wrap(N.dropout(input(x, 'dropout').h, num(p, 'p'), training));
}

/** x·Wᵀ + b. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return wrap(N.linear(input(x, 'linear').h, handleOf(weight, 'weight'), optHandle(bias, 'bias')));
}

/** Options of {@link conv2d}. */
export interface Conv2dOptions {
  stride?: number | number[];
  padding?: number | number[] | 'valid';
  dilation?: number | number[];
  groups?: number;
}

export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  const padding = options.padding === 'valid' ? 0 : (options.padding ?? 0);
  return wrap(
    N.conv2d(input(x, 'conv2d').h, handleOf(weight, 'weight'), optHandle(bias, 'bias'), pair(options.stride ?? 1, 'stride'), pair(padding, 'padding'), pair(options.dilation ?? 1, 'dilation'), int(options.groups ?? 1, 'groups')),
  );
}

/** Options of the pooling functions; `stride` defaults to the kernel size as in PyTorch. */
export interface Pool2dOptions {
  stride?: number | number[] | null;
  padding?: number | number[];
  dilation?: number | number[];
  ceilMode?: boolean;
  countIncludePad?: boolean;
  divisorOverride?: number | null;
}

export function maxPool2d(x: Tensor, kernelSize: number | number[], options: Pool2dOptions = {}): Tensor {
  const k = pair(kernelSize, 'kernelSize');
  return wrap(N.maxPool2d(input(x, 'maxPool2d').h, k, options.stride == null ? k : pair(options.stride, 'stride'), pair(options.padding ?? 0, 'padding'), pair(options.dilation ?? 1, 'dilation'), options.ceilMode ?? false));
}

export function avgPool2d(x: Tensor, kernelSize: number | number[], options: Pool2dOptions = {}): Tensor {
  const k = pair(kernelSize, 'kernelSize');
  return wrap(
    N.avgPool2d(input(x, 'avgPool2d').h, k, options.stride == null ? k : pair(options.stride, 'stride'), pair(options.padding ?? 0, 'padding'), options.ceilMode ?? false, options.countIncludePad ?? true, options.divisorOverride ?? null),
  );
}

export function adaptiveAvgPool2d(x: Tensor, outputSize: number | number[]): Tensor {
  return wrap(N.adaptiveAvgPool2d(input(x, 'adaptiveAvgPool2d').h, pair(outputSize, 'outputSize')));
}

/** Batch normalisation; running statistics are updated in place when training. */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  options: { weight?: Tensor | null; bias?: Tensor | null; training?: boolean; momentum?: number; eps?: number } = {},
): Tensor {
  return wrap(
    N.batchNorm(input(x, 'batchNorm').h, optHandle(runningMean, 'runningMean'), optHandle(runningVar, 'runningVar'), optHandle(options.weight, 'weight'), optHandle(options.bias, 'bias'), options.training ?? false, num(options.momentum ?? 0.1, 'momentum'), num(options.eps ?? 1e-5, 'eps')),
  );
}

/** Constant padding (F.pad with mode 'constant'): `pad` lists (before, after) pairs from the last dim backwards. */
export function pad(x: Tensor, padding: number[], value = 0): Tensor {
  if (!Array.isArray(padding)) throw new TypeError(`pad expects an array of paddings but received ${describe(padding)}`);
  return wrap(N.pad(input(x, 'pad').h, padding.map((p) => int(p, 'pad')), num(value, 'value')));
}
