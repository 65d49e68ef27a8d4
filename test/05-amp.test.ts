/**
 * Mixed precision: torch.autocast regions and torch.amp.GradScaler, against PyTorch on the CPU (the same libtorch
 * autocast lists and scaler kernels serve CUDA; test/07 runs them there). Fixtures: scripts/fixtures/gen_nn.py.
 */
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';

import * as torch from '../lib/index';
import { Tensor, TorchError, nn, optim } from '../lib/index';
import { HAS_CUDA, NEEDS_NO_CUDA, expectTensor, fixture, fromJson, itWhen, liveTensorsSettled, thrown, type TensorJson } from './helpers';

type StateJson = Record<string, TensorJson>;
interface AmpFixture {
  optim: { x: TensorJson; y: TensorJson };
  amp: {
    autocast: { start: StateJson; out: TensorJson; loss: TensorJson; grads: StateJson };
    scaler: {
      start: StateJson;
      end: StateJson;
      scales: number[];
      stepped: boolean[];
      losses: TensorJson[];
      state: { scale: number; growth_factor: number; backoff_factor: number; growth_interval: number; _growth_tracker: number };
    };
    scaler_factors: { end: StateJson; scales: number[]; factors: [number, number] };
  };
}

const fx = fixture<AmpFixture>('nn');
const EXACT = { rtol: 0, atol: 0 };

function mlp(state: StateJson): nn.Sequential {
  const m = new nn.Sequential(new nn.Linear(6, 8), new nn.ReLU(), new nn.Linear(8, 3));
  m.loadStateDict(Object.fromEntries(Object.entries(state).map(([k, v]) => [k, fromJson(v)])));
  return m;
}

