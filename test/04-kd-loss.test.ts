/**
 * The KD loss equals Distiller's formula computed by PyTorch (fixtures from scripts/fixtures/gen_kd.py), for the
 * composite reference (to the bit) and the fused kernel (within rounding), over shapes, temperatures, dtypes and
 * extreme logits.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { kdLoss } from '../lib/index';
import { expectError, expectTensor, fixture, fromJson, type KdCase, type TensorJson } from './helpers';

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

  it('a second backward through the same fused graph is a clear error, and autograd works normally after it', () => {
    const s = torch.randn(2, 3).requiresGrad_(true);
    const loss = kdLoss(s, torch.randn(2, 3), 1, { impl: 'fused' });
    loss.backward(null, { retainGraph: true });
    // Raised inside libtorch's autograd engine, as a c10 error it hands back (a TorchError), not as one that escapes it.
    expect(() => loss.backward()).toThrow(expect.objectContaining({ name: 'TorchError', message: expect.stringMatching(/backward ran twice.*composite/) }));
    const x = torch.tensor([1, 2, 3], { dtype: 'float32' }).requiresGrad_(true);
    x.mul(x).sum().backward();
    expect((x.grad as torch.Tensor).toArray()).toEqual([2, 4, 6]);
  });

  it('mixed dtypes promote as kl_div does: a float32 teacher is not rounded to a 16-bit student', () => {
    torch.manualSeed(13);
    const t = torch.randn(6, 40).mul(3);
    for (const [sd, td, want] of [['bfloat16', 'float32', 'float32'], ['float16', 'float32', 'float32'], ['float32', 'float64', 'float64'],
      ['float32', 'bfloat16', 'float32'], ['float16', 'bfloat16', 'float32']] as const) {
      const s = torch.randn(6, 40).mul(3).to({ dtype: sd }).requiresGrad_(true);
      const tt = t.to({ dtype: td });
      const fused = kdLoss(s, tt, 2, { impl: 'fused' });
      expect(fused.dtype, `${sd}/${td}`).toBe(want);
      fused.backward();
      expect((s.grad as torch.Tensor).dtype).toBe(sd);
      // The reference: the composite (PyTorch's ops, which promote) on the same values, in float64.
      const r = s.detach().double().requiresGrad_(true);
      const ref = kdLoss(r, tt.double(), 2, { impl: 'composite' });
      ref.backward();
      expect(kdLoss(s.detach(), tt, 2, { impl: 'composite' }).dtype).toBe(want); // libtorch's own promotion agrees
      const rel = Math.abs((fused.double().item() as number) - (ref.item() as number)) / Math.abs(ref.item() as number);
      expect(rel, `${sd}/${td}`).toBeLessThan(want === 'float64' ? 1e-12 : 1e-6); // the teacher kept its precision
      const eps = sd === 'bfloat16' ? 2 ** -8 : sd === 'float16' ? 2 ** -11 : 1e-6;
      const gr = r.grad as torch.Tensor;
      expect((s.grad as torch.Tensor).double().sub(gr).abs().max().item() as number).toBeLessThanOrEqual(2 * eps * (gr.abs().max().item() as number));
    }
    // Under autocast a 16-bit student with a float32 teacher computes in float32 (both on autocast's float32 list).
    const b = torch.randn(6, 40).bfloat16().requiresGrad_(true);
    expect(torch.autocast('cpu', () => kdLoss(b, t, 2)).dtype).toBe('float32');
  });
});

describe('low precision inputs', () => {
  for (const c of fx.low) {
    it(`${c.dtype}: fused computes in float32 and matches PyTorch's float32 result on the same inputs (${c.name})`, () => {
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

// Every CPU code path (AVX-512 intrinsics, AVX2+FMA and portable vectors; TORCHKD_KD_SIMD caps the one chosen) against
// the composite, in child processes, over row lengths that exercise the vector tails, several rows per thread (the
// next-row prefetch) and extreme logits; and the same result whatever the thread count.
const SIMD_CHILD = `
const torch = require(${JSON.stringify(path.resolve(__dirname, '..', 'dist', 'index.js'))});
torch.manualSeed(11);
let worstLoss = 0, worstGrad = 0;
for (const [n, c] of [[1, 1], [3, 7], [9, 17], [33, 31], [8, 2048], [5, 2049], [40, 4099]]) {
  for (const T of [0.5, 1, 4.5]) {
    const s = torch.randn(n, c).mul(5);
    const t = torch.randn(n, c).mul(5);
    const s1 = s.detach().requiresGrad_(true), s2 = s.detach().requiresGrad_(true);
    const a = torch.kdLoss(s1, t, T, { impl: 'fused' }), b = torch.kdLoss(s2, t, T, { impl: 'composite' });
    a.backward(); b.backward();
    // Relative to the loss, with 1e-7 absolute: an exact 0 (one class) comes out as rounding noise of that size.
    worstLoss = Math.max(worstLoss, Math.abs(a.item() - b.item()) / (Math.abs(b.item()) + 5e-3));
    const scale = Math.max(s2.grad.abs().max().item(), 1e-6);
    worstGrad = Math.max(worstGrad, s1.grad.sub(s2.grad).abs().max().item() / scale);
  }
}
// 16-bit inputs (read and written as such on AVX-512, widened elsewhere): against the composite in float64 on the
// same rounded inputs, within the output format's unit roundoff (2^-8 bf16, 2^-11 fp16) relative to the value (the
// gradient: to its largest entry).
let worst16 = 0;
for (const dtype of ['bfloat16', 'float16']) {
  for (const [n, c] of [[3, 7], [5, 2049], [17, 333]]) {
    const s = torch.randn(n, c).mul(4).to({ dtype }), t = torch.randn(n, c).mul(4).to({ dtype });
    const s1 = s.detach().requiresGrad_(true), s2 = s.double().requiresGrad_(true);
    const a = torch.kdLoss(s1, t, 2, { impl: 'fused' }), b = torch.kdLoss(s2, t.double(), 2, { impl: 'composite' });
    a.backward(); b.backward();
    const eps = dtype === 'bfloat16' ? 2 ** -8 : 2 ** -11;
    const scale = s2.grad.abs().max().item();
    worst16 = Math.max(worst16, Math.abs(a.float().item() - b.item()) / Math.abs(b.item()) / eps,
      s1.grad.double().sub(s2.grad).abs().max().item() / scale / eps);
  }
}
// Extreme logits: -inf teacher entries, ±1e4, a one-hot teacher.
const s = torch.tensor([[1e4, -1e4, 0, 3, 2, 1, 0, 0, 5, 6, 7, 8, 9, 1, 2, 3, 4], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]]).float();
const t = torch.tensor([[-Infinity, 2, 3, -Infinity, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8], [-1e4, -1e4, -1e4, -1e4, -1e4, -1e4, -1e4, -1e4, -1e4, -1e4, -1e4, -1e4, -1e4, -1e4, -1e4, -1e4, 1e4]]).float();
const e1 = torch.kdLoss(s, t, 2, { impl: 'fused' }).item(), e2 = torch.kdLoss(s, t, 2, { impl: 'composite' }).item();
const extreme = Math.abs(e1 - e2) / Math.abs(e2);
// Rows masked with a large constant: row 0 wholly (its maximum is the mask value, whose product with log2(e)/T is
// huge or overflows), a tail of row 1, the student's whole row 2; the 16-bit path with its format's lowest value.
let masked = 0;
for (const [T, v] of [[1, -1e10], [2, -1e10], [2, -3.4028234663852886e38], [1, -3.4028234663852886e38], [2, -3.3895313892515355e38]]) {
  for (const dtype of ['float32', 'bfloat16']) {
    if (dtype === 'bfloat16' && v < -3.39e38) continue; // float32's lowest rounds to -inf in bfloat16
    const n = 5, c = 2049;
    const col = torch.arange(c).unsqueeze(0).expand([n, c]), row = torch.arange(n).unsqueeze(1).expand([n, c]);
    const both = row.eq(0).logicalOr(row.eq(1).logicalAnd(col.ge(1000)));
    const s = torch.randn(n, c).mul(3).maskedFill(both, v).maskedFill(row.eq(2), v).to({ dtype });
    const t = torch.randn(n, c).mul(3).maskedFill(both, v).to({ dtype });
    const s1 = s.detach().requiresGrad_(true), s2 = s.double().requiresGrad_(true);
    const a = torch.kdLoss(s1, t, T, { impl: 'fused' }), b = torch.kdLoss(s2, t.double(), T, { impl: 'composite' });
    a.backward(); b.backward();
    const eps = dtype === 'bfloat16' ? 2 ** -8 : 2 ** -20;
    const err = Math.max(Math.abs(a.double().item() - b.item()) / Math.abs(b.item()),
      s1.grad.double().sub(s2.grad).abs().max().item() / s2.grad.abs().max().item()) / eps;
    masked = Math.max(masked, Number.isNaN(err) ? 1e9 : err); // NaN (JSON has no Infinity) fails
  }
}
// Thread count: rows are independent and summed in order, so 1 and 2 threads give the same bits.
const big = torch.randn(64, 3000), bigT = torch.randn(64, 3000);
torch.setNumThreads(1);
const l1 = torch.kdLoss(big, bigT, 2).item();
torch.setNumThreads(2);
const l2 = torch.kdLoss(big, bigT, 2).item();
const simd = require(${JSON.stringify(path.resolve(__dirname, '..', 'dist', 'binding.js'))}).native().kdCpuSimd();
process.stdout.write(JSON.stringify({ simd, worstLoss, worstGrad, worst16, extreme, masked, sameAcrossThreads: l1 === l2 }));
`;

/** The widest instruction set the kernel can use on this CPU (as its dispatch reads the CPU's feature flags). */
function machineSimd(): 'avx512' | 'avx2' | 'portable' {
  const flags = new Set(fs.existsSync('/proc/cpuinfo') ? (/^flags\s*:(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').trim().split(/\s+/) : []);
  if (['avx512f', 'avx512dq', 'avx512bw', 'avx512vl'].every((f) => flags.has(f))) return 'avx512';
  return flags.has('avx2') && flags.has('fma') ? 'avx2' : 'portable';
}

describe('fused CPU kernel: every instruction-set path', () => {
  const widest = process.arch === 'x64' ? machineSimd() : 'portable';
  const expected = { native: widest, avx2: widest === 'avx512' ? 'avx2' : widest, portable: 'portable' } as const;
  for (const simd of ['native', 'avx2', 'portable'] as const) {
    it(`${simd}: runs the ${simd === 'native' ? "machine's widest" : simd} path and equals the composite within rounding`, () => {
      const env = { ...process.env, TORCHKD_KD_SIMD: simd === 'native' ? '' : simd };
      const r = spawnSync(process.execPath, ['-e', SIMD_CHILD], { env, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { simd: string; worstLoss: number; worstGrad: number; worst16: number; extreme: number; masked: number; sameAcrossThreads: boolean };
      expect(out.simd).toBe(expected[simd]);
      expect(out.worstLoss).toBeLessThan(2e-5);
      expect(out.worstGrad).toBeLessThan(1e-5);
      expect(out.worst16).toBeLessThanOrEqual(1.01); // the 16-bit format's unit roundoff, plus float arithmetic
      expect(out.extreme).toBeLessThan(1e-6);
      expect(out.masked).toBeLessThanOrEqual(2); // within two units of the format's roundoff (2^-20 for float32), no NaN
      expect(out.sameAcrossThreads).toBe(true);
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

  it('each check throws its own class and names the argument', () => {
    const s = torch.randn(2, 3);
    expectError(() => kdLoss(s, s, '2' as never), TypeError, 'Expected a number for temperature but received the string "2"');
    for (const T of [0, -1, -0.5, Infinity, -Infinity, NaN]) {
      expectError(() => kdLoss(s, s, T), RangeError, `temperature must be finite and > 0, got ${T}`);
    }
    expectError(() => kdLoss(s, s, 1, { impl: 'magic' as never }), RangeError, `impl must be 'auto', 'fused' or 'composite', got the string "magic"`);
    expectError(() => kdLoss(s, s, 1, { impl: 'toString' as never }), RangeError, `impl must be 'auto', 'fused' or 'composite', got the string "toString"`);
    expectError(() => kdLoss(1 as never, s, 1), TypeError, 'Expected a Tensor for student logits but received the number 1');
    expectError(() => kdLoss(s, [1, 2] as never, 1), TypeError, 'Expected a Tensor for teacher logits but received an array');
    expectError(() => kdLoss(s, s, 1, { dim: 1.5 }), RangeError, 'Expected an integer for dim but received 1.5');
    expectError(() => kdLoss(s, s, 1, { dim: '1' as never }), TypeError, 'Expected an integer for dim but received the string "1"');
  });
});
