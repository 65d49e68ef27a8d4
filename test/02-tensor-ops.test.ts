/**
 * Arithmetic, comparison and reduction ops against PyTorch: outputs and input gradients equal to the bit.
 * Fixtures: scripts/fixtures/gen_tensor_ops.py → test/fixtures/tensor_ops.json (case format: test/02-parity-cases.ts).
 */
import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import type { Tensor } from '../lib/index';
import { type CaseFn, type CasesFixture, parityCases } from './02-parity-cases';
import { fixture, liveFixture, pythonWithTorch } from './helpers';

const fx = fixture<CasesFixture>('tensor_ops');

const cases: Record<string, CaseFn> = {
  // arithmetic, with broadcasting and number operands
  add: (a, b) => a.add(b),
  add_alpha: (a, b) => torch.add(a, b, { alpha: 2.5 }),
  add_row: (a, r) => a.add(r),
  add_col_row: (c, r) => torch.add(c, r),
  add_scalar: (a) => a.add(1.5),
  add_scalar_alpha: (a) => a.add(2, 3),
  sub: (a, b) => a.sub(b),
  sub_alpha: (a, b) => a.sub(b, { alpha: 0.5 }),
  sub_scalar: (a) => torch.sub(a, 2),
  rsub: (a) => torch.rsub(a, 1),
  mul: (a, b) => a.mul(b),
  mul_col: (a, c) => torch.mul(a, c),
  mul_scalar: (a) => a.mul(-3),
  div: (a, b) => a.div(b),
  div_scalar: (a) => torch.div(a, 3),
  div_floor: (a, p) => torch.div(a, p, { roundingMode: 'floor' }),
  div_trunc: (a, p) => a.div(p, { roundingMode: 'trunc' }),
  neg: (a) => a.neg(),
  pow_2: (a) => a.pow(2),
  pow_3: (a) => torch.pow(a, 3),
  pow_half: (p) => p.pow(0.5),
  pow_tensor: (p, b) => p.pow(b),
  pow_scalar_base: (a) => torch.pow(2, a),
  exp: (a) => torch.exp(a),
  log: (p) => p.log(),
  log_negative_is_nan: (a) => a.detach().log(),
  sqrt: (p) => torch.sqrt(p),
  abs: (a) => a.abs(),
  clamp: (a) => torch.clamp(a, -0.5, 0.5),
  clamp_min: (a) => a.clamp({ min: 0 }),
  clamp_max: (a) => a.clamp(null, 0.1),
  sign: (a) => torch.sign(a),
  sigmoid: (a) => a.sigmoid(),
  tanh: (a) => torch.tanh(a),
  relu: (a) => a.relu(),
  special_exp: (s) => s.exp(),
  special_sign: (s) => s.detach().sign(),
  special_sqrt: (s) => s.detach().sqrt(),
  special_relu: (s) => s.detach().relu(),
  special_sigmoid: (s) => s.detach().sigmoid(),
  float64_arith: (a, b) => a.mul(b).add(a.div(b)).sub(b.exp()).tanh(),
  // integer tensors stay int64 with integer operands, as in Python
  int_add_int: (i) => i.add(2),
  int_mul_int: (i) => i.mul(3),
  int_sub_tensor: (i, j) => i.sub(j),
  int_pow_int: (i) => i.pow(2),
  int_div_is_float: (i) => i.div(2),
  int_add_float_is_float: (i) => i.add(2.5),
  int_floor_div: (i, j) => i.div(j, { roundingMode: 'floor' }),
  int_neg_abs: (i) => i.neg().abs(),
  int_plus_float_tensor: (i, a) => i.add(a),
  int_sum: (i) => i.sum(),
  int_sum_dim: (i) => i.sum(1),
  int_clamp: (i) => i.clamp(-2, 2),
  int_sign: (i) => i.sign(),
  float32_plus_float64: (a, b) => a.add(b),
  // comparisons
  eq: (t) => t.eq(2),
  eq_tensor: (a) => a.eq(a.clamp(-0.5, 0.5)),
  ne: (t) => t.ne(t.select(0, 0)),
  lt: (a, b) => torch.lt(a, b),
  le: (a) => a.le(0),
  gt: (a, r) => a.gt(r),
  ge: (i) => torch.ge(i, 1),
  eq_nan: (s) => s.eq(s),
  // reductions
  sum: (a) => a.sum(),
  sum_dim1: (a) => torch.sum(a, 1),
  sum_dim0_keepdim: (a) => a.sum(0, { keepdim: true }),
  sum_dims: (c) => c.sum([0, 2]),
  sum_neg_dim: (c) => c.sum(-1),
  mean: (a) => torch.mean(a),
  mean_dim1_keepdim: (a) => a.mean(1, true),
  mean_dims: (c) => c.mean([1, 2]),
  max: (a) => a.max(),
  max_dim1: (a) => a.max(1),
  max_dim0_keepdim: (a) => torch.max(a, 0, true),
  min: (a) => torch.min(a),
  min_dim1: (a) => a.min(1),
  max_ties: (t) => t.max(1),
  argmax: (a) => a.argmax(),
  argmax_dim1: (a) => torch.argmax(a, 1),
  argmax_ties: (t) => t.argmax(1),
  argmin_dim0_keepdim: (a) => a.argmin(0, true),
  argmin: (c) => torch.argmin(c),
  std: (a) => a.std(),
  std_dim1: (a) => torch.std(a, 1),
  std_unbiased_false: (a) => a.std(0, { unbiased: false }),
  var: (a) => a.var(),
  var_dim1_keepdim: (a) => torch.var(a, 1, { keepdim: true }),
  var_correction0: (c) => c.var([0, 2], { correction: 0 }),
  logsumexp_dim1: (a) => a.logsumexp(1),
  logsumexp_dim0_keepdim: (a) => torch.logsumexp(a, 0, true),
  logsumexp_large: (a) => a.mul(100).logsumexp(1),
  float64_reductions: (a) => torch.stack([a.sum(), a.mean(), a.std(), a.var(), a.logsumexp([0, 1])]),
};