describe('torch.autocast', () => {
  it('a bfloat16 CPU region gives PyTorch’s outputs, loss and float32 gradients to the bit', () => {
    const f = fx.amp.autocast;
    const m = mlp(f.start);
    const x = fromJson(fx.optim.x);
    const y = fromJson(fx.optim.y);
    const [out, loss] = torch.autocast('cpu', { dtype: 'bfloat16' }, () => {
      expect(torch.isAutocastEnabled('cpu')).toBe(true);
      expect(torch.getAutocastDtype('cpu')).toBe('bfloat16');
      const o = m.forward(x);
      return [o, torch.F.crossEntropy(o, y)];
    });
    expect(torch.isAutocastEnabled('cpu')).toBe(false);
    expect(out.dtype).toBe('bfloat16');
    expectTensor(out, f.out, EXACT);
    expectTensor(loss, f.loss, EXACT);
    loss.backward();
    const params = [...m.namedParameters()];
    expect(params.map(([k]) => k)).toEqual(Object.keys(f.grads));
    for (const [k, p] of params) {
      expect(p.dtype).toBe('float32');
      expectTensor(p.grad as Tensor, f.grads[k], EXACT);
    }
  });

  it('restores the previous state when the function throws, and regions nest', () => {
    expect(() =>
      torch.autocast('cpu', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(torch.isAutocastEnabled('cpu')).toBe(false);
    const a = torch.ones(2, 2);
    torch.autocast('cpu', () => {
      expect(a.matmul(a).dtype).toBe('bfloat16'); // the CPU default dtype
      torch.autocast('cpu', { enabled: false }, () => {
        expect(torch.isAutocastEnabled('cpu')).toBe(false);
        expect(a.matmul(a).dtype).toBe('float32');
      });
      torch.autocast('cpu', { dtype: 'float16' }, () => expect(a.matmul(a).dtype).toBe('float16'));
      expect(torch.getAutocastDtype('cpu')).toBe('bfloat16');
      expect(a.matmul(a).dtype).toBe('bfloat16');
    });
    expect(a.matmul(a).dtype).toBe('float32');
    expect(torch.amp.autocast).toBe(torch.autocast);
  });

  it('TorchScript modules run under autocast too (the region is dispatcher state, not a JS wrapper)', () => {
    const net = torch.jit.load(path.join(__dirname, 'fixtures', 'py_scripted.pt'));
    net.eval();
    torch.manualSeed(9);
    const x = torch.randn(4, 6);
    const ref = net.forward(x);
    const low = torch.autocast('cpu', () => net.forward(x));
    expect([ref.dtype, low.dtype]).toEqual(['float32', 'bfloat16']);
    expect(low.float().allclose(ref, { rtol: 2e-2, atol: 2e-2 })).toBe(true);
  });

  it('defaults as PyTorch: float16 on CUDA, bfloat16 on the CPU, off outside a region', () => {
    expect(torch.getAutocastDtype('cuda')).toBe('float16');
    expect(torch.getAutocastDtype('cpu')).toBe('bfloat16');
    expect(torch.isAutocastEnabled()).toBe(false);
    expect(torch.amp.isAutocastAvailable('cpu')).toBe(true);
    expect(torch.amp.isAutocastAvailable('cuda')).toBe(true); // supported by autocast, GPU or not (as PyTorch)
    expect(torch.amp.isAutocastAvailable('mps')).toBe(false);
  });

  it('the fused KD loss takes the bfloat16 logits of a region and sends float32 gradients to the student', () => {
    const m = mlp(fx.amp.autocast.start);
    const x = fromJson(fx.optim.x);
    const teacher = torch.randn(16, 3);
    const loss = torch.autocast('cpu', () => torch.kdLoss(m.forward(x), teacher.to('bfloat16'), 2));
    expect(Number.isFinite(loss.item() as number)).toBe(true);
    loss.backward();
    for (const p of m.parameters()) expect((p.grad as Tensor).dtype).toBe('float32');
  });

  it('under autocast the fused KD loss is float32, as kl_div on autocast’s float32 list, so a scaled float16 gradient does not overflow', () => {
    torch.manualSeed(12);
    const s = torch.randn(8, 50).half().requiresGrad_(true);
    const t = torch.randn(8, 50).half();
    expect(torch.kdLoss(s, t, 4).dtype).toBe('float16'); // outside a region: the logits' dtype, as kl_div
    const loss = torch.autocast('cpu', { dtype: 'float16' }, () => torch.kdLoss(s, t, 4));
    expect(loss.dtype).toBe('float32');
    // A GradScaler-sized factor: 0.5·T²·2^16 = 524288 would be inf as a float16 factor.
    loss.mul(524288).backward();
    const ref = s.detach().float().requiresGrad_(true);
    torch.kdLoss(ref, t.float(), 4).mul(524288).backward();
    const g = s.grad as Tensor;
    expect(g.dtype).toBe('float16');
    expect(g.float().isfinite().all().item()).toBe(true);
    // Computed from float32 copies and rounded once after the scaling: the float32 result, rounded, to the bit.
    expect(g.equal((ref.grad as Tensor).half())).toBe(true);
    // bfloat16 has float32's range: its gradient is stored directly, and the loss is float32 too.
    const b = s.detach().bfloat16().requiresGrad_(true);
    const lb = torch.autocast('cpu', () => torch.kdLoss(b, t.bfloat16(), 4));
    expect(lb.dtype).toBe('float32');
    lb.mul(524288).backward();
    expect((b.grad as Tensor).dtype).toBe('bfloat16');
    const refB = b.detach().float().requiresGrad_(true);
    torch.kdLoss(refB, t.bfloat16().float(), 4).mul(524288).backward();
    expect((b.grad as Tensor).float().allclose(refB.grad as Tensor, { rtol: 1e-2, atol: 1e-3 })).toBe(true);
  });

  itWhen(!HAS_CUDA, NEEDS_NO_CUDA, "'cuda' without a device warns once and runs the region without autocast, as PyTorch", () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const a = torch.ones(2, 2);
      const r = torch.autocast('cuda', () => [torch.isAutocastEnabled('cuda'), a.matmul(a).dtype]);
      expect(r).toEqual([false, 'float32']);
      torch.autocast('cuda', () => 0);
      expect(warn.mock.calls.filter((c) => String(c[0]).includes("device type is 'cuda'")).length).toBe(1);
    } finally {
      warn.mockRestore();
    }
  });

  it('bad arguments are TypeErrors and RangeErrors; async functions are refused and the state restored', async () => {
    expect(() => torch.autocast('cuda:0' as never, () => 0)).toThrow(/device type .* '.*cuda:0'/);
    expect(() => torch.autocast('tpu' as never, () => 0)).toThrow(RangeError);
    expect(() => torch.autocast('cpu', { dtype: 'int8' }, () => 0)).toThrow(/floating dtype/);
    expect(() => torch.autocast('cpu', { dtype: 'complex' as never }, () => 0)).toThrow(RangeError);
    expect(() => torch.autocast('cpu', { enabled: 1 as never }, () => 0)).toThrow(TypeError);
    expect(() => torch.autocast('cpu', null as never, () => 0)).toThrow(TypeError);
    expect(() => torch.autocast('cpu', {} as never)).toThrow(/expected a function/);
    const err = thrown(() => torch.autocast('cpu', async () => 0));
    expect(err).toBeInstanceOf(TypeError);
    expect(err.message).toMatch(/synchronous/);
    expect(torch.isAutocastEnabled('cpu')).toBe(false);
    // The refused promise may reject later: that must not become an unhandled rejection (which ends Node).
    expect(() =>
      torch.autocast('cpu', async () => {
        throw new Error('inner');
      }),
    ).toThrow(/synchronous/);
    expect(() => torch.noGrad(async () => Promise.reject(new Error('inner')))).toThrow(/synchronous/);
    await new Promise((r) => setTimeout(r, 10));
  });

  it('a dtype CPU autocast does not support disables the region with a warning, as PyTorch', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const a = torch.ones(2, 2);
      const r = torch.autocast('cpu', { dtype: 'float32' }, () => [torch.isAutocastEnabled('cpu'), a.matmul(a).dtype]);
      expect(r).toEqual([false, 'float32']);
      expect(warn.mock.calls.some((c) => /CPU autocast supports float16 and bfloat16, not float32/.test(String(c[0])))).toBe(true);
      // Disabled on purpose: no warning, whatever the dtype.
      torch.autocast('cpu', { dtype: 'float64', enabled: false }, () => 0);
      expect(warn.mock.calls.some((c) => /not float64/.test(String(c[0])))).toBe(false);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('torch.amp.GradScaler', () => {
  it('scales, skips the overflowing step, backs off and grows exactly as PyTorch’s (8 steps, SGD momentum)', () => {
    const f = fx.amp.scaler;
    const m = mlp(f.start);
    const x = fromJson(fx.optim.x);
    const y = fromJson(fx.optim.y);
    const opt = new optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
    const scaler = new torch.amp.GradScaler('cpu', { initScale: 2 ** 10, growthInterval: 3 });
    expect(scaler.getScale()).toBe(1024);
    const scales: number[] = [];
    const stepped: boolean[] = [];
    for (let i = 0; i < 8; i++) {
      torch.tidy(() => {
        opt.zeroGrad();
        const loss = torch.autocast('cpu', { dtype: 'bfloat16' }, () => torch.F.crossEntropy(m.forward(i === 4 ? x.mul(Infinity) : x), y));
        expectTensor(loss, f.losses[i], EXACT);
        scaler.scale(loss).backward();
        stepped.push(scaler.step(opt));
        scaler.update();
        scales.push(scaler.getScale());
      });
    }
    expect(scales).toEqual(f.scales);
    expect(stepped).toEqual(f.stepped);
    for (const [k, v] of Object.entries(m.stateDict())) expectTensor(v, f.end[k], EXACT);
    expect(scaler.stateDict()).toEqual(f.state);
  });

  it('growth and backoff factors set after construction (setGrowthFactor / setBackoffFactor) act as in PyTorch', () => {
    const f = fx.amp.scaler_factors;
    const m = mlp(fx.amp.scaler.start);
    const x = fromJson(fx.optim.x);
    const y = fromJson(fx.optim.y);
    const opt = new optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
    const scaler = new torch.amp.GradScaler('cpu', { initScale: 2 ** 10, growthInterval: 2 });
    scaler.setGrowthFactor(4);
    scaler.setBackoffFactor(0.25);
    const scales: number[] = [];
    for (let i = 0; i < 7; i++) {
      torch.tidy(() => {
        opt.zeroGrad();
        const loss = torch.autocast('cpu', { dtype: 'bfloat16' }, () => torch.F.crossEntropy(m.forward(i === 2 ? x.mul(Infinity) : x), y));
        scaler.scale(loss).backward();
        scaler.step(opt);
        scaler.update();
        scales.push(scaler.getScale());
      });
    }
    expect(scales).toEqual(f.scales);
    expect([scaler.getGrowthFactor(), scaler.getBackoffFactor()]).toEqual(f.factors);
    for (const [k, v] of Object.entries(m.stateDict())) expectTensor(v, f.end[k], EXACT);
  });

  it('unscale_ before clipping, then step does not unscale again; misuse is a clear TorchError', () => {
    const m = mlp(fx.amp.scaler.start);
    const x = fromJson(fx.optim.x);
    const y = fromJson(fx.optim.y);
    const opt = new optim.SGD(m.parameters(), { lr: 0.1 });
    const scaler = new torch.amp.GradScaler('cpu', { initScale: 256 });
    expect(thrown(() => scaler.step(opt)).message).toMatch(/call scaler.scale\(loss\)/);
    const loss = torch.F.crossEntropy(m.forward(x), y);
    scaler.scale(loss).backward();
    const scaled = (m.parameters()[0].grad as Tensor).clone();
    scaler.unscale_(opt);
    const norm = torch.nn.utils.clipGradNorm_(m.parameters(), 1e9); // the recipe's clipping, on true gradients
    expect(norm.item()).toBeLessThan(100);
    const unscaled = m.parameters()[0].grad as Tensor;
    expect(unscaled.mul(256).allclose(scaled, { rtol: 1e-6, atol: 0 })).toBe(true);
    expect(thrown(() => scaler.unscale_(opt)).message).toMatch(/already been called/);
    const before = m.parameters()[0].detach().clone();
    expect(scaler.step(opt)).toBe(true);
    // The step used the unscaled gradient once: w ← w − lr·g, not divided by the scale again.
    expect(m.parameters()[0].detach().equal(before.sub(unscaled.mul(0.1)))).toBe(true);
    expect((m.parameters()[0].grad as Tensor).equal(unscaled)).toBe(true);
    expect(thrown(() => scaler.step(opt)).message).toMatch(/already been called since the last update/);
    expect(thrown(() => scaler.unscale_(opt)).message).toMatch(/after step/);
    scaler.update();
    expect(scaler.getScale()).toBe(256);
    scaler.update(64);
    expect(scaler.getScale()).toBe(64);
    expect(() => scaler.update(torch.ones(2) as never)).toThrow(TypeError);
    const live = liveTensorsSettled();
    const eight = torch.tensor([8], { dtype: 'float32' });
    for (let i = 0; i < 20; i++) scaler.update(eight);
    expect(scaler.getScale()).toBe(8);
    eight.dispose();
    expect(torch.memory().liveTensors).toBe(live);
    expect(() => scaler.unscale_(null as never)).toThrow(TypeError);
    expect(() => scaler.step({} as never)).toThrow(TypeError);
  });

  it('scales tensors in nested arrays, as PyTorch scales iterables', () => {
    const scaler = new torch.amp.GradScaler('cpu', { initScale: 4 });
    const [a, [b, c]] = scaler.scale([torch.ones(2), [torch.full([1], 2), torch.zeros(1)]]) as [Tensor, [Tensor, Tensor]];
    expect([a.toArray(), b.toArray(), c.toArray()]).toEqual([[4, 4], [8], [0]]);
    expect(() => scaler.scale([torch.ones(1), 3 as never])).toThrow(TypeError);
  });

  it('float16 gradients cannot be unscaled (as PyTorch), and nothing is changed', () => {
    const p = torch.ones([3], { dtype: 'float16' }).requiresGrad_(true);
    const opt = new optim.SGD([p], { lr: 0.1 });
    const scaler = new torch.amp.GradScaler('cpu', { initScale: 4 });
    scaler.scale(p.sum()).backward();
    const err = thrown(() => scaler.step(opt));
    expect(err).toBeInstanceOf(TorchError);
    expect(err.message).toMatch(/float16 gradients/);
    expect((p.grad as Tensor).toArray()).toEqual([4, 4, 4]);
  });

  it('disabled, it passes everything through; bad options are clear errors', () => {
    const s = new torch.amp.GradScaler('cpu', { enabled: false });
    const t = torch.ones(2);
    expect(s.scale(t)).toBe(t);
    expect(s.getScale()).toBe(1);
    expect(s.stateDict()).toEqual({});
    expect(s.isEnabled()).toBe(false);
    expect(() => new torch.amp.GradScaler('cpu', { growthFactor: 0.5 })).toThrow(/growth factor must be > 1/);
    expect(() => new torch.amp.GradScaler('cpu', { backoffFactor: 2 })).toThrow(/backoff factor must be < 1/);
    expect(() => new torch.amp.GradScaler('cpu', { growthInterval: 1.5 })).toThrow(RangeError);
    expect(() => new torch.amp.GradScaler('cpu', { initScale: 'big' as never })).toThrow(TypeError);
    expect(() => new torch.amp.GradScaler('mps' as never)).toThrow(RangeError);
    expect(() => new torch.amp.GradScaler('cpu').loadStateDict({})).toThrow(/empty/);
    expect(() => new torch.amp.GradScaler('cpu', { initScale: Infinity })).toThrow(RangeError);
    expect(() => new torch.amp.GradScaler('cpu').setGrowthInterval(1.5)).toThrow(RangeError);
    // A bad state dict changes nothing.
    const s2 = new torch.amp.GradScaler('cpu', { growthFactor: 3 });
    expect(() => s2.loadStateDict({ scale: 8, growth_factor: 4, backoff_factor: 0.25, _growth_tracker: 1 })).toThrow(/growth_interval/);
    expect(() => s2.loadStateDict({ scale: -5, growth_factor: 4, backoff_factor: 0.25, growth_interval: 5, _growth_tracker: 1 })).toThrow(RangeError);
    expect(() => s2.loadStateDict({ scale: 8, growth_factor: 4, backoff_factor: 0.25, growth_interval: 5, _growth_tracker: 1.7 })).toThrow(RangeError);
    expect([s2.getGrowthFactor(), s2.getBackoffFactor(), s2.getGrowthInterval(), s2.getScale()]).toEqual([3, 0.5, 2000, 65536]);
  });

  it('loads a state dict saved by Python (same keys), before or after the first scale', () => {
    const a = new torch.amp.GradScaler('cpu');
    a.loadStateDict(fx.amp.scaler.state);
    expect(a.getScale()).toBe(2048);
    expect(a.stateDict()).toEqual(fx.amp.scaler.state);
    const b = new torch.amp.GradScaler('cpu');
    b.scale(torch.ones(1));
    b.loadStateDict({ ...fx.amp.scaler.state, scale: 8, _growth_tracker: 2 });
    expect(b.getScale()).toBe(8);
    expect(b.stateDict()._growth_tracker).toBe(2);
    expect(b.getGrowthInterval()).toBe(3);
  });
});
