/**
 * The KD loss equals Distiller's formula computed by PyTorch (fixtures from scripts/fixtures/gen_kd.py), for the
 * composite reference (to the bit) and the fused kernel (within rounding), over shapes, temperatures, dtypes and
 * extreme logits.
 */
import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { kdLoss } from '../lib/index';
import { expectTensor, fixture, fromJson, type KdCase, type TensorJson } from './helpers';

type Case = KdCase;
interface LowCase extends Case {
  dtype: 'bfloat16' | 'float16';
  s_low: TensorJson;
  t_low: TensorJson;
}
const fx = fixture<{ cases: Case[]; low: LowCase[] }>('kd');

function inputs(c: Case): [torch.Tensor, torch.Tensor] {
  if (c.s_base && c.t_base) {
    // The fixture's inputs were transposed views; build the same non-contiguous views here.
    const s = fromJson(c.s_base).t().detach().requiresGrad_(true);
    return [s, fromJson(c.t_base).t()];
  }
  return [fromJson(c.s, { requiresGrad: true }), fromJson(c.t)];
}

// Fused vs PyTorch: the fused kernel sums exp() in a different order (and with its own exp), so it agrees with
// PyTorch's composite to float rounding, not to the bit: relative 2e-5 on the loss of float32 inputs (1e-12 for
// float64); gradients within 1e-6·max|grad| + 1e-7 (float32) / 1e-13 (float64).
function tolerances(dtype: string): { loss: number; grad: number } {
  return dtype === 'float64' ? { loss: 1e-12, grad: 1e-13 } : { loss: 2e-5, grad: 1e-6 };
}

function maxAbs(j: TensorJson): number {
  return j.data.reduce<number>((m, v) => (typeof v === 'number' ? Math.max(m, Math.abs(v)) : m), 0);
}

describe('composite KD loss equals Distiller’s formula in PyTorch, to the bit', () => {
  for (const c of fx.cases) {
    it(c.name, () => {
      const [s, t] = inputs(c);
      const loss = kdLoss(s, t, c.T, { dim: c.dim, impl: 'composite' });
      loss.backward();
      expectTensor(loss, c.loss);
      expectTensor(s.grad as torch.Tensor, c.grad);
    });
  }
});

describe('fused KD loss equals Distiller’s formula in PyTorch (within rounding)', () => {
  for (const c of fx.cases) {
    it(c.name, () => {
      const [s, t] = inputs(c);
      const loss = kdLoss(s, t, c.T, { dim: c.dim, impl: 'fused' });
      loss.backward();
      const tol = tolerances(c.loss.dtype);
      const expected = c.loss.data[0] as number;
      expect(loss.dtype).toBe(c.loss.dtype);
      // Identical logits give 0 in PyTorch; the fused value is 0 up to rounding of the same size.
      const atol = c.name === 'identical logits' ? 1e-6 : 0;
      expectTensor(loss, c.loss, { rtol: tol.loss, atol: atol + (Math.abs(expected) < 1e-6 ? 1e-7 : 0) });
      expectTensor(s.grad as torch.Tensor, c.grad, { atol: tol.grad * maxAbs(c.grad) + (c.loss.dtype === 'float64' ? 1e-15 : 1e-8), rtol: 0 });
    });
  }

  it('-inf teacher logits contribute exactly 0 (no NaN)', () => {
    const c = fx.cases.find((x) => x.name === '-inf teacher entries') as Case;
    const [s, t] = inputs(c);
    const loss = kdLoss(s, t, c.T);
    expect(Number.isFinite(loss.item())).toBe(true);
  });

  it('fused equals composite on random inputs of many shapes', () => {
    torch.manualSeed(3);
    for (const [n, cls] of [[1, 1], [5, 3], [17, 129], [64, 1000]]) {
      for (const T of [0.7, 1, 4]) {
        const s1 = torch.randn(n, cls).mul(4).requiresGrad_(true);
        const s2 = s1.detach().requiresGrad_(true);
        const t = torch.randn(n, cls).mul(4);
        const a = kdLoss(s1, t, T, { impl: 'fused' });
        const b = kdLoss(s2, t, T, { impl: 'composite' });
        a.backward();
        b.backward();
        expect(Math.abs((a.item() as number) - (b.item() as number))).toBeLessThanOrEqual(2e-5 * Math.abs(b.item() as number) + 1e-6);
        expect((s1.grad as torch.Tensor).allclose(s2.grad as torch.Tensor, { rtol: 1e-4, atol: 1e-7 })).toBe(true);
      }
    }
  });

  it('backward scales the saved gradient by the incoming gradient', () => {
    torch.manualSeed(4);
    const s = torch.randn(6, 11).requiresGrad_(true);
    const t = torch.randn(6, 11);
    kdLoss(s, t, 2, { impl: 'fused' }).mul(3.5).backward();
    const g1 = (s.grad as torch.Tensor).clone();
    s.grad = null;
    kdLoss(s, t, 2, { impl: 'composite' }).mul(3.5).backward();
    expect(g1.allclose(s.grad as unknown as torch.Tensor, { rtol: 1e-5, atol: 1e-8 })).toBe(true);
  });

  it('a second backward through the same fused graph is a clear error', () => {
    const s = torch.randn(2, 3).requiresGrad_(true);
    const loss = kdLoss(s, torch.randn(2, 3), 1, { impl: 'fused' });
    loss.backward(null, { retainGraph: true });
    expect(() => loss.backward()).toThrow(/backward ran twice.*composite/);
  });
});