describe('ops match PyTorch (outputs and gradients)', () => {
  parityCases(fx, cases);
});

describe('dtype promotion as in Python', () => {
  it('integer tensors with integer numbers stay int64; true division and fractional numbers give float32', () => {
    const i = torch.tensor([1, 2, 3]);
    expect(i.add(2).dtype).toBe('int64');
    expect(i.mul(-4).dtype).toBe('int64');
    expect(i.sub(i).dtype).toBe('int64');
    expect(i.pow(2).dtype).toBe('int64');
    expect(i.div(2).dtype).toBe('float32');
    expect(i.add(0.5).dtype).toBe('float32');
    expect(i.eq(2).dtype).toBe('bool');
    expect(i.sum().dtype).toBe('int64');
  });

  it('number operands do not promote float32 to float64; float64 tensors do', () => {
    const f = torch.ones(2);
    expect(f.add(1e300).dtype).toBe('float32');
    expect(f.add(torch.ones(2, { dtype: 'float64' })).dtype).toBe('float64');
    expect(torch.ones(2, { dtype: 'int32' }).add(torch.tensor([1, 2])).dtype).toBe('int64');
  });

  it('booleans act as numbers (true is 1)', () => {
    expect(torch.tensor([1.5, 2]).add(true).toArray()).toEqual([2.5, 3]);
    expect(torch.tensor([true, false]).mul(true).dtype).toBe('bool');
  });

  it('reductions take a dtype option', () => {
    const i = torch.tensor([1, 2, 4]);
    const s = i.sum(null, { dtype: 'float64' });
    expect(s.dtype).toBe('float64');
    expect(s.item()).toBe(7);
  });
});

describe('function forms are the methods', () => {
  const a = torch.tensor([[0.5, -1.25, 2], [3, -0.75, 0.1]]);
  const b = torch.tensor([[1.5, 0.25, -2], [0.3, 0.75, 4]]);
  const same = (x: Tensor, y: Tensor): void => {
    expect(x.dtype).toBe(y.dtype);
    expect(x.equal(y)).toBe(true);
  };
  it('elementwise', () => {
    same(torch.add(a, b, 2), a.add(b, 2));
    same(torch.sub(a, b, { alpha: 3 }), a.sub(b, 3));
    same(torch.mul(a, b), a.mul(b));
    same(torch.div(a, b), a.div(b));
    same(torch.pow(a, 2), a.pow(2));
    for (const op of ['neg', 'exp', 'abs', 'sign', 'sigmoid', 'tanh', 'relu'] as const) same(torch[op](a), a[op]());
    same(torch.log(b.abs()), b.abs().log());
    same(torch.sqrt(b.abs()), b.abs().sqrt());
    same(torch.clamp(a, 0, 1), a.clamp(0, 1));
    for (const op of ['eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const) same(torch[op](a, b), a[op](b));
  });
  it('reductions', () => {
    same(torch.sum(a, 1, true), a.sum(1, true));
    same(torch.mean(a, 0), a.mean(0));
    same(torch.max(a), a.max());
    same(torch.max(a, 1).indices, a.max(1).indices);
    same(torch.min(a, 0).values, a.min(0).values);
    same(torch.argmax(a, 1), a.argmax(1));
    same(torch.argmin(a), a.argmin());
    same(torch.std(a, 1), a.std(1));
    same(torch.var(a, 1), a.var(1));
    same(torch.logsumexp(a, 1), a.logsumexp(1));
  });
  it('max/min along a dim destructure as [values, indices]', () => {
    const [values, indices] = a.max(1);
    expect(values.toArray()).toEqual([2, 3]);
    expect(indices.toArray()).toEqual([2, 0]);
  });
});

describe('live parity', () => {
  it.skipIf(pythonWithTorch() === null)('the committed tensor_ops fixture is what the current PyTorch produces', () => {
    expect(liveFixture<CasesFixture>('gen_tensor_ops.py')).toEqual(fx);
  });
});
