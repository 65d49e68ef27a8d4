/**
 * CUDA end to end: devices, tensors, modules and optimizers on the GPU, the KD core and the fused CUDA KD loss.
 * Skipped (visibly) where no CUDA device is usable; scripts/gpu-check.sh runs them on a GPU machine.
 */
import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { DistillationLossWeights, KnowledgeDistillationPolicy, Tensor, nn, optim } from '../lib/index';
import { expectTensor, fixture, fromJson, type KdCase, type TensorJson } from './helpers';

const HAS_CUDA = torch.cuda.isAvailable();

describe('without a GPU', () => {
  it.skipIf(HAS_CUDA)("asking for 'cuda' is a clear TorchError, not a crash", () => {
    expect(() => torch.zeros([2], { device: 'cuda' })).toThrow(/no CUDA device is available/);
    expect(() => torch.ones(2).cuda()).toThrow(expect.objectContaining({ code: 'CUDA_UNAVAILABLE' }));
    expect(torch.cuda.deviceCount()).toBe(0);
  });
});

describe.skipIf(!HAS_CUDA)('CUDA devices and tensors', () => {
  it('reports devices and moves tensors both ways', () => {
    expect(torch.cuda.deviceCount()).toBeGreaterThan(0);
    expect(torch.cuda.isBuiltWithCuda()).toBe(true);
    const x = torch.arange(6, { dtype: 'float32' }).reshape(2, 3);
    const g = x.cuda();
    expect(g.device).toBe('cuda:0');
    expect(g.to('cpu').equal(x)).toBe(true);
    expect(torch.zeros([2], { device: 'cuda:0' }).device).toBe('cuda:0');
    torch.cuda.synchronize();
    const stats = torch.cuda.memoryStats();
    expect(stats.allocated).toBeGreaterThan(0);
    expect(torch.memory().bytes['cuda:0']).toBeGreaterThan(0);
    expect(torch.cuda.getDeviceName(0)).toMatch(/NVIDIA/);
  });

  it('ops and autograd on CUDA match CPU', () => {
    torch.manualSeed(0);
    const a = torch.randn(64, 32);
    const b = torch.randn(32, 16);
    const ga = a.cuda().requiresGrad_(true);
    const ca = a.clone().requiresGrad_(true);
    ga.matmul(b.cuda()).relu().sum().backward();
    ca.matmul(b).relu().sum().backward();
    expect((ga.grad as Tensor).cpu().allclose(ca.grad as Tensor, { rtol: 1e-4, atol: 1e-4 })).toBe(true);
  });

  it('modules and optimizers train on CUDA like on CPU', () => {
    torch.manualSeed(1);
    const cpu = new nn.Sequential(new nn.Linear(10, 32), new nn.ReLU(), new nn.Linear(32, 4));
    const gpu = new nn.Sequential(new nn.Linear(10, 32), new nn.ReLU(), new nn.Linear(32, 4));
    gpu.loadStateDict(cpu.stateDict());
    gpu.to('cuda');
    const x = torch.randn(16, 10);
    const y = torch.randint(0, 4, [16]);
    const oc = new optim.SGD(cpu.parameters(), { lr: 0.1, momentum: 0.9 });
    const og = new optim.SGD(gpu.parameters(), { lr: 0.1, momentum: 0.9 });
    for (let i = 0; i < 5; i++) {
      oc.zeroGrad();
      torch.F.crossEntropy(cpu.forward(x), y).backward();
      oc.step();
      og.zeroGrad();
      torch.F.crossEntropy(gpu.forward(x.cuda()), y.cuda()).backward();
      og.step();
    }
    const sc = cpu.stateDict();
    const sg = gpu.stateDict();
    for (const k of Object.keys(sc)) expect(sg[k].cpu().allclose(sc[k], { rtol: 1e-4, atol: 1e-5 })).toBe(true);
  });
});

type Case = KdCase;

