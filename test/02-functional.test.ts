/**
 * torch.nn.functional (torch.F) against PyTorch: activations, KL divergence, cross entropy, NLL, MSE, L1,
 * BCE-with-logits, seeded dropout and linear; values and input gradients equal to the bit.
 * Fixtures: scripts/fixtures/gen_tensor_functional.py → test/fixtures/tensor_functional.json.
 */
import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import type { Tensor } from '../lib/index';
import { type CaseFn, type CasesFixture, parityCases } from './02-parity-cases';
import { fixture, liveFixture, pythonWithTorch } from './helpers';

const fx = fixture<CasesFixture>('tensor_functional');
const F = torch.F;

const seededDropout =
  (seed: number, p: number, training: boolean): CaseFn =>
  (x) => {
    torch.manualSeed(seed);
    return F.dropout(x, p, training);
  };

const cases: Record<string, CaseFn> = {
  // activations
  relu: (x) => F.relu(x),
  leaky_relu: (x) => F.leakyRelu(x),
  leaky_relu_02: (x) => F.leakyRelu(x, 0.2),
  gelu: (x) => F.gelu(x),
  gelu_tanh: (x) => F.gelu(x, { approximate: 'tanh' }),
  softmax: (x) => F.softmax(x, 1),
  softmax_dim0: (x) => F.softmax(x, 0),
  log_softmax: (x) => F.logSoftmax(x, 1),
  // KL divergence
  kl_div_mean: (x, p) => F.klDiv(F.logSoftmax(x, 1), p, { reduction: 'mean' }),
  kl_div_sum: (x, p) => F.klDiv(F.logSoftmax(x, 1), p, { reduction: 'sum' }),
  kl_div_none: (x, p) => F.klDiv(F.logSoftmax(x, 1), p, { reduction: 'none' }),
  kl_div_batchmean: (x, p) => F.klDiv(F.logSoftmax(x, 1), p, { reduction: 'batchmean' }),
  kl_div_log_target: (x, o) => F.klDiv(F.logSoftmax(x, 1), F.logSoftmax(o, 1), { reduction: 'batchmean', logTarget: true }),
  kl_div_log_target_none: (x, o) => F.klDiv(F.logSoftmax(x, 1), F.logSoftmax(o, 1), { reduction: 'none', logTarget: true }),
  kl_div_zero_target: (x) => F.klDiv(F.logSoftmax(x, 1), torch.zeros(4, 5), { reduction: 'sum' }),
  // cross entropy
  cross_entropy: (x, t) => F.crossEntropy(x, t),
  cross_entropy_sum: (x, t) => F.crossEntropy(x, t, { reduction: 'sum' }),
  cross_entropy_none: (x, t) => F.crossEntropy(x, t, { reduction: 'none' }),
  cross_entropy_smoothing: (x, t) => F.crossEntropy(x, t, { labelSmoothing: 0.1 }),
  cross_entropy_ignore_index: (x, t) => F.crossEntropy(x, t, { ignoreIndex: 3 }),
  cross_entropy_default_ignore: (x, t) => F.crossEntropy(x, t),
  cross_entropy_weight: (x, t, w) => F.crossEntropy(x, t, { weight: w.detach() }),
  cross_entropy_weight_smoothing: (x, t, w) => F.crossEntropy(x, t, { weight: w.detach(), labelSmoothing: 0.2 }),
  cross_entropy_weight_ignore_none: (x, t, w) => F.crossEntropy(x, t, { weight: w.detach(), ignoreIndex: 3, reduction: 'none' }),
  cross_entropy_probs: (x, p) => F.crossEntropy(x, p),
  cross_entropy_probs_smoothing_sum: (x, p) => F.crossEntropy(x, p.detach(), { labelSmoothing: 0.1, reduction: 'sum' }),
  cross_entropy_3d: (x, t) => F.crossEntropy(x, t),
  // negative log likelihood
  nll_loss: (x, t) => F.nllLoss(F.logSoftmax(x, 1), t),
  nll_loss_sum: (x, t) => F.nllLoss(F.logSoftmax(x, 1), t, { reduction: 'sum' }),
  nll_loss_none: (x, t) => F.nllLoss(F.logSoftmax(x, 1), t, { reduction: 'none' }),
  nll_loss_weight: (x, t, w) => F.nllLoss(F.logSoftmax(x, 1), t, { weight: w.detach() }),
  nll_loss_ignore_index: (x, t) => F.nllLoss(F.logSoftmax(x, 1), t, { ignoreIndex: 3 }),
  // point-wise losses
  mse_loss: (x, y) => F.mseLoss(x, y),
  mse_loss_sum: (x, y) => F.mseLoss(x, y, { reduction: 'sum' }),
  mse_loss_none: (x, y) => F.mseLoss(x, y, { reduction: 'none' }),
  l1_loss: (x, y) => F.l1Loss(x, y),
  l1_loss_sum: (x, y) => F.l1Loss(x, y, { reduction: 'sum' }),
  l1_loss_none: (x, y) => F.l1Loss(x, y, { reduction: 'none' }),
  bce_with_logits: (x, t) => F.binaryCrossEntropyWithLogits(x, t),
  bce_with_logits_sum: (x, t) => F.binaryCrossEntropyWithLogits(x, t, { reduction: 'sum' }),
  bce_with_logits_none: (x, t) => F.binaryCrossEntropyWithLogits(x, t, { reduction: 'none' }),
  bce_with_logits_pos_weight: (x, t, pw) => F.binaryCrossEntropyWithLogits(x, t.detach(), { posWeight: pw.detach() }),
  bce_with_logits_weight: (x, t, w) => F.binaryCrossEntropyWithLogits(x, t.detach(), { weight: w.detach() }),
  // dropout
  dropout_p03: seededDropout(7, 0.3, true),
  dropout_p05_large: seededDropout(11, 0.5, true),
  dropout_eval: seededDropout(7, 0.3, false),
  dropout_p0: seededDropout(7, 0, true),
  dropout_p1: seededDropout(7, 1, true),
  // linear
  linear: (x, w, b) => F.linear(x, w, b),
  linear_no_bias: (x, w) => F.linear(x, w),
  linear_3d: (x, w, b) => F.linear(x, w, b),
};

