/**
 * Matrix products, shape and indexing ops, masking, softmax, one-hot, topk and sort against PyTorch: outputs and
 * input gradients equal to the bit. Fixtures: scripts/fixtures/gen_tensor_shape.py → test/fixtures/tensor_shape.json.
 */
import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { type CaseFn, type CasesFixture, parityCases } from './02-parity-cases';
import { fixture, liveFixture, pythonWithTorch } from './helpers';

const fx = fixture<CasesFixture & { data_ptr: { view_offsets: number[]; empty: number[] } }>('tensor_shape');

const cases: Record<string, CaseFn> = {
  // matrix products
  matmul_2d: (a, m) => a.matmul(m),
  matmul_vec: (a, r) => torch.matmul(a, r),
  matmul_batched: (c, m) => c.matmul(m),
  matmul_batched_both: (c, b) => c.matmul(b),
  mm: (a, m) => torch.mm(a, m),
  bmm: (c, b) => c.bmm(b),
  matmul_float64: (a, b) => a.matmul(b.t()),
  // shapes
  reshape: (a) => a.reshape(4, 3),
  reshape_infer: (c) => torch.reshape(c, [-1, 6]),
  view: (a) => a.view([2, 6]),
  flatten: (c) => torch.flatten(c),
  flatten_from1: (c) => c.flatten(1),
  squeeze: (o) => o.squeeze(),
  squeeze_dim: (o) => torch.squeeze(o, 0),
  unsqueeze: (a) => a.unsqueeze(1),
  unsqueeze_neg: (a) => torch.unsqueeze(a, -1),
  transpose: (c) => c.transpose(0, 2),
  permute: (c) => c.permute(2, 0, 1),
  t: (a) => torch.t(a),
  cat0: (a, b) => torch.cat([a, b], 0),
  cat1: (a, b, c) => torch.cat([a, c, b], 1),
  stack0: (a, b) => torch.stack([a, b]),
  stack2: (a, b) => torch.stack([a, b], 2),
  split_size: (a) => a.split(3, 1),
  split_sections: (a) => torch.split(a, [1, 2], 0),
  chunk: (a) => a.chunk(2, 1),
  chunk_uneven: (c) => torch.chunk(c, 2, 1),
  narrow: (a) => a.narrow(1, 1, 2),
  select: (a) => torch.select(a, 1, 2),
  select_neg: (c) => c.select(0, -1),
  index_select: (a, i) => a.indexSelect(1, i),
  index_select_dim0: (a, i) => torch.indexSelect(a, 0, i.narrow(0, 0, 2)),
  gather: (a, i) => a.gather(1, i),
  expand: (c) => c.expand(3, 4),
  expand_keep: (c) => c.expand([2, -1, 5]),
  // masking and selection
  masked_fill: (a) => a.maskedFill(a.gt(0), 0.0),
  masked_fill_neg_inf: (a) => torch.maskedFill(a, a.lt(-0.5), -Infinity),
  masked_fill_broadcast: (a, r) => a.maskedFill(r.gt(0), 7.0),
  where: (a, b) => torch.where(a.gt(b), a, b),
  where_scalar: (a) => torch.where(a.gt(0), a, 0.0),
  where_scalar_first: (a) => torch.where(a.gt(0), -1.0, a),
  softmax1: (a) => a.softmax(1),
  softmax0: (a) => torch.softmax(a, 0),
  softmax_neg_dim: (c) => c.softmax(-1),
  log_softmax1: (a) => torch.logSoftmax(a, 1),
  log_softmax_large: (a) => a.mul(100).logSoftmax(1),
  one_hot: (l) => torch.F.oneHot(l),
  one_hot_classes: (l) => torch.nn.functional.oneHot(l, 6),
  topk: (a) => a.topk(2, 1),
  topk_smallest: (a) => torch.topk(a, 3, 0, false),
  sort: (a) => a.sort(1),
  sort_descending: (a) => torch.sort(a, 0, true),
  sort_stable_ties: (t) => t.sort(1, false, { stable: true }),
  argsort: (a) => a.argsort(1),
};

describe('shape, indexing and matrix ops match PyTorch (outputs and gradients)', () => {
  parityCases(fx, cases);
});

describe('views and memory', () => {
  it('view, transpose, expand, narrow and select share storage with their base', () => {
    const base = torch.zeros(2, 3);
    const views = [base.view(6), base.t(), base.unsqueeze(0).expand(4, 2, 3), base.narrow(1, 1, 2), base.select(0, 1)];
    base.fill_(5);
    for (const v of views) expect(v.sum().item()).toBe(5 * v.numel());
  });

  it('transposed views are not contiguous until contiguous() copies them', () => {
    const t = torch.arange(6).reshape(2, 3).t();
    expect(t.isContiguous()).toBe(false);
    expect(t.stride()).toEqual([1, 3]);
    const c = t.contiguous();
    expect(c.isContiguous()).toBe(true);
    expect(c.toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
  });

  it('view() of a non-contiguous tensor fails as in PyTorch while reshape() copies', () => {
    const t = torch.arange(6).reshape(2, 3).t();
    expect(() => t.view(6)).toThrow(/view size is not compatible|contiguous/);
    expect(t.reshape(6).toArray()).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it('split and chunk return arrays; topk and sort return {values, indices}', () => {
    const x = torch.arange(10);
    expect(x.split(4).map((p) => p.numel())).toEqual([4, 4, 2]);
    expect(x.chunk(3).map((p) => p.numel())).toEqual([4, 4, 2]);
    const { values, indices } = torch.tensor([3, 1, 2]).topk(2);
    expect(values.toArray()).toEqual([3, 2]);
    expect(indices.toArray()).toEqual([0, 2]);
  });
});

describe('dataPtr()', () => {
  it('views start at their offset in bytes, and a tensor without elements has no memory (0), as PyTorch', () => {
    const base = torch.arange(24, { dtype: 'float32' }).reshape(4, 6);
    const base64 = torch.arange(10, { dtype: 'float64' });
    const views = [base.select(0, 1), base.select(1, 2), base.narrow(0, 2, 2).narrow(1, 3, 3), base.t(), base.view(-1).narrow(0, 5, 19)];
    const offsets = [...views.map((v) => v.dataPtr() - base.dataPtr()), base64.narrow(0, 7, 3).dataPtr() - base64.dataPtr()];
    expect(offsets).toEqual(fx.data_ptr.view_offsets);
    expect([torch.empty(0).dataPtr(), torch.zeros(3, 0).dataPtr(), torch.ones(0, { dtype: 'int64' }).dataPtr()]).toEqual(fx.data_ptr.empty);
    expect(base.dataPtr()).toBeGreaterThan(0);
    expect(base.clone().dataPtr()).not.toBe(base.dataPtr());
  });
});

describe('live parity', () => {
  it.skipIf(pythonWithTorch() === null)('the committed tensor_shape fixture is what the current PyTorch produces', () => {
    expect(liveFixture<CasesFixture>('gen_tensor_shape.py')).toEqual(fx);
  });
});