describe.skipIf(!HAS_CUDA)('fused CUDA KD loss', () => {
  const fx = HAS_CUDA ? fixture<{ cases: Case[] }>('kd') : { cases: [] as Case[] };

  for (const c of fx.cases) {
    it(`matches Distiller's formula in PyTorch: ${c.name}`, () => {
      const s = (c.s_base ? fromJson(c.s_base).t() : fromJson(c.s)).cuda().detach().requiresGrad_(true);
      const t = (c.t_base ? fromJson(c.t_base).t() : fromJson(c.t)).cuda();
      const loss = torch.kdLoss(s, t, c.T, { dim: c.dim, impl: 'fused' });
      loss.backward();
      expect(loss.device).toBe('cuda:0');
      const f64 = c.loss.dtype === 'float64';
      const atol = c.name === 'identical logits' ? 1e-6 : 1e-7;
      expectTensor(loss.cpu(), c.loss, { rtol: f64 ? 1e-12 : 3e-5, atol: f64 ? 1e-15 : atol });
      const maxGrad = Math.max(...c.grad.data.map((v) => (typeof v === 'number' ? Math.abs(v) : 0)));
      expectTensor((s.grad as Tensor).cpu(), c.grad, { rtol: 0, atol: (f64 ? 1e-13 : 2e-6) * maxGrad + (f64 ? 1e-15 : 1e-8) });
    });
  }

  // 512x4096 fits one block per row in every kernel; 64x40000 splits each row over a cluster of 8 (fp32) or 4 (16-bit)
  // blocks in the TMA kernel (TORCHKD_KD_KERNEL=tma), with every 7th teacher logit −inf.
  for (const [n, c] of [[512, 4096], [64, 40000]] as const) for (const dtype of ['float32', 'bfloat16', 'float16'] as const) {
    it(`fused equals composite on the GPU at ${n}x${c} ${dtype}`, () => {
      torch.manualSeed(5);
      const s32 = torch.randn(n, c).mul(3);
      let t32 = torch.randn(n, c).mul(3);
      if (c === 40000) t32 = t32.maskedFill(torch.arange(c).remainder(7).eq(0).unsqueeze(0).expand([n, c]), -Infinity);
      const s = s32.to({ device: 'cuda', dtype }).requiresGrad_(true);
      const t = t32.to({ device: 'cuda', dtype });
      const fused = torch.kdLoss(s, t, 2.0, { impl: 'fused' });
      fused.backward();
      // Reference: PyTorch's composite in float32 on the same (rounded) inputs.
      const r = s.detach().float().requiresGrad_(true);
      const ref = torch.kdLoss(r, t.float(), 2.0, { impl: 'composite' });
      ref.backward();
      const eps = dtype === 'float32' ? 1e-5 : dtype === 'bfloat16' ? 2 ** -7 : 2 ** -10;
      expect(Math.abs((fused.float().item() as number) - (ref.item() as number))).toBeLessThanOrEqual(eps * Math.abs(ref.item() as number) + 1e-6);
      const g = (s.grad as Tensor).float();
      const gr = r.grad as Tensor;
      const err = g.sub(gr).abs().max().item() as number;
      expect(err).toBeLessThanOrEqual(eps * (gr.abs().max().item() as number) + 1e-9);
    });
  }

  it('the KD policy runs natively on CUDA models', () => {
    torch.manualSeed(2);
    const student = new nn.Sequential(new nn.Linear(12, 5)).to('cuda');
    const teacher = new nn.Sequential(new nn.Linear(12, 32), new nn.ReLU(), new nn.Linear(32, 5)).to('cuda');
    const policy = new KnowledgeDistillationPolicy(student, teacher, 3.0, DistillationLossWeights(0.7, 0.3, 0));
    policy.onEpochBegin(student, {}, { startingEpoch: 0, endingEpoch: 1, frequency: 1 });
    const x = torch.randn(8, 12).cuda();
    const out = policy.forward(x);
    const pl = policy.beforeBackwardPass(student, 0, 0, 1, torch.F.crossEntropy(out, torch.randint(0, 5, [8]).cuda()), {});
    pl?.overallLoss.backward();
    expect(((student.at(0) as nn.Linear).weight.grad as Tensor).device).toBe('cuda:0');
  });
});