describe('torch.nn.functional matches PyTorch (values and gradients)', () => {
  parityCases(fx, cases);
});

describe('torch.nn.functional surface', () => {
  it('is the same module as torch.F', () => {
    expect(torch.nn.functional).toBe(torch.F);
  });

  it('dropout in eval mode returns the input values unchanged', () => {
    const x = torch.randn(4, 4);
    const y: Tensor = F.dropout(x, 0.9, false);
    expect(y.equal(x)).toBe(true);
  });

  it('dropout keeps the expected fraction and scales the kept values by 1/(1-p)', () => {
    torch.manualSeed(0);
    const y = F.dropout(torch.ones(10000), 0.25, true);
    const kept = y.ne(0).sum().item() as number;
    expect(kept / 10000).toBeGreaterThan(0.72);
    expect(kept / 10000).toBeLessThan(0.78);
    expect(y.max().item()).toBeCloseTo(1 / 0.75, 6);
  });

  it('rejects unknown reductions and batchmean outside klDiv with a RangeError', () => {
    const x = torch.randn(2, 3);
    const t = torch.tensor([0, 2]);
    expect(() => F.crossEntropy(x, t, { reduction: 'avg' as never })).toThrow(RangeError);
    expect(() => F.mseLoss(x, x, { reduction: 'batchmean' as never })).toThrow(/'none', 'mean', 'sum'/);
  });
});

describe('live parity', () => {
  it.skipIf(pythonWithTorch() === null)('the committed tensor_functional fixture is what the current PyTorch produces', () => {
    expect(liveFixture<CasesFixture>('gen_tensor_functional.py')).toEqual(fx);
  });
});