describe('low precision inputs', () => {
  for (const c of fx.low) {
    it(`${c.dtype}: fused computes in float32 and matches PyTorch's float32 result on the same inputs`, () => {
      const s = fromJson(c.s_low, { requiresGrad: true });
      const t = fromJson(c.t_low);
      expect(s.dtype).toBe(c.dtype);
      const loss = kdLoss(s, t, c.T, { impl: 'fused' });
      expect(loss.dtype).toBe(c.dtype);
      loss.backward();
      const g = s.grad as torch.Tensor;
      expect(g.dtype).toBe(c.dtype);
      // The loss and gradient are rounded once to the low precision at the end (8 bits of mantissa for bf16).
      const eps = c.dtype === 'bfloat16' ? 2 ** -8 : 2 ** -11;
      expectTensor(loss.float(), c.loss, { rtol: 2 * eps, atol: 1e-6 });
      expectTensor(g.float(), c.grad, { rtol: 2 * eps, atol: maxAbs(c.grad) * eps });
    });
  }
});

describe('argument checks', () => {
  it('temperature must be finite and > 0', () => {
    const s = torch.randn(2, 3);
    expect(() => kdLoss(s, s, 0)).toThrow(RangeError);
    expect(() => kdLoss(s, s, -1)).toThrow(RangeError);
    expect(() => kdLoss(s, s, Infinity)).toThrow(RangeError);
    expect(() => kdLoss(s, s, NaN)).toThrow(RangeError);
    expect(() => kdLoss(s, s, '2' as never)).toThrow(TypeError);
  });

  it('shapes must match and the class dim must exist', () => {
    expect(() => kdLoss(torch.randn(2, 3), torch.randn(2, 4), 1)).toThrow(/same shape/);
    expect(() => kdLoss(torch.randn(2, 3), torch.randn(2, 3), 1, { dim: 2 })).toThrow(/out of range/);
    expect(() => kdLoss(torch.ones(2, 3, { dtype: 'int64' }), torch.ones(2, 3, { dtype: 'int64' }), 1)).toThrow(/floating point/);
    expect(() => kdLoss(torch.randn(2, 3), torch.randn(2, 3), 1, { impl: 'magic' as never })).toThrow(RangeError);
  });
});
