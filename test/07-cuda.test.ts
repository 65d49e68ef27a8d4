/**
 * CUDA end to end: devices, tensors, modules and optimizers on the GPU, the KD core and the fused CUDA KD loss.
 * Skipped (visibly) where no CUDA device is usable; scripts/gpu-check.sh runs them on a GPU machine.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { DistillationLossWeights, KnowledgeDistillationPolicy, Tensor, nn, optim } from '../lib/index';
import { native } from '../lib/binding';
import { DataLoader, TensorDataset } from '../lib/data';
import { HAS_CUDA, NEEDS_NO_CUDA, expectTensor, fixture, forceGc, fromJson, itWhen, pythonWithTorch, requireCuda, thrown, type KdCase, type TensorJson } from './helpers';

const PY = pythonWithTorch();
const NO_PYTHON = 'needs a Python with torch (the oracle): none found';
// Whether the oracle Python's torch can use this machine's GPU (only asked where there is one).
const PY_CUDA = HAS_CUDA && PY !== null && spawnSync(PY, ['-c', 'import torch; print(torch.cuda.is_available())'], { encoding: 'utf8' }).stdout.trim() === 'True';

describe('without a GPU', () => {
  itWhen(!HAS_CUDA, NEEDS_NO_CUDA, "asking for 'cuda' is a clear TorchError, not a crash", () => {
    expect(() => torch.zeros([2], { device: 'cuda' })).toThrow(/no CUDA device is available/);
    expect(() => torch.ones(2).cuda()).toThrow(expect.objectContaining({ code: 'CUDA_UNAVAILABLE' }));
    expect(torch.cuda.deviceCount()).toBe(0);
  });

  itWhen(!HAS_CUDA, NEEDS_NO_CUDA, 'memory queries answer 0 and seeding is a no-op, as in PyTorch; device queries throw clearly', () => {
    expect(torch.cuda.memoryAllocated()).toBe(0);
    expect(torch.cuda.maxMemoryAllocated()).toBe(0);
    expect(torch.cuda.memoryReserved()).toBe(0);
    expect(torch.cuda.maxMemoryReserved()).toBe(0);
    expect(torch.cuda.memoryStats()).toEqual({ allocated: 0, reserved: 0, peakAllocated: 0, peakReserved: 0, numAllocRetries: 0, numOoms: 0 });
    expect(() => torch.cuda.resetPeakMemoryStats()).not.toThrow();
    expect(() => torch.cuda.emptyCache()).not.toThrow();
    expect(torch.cuda.isBf16Supported()).toBe(false);
    const before = torch.randn(3).toArray();
    torch.manualSeed(11);
    const a = torch.randn(3).toArray();
    torch.cuda.manualSeed(99);
    torch.cuda.manualSeedAll(98);
    torch.manualSeed(11);
    expect(torch.randn(3).toArray()).toEqual(a); // the CPU generator is untouched by torch.cuda's seeding
    expect(a).not.toEqual(before);
    torch.cuda.seed(); // lazily queued in PyTorch: a no-op without a device
    torch.cuda.seedAll();
    torch.manualSeed(11);
    expect(torch.randn(3).toArray()).toEqual(a);
    expect(torch.cuda.stream(null, () => 7)).toBe(7); // torch.cuda.stream(None): nothing changes
    expect(() => torch.cuda.stream(null, async () => 1)).toThrow(/synchronous/);
    expect(() => torch.cuda.setDevice('cuda')).toThrow(RangeError); // no index: PyTorch's ValueError
    const clear = torch.cuda.isBuiltWithCuda() ? { code: 'CUDA_UNAVAILABLE' } : { name: 'TypeError' };
    for (const f of [
      () => torch.cuda.currentDevice(),
      () => torch.cuda.setDevice(0),
      () => torch.cuda.synchronize(),
      () => torch.cuda.getDeviceName(),
      () => torch.cuda.getDeviceCapability(0),
      () => torch.cuda.getDeviceProperties('cuda:0'),
      () => torch.cuda.memGetInfo(),
      () => torch.cuda.initialSeed(),
      () => torch.cuda.getRngState(),
      () => torch.cuda.getRngStateAll(),
      () => torch.cuda.setRngState(torch.zeros([16], { dtype: 'uint8' })),
    ]) {
      expect(f).toThrow(expect.objectContaining(clear));
    }
  });

  itWhen(!HAS_CUDA, NEEDS_NO_CUDA, 'streams and events need a device, and say so', () => {
    const clear = torch.cuda.isBuiltWithCuda() ? { code: 'CUDA_UNAVAILABLE' } : { name: 'TypeError' };
    expect(() => new torch.cuda.Stream()).toThrow(expect.objectContaining(clear));
    expect(() => new torch.cuda.Event({ enableTiming: true })).toThrow(expect.objectContaining(clear));
    expect(() => torch.cuda.currentStream()).toThrow(expect.objectContaining(clear));
    expect(() => torch.cuda.defaultStream(0)).toThrow(expect.objectContaining(clear));
    const fake = { streamId: 0n, deviceIndex: 0 };
    expect(() => torch.ones(2).recordStream(fake)).toThrow(torch.cuda.isBuiltWithCuda() ? RangeError : TypeError);
  });

  it('device arguments and seeds are checked before anything else', () => {
    expect(() => torch.cuda.memoryStats('cpu')).toThrow(RangeError);
    expect(() => torch.cuda.memoryAllocated(1.5)).toThrow(RangeError);
    expect(() => torch.cuda.manualSeed(0.5)).toThrow(RangeError);
    expect(() => torch.cuda.manualSeedAll('1' as unknown as number)).toThrow(TypeError);
    expect(() => torch.cuda.stream(5 as unknown as torch.cuda.Stream, () => 1)).toThrow(TypeError);
    expect(() => torch.cuda.setStream({} as torch.cuda.Stream)).toThrow(TypeError);
    expect(() => new torch.cuda.Event({ enableTiming: 'yes' as unknown as boolean })).toThrow(TypeError);
    expect(() => new torch.cuda.Stream({ priority: 0.5 })).toThrow(RangeError);
    expect(() => new torch.cuda.Stream({ priority: 1 })).toThrow(RangeError);
    expect(() => new torch.cuda.Stream(null as unknown as object)).toThrow(TypeError);
    expect(() => torch.ones(2).recordStream({} as torch.cuda.Stream)).toThrow(TypeError);
  });
});

describe('torch.backends and the global precision switches', () => {
  it('start at PyTorch’s defaults and round-trip; bad values are clear errors', () => {
    const b = torch.backends;
    expect([b.cudnn.enabled, b.cudnn.deterministic, b.cudnn.allowTf32, b.cuda.matmul.allowTf32]).toEqual([true, false, true, false]);
    expect(torch.getFloat32MatmulPrecision()).toBe('highest');
    expect(torch.areDeterministicAlgorithmsEnabled()).toBe(false);
    const saved = b.cudnn.benchmark;
    try {
      b.cudnn.benchmark = true;
      expect(b.cudnn.benchmark).toBe(true);
      b.cudnn.deterministic = true;
      expect(b.cudnn.deterministic).toBe(true);
      torch.setFloat32MatmulPrecision('high'); // as in PyTorch, this also allows TF32 in matmuls
      expect([torch.getFloat32MatmulPrecision(), b.cuda.matmul.allowTf32]).toEqual(['high', true]);
      torch.setFloat32MatmulPrecision('highest');
      expect([torch.getFloat32MatmulPrecision(), b.cuda.matmul.allowTf32]).toEqual(['highest', false]);
      torch.useDeterministicAlgorithms(true, { warnOnly: true });
      expect([torch.areDeterministicAlgorithmsEnabled(), torch.isDeterministicAlgorithmsWarnOnlyEnabled()]).toEqual([true, true]);
      expect(() => ((b.cudnn as { benchmark: unknown }).benchmark = 'yes')).toThrow(TypeError);
      expect(() => torch.setFloat32MatmulPrecision('low' as never)).toThrow(RangeError);
      expect(() => torch.useDeterministicAlgorithms(1 as never)).toThrow(TypeError);
    } finally {
      b.cudnn.benchmark = saved;
      b.cudnn.deterministic = false;
      torch.useDeterministicAlgorithms(false);
    }
    expect(b.cudnn.version() === null).toBe(!b.cudnn.isAvailable());
  });

  itWhen(PY !== null, NO_PYTHON, 'the defaults are Python’s', () => {
    const b = torch.backends;
    const r = spawnSync(PY as string, ['-c', 'import torch, json; b = torch.backends; print(json.dumps([b.cudnn.enabled, b.cudnn.benchmark, b.cudnn.deterministic, b.cudnn.allow_tf32, b.cuda.matmul.allow_tf32, torch.get_float32_matmul_precision(), b.cudnn.is_available()]))'], { encoding: 'utf8' });
    expect(JSON.parse(r.stdout)).toEqual([b.cudnn.enabled, false, b.cudnn.deterministic, b.cudnn.allowTf32, b.cuda.matmul.allowTf32, torch.getFloat32MatmulPrecision(), b.cudnn.isAvailable()]);
  });
});

describe('device-agnostic tensor API', () => {
  it('isCuda, getDevice and isPinned of a CPU tensor', () => {
    const x = torch.ones(2);
    expect(x.isCuda).toBe(false);
    expect(x.getDevice()).toBe(-1);
    expect(x.isPinned()).toBe(false);
  });

  itWhen(!HAS_CUDA, NEEDS_NO_CUDA, 'pinMemory() without a usable device is a TorchError with libtorch\'s message', () => {
    const x = torch.ones(2);
    expect(() => x.pinMemory()).toThrow(torch.TorchError);
    expect(() => x.pinMemory()).toThrow(/accelerator|CUDA|NVIDIA/); // libtorch's words: CPU and CUDA builds differ
    expect(x.add(1).toArray()).toEqual([2, 2]); // the tensor is still fine
  });

  it('to() takes {nonBlocking, copy}, another tensor, or all of it in one object', () => {
    const x = torch.tensor([1, 2, 3]);
    const same = x.to('cpu', { nonBlocking: true });
    expect(same.toArray()).toEqual([1, 2, 3]);
    const copied = x.to('cpu', { copy: true });
    copied.add_(1);
    expect(x.toArray()).toEqual([1, 2, 3]);
    const shared = x.to(x.dtype);
    shared.add_(10); // no change asked for: the same storage, as in PyTorch
    expect(x.toArray()).toEqual([11, 12, 13]);
    const d = x.to(torch.zeros([1], { dtype: 'float64' }));
    expect(d.dtype).toBe('float64');
    expect(d.device).toBe('cpu');
    const o = x.to({ dtype: 'int64', copy: true, nonBlocking: true });
    expect(o.dtype).toBe('int64');
    expect(o.toArray()).toEqual([11, 12, 13]);
    expect(x.cpu({ nonBlocking: true }).toArray()).toEqual([11, 12, 13]);
  });

  it('to() rejects bad options clearly', () => {
    const x = torch.ones(2);
    expect(() => x.to('cpu', { nonBlocking: 1 as unknown as boolean })).toThrow(TypeError);
    expect(() => x.to('cpu', { copy: 'yes' as unknown as boolean })).toThrow(TypeError);
    expect(() => x.to('cpu', 5 as unknown as object)).toThrow(TypeError);
    expect(() => x.to({ device: 'cpu', nonBlocking: null as unknown as boolean })).toThrow(TypeError);
    expect(() => x.to(null as unknown as 'cpu')).toThrow(TypeError);
    expect(() => x.to([] as unknown as 'cpu')).toThrow(TypeError);
    expect(() => x.to('tpu' as 'cpu')).toThrow(RangeError);
    expect(() => x.cuda('cpu')).toThrow(RangeError);
  });

  itWhen(!HAS_CUDA, NEEDS_NO_CUDA, 'a DataLoader asked to pin memory without a device warns once and gives plain batches', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const ds = new TensorDataset(torch.arange(6, { dtype: 'float32' }).reshape(3, 2), torch.tensor([0, 1, 2]));
      const loader = new DataLoader(ds, { batchSize: 2, pinMemory: true });
      expect(loader.pinMemory).toBe(false);
      const batches = [...loader];
      expect(batches.map(([x]) => x.toArray())).toEqual([[[0, 1], [2, 3]], [[4, 5]]]);
      expect(batches[0][0].isPinned()).toBe(false);
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((m) => /pinMemory/.test(m))).toHaveLength(1);
    } finally {
      process.off('warning', onWarning);
    }
    expect(() => new DataLoader(new TensorDataset(torch.ones(2)), { pinMemory: 'yes' as unknown as boolean })).toThrow(TypeError);
  });
});

describe('CUDA devices and tensors', () => {
  requireCuda();
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

  it('device queries, properties and memory statistics', () => {
    expect(torch.cuda.currentDevice()).toBe(0);
    torch.cuda.setDevice(0);
    torch.cuda.setDevice('cuda:0');
    const p = torch.cuda.getDeviceProperties();
    expect(p.name).toBe(torch.cuda.getDeviceName(0));
    expect(p.major).toBeGreaterThanOrEqual(7);
    expect(torch.cuda.getDeviceCapability()).toEqual([p.major, p.minor]);
    expect(p.multiProcessorCount).toBeGreaterThan(0);
    expect(p.warpSize).toBe(32);
    expect(p.l2CacheSize).toBeGreaterThan(0);
    expect(torch.cuda.isBf16Supported()).toBe(p.major >= 8);
    const [free, total] = torch.cuda.memGetInfo(0);
    expect(total).toBeLessThanOrEqual(p.totalMemory);
    expect(total).toBeGreaterThan(0.9 * p.totalMemory);
    expect(free).toBeGreaterThan(0);
    expect(free).toBeLessThanOrEqual(total);
    expect(() => torch.cuda.getDeviceProperties(torch.cuda.deviceCount())).toThrow(RangeError);
    expect(() => torch.cuda.setDevice(torch.cuda.deviceCount())).toThrow(RangeError);
    torch.cuda.setDevice(-1); // a no-op, as in PyTorch
    expect(torch.cuda.currentDevice()).toBe(0);
    expect(() => new torch.cuda.Stream({ priority: 1 })).toThrow(RangeError);

    // vitest runs with --expose-gc: collect first, so that earlier tests' tensors are not freed in the middle.
    forceGc();
    torch.cuda.synchronize();
    const before = torch.cuda.memoryAllocated();
    torch.cuda.resetPeakMemoryStats();
    const big = torch.empty([16, 1024, 1024], { device: 'cuda' }); // 64 MiB
    expect(torch.cuda.memoryAllocated() - before).toBeGreaterThanOrEqual(63 << 20);
    expect(torch.cuda.maxMemoryAllocated()).toBeGreaterThanOrEqual(torch.cuda.memoryAllocated());
    expect(torch.cuda.memoryReserved()).toBeGreaterThanOrEqual(torch.cuda.memoryAllocated());
    big.dispose();
    expect(torch.cuda.memoryAllocated()).toBeLessThanOrEqual(before);
    expect(torch.cuda.maxMemoryAllocated() - before).toBeGreaterThanOrEqual(63 << 20);
    const reserved = torch.cuda.memoryReserved();
    torch.cuda.emptyCache();
    expect(torch.cuda.memoryReserved()).toBeLessThanOrEqual(reserved - (63 << 20));
    expect(torch.cuda.memoryStats().numOoms).toBe(0);
  });

  it("plain 'cuda' is the current device; isCuda, getDevice", () => {
    const g = torch.zeros([2], { device: 'cuda' });
    expect(g.isCuda).toBe(true);
    expect(g.getDevice()).toBe(torch.cuda.currentDevice());
    expect(torch.ones(2).cuda().device).toBe(`cuda:${torch.cuda.currentDevice()}`);
    expect(torch.ones(2).cuda(0).device).toBe('cuda:0');
    expect(g.isPinned()).toBe(false);
  });

  it('pinned memory and non-blocking copies both ways', () => {
    torch.manualSeed(4);
    const x = torch.randn(256, 1024);
    const p = x.pinMemory();
    expect(p.isPinned()).toBe(true);
    expect(x.isPinned()).toBe(false);
    expect(p.equal(x)).toBe(true);
    const g = p.to('cuda', { nonBlocking: true });
    const back = torch.empty([256, 1024]).pinMemory();
    const h = g.mul(2).to('cpu', { nonBlocking: true });
    torch.cuda.synchronize();
    expect(g.cpu().equal(x)).toBe(true);
    expect(h.equal(x.mul(2))).toBe(true);
    expect(back.isPinned()).toBe(true);
    expect(() => g.pinMemory()).toThrow(torch.TorchError); // only CPU tensors can be pinned
  });

  it('torch.cuda.manualSeed makes CUDA random numbers repeat', () => {
    torch.cuda.manualSeed(123);
    const a = torch.randn([1000], { device: 'cuda' }).cpu();
    torch.cuda.manualSeedAll(123);
    const b = torch.randn([1000], { device: 'cuda' }).cpu();
    expect(a.equal(b)).toBe(true);
    expect(torch.randn([1000], { device: 'cuda' }).cpu().equal(a)).toBe(false); // the stream moves on unless reseeded
    torch.manualSeed(123); // seeds the CUDA generators too, as in PyTorch
    expect(torch.randn([1000], { device: 'cuda' }).cpu().equal(a)).toBe(true);
  });

  it('torch.cuda seeds and generator states: initialSeed, seed, getRngState/setRngState', () => {
    torch.cuda.manualSeed(5);
    expect(torch.cuda.initialSeed()).toBe(5);
    const state = torch.cuda.getRngState();
    expect(state.dtype).toBe('uint8');
    expect(state.device).toBe('cpu');
    const a = torch.randn([64], { device: 'cuda' }).cpu();
    torch.cuda.setRngState(state);
    expect(torch.randn([64], { device: 'cuda' }).cpu().equal(a)).toBe(true); // the same numbers again
    const all = torch.cuda.getRngStateAll();
    expect(all.length).toBe(torch.cuda.deviceCount());
    torch.cuda.setRngStateAll(all);
    torch.cuda.seed();
    expect(torch.cuda.initialSeed()).not.toBe(5); // a fresh, nondeterministic seed
    torch.cuda.seedAll();
    expect(() => torch.cuda.setRngState(torch.zeros([4]))).toThrow(TypeError); // float32: not a generator state
    torch.manualSeed(0);
  });

  it('stream ids that are not libtorch pool streams are refused before reaching the driver', () => {
    // c10 reads some ids as raw cudaStream_t pointers (external streams); recorded on a tensor, such a "stream" would
    // reach the driver when the tensor is freed, in a finalizer. Refused: a RangeError (or c10's own error for an id
    // of no known stream type), and the tensor frees normally.
    for (const id of [-1n, 2n, 31n, 1n << 40n]) {
      const x = torch.ones(1024).cuda();
      const e = thrown(() => x.recordStream({ streamId: id, deviceIndex: 0 }));
      expect(e instanceof RangeError || e instanceof torch.TorchError, `${id}: ${e}`).toBe(true);
      x.dispose();
    }
    torch.cuda.synchronize();
  });

  it('memory queries before the first CUDA allocation answer 0, as in PyTorch (a fresh process)', () => {
    const script = `
const torch = require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'index.js'))});
const before = torch.cuda.memoryStats();
torch.cuda.resetPeakMemoryStats();
const x = torch.ones([1 << 20], { device: 'cuda' });
process.stdout.write(JSON.stringify({ before, after: torch.cuda.memoryAllocated() }));`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: process.env });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { before: Record<string, number>; after: number };
    expect(out.before).toEqual({ allocated: 0, reserved: 0, peakAllocated: 0, peakReserved: 0, numAllocRetries: 0, numOoms: 0 });
    expect(out.after).toBeGreaterThanOrEqual(4 << 20);
  });

  it('a DataLoader with pinMemory gives pinned batches that copy asynchronously', () => {
    const ds = new TensorDataset(torch.arange(12, { dtype: 'float32' }).reshape(6, 2), torch.arange(6));
    const loader = new DataLoader(ds, { batchSize: 4, pinMemory: true });
    expect(loader.pinMemory).toBe(true);
    const seen: number[][][] = [];
    for (const [x, y] of loader) {
      expect(x.isPinned() && y.isPinned()).toBe(true);
      const gx = x.to('cuda', { nonBlocking: true });
      torch.cuda.synchronize();
      seen.push(gx.cpu().toArray() as number[][]);
    }
    expect(seen).toEqual([[[0, 1], [2, 3], [4, 5], [6, 7]], [[8, 9], [10, 11]]]);
  });

  it('streams: current, default, pool; torch.cuda.stream() makes one current and restores the previous', () => {
    const cur = torch.cuda.currentStream();
    expect(cur.equals(torch.cuda.defaultStream())).toBe(true);
    const side = new torch.cuda.Stream();
    const high = new torch.cuda.Stream({ priority: -1 });
    expect(side.equals(cur)).toBe(false);
    expect(side.device).toBe('cuda:0');
    expect(high.priority).toBeLessThan(0);
    const inside = torch.cuda.stream(side, () => torch.cuda.currentStream());
    expect(inside.equals(side)).toBe(true);
    expect(torch.cuda.currentStream().equals(cur)).toBe(true);
    expect(() =>
      torch.cuda.stream(side, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(torch.cuda.currentStream().equals(cur)).toBe(true);
    torch.cuda.setStream(side);
    expect(torch.cuda.currentStream().equals(side)).toBe(true);
    torch.cuda.setStream(cur);
    expect(() => {
      (side as { streamId: bigint }).streamId = 2n; // frozen
    }).toThrow(TypeError);
    expect(() => torch.ones(2).cuda().recordStream({ streamId: 2n, deviceIndex: 0 })).toThrow(RangeError); // not a libtorch stream id
    side.synchronize();
    expect(side.query()).toBe(true);
  });

  it('the fused KD loss runs on the current stream; events order and time the work', () => {
    torch.manualSeed(6);
    const s = torch.randn([2048, 4096], { device: 'cuda' });
    const t = torch.randn([2048, 4096], { device: 'cuda' });
    const ref = torch.kdLoss(s, t, 2.0, { impl: 'fused' }).item() as number;
    const side = new torch.cuda.Stream();
    const start = new torch.cuda.Event({ enableTiming: true });
    const end = new torch.cuda.Event({ enableTiming: true });
    side.waitStream(torch.cuda.currentStream()); // s and t were made on the default stream
    const loss = torch.cuda.stream(side, () => {
      start.record();
      const l = torch.kdLoss(s, t, 2.0, { impl: 'fused' });
      end.record();
      return l;
    });
    s.recordStream(side);
    t.recordStream(side);
    end.wait(); // the current (default) stream waits for the side stream's loss
    expect(Math.abs((loss.item() as number) - ref)).toBeLessThanOrEqual(1e-6 * Math.abs(ref));
    end.synchronize();
    expect(end.query()).toBe(true);
    const ms = start.elapsedTime(end);
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThan(1000);
    const plain = new torch.cuda.Event();
    expect(plain.query()).toBe(true); // never recorded
    plain.synchronize();
    expect(() => start.elapsedTime(plain)).toThrow(TypeError);
    expect(() => new torch.cuda.Event({ enableTiming: true }).elapsedTime(end)).toThrow(/recorded/);
    const last = side.recordEvent();
    last.synchronize();
    expect(last.query()).toBe(true);
  });

  it('thousands of events are freed by the garbage collector', () => {
    for (let i = 0; i < 20000; i++) new torch.cuda.Event().record();
    forceGc();
    torch.cuda.synchronize();
    const e = new torch.cuda.Event({ enableTiming: true });
    e.record();
    e.synchronize();
    expect(e.query()).toBe(true);
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
});

describe('CUDA training: optimizers, TorchScript, files', () => {
  requireCuda();
  for (const [name, make] of [
    ['SGD momentum', (p: Tensor[]) => new optim.SGD(p, { lr: 0.1, momentum: 0.9 })],
    ['Adam', (p: Tensor[]) => new optim.Adam(p, { lr: 0.01 })],
    ['AdamW amsgrad', (p: Tensor[]) => new optim.AdamW(p, { lr: 0.01, weightDecay: 0.1, amsgrad: true })],
  ] as const) {
    it(`modules and ${name} train on CUDA like on CPU`, () => {
      torch.manualSeed(3);
      const cpu = new nn.Sequential(new nn.Linear(10, 16), new nn.ReLU(), new nn.Linear(16, 3));
      const gpu = new nn.Sequential(new nn.Linear(10, 16), new nn.ReLU(), new nn.Linear(16, 3));
      gpu.loadStateDict(cpu.stateDict());
      gpu.cuda();
      const x = torch.randn(8, 10);
      const y = torch.randint(0, 3, [8]);
      const oc = make(cpu.parameters());
      const og = make(gpu.parameters());
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
  }

  it('autocast float16/bfloat16 on CUDA: lower-precision matmuls, float32 loss and gradients, as PyTorch lists them', () => {
    torch.manualSeed(4);
    const m = new nn.Sequential(new nn.Linear(10, 16), new nn.ReLU(), new nn.Linear(16, 3)).cuda();
    const x = torch.randn([8, 10], { device: 'cuda' });
    const y = torch.randint(0, 3, [8], { device: 'cuda' });
    const ref = torch.F.crossEntropy(m.forward(x), y).item() as number;
    for (const dtype of ['float16', 'bfloat16'] as const) {
      const [out, loss] = torch.autocast('cuda', { dtype }, () => {
        expect(torch.isAutocastEnabled('cuda')).toBe(true);
        const o = m.forward(x);
        return [o, torch.F.crossEntropy(o, y)];
      });
      expect(out.dtype).toBe(dtype);
      expect(loss.dtype).toBe('float32'); // cross_entropy is on CUDA autocast's float32 list
      expect(Math.abs((loss.item() as number) - ref)).toBeLessThan(dtype === 'float16' ? 5e-3 : 3e-2);
      m.zeroGrad();
      loss.backward();
      for (const p of m.parameters()) expect([(p.grad as Tensor).dtype, (p.grad as Tensor).device]).toEqual(['float32', 'cuda:0']);
    }
    expect(torch.isAutocastEnabled('cuda')).toBe(false);
  });

  it('GradScaler on CUDA: the scale lives on the GPU, an overflow skips the step and halves it, clean steps grow it', () => {
    torch.manualSeed(5);
    const m = new nn.Sequential(new nn.Linear(10, 16), new nn.ReLU(), new nn.Linear(16, 3)).cuda();
    const x = torch.randn([8, 10], { device: 'cuda' });
    const y = torch.randint(0, 3, [8], { device: 'cuda' });
    const opt = new optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
    const scaler = new torch.amp.GradScaler('cuda', { initScale: 1024, growthInterval: 3 });
    const scales: number[] = [];
    const stepped: boolean[] = [];
    for (let i = 0; i < 8; i++) {
      opt.zeroGrad();
      const loss = torch.autocast('cuda', () => torch.F.crossEntropy(m.forward(i === 4 ? x.mul(Infinity) : x), y));
      const scaled = scaler.scale(loss);
      expect(scaled.device).toBe('cuda:0');
      scaled.backward();
      stepped.push(scaler.step(opt));
      scaler.update();
      scales.push(scaler.getScale());
    }
    // The same schedule as PyTorch's scaler in test/05-amp (fixture from Python): the numbers do not depend on the device.
    expect(scales).toEqual([1024, 1024, 2048, 2048, 1024, 1024, 1024, 2048]);
    expect(stepped).toEqual([true, true, true, true, false, true, true, true]);
    for (const p of m.parameters()) expect((p.data().every(Number.isFinite))).toBe(true);
  });

  it('an impossible CUDA allocation is a torch.cuda.OutOfMemoryError, counted, and the device works on', () => {
    const before = torch.cuda.memoryStats().numOoms;
    const err = thrown(() => torch.empty([1 << 20, 1 << 20], { device: 'cuda' })); // 4 TiB of float32
    expect(err).toBeInstanceOf(torch.cuda.OutOfMemoryError);
    expect((err as torch.TorchError).code).toBe('OUT_OF_MEMORY');
    expect(torch.cuda.memoryStats().numOoms).toBe(before + 1);
    expect(torch.ones([4], { device: 'cuda' }).sum().item()).toBe(4);
  });

  it('clipGradNorm_ and clipGradValue_ on CUDA gradients (foreach kernels) agree with the CPU', () => {
    torch.manualSeed(7);
    const grads = [torch.randn(30, 20), torch.randn(20), torch.randn(5, 30)].map((g) => g.mul(3));
    const make = (device: 'cpu' | 'cuda'): Tensor[] =>
      grads.map((g) => {
        const p = torch.zeros(g.shape, { device }).requiresGrad_(true);
        p.grad = g.to(device);
        return p;
      });
    for (const normType of [2, 1, 'inf'] as const) {
      const c = make('cpu');
      const g = make('cuda');
      const tc = torch.nn.utils.clipGradNorm_(c, 0.5, { normType });
      const tg = torch.nn.utils.clipGradNorm_(g, 0.5, { normType });
      expect(tg.device).toBe('cuda:0');
      expect(Math.abs((tg.item() as number) - (tc.item() as number))).toBeLessThan(1e-4 * (tc.item() as number));
      c.forEach((p, i) => expect((g[i].grad as Tensor).cpu().allclose(p.grad as Tensor, { rtol: 1e-4, atol: 1e-6 })).toBe(true));
    }
    const v = make('cuda');
    torch.nn.utils.clipGradValue_(v, 0.1);
    for (const p of v) expect((p.grad as Tensor).abs().max().item()).toBeLessThanOrEqual(0.1 + 1e-7);
  });

  it('the fused CUDA KD loss runs on float16 logits from an autocast region', () => {
    torch.manualSeed(6);
    const student = new nn.Linear(64, 1000).cuda();
    const x = torch.randn([32, 64], { device: 'cuda' });
    const teacherLogits = torch.randn([32, 1000], { device: 'cuda' });
    const loss = torch.autocast('cuda', () => torch.kdLoss(student.forward(x), teacherLogits.half(), 2));
    const ref = torch.kdLoss(student.forward(x), teacherLogits, 2);
    expect(Math.abs((loss.item() as number) - (ref.item() as number))).toBeLessThan(2e-2 * Math.abs(ref.item() as number) + 1e-3);
    loss.backward();
    expect((student.weight.grad as Tensor).dtype).toBe('float32');
  });

  it('a TorchScript module loads onto the GPU and trains there', () => {
    const file = path.join(__dirname, 'fixtures', 'py_scripted.pt');
    const net = torch.jit.load(file, { device: 'cuda' });
    const ref = torch.jit.load(file);
    for (const p of net.parameters()) expect(p.device).toBe('cuda:0');
    torch.manualSeed(8);
    const x = torch.randn(4, ref.parameters()[0].size(1));
    const out = net.forward(x.cuda());
    expect(out.device).toBe('cuda:0');
    expect(out.cpu().allclose(ref.forward(x), { rtol: 1e-4, atol: 1e-5 })).toBe(true);
    torch.F.crossEntropy(out, torch.zeros([4], { dtype: 'int64', device: 'cuda' })).backward();
    for (const p of net.parameters()) expect((p.grad as Tensor).device).toBe('cuda:0');
  });

  it('torch.save of CUDA tensors records their device, as PyTorch does: they load back there unless mapped', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-cuda-save-'));
    try {
      const file = path.join(dir, 'x.pt');
      const x = torch.arange(12, { dtype: 'float32' }).reshape(3, 4);
      torch.save({ x: x.cuda(), c: x.add(1), n: 3 }, file);
      const back = torch.load(file) as { x: Tensor; c: Tensor; n: number };
      expect(back.n).toBe(3);
      expect(back.x.device).toBe('cuda:0');
      expect(back.c.device).toBe('cpu');
      expect(back.x.cpu().equal(x)).toBe(true);
      const onCpu = torch.load(file, { mapLocation: 'cpu' }) as { x: Tensor; c: Tensor };
      expect([onCpu.x.device, onCpu.c.device]).toEqual(['cpu', 'cpu']);
      expect(onCpu.x.equal(x)).toBe(true);
      const mapped = torch.load(file, { mapLocation: { 'cuda:0': 'cpu', cpu: 'cuda:0' } }) as { x: Tensor; c: Tensor };
      expect([mapped.x.device, mapped.c.device]).toEqual(['cpu', 'cuda:0']);
      const count = torch.cuda.deviceCount();
      expect(() => torch.load(file, { mapLocation: { 'cuda:0': `cuda:${count}` } })).toThrow(new RegExp(`this machine has ${count} CUDA device`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  itWhen(PY_CUDA, "needs the oracle Python's torch to have CUDA on this machine", 'Python’s torch.load restores a torchkd file of CUDA tensors on the GPU too', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-cuda-save-'));
    try {
      const file = path.join(dir, 'x.pt');
      const x = torch.arange(12, { dtype: 'float32' }).reshape(3, 4);
      torch.save({ x: x.cuda(), c: x.add(1), n: 3 }, file);
      const r = spawnSync(PY as string, ['-c', 'import sys, torch\nd = torch.load(sys.argv[1])\nprint(d["x"].device, d["c"].device, float(d["x"].sum()), d["n"])', file], { encoding: 'utf8' });
      expect(r.stdout.trim(), r.stderr).toBe('cuda:0 cpu 66.0 3');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a Python checkpoint saved on GPUs loads onto the GPU, or wherever mapLocation puts it', () => {
    const file = path.join(__dirname, 'fixtures', 'py_gpu_checkpoint.pt');
    const multi = torch.cuda.deviceCount() > 1;
    const ck = torch.load(file, multi ? {} : { mapLocation: { 'cuda:1': 'cuda:0' } }) as { state_dict: Record<string, Tensor>; shift: Tensor };
    for (const v of Object.values(ck.state_dict)) expect(v.device).toBe('cuda:0');
    expect(ck.shift.device).toBe(multi ? 'cuda:1' : 'cuda:0');
    const ref = torch.load(file, { mapLocation: 'cpu' }) as { state_dict: Record<string, Tensor> };
    for (const [k, v] of Object.entries(ck.state_dict)) expect(v.cpu().equal(ref.state_dict[k])).toBe(true);
  });
});

type Case = KdCase;

describe('fused CUDA KD loss', () => {
  requireCuda();
  const fx = fixture<{ cases: Case[] }>('kd');

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
      // The kernel that really ran: with TORCHKD_KD_KERNEL=tma (gpu-check's second run) on sm_90+, the TMA one, never
      // a silent fallback; otherwise the generic one.
      const kernel = native().kdCudaLastKernel() as string;
      const request = process.env.TORCHKD_KD_KERNEL ?? '';
      if (request.startsWith('tma') && torch.cuda.getDeviceCapability()[0] >= 9) expect(kernel).toMatch(/^tma(512|256) \(clusters of \d+\)$/);
      else expect(kernel).toMatch(request.startsWith('tma') ? /^generic \(TMA: needs sm_90/ : /^generic \(TMA not requested\)$/);
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

  // Slices masked with a large constant: on a TMA cluster (40000 classes: 8 blocks for float32, 4 for 16-bit) the
  // last quarter of each row covers at least one whole slice, whose maximum is then the mask value; row 0 is masked
  // wholly. −1e10 at T = 1 and the format's lowest value at T = 2 turned such rows into NaN before the maxima were
  // subtracted before scaling. Reference: the composite in float32 on the same rounded inputs.
  for (const dtype of ['float32', 'bfloat16', 'float16'] as const) {
    it(`masked slices and rows stay finite on the GPU (${dtype})`, () => {
      const lowest = { float32: -3.4028234663852886e38, bfloat16: -3.3895313892515355e38, float16: -65504 }[dtype];
      for (const [T, v] of [[1, dtype === 'float16' ? lowest : -1e10], [2, lowest]] as const) {
        torch.manualSeed(6);
        const n = 16, c = 40000;
        const col = torch.arange(c).unsqueeze(0).expand([n, c]), row = torch.arange(n).unsqueeze(1).expand([n, c]);
        const mask = col.ge(30000).logicalOr(row.eq(0));
        const s = torch.randn(n, c).mul(3).maskedFill(mask, v).to({ device: 'cuda', dtype }).requiresGrad_(true);
        const t = torch.randn(n, c).mul(3).maskedFill(mask, v).to({ device: 'cuda', dtype });
        const fused = torch.kdLoss(s, t, T, { impl: 'fused' });
        fused.backward();
        const r = s.detach().float().requiresGrad_(true);
        const ref = torch.kdLoss(r, t.float(), T, { impl: 'composite' });
        ref.backward();
        const eps = dtype === 'float32' ? 1e-5 : dtype === 'bfloat16' ? 2 ** -7 : 2 ** -10;
        const got = fused.float().item() as number, want = ref.item() as number;
        expect(Number.isFinite(got), `T=${T} mask ${v}: loss ${got}`).toBe(true);
        expect(Math.abs(got - want)).toBeLessThanOrEqual(eps * Math.abs(want) + 1e-6);
        const g = (s.grad as Tensor).float();
        expect(g.isfinite().all().item(), `T=${T} mask ${v}: gradient not finite`).toBe(true);
        expect(g.sub(r.grad as Tensor).abs().max().item() as number).toBeLessThanOrEqual(eps * ((r.grad as Tensor).abs().max().item() as number) + 1e-9);
      }
    });
  }

  // Rows of 8192 classes or more run in 1024-thread blocks; the float64 kernel needed more registers than such a
  // block may have (a launch failure) until the kernel's launch bounds capped them. A student row far from its
  // teacher row (offset by 1e4, and row 1 of the student masked with −1e10) checks the KL term is summed relative
  // to the maxima (raw, it cancelled in float: errors of hundreds at −1e10).
  for (const dtype of ['float64', 'float32'] as const) {
    it(`long rows in 1024-thread blocks, student far from teacher (${dtype})`, () => {
      torch.manualSeed(8);
      const n = 8, c = 10000;
      const row = torch.arange(n).unsqueeze(1).expand([n, c]);
      const s = torch.randn(n, c).mul(3).add(1e4).maskedFill(row.eq(1), -1e10).to({ device: 'cuda', dtype }).requiresGrad_(true);
      const t = torch.randn(n, c).mul(3).to({ device: 'cuda', dtype });
      const fused = torch.kdLoss(s, t, 2, { impl: 'fused' });
      fused.backward();
      const r = s.detach().double().requiresGrad_(true);
      const ref = torch.kdLoss(r, t.double(), 2, { impl: 'composite' });
      ref.backward();
      const tol = dtype === 'float64' ? 1e-12 : 1e-5;
      expect(Math.abs((fused.item() as number) - (ref.item() as number))).toBeLessThanOrEqual(tol * Math.abs(ref.item() as number));
      const gr = r.grad as Tensor;
      expect((s.grad as Tensor).double().sub(gr).abs().max().item() as number).toBeLessThanOrEqual(tol * (gr.abs().max().item() as number));
    });
  }

  // A NaN logit makes its whole row NaN (loss and gradient), as in PyTorch, wherever it sits: in particular at a
  // thread's first element (column 0, or any of the first blockDim columns of a row that is loaded one element at a
  // time), where it once made a pack's maximum NaN and the pack was left out of the sums (a finite loss).
  for (const c of [1000, 1001]) {
    it(`a NaN logit makes its row NaN wherever it is (${c} classes: ${c % 4 ? 'scalar' : 'packed'} loads)`, () => {
      torch.manualSeed(9);
      const n = 6;
      const s0 = torch.randn(n, c), t0 = torch.randn(n, c);
      const sd = s0.data() as Float32Array, td = t0.data() as Float32Array;
      td[1 * c + 0] = NaN; // teacher, column 0
      td[2 * c + 5] = NaN; // teacher, column 5 (a thread's first element when loads are scalar)
      sd[3 * c + 0] = NaN; // student, column 0
      td[4 * c + 0] = -Infinity; // teacher −inf and student NaN at column 0
      sd[4 * c + 0] = NaN;
      const s = torch.tensor(sd).reshape([n, c]).cuda().requiresGrad_(true);
      const t = torch.tensor(td).reshape([n, c]).cuda();
      const rowsWithNaN = (g: Tensor) => Array.from({ length: n }, (_, r) => g.select(0, r).isnan().all().item() as boolean);
      torch.kdLoss(s, t, 2, { impl: 'fused' }).backward();
      const r = s.detach().cpu().requiresGrad_(true);
      torch.kdLoss(r, t.cpu(), 2, { impl: 'composite' }).backward();
      expect(rowsWithNaN((s.grad as Tensor).cpu())).toEqual(rowsWithNaN(r.grad as Tensor));
      expect(rowsWithNaN(r.grad as Tensor)).toEqual([false, true, true, true, true, false]);
      // Each row alone: the loss is NaN exactly for the rows PyTorch makes NaN.
      for (let row = 0; row < n; row++) {
        const l = torch.kdLoss(s.detach().narrow(0, row, 1), t.narrow(0, row, 1), 2, { impl: 'fused' }).item() as number;
        expect(Number.isNaN(l), `row ${row}: loss ${l}`).toBe(row >= 1 && row <= 4);
      }
    });
  }

  it('a second backward through a fused CUDA graph is a TorchError (raised on the autograd device thread), and the process lives on', () => {
    const s = torch.randn(4, 100).cuda().requiresGrad_(true);
    const loss = torch.kdLoss(s, torch.randn(4, 100).cuda(), 2, { impl: 'fused' });
    loss.backward(null, { retainGraph: true });
    expect(() => loss.backward()).toThrow(expect.objectContaining({ name: 'TorchError', message: expect.stringMatching(/backward ran twice/) }));
    const x = torch.ones(3).cuda().requiresGrad_(true);
    x.mul(2).sum().backward();
    expect((x.grad as Tensor).cpu().toArray()).toEqual([2, 2, 2]);
  });

  it('under CUDA autocast float16 logits get a float32 loss and a gradient scaled in float32, rounded once', () => {
    torch.manualSeed(12);
    const s = torch.randn(8, 5000).cuda().half().requiresGrad_(true);
    const t = torch.randn(8, 5000).cuda().half();
    expect(torch.kdLoss(s, t, 4).dtype).toBe('float16'); // outside a region: the logits' dtype
    const loss = torch.autocast('cuda', { dtype: 'float16' }, () => torch.kdLoss(s, t, 4));
    expect(loss.dtype).toBe('float32');
    loss.mul(524288).backward(); // a GradScaler-sized factor (inf as a float16 factor)
    const ref = s.detach().float().requiresGrad_(true);
    torch.kdLoss(ref, t.float(), 4).mul(524288).backward();
    const g = s.grad as Tensor;
    expect(g.dtype).toBe('float16');
    expect(g.float().isfinite().all().item()).toBe(true);
    // The same kernel on the same float32 values, scaled in float32: the float32 gradient rounded once, to the bit.
    expect(g.cpu().equal((ref.grad as Tensor).half().cpu())).toBe(true);
    const b = s.detach().bfloat16().requiresGrad_(true);
    const lb = torch.autocast('cuda', { dtype: 'bfloat16' }, () => torch.kdLoss(b, t.bfloat16(), 4));
    expect(lb.dtype).toBe('float32');
    // A float32 teacher with a 16-bit student, no autocast: float32, as kl_div promotes.
    expect(torch.kdLoss(b.detach(), t.float(), 4).dtype).toBe('float32');
  });

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

describe('fused CUDA top-k KD loss', () => {
  requireCuda();

  // The kernel (topk_kd_loss_cuda.cu) against the PyTorch composite on the same GPU inputs, and against the CPU kernel:
  // value and gradient, float32/float64 and a bfloat16 student (computed in float32), int64 and int32 indices, −inf
  // teacher entries (p̂ = 0 terms), a class dim that is not last, and a k as long as the row.
  const cases = [
    { n: 256, c: 1000, k: 10, dtype: 'float32', idx: 'int64', dim: 1 },
    { n: 64, c: 32000, k: 64, dtype: 'float32', idx: 'int32', dim: 1 },
    { n: 128, c: 500, k: 20, dtype: 'float64', idx: 'int64', dim: 1 },
    { n: 128, c: 4096, k: 16, dtype: 'bfloat16', idx: 'int64', dim: 1 },
    { n: 16, c: 300, k: 300, dtype: 'float32', idx: 'int64', dim: 1 },
    { n: 8, c: 100, k: 5, dtype: 'float32', idx: 'int64', dim: 2 },
  ] as const;
  for (const cs of cases) {
    it(`equals the composite and the CPU kernel: ${cs.n}x${cs.c} top-${cs.k} ${cs.dtype} ${cs.idx} dim ${cs.dim}`, () => {
      torch.manualSeed(11);
      const shape = cs.dim === 2 ? [cs.n, 3, cs.c] : [cs.n, cs.c];
      const s32 = torch.randn(shape).mul(3);
      const top = torch.randn(shape).mul(3).topk(cs.k, cs.dim);
      let v32 = top.values;
      if (cs.k > 4) v32 = v32.maskedFill(torch.arange(cs.k).eq(cs.k - 1).view(cs.dim === 2 ? [1, 1, cs.k] : [1, cs.k]).expand(v32.shape), -Infinity);
      const idx = cs.idx === 'int32' ? top.indices.int() : top.indices;
      const T = 2.5;
      const run = (device: 'cuda' | 'cpu', impl: 'fused' | 'composite') => {
        const s = s32.to({ device, dtype: cs.dtype }).requiresGrad_(true);
        const loss = torch.distiller.topkKdLoss(s, v32.to({ device, dtype: cs.dtype }), idx.to(device), T, { dim: cs.dim, impl });
        loss.backward();
        return { loss: loss.double().cpu().item() as number, grad: (s.grad as Tensor).double().cpu(), device: loss.device };
      };
      const fused = run('cuda', 'fused');
      expect(fused.device).toBe('cuda:0');
      const composite = run('cuda', 'composite');
      const cpu = run('cpu', 'fused');
      const eps = cs.dtype === 'float64' ? 1e-12 : cs.dtype === 'bfloat16' ? 2 ** -7 : 1e-5;
      for (const ref of [composite, cpu]) {
        expect(Math.abs(fused.loss - ref.loss)).toBeLessThanOrEqual(eps * Math.abs(ref.loss) + 1e-7);
        const err = fused.grad.sub(ref.grad).abs().max().item() as number;
        expect(err).toBeLessThanOrEqual(eps * (ref.grad.abs().max().item() as number) + 1e-9);
      }
    });
  }

  it('without autograd, under a scaled backward, and on bad input', () => {
    torch.manualSeed(12);
    const s = torch.randn(32, 200).cuda().requiresGrad_(true);
    const top = torch.randn(32, 200).cuda().topk(8, 1);
    const plain = torch.noGrad(() => torch.distiller.topkKdLoss(s, top.values, top.indices, 4, { impl: 'fused' }));
    const ref = torch.distiller.topkKdLoss(s.detach(), top.values, top.indices, 4, { impl: 'composite' });
    expect(Math.abs((plain.item() as number) - (ref.item() as number))).toBeLessThanOrEqual(1e-5 * Math.abs(ref.item() as number));
    torch.distiller.topkKdLoss(s, top.values, top.indices, 4, { impl: 'fused' }).mul(16).backward();
    const s2 = s.detach().clone().requiresGrad_(true);
    torch.distiller.topkKdLoss(s2, top.values, top.indices, 4, { impl: 'composite' }).mul(16).backward();
    const g2 = s2.grad as Tensor;
    expect((s.grad as Tensor).sub(g2).abs().max().item() as number).toBeLessThanOrEqual(1e-5 * (g2.abs().max().item() as number));
    expect(thrown(() => torch.distiller.topkKdLoss(s, top.values, top.indices.add(200), 4, { impl: 'fused' })).message).toMatch(/teacher index \d+ is out of range for 200 classes/);
    expect(thrown(() => torch.distiller.topkKdLoss(s, top.values.cpu(), top.indices.cpu(), 4, { impl: 'fused' })).message).toMatch(/same device/);
  });
});