describe('F.maxPool2d and nn.MaxPool2d without autograd', () => {
  // Where no gradient is needed (a frozen teacher, evaluation) max pooling of a contiguous CPU float tensor takes
  // the window maxima as elementwise maxima of strided slices: the same values as ATen's kernel (the one PyTorch's
  // F.max_pool2d runs, and F.maxPool2dWithIndices here), NaN where it has NaN.
  const reference = (x: Tensor, k: number | number[], o: { stride?: number | number[]; padding?: number | number[]; dilation?: number | number[]; ceilMode?: boolean } = {}): Tensor =>
    F.maxPool2dWithIndices(x, k, o.stride ?? null, o.padding ?? 0, o.dilation ?? 1, o.ceilMode ?? false).values;
  const expectSame = (got: Tensor, want: Tensor): void => {
    expect(got.shape).toEqual(want.shape);
    expect(got.dtype).toBe(want.dtype);
    expect(torch.equal(got.isnan(), want.isnan())).toBe(true);
    expect(torch.equal(got.nanToNum(0, Infinity, -Infinity), want.nanToNum(0, Infinity, -Infinity))).toBe(true);
  };
  const cases: [string, () => Tensor, number | number[], { stride?: number | number[]; padding?: number | number[]; dilation?: number | number[]; ceilMode?: boolean }][] = [
    ['after a ReLU, 2×2 stride 2 (simplenet)', () => torch.randn(16, 20, 24, 24).relu(), 2, {}],
    ['odd sizes, 3×3 stride 2', () => torch.randn(2, 3, 7, 9), 3, { stride: 2 }],
    ['2×3 kernel, strides (1, 2), dilation (2, 1)', () => torch.randn(2, 4, 11, 13), [2, 3], { stride: [1, 2], dilation: [2, 1] }],
    ['3-D input (C, H, W)', () => torch.randn(3, 10, 11), 2, {}],
    ['float64', () => torch.randn([2, 3, 8, 8], { dtype: 'float64' }), 2, { stride: 1 }],
    ['NaN and ±inf in the windows', () => torch.tensor([[[[1, NaN, 2, 3], [4, 5, -Infinity, 6], [Infinity, 0, 7, NaN], [-1, -2, -3, -4]]]]), 2, {}],
    ['padding (ATen kernel)', () => torch.randn(2, 3, 8, 8), 3, { stride: 2, padding: 1 }],
    ['ceil mode (ATen kernel)', () => torch.randn(2, 3, 7, 7), 2, { ceilMode: true }],
    ['non-contiguous input (ATen kernel)', () => torch.randn(2, 3, 9, 8).transpose(2, 3), 2, {}],
    ['1×1 kernel, stride 1: a copy, not the input', () => torch.randn(2, 3, 4, 4), 1, { stride: 1 }],
  ];
  for (const [name, make, k, o] of cases) {
    it(name, () => {
      torch.manualSeed(0);
      const x = make();
      const want = reference(x, k, o);
      expectSame(torch.noGrad(() => F.maxPool2d(x, k, o.stride ?? null, o.padding ?? 0, o.dilation ?? 1, o.ceilMode ?? false)), want);
      // a tensor that needs no gradient, in grad mode
      expectSame(F.maxPool2d(x, k, o.stride ?? null, o.padding ?? 0, o.dilation ?? 1, o.ceilMode ?? false), want);
      const m = new torch.nn.MaxPool2d(k, { stride: o.stride ?? null, padding: o.padding ?? 0, dilation: o.dilation ?? 1, ceilMode: o.ceilMode ?? false });
      expectSame(torch.noGrad(() => m.call(x)), want);
    });
  }

  it('the pooled result is a new tensor: writing to it leaves the input alone', () => {
    const x = torch.randn(1, 1, 4, 4);
    const before = x.clone();
    const y = torch.noGrad(() => F.maxPool2d(x, 1, 1));
    y.fill_(7);
    expect(torch.equal(x, before)).toBe(true);
  });

  it('with autograd, gradients flow to the window maxima as PyTorch routes them', () => {
    const x = torch.tensor([[[[1, 9, 2, 3], [4, 5, 8, 6], [0, 1, 7, 2], [3, 4, 5, 6]]]], { dtype: 'float32', requiresGrad: true });
    F.maxPool2d(x, 2).sum().backward();
    expect(x.grad!.tolist()).toEqual([[[[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0], [0, 1, 0, 0]]]]);
  });

  it('a native Sequential teacher (conv, ReLU, pool) under noGrad gives the same logits as with autograd', () => {
    torch.manualSeed(3);
    const net = torch.models.create('simplenet_mnist');
    net.eval();
    const x = torch.randn(8, 1, 28, 28);
    const withGrad = net.call(x).detach();
    expect(torch.equal(torch.noGrad(() => net.call(x)), withGrad)).toBe(true);
  });
});
