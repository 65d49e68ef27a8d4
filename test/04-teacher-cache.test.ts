/**
 * The teacher-logit cache (distiller.TeacherCache, `torchkd cache-teacher`, `torchkd train --kd-teacher-cache`) and the
 * top-k KD loss (distiller.topkKdLoss) it feeds: the loss against PyTorch, a cached run against a live-teacher run bit
 * for bit, stale or damaged caches refused, killed builds never read as complete, bad arguments as clear errors.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { CompressionScheduler, DistillationLossWeights, KnowledgeDistillationPolicy, Tensor, TorchError, distiller, nn, optim } from '../lib/index';
import { parseTrainArgs, runTraining } from '../lib/cli/train';
import type { Output } from '../lib/cli/progress';
import { expectError, expectTensor, fixture, fromJson, liveFixture, liveTensorsSettled, pythonWithTorch, setupOnce, thrown, type TensorJson } from './helpers';

const { TeacherCache, topkKdLoss, kdLoss } = distiller;
const { IndexedDataset, TensorDataset, DataLoader } = torch.data;

const ROOT = path.resolve(__dirname, '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-cache-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => path.join(tmp, `c${dirs++}`);

interface TopkCase {
  name: string;
  T: number;
  dim: number;
  s: TensorJson;
  v: TensorJson;
  idx: TensorJson;
  loss: TensorJson;
  grad: TensorJson;
}
interface TopkFixture {
  torch: string;
  cases: TopkCase[];
}
const fx = fixture<TopkFixture>('topk_kd');

function inputs(c: TopkCase): [Tensor, Tensor, Tensor] {
  return [fromJson(c.s, { requiresGrad: true }), fromJson(c.v), fromJson(c.idx)];
}

function maxAbs(j: TensorJson): number {
  return j.data.reduce<number>((m, v) => (typeof v === 'number' ? Math.max(m, Math.abs(v)) : m), 0);
}

function quiet(): Output & { lines: string[] } {
  const lines: string[] = [];
  return { lines, line: (t: string) => void lines.push(t) };
}

const sameBits = (a: Tensor, b: Tensor): boolean => a.dtype === b.dtype && JSON.stringify(a.shape) === JSON.stringify(b.shape) && Buffer.from(a.data().buffer).equals(Buffer.from(b.data().buffer));

describe('topkKdLoss, composite: PyTorch’s formula (log_softmax over all classes gathered at the top-k, softmax of the top-k)', () => {
  for (const c of fx.cases) {
    it(c.name, () => {
      const [s, v, idx] = inputs(c);
      const loss = topkKdLoss(s, v, idx, c.T, { dim: c.dim, impl: 'composite' });
      loss.backward();
      // The same ATen ops as Python's, in the same order: equal to the bit.
      expectTensor(loss, c.loss);
      expectTensor(s.grad as Tensor, c.grad);
    });
  }

  it('int32 indices give the int64 result', () => {
    const c = fx.cases[0];
    const [s, v, idx] = inputs(c);
    const a = topkKdLoss(s, v, idx, c.T, { impl: 'composite' });
    const b = topkKdLoss(s, v, idx.to('int32'), c.T, { impl: 'composite' });
    expect(sameBits(a, b)).toBe(true);
  });

  it.skipIf(pythonWithTorch() === null)('the committed topk_kd fixture is what the current PyTorch produces', () => {
    expect(liveFixture<TopkFixture>('gen_topk_kd.py')).toEqual(fx);
  });
});

// The fused kernel sums the student's exponentials in another order, with its own exp (relative error <= 1e-7), as the
// dense fused KD loss does: it agrees with the composite to float rounding — relative 2e-5 on float32 losses, 1e-12
// on float64; gradients within 1e-6·max|grad| + 1e-8 (float32) / 1e-13·max|grad| + 1e-15 (float64).
describe('topkKdLoss, fused: the composite within float rounding', () => {
  for (const c of fx.cases) {
    it(c.name, () => {
      const f64 = c.loss.dtype === 'float64';
      for (const indexDtype of ['int64', 'int32'] as const) {
        const [s, v, idx] = inputs(c);
        const loss = topkKdLoss(s, v, idx.to(indexDtype), c.T, { dim: c.dim, impl: 'fused' });
        loss.backward();
        expect(loss.dtype).toBe(c.loss.dtype);
        const expected = c.loss.data[0] as number;
        expectTensor(loss, c.loss, { rtol: f64 ? 1e-12 : 2e-5, atol: Math.abs(expected) < 1e-6 ? 1e-7 : 0 });
        expectTensor(s.grad as Tensor, c.grad, { atol: (f64 ? 1e-13 : 1e-6) * maxAbs(c.grad) + (f64 ? 1e-15 : 1e-8), rtol: 0 });
      }
    });
  }

  it("with k = C it is the dense KD loss, and its gradient flows through a scaled loss as the composite's does", () => {
    torch.manualSeed(1);
    const s = torch.randn(8, 10, { requiresGrad: true });
    const t = torch.randn(8, 10);
    const top = t.topk(10, 1);
    const a = topkKdLoss(s, top.values, top.indices, 3.0);
    const b = kdLoss(s, t, 3.0, { impl: 'composite' });
    expect(Math.abs((a.item() as number) - (b.item() as number))).toBeLessThan(1e-6);
    a.mul(9).backward();
    const g1 = (s.grad as Tensor).clone();
    const s2 = s.detach().clone();
    s2.requiresGrad = true;
    topkKdLoss(s2, top.values, top.indices, 3.0, { impl: 'composite' }).mul(9).backward();
    expect(g1.allclose(s2.grad as Tensor, { rtol: 1e-5, atol: 1e-8 })).toBe(true);
  });

  // Each CPU path of the student's exp-sum (AVX-512, AVX2+FMA, portable; TORCHKD_KD_SIMD caps it) in a child process,
  // over row lengths that exercise the vector tails, rows masked with a large constant, 16-bit logits (computed in
  // float32), and the same bits whatever the thread count.
  const child = `
const torch = require(${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))});
torch.manualSeed(3);
const run = (s, v, i, T, impl) => { const x = s.detach().requiresGrad_(true); const l = torch.distiller.topkKdLoss(x, v, i, T, { impl }); l.backward(); return [l, x.grad]; };
let worstLoss = 0, worstGrad = 0;
for (const [n, c, k] of [[1, 1, 1], [3, 7, 2], [9, 17, 17], [33, 31, 5], [8, 2048, 64], [5, 2049, 3], [40, 4099, 20]]) {
  for (const T of [0.5, 1, 4.5]) {
    const s = torch.randn(n, c).mul(5);
    if (n > 2) s.narrow(0, 1, 1).fill_(-1e10); // a whole row masked: a uniform student
    const top = torch.randn(n, c).mul(5).topk(k, 1);
    const [a, ga] = run(s, top.values, top.indices, T, 'fused');
    const [b, gb] = run(s, top.values, top.indices, T, 'composite');
    worstLoss = Math.max(worstLoss, Math.abs(a.item() - b.item()) / (Math.abs(b.item()) + 5e-3));
    worstGrad = Math.max(worstGrad, ga.sub(gb).abs().max().item() / Math.max(gb.abs().max().item(), 1e-6));
  }
}
let worst16 = 0;
for (const dtype of ['bfloat16', 'float16']) {
  const s = torch.randn(6, 333).mul(4).to(dtype);
  const top = torch.randn(6, 333).mul(4).topk(7, 1);
  const [a, ga] = run(s, top.values.to(dtype), top.indices, 2, 'fused');
  const [b, gb] = run(s.double(), top.values.to(dtype).double(), top.indices, 2, 'composite');
  const eps = dtype === 'bfloat16' ? 2 ** -8 : 2 ** -11;
  worst16 = Math.max(worst16, Math.abs(a.item() - b.item()) / Math.abs(b.item()) / eps, ga.double().sub(gb).abs().max().item() / gb.abs().max().item() / eps);
}
const s = torch.randn(300, 1000), top = torch.randn(300, 1000).topk(10, 1);
torch.setNumThreads(1);
const [l1, g1] = run(s, top.values, top.indices, 2, 'fused');
torch.setNumThreads(2);
const [l2, g2] = run(s, top.values, top.indices, 2, 'fused');
const same = l1.item() === l2.item() && torch.equal(g1, g2);
console.log(JSON.stringify({ simd: require(${JSON.stringify(path.join(ROOT, 'dist', 'binding.js'))}).native().kdCpuSimd(), worstLoss, worstGrad, worst16, same }));
`;
  for (const simd of ['native', 'avx2', 'portable'] as const) {
    it(`every CPU path: ${simd}`, () => {
      const r = spawnSync(process.execPath, ['-e', child], { env: { ...process.env, TORCHKD_KD_SIMD: simd === 'native' ? '' : simd }, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { simd: string; worstLoss: number; worstGrad: number; worst16: number; same: boolean };
      if (simd === 'portable') expect(out.simd).toBe('portable');
      expect(out.worstLoss).toBeLessThan(2e-5);
      expect(out.worstGrad).toBeLessThan(1e-5);
      expect(out.worst16).toBeLessThanOrEqual(1.01);
      expect(out.same).toBe(true);
    });
  }

  it('bad inputs are TypeErrors and RangeErrors with clear messages', () => {
    const s = torch.randn(4, 10);
    const v = torch.randn(4, 3);
    const idx = torch.randint(0, 10, [4, 3]);
    for (const impl of ['fused', 'composite'] as const) {
      expect(thrown(() => topkKdLoss(s, v, idx.add(10), 2, { impl }))).toBeInstanceOf(RangeError);
      expect(thrown(() => topkKdLoss(s, v, idx.add(10), 2, { impl })).message).toMatch(/index 1\d is out of range for 10 classes/);
      expect(thrown(() => topkKdLoss(s, v, idx.neg().sub(1), 2, { impl })).message).toMatch(/index -\d+ is out of range/);
      expect(thrown(() => topkKdLoss(s, torch.randn(4, 0), torch.zeros([4, 0], { dtype: 'int64' }), 2, { impl })).message).toMatch(/k .* must be at least 1/);
      expect(thrown(() => topkKdLoss(s, v, idx.narrow(1, 0, 2), 2, { impl })).message).toMatch(/values \[4, 3\] and indices \[4, 2\]/);
      expect(thrown(() => topkKdLoss(s, torch.randn(5, 3), torch.randint(0, 10, [5, 3]), 2, { impl })).message).toMatch(/shape \[4, 10\] except in the class dim/);
      expect(thrown(() => topkKdLoss(s, v, idx.float(), 2, { impl }))).toBeInstanceOf(TypeError);
      expect(thrown(() => topkKdLoss(s, v, idx, 0, { impl }))).toBeInstanceOf(RangeError);
    }
    expect(thrown(() => topkKdLoss(s, v, idx, 2, { impl: 'fast' as 'fused' }))).toBeInstanceOf(RangeError);
  });
});

// ---- the cache ---------------------------------------------------------------------------------------------------

const FMNIST = '/usr/share/datasets/fashion-mnist';
const HAS_DATA = fs.existsSync(path.join(FMNIST, 'train-images-idx3-ubyte.gz'));

/** 1000 Fashion-MNIST training images (synthetic 28×28 noise where the data set is not installed). */
function smallSet(n = 1000): InstanceType<typeof TensorDataset> {
  if (HAS_DATA) {
    const ds = new torch.data.FashionMNIST({ root: FMNIST, train: true });
    return new TensorDataset(ds.images.narrow(0, 0, n).clone(), ds.labels.narrow(0, 0, n).clone());
  }
  torch.manualSeed(11);
  return new TensorDataset(torch.randn(n, 1, 28, 28), torch.randint(0, 10, [n]));
}
const DATA = smallSet();

function teacherNet(seed = 5): nn.Module {
  torch.manualSeed(seed);
  return torch.models.create('simplenet_mnist');
}

describe('TeacherCache.build / open / lookups', () => {
  const teacher = teacherNet();
  teacher.eval();
  const all = torch.noGrad(() => teacher.call(DATA.tensors[0] as Tensor)) as Tensor;
  const pick = torch.tensor([999, 0, 17, 503, 17, 256], { dtype: 'int64' });

  it('a dense float32 cache returns the teacher logits of the asked samples, to the bit', () => {
    const dir = freshDir();
    const built = TeacherCache.build(teacher, DATA, dir, { batchSize: 100, shardSize: 300 });
    expect(built.manifest.shards.map((s) => s.samples)).toEqual([300, 300, 300, 100]);
    const cache = TeacherCache.open(dir, { teacher, dataset: DATA, verify: 'eager' });
    expect([cache.length, cache.numClasses, cache.topK, cache.dtype]).toEqual([1000, 10, null, 'float32']);
    expect(cache.sampleShape).toEqual([10]);
    expect(sameBits(cache.logits(pick), all.indexSelect(0, pick))).toBe(true);
    // Shards read row by row (nothing kept in memory) give the same rows.
    const streamed = TeacherCache.open(dir, { maxResidentBytes: 0 });
    expect(sameBits(streamed.logits([3, 998, 299, 300]), all.indexSelect(0, torch.tensor([3, 998, 299, 300])))).toBe(true);
    expect(teacher.training).toBe(false); // it was in eval mode before the build, and is again
  });

  it('float16 and bfloat16 caches hold the logits rounded to their dtype, read back as float32', () => {
    for (const dtype of ['float16', 'bfloat16'] as const) {
      const dir = freshDir();
      TeacherCache.build(teacher, DATA, dir, { dtype, batchSize: 250 });
      const cache = TeacherCache.open(dir);
      const got = cache.logits(pick);
      expect(got.dtype).toBe('float32');
      expect(sameBits(got, all.indexSelect(0, pick).to(dtype).float())).toBe(true);
      expect(fs.statSync(path.join(dir, 'shard-00000.bin')).size).toBe(1000 * 10 * 2);
    }
  });

  it('a top-k cache holds the k largest logits and their indices (int32 or int64 on disk, int64 when read)', () => {
    const top = all.topk(4, 1, true, true);
    for (const indexDtype of ['int32', 'int64'] as const) {
      const dir = freshDir();
      TeacherCache.build(teacher, DATA, dir, { topK: 4, indexDtype, shardSize: 400 });
      const cache = TeacherCache.open(dir, { dataset: DATA });
      expect(cache.topK).toBe(4);
      const got = cache.topk(pick);
      expect(sameBits(got.values, top.values.indexSelect(0, pick))).toBe(true);
      expect(sameBits(got.indices, top.indices.indexSelect(0, pick))).toBe(true);
      expect(fs.statSync(path.join(dir, 'shard-00000.bin')).size).toBe(400 * 4 * (4 + (indexDtype === 'int32' ? 4 : 8)));
    }
  });

  it('the manifest records the format, the shards with their SHA-256 and the fingerprints', () => {
    const dir = freshDir();
    TeacherCache.build(teacher, DATA, dir, { dtype: 'bfloat16', topK: 3, arch: 'simplenet_mnist' });
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    expect(m).toMatchObject({ format: 'torchkd-teacher-cache', version: 1, kind: 'topk', dtype: 'bfloat16', topK: 3, indexDtype: 'int32', numSamples: 1000, numClasses: 10, sampleShape: [10], byteOrder: 'little' });
    expect(m.shards[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.teacher.arch).toBe('simplenet_mnist');
    expect(m.teacher.tensors.map((e: unknown[]) => e[0])).toEqual(Object.keys(teacher.stateDict()));
    expect(m.dataset).toMatchObject({ length: 1000, members: [{ shape: [1, 28, 28], dtype: 'float32' }, { shape: [], dtype: 'int64' }], sampled: 64 });
    expect(TeacherCache.datasetFingerprint(DATA)).toEqual(m.dataset);
    // The same fingerprint through an IndexedDataset, and for a dataset without getBatch.
    expect(TeacherCache.datasetFingerprint(new IndexedDataset(DATA))).toEqual(m.dataset);
    const plain = { length: DATA.length, get: (i: number) => DATA.get(i) };
    expect(TeacherCache.datasetFingerprint(plain)).toEqual(m.dataset);
  });
});

describe('a stale or damaged cache is refused, naming what differs', () => {
  const teacher = teacherNet();
  const dir = freshDir();
  setupOnce(() => TeacherCache.build(teacher, DATA, dir, { shardSize: 500 }));

  it('other teacher weights', () => {
    const other = teacherNet();
    torch.noGrad(() => (other.parameters().at(-1) as Tensor).add_(1e-3));
    const e = thrown(() => TeacherCache.open(dir, { teacher: other }));
    expect(e).toBeInstanceOf(TorchError);
    expect((e as TorchError).code).toBe('VALUE_ERROR');
    expect(e.message).toMatch(/the teacher's weights are not those the cache .* was built with \(the values of '[\w.]+' differ\)/);
    // Another architecture: named by its first differing entry.
    expect(thrown(() => TeacherCache.open(dir, { teacher: torch.models.create('mlp_small_mnist') })).message).toMatch(/teacher's weights are not those/);
    // The same weights as a state dict pass.
    TeacherCache.open(dir, { teacher: teacher.stateDict() });
  });

  it('another dataset: its length, its labels, its inputs', () => {
    const x = DATA.tensors[0] as Tensor;
    const y = DATA.tensors[1] as Tensor;
    const shorter = new TensorDataset(x.narrow(0, 0, 999), y.narrow(0, 0, 999));
    expect(thrown(() => TeacherCache.open(dir, { dataset: shorter })).message).toMatch(/the dataset has 999 samples, the cache 1000/);
    const y2 = y.clone();
    y2.narrow(0, 500, 1).fill_(((y.select(0, 500).item() as number) + 1) % 10);
    const relabelled = new TensorDataset(x, y2);
    expect(thrown(() => TeacherCache.open(dir, { dataset: relabelled })).message).toMatch(/labels .* differ/);
    const renormalised = new TensorDataset(x.mul(1.01), y);
    const e = thrown(() => TeacherCache.open(dir, { dataset: renormalised }));
    expect(e).toBeInstanceOf(TorchError);
    expect(e.message).toMatch(/the dataset's inputs differ/);
    const reordered = new TensorDataset(x.flip(0), y.flip(0));
    expect(thrown(() => TeacherCache.open(dir, { dataset: reordered })).message).toMatch(/not the one the cache .* was built over/);
  });

  it('a flipped byte in a shard (checked at its first use, or at open with verify: eager)', () => {
    const bad = freshDir();
    fs.cpSync(dir, bad, { recursive: true });
    const file = path.join(bad, 'shard-00001.bin');
    const bytes = fs.readFileSync(file);
    bytes[1234] ^= 0x01;
    fs.writeFileSync(file, bytes);
    const cache = TeacherCache.open(bad); // sizes match: opening reads only the manifest
    cache.logits([0, 499]); // shard 0 is intact
    const e = thrown(() => cache.logits([500]));
    expect(e).toBeInstanceOf(TorchError);
    expect(e.message).toMatch(/shard-00001\.bin in .* is corrupted \(its SHA-256 is [0-9a-f]{64}, the manifest records [0-9a-f]{64}\)/);
    expect(thrown(() => TeacherCache.open(bad, { maxResidentBytes: 0 }).logits([999])).message).toMatch(/shard-00001\.bin .* is corrupted/);
    expect(thrown(() => TeacherCache.open(bad, { verify: 'eager' })).message).toMatch(/shard-00001\.bin .* is corrupted/);
    fs.writeFileSync(file, bytes.subarray(0, 100));
    expect(thrown(() => TeacherCache.open(bad)).message).toMatch(/shard-00001\.bin in .* has 100 bytes, the manifest records 20000/);
    fs.rmSync(file);
    expect(thrown(() => TeacherCache.open(bad)).message).toMatch(/shard-00001\.bin is missing/);
  });

  it('a damaged or foreign manifest', () => {
    const bad = freshDir();
    fs.cpSync(dir, bad, { recursive: true });
    const file = path.join(bad, 'manifest.json');
    const m = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ ...m, version: 99 }));
    expect(thrown(() => TeacherCache.open(bad)).message).toMatch(/version 99 of the cache format; this torchkd reads version 1/);
    fs.writeFileSync(file, JSON.stringify({ ...m, topK: 11 }));
    expect(thrown(() => TeacherCache.open(bad)).message).toMatch(/not a valid teacher-cache manifest \(topK 11\)/);
    fs.writeFileSync(file, '{"format": "torchkd-teacher-cache", ');
    expect(thrown(() => TeacherCache.open(bad)).message).toMatch(/is not readable JSON/);
  });
});

describe('bad arguments are TypeErrors and RangeErrors with clear messages', () => {
  const teacher = teacherNet();

  it('build', () => {
    const dir = freshDir();
    TeacherCache.build(teacher, DATA, dir, { shardSize: 600 });
    expect(thrown(() => TeacherCache.build(teacher, DATA, dir, { topK: 0 }))).toBeInstanceOf(RangeError);
    expect(thrown(() => TeacherCache.build(teacher, DATA, dir, { topK: -2 })).message).toMatch(/topK must be a positive integer, got -2/);
    expect(thrown(() => TeacherCache.build(teacher, DATA, dir, { topK: 2.5 }))).toBeInstanceOf(RangeError);
    const tooMany = thrown(() => TeacherCache.build(teacher, DATA, dir, { topK: 11 }));
    expect(tooMany).toBeInstanceOf(RangeError);
    expect(tooMany.message).toMatch(/topK 11 is more than the teacher's 10 classes/);
    expect(thrown(() => TeacherCache.build(teacher, DATA, dir, { dtype: 'int8' as 'float16' })).message).toMatch(/dtype must be one of float32, float16, bfloat16, got the string "int8"/);
    expect(thrown(() => TeacherCache.build(teacher, DATA, dir, { dtype: 'int8' as 'float16' }))).toBeInstanceOf(TypeError);
    expect(thrown(() => TeacherCache.build(teacher, DATA, dir, { indexDtype: 'int16' as 'int32' }))).toBeInstanceOf(TypeError);
    expect(thrown(() => TeacherCache.build(teacher, DATA, dir, { batchSize: 0 }))).toBeInstanceOf(RangeError);
    expect(thrown(() => TeacherCache.build(teacher, DATA, undefined as unknown as string))).toBeInstanceOf(TypeError);
    expect(thrown(() => TeacherCache.build((() => torch.zeros(1)) as unknown as nn.Module, DATA, dir))).toBeInstanceOf(TypeError);
    expect(thrown(() => TeacherCache.build(teacher, [] as unknown as torch.data.Dataset, dir))).toBeInstanceOf(TypeError);
    // None of the refused builds touched the cache that was there.
    expect(TeacherCache.open(dir, { dataset: DATA, verify: 'eager' }).manifest.shardSize).toBe(600);
  });

  it('open and lookups', () => {
    const dir = freshDir();
    TeacherCache.build(teacher, DATA, dir, { topK: 2 });
    expect(thrown(() => TeacherCache.open(undefined as unknown as string))).toBeInstanceOf(TypeError);
    const missing = thrown(() => TeacherCache.open(path.join(tmp, 'nowhere')));
    expect(missing).toBeInstanceOf(TorchError);
    expect(missing.message).toMatch(/no cache in .*nowhere: the folder does not exist/);
    expect(thrown(() => TeacherCache.open(tmp)).message).toMatch(/holds no complete cache: manifest\.json is missing/);
    expect(thrown(() => TeacherCache.open(dir, { verify: 'always' as 'eager' }))).toBeInstanceOf(TypeError);
    expect(thrown(() => TeacherCache.open(dir, { maxResidentBytes: -1 }))).toBeInstanceOf(RangeError);
    const cache = TeacherCache.open(dir);
    expect(thrown(() => cache.logits([0]))).toBeInstanceOf(TypeError);
    expect(thrown(() => cache.topk([1000])).message).toMatch(/sample index 1000 is out of range for the cache's 1000 samples/);
    expect(thrown(() => cache.topk([-1]))).toBeInstanceOf(RangeError);
    expect(thrown(() => cache.topk(torch.zeros([2, 2], { dtype: 'int64' })))).toBeInstanceOf(TypeError);
    expect(thrown(() => cache.topk('0' as unknown as number[]))).toBeInstanceOf(TypeError);
  });

  it('the policy', () => {
    const dir = freshDir();
    TeacherCache.build(teacher, DATA, dir);
    const cache = TeacherCache.open(dir);
    const student = torch.models.create('mlp_small_mnist');
    expect(thrown(() => new KnowledgeDistillationPolicy(student, cache, 2, DistillationLossWeights(0.5, 0.5, 0.2)))).toBeInstanceOf(RangeError);
    const kd = new KnowledgeDistillationPolicy(student, cache, 2);
    kd.onEpochBegin(student, {}, { startingEpoch: 0, endingEpoch: 1, frequency: 1 });
    const x = (DATA.tensors[0] as Tensor).narrow(0, 0, 4);
    const e = thrown(() => kd.forward(x));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/policy\.forward\(x, \{ indices \}\)/);
    expect(thrown(() => kd.forward(x, { indices: torch.arange(5) })).message).toMatch(/5 indices for a batch of 4/);
    const wide = new KnowledgeDistillationPolicy(new nn.Sequential(new nn.Flatten(), new nn.Linear(784, 12)), cache, 2);
    wide.onEpochBegin(student, {}, { startingEpoch: 0, endingEpoch: 1, frequency: 1 });
    expect(thrown(() => wide.forward(x, { indices: torch.arange(4) })).message).toMatch(/the student has 12 classes \(dim 1\), the teacher cache 10/);
    // Inactive, the policy is the student alone (no indices needed).
    kd.onEpochEnd(student, {}, { startingEpoch: 0, endingEpoch: 1, frequency: 1 });
    expect(kd.forward(x).shape).toEqual([4, 10]);
  });
});

/** A call, the error class it must throw, and the message word for word (checked with expectError). */
type ErrorCase = [() => unknown, abstract new (...args: never[]) => Error, string];

describe('every message of the cache, word for word', () => {
  const teacher = teacherNet();
  const dir = freshDir();
  setupOnce(() => TeacherCache.build(teacher, DATA, dir, { shardSize: 500 }));
  const where = path.resolve(dir);
  const stale = (what: string): string =>
    `TeacherCache: the teacher's weights are not those the cache in ${where} was built with (${what}). ` +
    'Build the cache again with this teacher (torchkd cache-teacher), or use the teacher it was built with.';
  const otherData = (what: string): string =>
    `TeacherCache: the dataset is not the one the cache in ${where} was built over (${what}). ` +
    'A cache is read by sample index, so it only fits the data (and order) it was built from: build it again over this dataset.';

  /** A module whose forward is `fn` (a teacher returning something other than logits). */
  function returning(fn: (x: Tensor, call: number) => unknown): nn.Module {
    class Odd extends nn.Module {
      calls = 0;
      override forward(x: Tensor): unknown {
        return fn(x, this.calls++);
      }
    }
    return new Odd();
  }

  it('build: its arguments, checked before the folder is made', () => {
    const out = freshDir();
    const get = (): Tensor[] => [];
    const cases: ErrorCase[] = [
      [() => TeacherCache.build((() => 0) as unknown as nn.Module, DATA, out), TypeError, 'TeacherCache.build: expected a Module for the teacher but received the function (anonymous)'],
      [() => TeacherCache.build(teacher, [] as unknown as torch.data.Dataset, out), TypeError, 'TeacherCache.build: expected a dataset (with length and get()) but received an array'],
      [() => TeacherCache.build(teacher, { length: 3 } as unknown as torch.data.Dataset, out), TypeError, 'TeacherCache.build: expected a dataset (with length and get()) but received an object (Object)'],
      [() => TeacherCache.build(teacher, { length: '3', get } as unknown as torch.data.Dataset, out), TypeError, 'TeacherCache.build: expected a dataset (with length and get()) but received an object (Object)'],
      [() => TeacherCache.build(teacher, null as unknown as torch.data.Dataset, out), TypeError, 'TeacherCache.build: expected a dataset (with length and get()) but received null'],
      // A function has a length and may carry a get(): still not a dataset.
      [() => TeacherCache.build(teacher, Object.assign((i: number) => i, { get }) as unknown as torch.data.Dataset, out), TypeError, 'TeacherCache.build: expected a dataset (with length and get()) but received the function (anonymous)'],
      [() => TeacherCache.build(teacher, DATA, ''), TypeError, 'TeacherCache.build: expected a folder path but received the string ""'],
      [() => TeacherCache.build(teacher, DATA, 5 as unknown as string), TypeError, 'TeacherCache.build: expected a folder path but received the number 5'],
      [() => TeacherCache.build(teacher, DATA, out, null as unknown as object), TypeError, 'TeacherCache.build: expected an options object but received null'],
      [() => TeacherCache.build(teacher, DATA, out, 'fast' as unknown as object), TypeError, 'TeacherCache.build: expected an options object but received the string "fast"'],
      [() => TeacherCache.build(teacher, DATA, out, { dtype: 'int8' as 'float16' }), TypeError, 'TeacherCache.build: dtype must be one of float32, float16, bfloat16, got the string "int8"'],
      [() => TeacherCache.build(teacher, DATA, out, { topK: '3' as unknown as number }), TypeError, 'TeacherCache: expected a positive integer for topK but received the string "3"'],
      [() => TeacherCache.build(teacher, DATA, out, { topK: 0 }), RangeError, 'TeacherCache: topK must be a positive integer, got 0'],
      [() => TeacherCache.build(teacher, DATA, out, { topK: 2.5 }), RangeError, 'TeacherCache: topK must be a positive integer, got 2.5'],
      [() => TeacherCache.build(teacher, DATA, out, { indexDtype: 'int16' as 'int32' }), TypeError, "TeacherCache.build: indexDtype must be 'int32' or 'int64', got the string \"int16\""],
      [() => TeacherCache.build(teacher, DATA, out, { batchSize: 0 }), RangeError, 'TeacherCache: batchSize must be a positive integer, got 0'],
      [() => TeacherCache.build(teacher, DATA, out, { shardSize: -1 }), RangeError, 'TeacherCache: shardSize must be a positive integer, got -1'],
      [() => TeacherCache.build(teacher, DATA, out, { shardSize: null as unknown as number }), TypeError, 'TeacherCache: expected a positive integer for shardSize but received null'],
      [() => TeacherCache.build(teacher, { length: 0, get } as unknown as torch.data.Dataset, out), RangeError, 'TeacherCache.build: the dataset is empty (length 0)'],
      [() => TeacherCache.build(teacher, { length: 2.5, get } as unknown as torch.data.Dataset, out), RangeError, 'TeacherCache.build: the dataset is empty (length 2.5)'],
    ];
    for (const [fn, cls, message] of cases) expectError(fn, cls, message);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('build: a teacher that does not return (batch, …, classes) floating-point logits, its mode restored', () => {
    const out = freshDir();
    const opts = { batchSize: 100 };
    const cases: [nn.Module, abstract new (...args: never[]) => Error, string][] = [
      [returning((x) => [x.flatten(1)]), TypeError, 'TeacherCache.build: the teacher must return a Tensor (its logits) but returned an array'],
      [returning(() => 7), TypeError, 'TeacherCache.build: the teacher must return a Tensor (its logits) but returned the number 7'],
      [returning((x) => x.flatten(1).argmax(1, true)), TypeError, "TeacherCache.build: the teacher's logits must be floating point, got int64"],
      [returning((x) => x.sum()), RangeError, 'TeacherCache.build: the teacher returned () for a batch of 100; expected (batch, …, classes)'],
      [returning((x) => x.flatten()), RangeError, 'TeacherCache.build: the teacher returned (78400) for a batch of 100; expected (batch, …, classes)'],
      [returning((x) => x.narrow(0, 0, 99).flatten(1)), RangeError, 'TeacherCache.build: the teacher returned (99, 784) for a batch of 100; expected (batch, …, classes)'],
      [returning((x, call) => x.narrow(0, 0, call === 0 ? 100 : 98).flatten(1)), RangeError, 'TeacherCache.build: the teacher returned (98, 784) for a batch of 100; expected (batch, …, classes)'],
      [returning((x, call) => x.flatten(1).narrow(1, 0, call === 0 ? 10 : 9)), RangeError, "TeacherCache.build: the teacher's logits changed shape from (10) to (9) per sample at sample 100"],
      [returning((x, call) => (call === 0 ? x.flatten(1).narrow(1, 0, 10) : x.view([100, 2, 392]))), RangeError, "TeacherCache.build: the teacher's logits changed shape from (10) to (2, 392) per sample at sample 100"],
    ];
    for (const [odd, cls, message] of cases) {
      odd.train();
      expectError(() => TeacherCache.build(odd, DATA, out, opts), cls, message);
      expect(odd.training).toBe(true);
    }
    expectError(() => TeacherCache.build(teacher, DATA, out, { topK: 11 }), RangeError, "TeacherCache.build: topK 11 is more than the teacher's 10 classes");
    // A (batch, positions, classes) teacher: its rows are (positions, classes), and k counts along the last dim.
    const seq = returning((x) => x.flatten(1).narrow(1, 0, 12).reshape([-1, 3, 4]));
    const cache = TeacherCache.build(seq, DATA, out, { topK: 4, shardSize: 300 });
    expect([cache.sampleShape, cache.numClasses, cache.topK]).toEqual([[3, 4], 4, 4]);
    const want = (DATA.tensors[0] as Tensor).flatten(1).narrow(1, 0, 12).view([-1, 3, 4]).topk(4, -1, true, true);
    const got = cache.topk([0, 299, 300, 999]);
    const rows = torch.tensor([0, 299, 300, 999]);
    expect(sameBits(got.values, want.values.indexSelect(0, rows))).toBe(true);
    expect(sameBits(got.indices, want.indices.indexSelect(0, rows))).toBe(true);
    expect(TeacherCache.open(out, { verify: 'eager' }).topK).toBe(4);
  });

  it('build: progress after each shard, the last shard short', () => {
    const calls: [number, number][] = [];
    const cache = TeacherCache.build(teacher, DATA, freshDir(), { shardSize: 300, batchSize: 128, progress: (done, n) => calls.push([done, n]) });
    expect(calls).toEqual([[300, 1000], [600, 1000], [900, 1000], [1000, 1000]]);
    expect(cache.manifest.shards.map((s) => [s.file, s.samples, s.bytes])).toEqual([
      ['shard-00000.bin', 300, 12000],
      ['shard-00001.bin', 300, 12000],
      ['shard-00002.bin', 300, 12000],
      ['shard-00003.bin', 100, 4000],
    ]);
    expect([cache.manifest.kind, cache.manifest.indexDtype, cache.manifest.topK, cache.manifest.teacher.arch]).toEqual(['dense', null, null, null]);
    // Without a shard size: as many samples as fit in 64 MiB, here all of them.
    expect(TeacherCache.build(teacher, DATA, freshDir()).manifest.shardSize).toBe(Math.floor((64 << 20) / 40));
  });

  it('build: one teacher call per batch, in the dataset\'s order, the last batch short', () => {
    const sizes: number[] = [];
    const firsts: number[] = [];
    const x = DATA.tensors[0] as Tensor;
    const counting = returning((xb) => {
      sizes.push(xb.size(0));
      firsts.push(xb.select(0, 0).sum().item() as number);
      return xb.flatten(1).narrow(1, 0, 10);
    });
    TeacherCache.build(counting, DATA, freshDir(), { batchSize: 250 });
    expect(sizes).toEqual([250, 250, 250, 250]);
    expect(firsts).toEqual([0, 250, 500, 750].map((i) => x.select(0, i).sum().item() as number));
    sizes.length = 0;
    TeacherCache.build(counting, DATA, freshDir(), { batchSize: 300 });
    expect(sizes).toEqual([300, 300, 300, 100]);
  });

  it("a rebuild that fails after checking the teacher leaves no cache behind (the old manifest goes first)", () => {
    const out = freshDir();
    TeacherCache.build(teacher, DATA, out, { shardSize: 300 });
    const shifting = returning((x, call) => x.flatten(1).narrow(1, 0, call === 0 ? 10 : 9));
    expectError(() => TeacherCache.build(shifting, DATA, out, { batchSize: 500 }), RangeError, "TeacherCache.build: the teacher's logits changed shape from (10) to (9) per sample at sample 500");
    expect(fs.readdirSync(out)).toEqual([]);
    expectError(
      () => TeacherCache.open(out),
      TorchError,
      `TeacherCache: ${path.resolve(out)} holds no complete cache: manifest.json is missing (a build that was stopped before its end leaves none). ` +
        'Build it again (torchkd cache-teacher, or TeacherCache.build) into the same folder.',
    );
  });

  it.skipIf(!fs.existsSync('/proc/self/fd'))('streamed reads and their first-use digest close every file they open', () => {
    const fds = (): number => fs.readdirSync('/proc/self/fd').length;
    const before = fds();
    const streamed = TeacherCache.open(dir, { maxResidentBytes: 0 });
    streamed.logits([0, 999, 500]).dispose();
    streamed.logits([1, 998]).dispose();
    TeacherCache.open(dir, { maxResidentBytes: 0, verify: 'eager' }).logits([3]).dispose();
    expect(fds()).toBe(before);
  });

  it("a plain dataset's labels are hashed 4,096 samples at a time, to the last one", () => {
    const n = 4096;
    const plain = { length: n, get: (i: number) => [torch.tensor([i]), torch.tensor(i % 10, { dtype: 'int64' })] };
    const labels = BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 10));
    expect(TeacherCache.datasetFingerprint(plain).labelsSha256).toBe(createHash('sha256').update(Buffer.from(labels.buffer)).digest('hex'));
  });

  it('a rebuild removes the shards of the cache it replaces and the temporary files of a killed build, nothing else', () => {
    const out = freshDir();
    TeacherCache.build(teacher, DATA, out, { shardSize: 100 });
    const keep = ['notes.txt', 'shard-1.bin', 'shard-00001.bin.bak', '.manifest.json.tmp', 'xshard-00002.bin', 'mine.shard-00003.bin.tmp-1-x'];
    for (const f of keep) fs.writeFileSync(path.join(out, f), 'mine');
    fs.writeFileSync(path.join(out, '.shard-00003.bin.tmp-123-abc'), 'half');
    fs.writeFileSync(path.join(out, '.manifest.json.tmp-9-x'), 'half');
    fs.writeFileSync(path.join(out, 'shard-123456.bin'), 'old');
    TeacherCache.build(teacher, DATA, out, { shardSize: 500 });
    expect(fs.readdirSync(out).sort()).toEqual([...keep, 'manifest.json', 'shard-00000.bin', 'shard-00001.bin'].sort());
  });

  it('open: its arguments, a missing folder or manifest', () => {
    const cases: ErrorCase[] = [
      [() => TeacherCache.open(''), TypeError, 'TeacherCache.open: expected a folder path but received the string ""'],
      [() => TeacherCache.open(dir, null as unknown as object), TypeError, 'TeacherCache.open: expected an options object but received null'],
      [() => TeacherCache.open(dir, 3 as unknown as object), TypeError, 'TeacherCache.open: expected an options object but received the number 3'],
      [() => TeacherCache.open(dir, { verify: 'always' as 'eager' }), TypeError, "TeacherCache.open: verify must be 'lazy' or 'eager', got the string \"always\""],
      [() => TeacherCache.open(dir, { maxResidentBytes: -1 }), RangeError, 'TeacherCache.open: maxResidentBytes must be a number >= 0, got the number -1'],
      [() => TeacherCache.open(dir, { maxResidentBytes: NaN }), RangeError, 'TeacherCache.open: maxResidentBytes must be a number >= 0, got NaN'],
      [() => TeacherCache.open(dir, { maxResidentBytes: '1' as unknown as number }), RangeError, 'TeacherCache.open: maxResidentBytes must be a number >= 0, got the string "1"'],
      [() => TeacherCache.open(path.join(tmp, 'nowhere')), TorchError, `TeacherCache: no cache in ${path.join(tmp, 'nowhere')}: the folder does not exist`],
      [
        () => TeacherCache.open(tmp),
        TorchError,
        `TeacherCache: ${tmp} holds no complete cache: manifest.json is missing (a build that was stopped before its end leaves none). ` +
          'Build it again (torchkd cache-teacher, or TeacherCache.build) into the same folder.',
      ],
    ];
    for (const [fn, cls, message] of cases) expectError(fn, cls, message);
    expect(TeacherCache.open(dir, { maxResidentBytes: 0 }).length).toBe(1000);
  });

  it('open: every check of the manifest', () => {
    const bad = freshDir();
    fs.cpSync(dir, bad, { recursive: true });
    const file = path.join(bad, 'manifest.json');
    const m = JSON.parse(fs.readFileSync(file, 'utf8'));
    const invalid = (what: string): string => `TeacherCache: ${file} is not a valid teacher-cache manifest (${what}); build the cache again`;
    const shards = m.shards as { file: string; samples: number; bytes: number; sha256: string }[];
    const cases: [unknown, string][] = [
      [null, invalid("its format is not 'torchkd-teacher-cache'")],
      [7, invalid("its format is not 'torchkd-teacher-cache'")],
      [{ ...m, format: 'torchkd' }, invalid("its format is not 'torchkd-teacher-cache'")],
      [{ ...m, version: undefined }, invalid('no version')],
      [{ ...m, version: '1' }, invalid('no version')],
      [{ ...m, version: 2 }, `TeacherCache: ${file} is version 2 of the cache format; this torchkd reads version 1: update torchkd`],
      [{ ...m, dtype: 'int8' }, invalid('dtype "int8"')],
      [{ ...m, byteOrder: 'big' }, invalid('byte order "big"')],
      [{ ...m, sampleShape: 10 }, invalid('sampleShape')],
      [{ ...m, sampleShape: [] }, invalid('sampleShape')],
      [{ ...m, sampleShape: [0] }, invalid('sampleShape')],
      [{ ...m, sampleShape: [2.5] }, invalid('sampleShape')],
      [{ ...m, sampleShape: [0, 10] }, invalid('sampleShape')],
      [{ ...m, numClasses: 9 }, invalid('numClasses')],
      [{ ...m, topK: 0 }, invalid('topK 0')],
      [{ ...m, topK: 1.5 }, invalid('topK 1.5')],
      [{ ...m, topK: 11 }, invalid('topK 11')],
      [{ ...m, topK: 3, indexDtype: null }, invalid('indexDtype null')],
      [{ ...m, topK: 3, indexDtype: 'int16' }, invalid('indexDtype "int16"')],
      [{ ...m, numSamples: 0 }, invalid('numSamples/shardSize')],
      [{ ...m, numSamples: 999.5 }, invalid('numSamples/shardSize')],
      [{ ...m, shardSize: 0 }, invalid('numSamples/shardSize')],
      [{ ...m, shardSize: 500.5 }, invalid('numSamples/shardSize')],
      [{ ...m, shards: shards.slice(1) }, invalid('shard count')],
      [{ ...m, shards: {} }, invalid('shard count')],
      [{ ...m, shardSize: 400 }, invalid('shard count')],
      [{ ...m, shards: [shards[0], { ...shards[1], file: 'shard-1.bin' }] }, invalid('shard 1')],
      [{ ...m, shards: [{ ...shards[0], samples: 499 }, shards[1]] }, invalid('shard 0')],
      [{ ...m, shards: [shards[0], { ...shards[1], bytes: 19996 }] }, invalid('shard 1')],
      [{ ...m, shards: [{ ...shards[0], sha256: 5 }, shards[1]] }, invalid('shard 0')],
      [{ ...m, numSamples: 999 }, invalid('shard 1')],
      [{ ...m, teacher: undefined }, invalid('teacher fingerprint')],
      [{ ...m, teacher: { ...m.teacher, sha256: 1 } }, invalid('teacher fingerprint')],
      [{ ...m, teacher: { ...m.teacher, tensors: {} } }, invalid('teacher fingerprint')],
      [{ ...m, dataset: undefined }, invalid('dataset fingerprint')],
      [{ ...m, dataset: { ...m.dataset, length: '1000' } }, invalid('dataset fingerprint')],
      [{ ...m, dataset: { ...m.dataset, members: null } }, invalid('dataset fingerprint')],
    ];
    for (const [manifest, message] of cases) {
      fs.writeFileSync(file, JSON.stringify(manifest));
      expectError(() => TeacherCache.open(bad), TorchError, message);
    }
    const text = '{"format": "torchkd-teacher-cache", ';
    fs.writeFileSync(file, text);
    const parseError = thrown(() => JSON.parse(text)).message;
    expectError(() => TeacherCache.open(bad), TorchError, `TeacherCache: ${file} is not readable JSON (${parseError}); build the cache again`);
    // The manifest as written reads back, and version 0 (an older format) is accepted by the version check.
    fs.writeFileSync(file, JSON.stringify(m));
    expect(TeacherCache.open(bad).manifest).toEqual(m);
    fs.writeFileSync(file, JSON.stringify({ ...m, version: 0 }));
    expect(TeacherCache.open(bad).manifest.version).toBe(0);
  });

  it('another teacher: each kind of difference named', () => {
    const sd = teacher.stateDict();
    const names = Object.keys(sd);
    const [first, last] = [names[0], names[names.length - 1]];
    const changed = { ...sd, [last]: sd[last].add(1e-3) };
    expectError(() => TeacherCache.open(dir, { teacher: changed }), TorchError, stale(`the values of '${last}' differ`));
    const wider = { ...sd, [first]: sd[first].double() };
    const shape = `(${sd[first].shape.join(', ')})`;
    expectError(() => TeacherCache.open(dir, { teacher: wider }), TorchError, stale(`'${first}' is float64 ${shape}, the cache's teacher had float32 ${shape}`));
    const reshaped = { ...sd, [last]: sd[last].reshape([1, -1]) };
    const lastShape = sd[last].shape;
    expectError(() => TeacherCache.open(dir, { teacher: reshaped }), TorchError, stale(`'${last}' is float32 (1, ${lastShape.join(', ')}), the cache's teacher had float32 (${lastShape.join(', ')})`));
    expectError(() => TeacherCache.open(dir, { teacher: { ...sd, extra: torch.zeros(1) } }), TorchError, stale("it has 'extra', which the cache's teacher had not"));
    const { [last]: _dropped, ...fewer } = sd;
    expectError(() => TeacherCache.open(dir, { teacher: fewer }), TorchError, stale(`it lacks '${last}'`));
    // A renamed entry is both new and missing: the new name is the first difference.
    expectError(() => TeacherCache.open(dir, { teacher: { ...fewer, renamed: sd[last] } }), TorchError, stale("it has 'renamed', which the cache's teacher had not"));
    const reversed = Object.fromEntries(Object.entries(sd).reverse());
    expectError(() => TeacherCache.open(dir, { teacher: reversed }), TorchError, stale('the state dict lists its tensors in another order'));
    expectError(() => TeacherCache.teacherFingerprint(null as unknown as Record<string, Tensor>), TypeError, 'TeacherCache: expected a Module or a state dict for the teacher but received null');
    expectError(() => TeacherCache.teacherFingerprint({ a: 1 } as unknown as Record<string, Tensor>), TypeError, "TeacherCache: state dict entry 'a' is the number 1, not a Tensor");
    expectError(() => TeacherCache.teacherFingerprint(5 as unknown as Record<string, Tensor>), TypeError, 'TeacherCache: expected a Module or a state dict for the teacher but received the number 5');
    // The fingerprint is the state dict's names, dtypes, shapes and bytes: a clone of the teacher has the same.
    const fp = TeacherCache.teacherFingerprint(teacher);
    expect(fp.tensors.map((e) => [e[0], e[1], e[2]])).toEqual(names.map((k) => [k, sd[k].dtype, sd[k].shape]));
    expect(fp.sha256).toBe(createHash('sha256').update(JSON.stringify(fp.tensors)).digest('hex'));
    expect(fp.tensors[0][3]).toBe(createHash('sha256').update(Buffer.from(sd[first].data().buffer)).digest('hex'));
    expect(TeacherCache.teacherFingerprint(sd)).toEqual(fp);
  });

  it('another dataset: each kind of difference named, and what the fingerprint covers', () => {
    const x = DATA.tensors[0] as Tensor;
    const y = DATA.tensors[1] as Tensor;
    expectError(() => TeacherCache.open(dir, { dataset: new TensorDataset(x.narrow(0, 0, 999), y.narrow(0, 0, 999)) }), TorchError, otherData('the dataset has 999 samples, the cache 1000'));
    expectError(
      () => TeacherCache.open(dir, { dataset: new TensorDataset(x.double(), y) }),
      TorchError,
      otherData("the dataset's samples are [float64 (1, 28, 28), int64 ()], the cache's were [float32 (1, 28, 28), int64 ()]"),
    );
    expectError(() => TeacherCache.open(dir, { dataset: new TensorDataset(x) }), TorchError, otherData("the dataset's samples are [float32 (1, 28, 28)], the cache's were [float32 (1, 28, 28), int64 ()]"));
    const y2 = y.clone();
    y2.narrow(0, 999, 1).fill_(((y.select(0, 999).item() as number) + 1) % 10);
    expectError(() => TeacherCache.open(dir, { dataset: new TensorDataset(x, y2) }), TorchError, otherData("the dataset's labels (member 1 of each sample) differ"));
    // Labels read in blocks of 4096 for a dataset without the tensors at hand: the last block counts.
    const plain = (ys: Tensor) => ({ length: 1000, get: (i: number) => [x.select(0, i), ys.select(0, i)] });
    expectError(() => TeacherCache.open(dir, { dataset: plain(y2) }), TorchError, otherData("the dataset's labels (member 1 of each sample) differ"));
    TeacherCache.open(dir, { dataset: plain(y) });
    const x2 = x.clone();
    x2.select(0, 999).fill_(0.5); // the last sample is always among the hashed ones
    expectError(() => TeacherCache.open(dir, { dataset: new TensorDataset(x2, y) }), TorchError, otherData("the dataset's inputs differ (in 64 evenly spaced samples hashed)"));
    // Sample 1 is not among the 64 of 1000 hashed (0, 15, 31, …): a change there is not seen.
    const x3 = x.clone();
    x3.select(0, 1).fill_(0.5);
    TeacherCache.open(dir, { dataset: new TensorDataset(x3, y) });
    expectError(() => TeacherCache.datasetFingerprint([] as unknown as torch.data.Dataset), TypeError, 'TeacherCache: expected a dataset (with length and get()) but received an array');
    expectError(() => TeacherCache.datasetFingerprint({ length: 0, get: () => [] }), RangeError, 'TeacherCache: the dataset is empty (length 0)');
    // The fingerprint of small datasets: every sample hashed (one sample: sample 0), no labels with one member.
    const hashOf = (samples: Tensor[][]): string => {
      const h = createHash('sha256');
      for (const s of samples) for (const t of s) h.update(`${t.dtype}${JSON.stringify(t.shape)}`).update(Buffer.from(t.contiguous().data().buffer));
      return h.digest('hex');
    };
    const one = new TensorDataset(x.narrow(0, 0, 1));
    expect(TeacherCache.datasetFingerprint(one)).toEqual({ length: 1, members: [{ shape: [1, 28, 28], dtype: 'float32' }], labelsSha256: null, sampled: 1, samplesSha256: hashOf([[x.select(0, 0)]]) });
    const three = new TensorDataset(x.narrow(0, 0, 3), y.narrow(0, 0, 3));
    const fp3 = TeacherCache.datasetFingerprint(three);
    expect(fp3.sampled).toBe(3);
    expect(fp3.samplesSha256).toBe(hashOf([0, 1, 2].map((i) => [x.select(0, i), y.select(0, i)])));
    expect(fp3.labelsSha256).toBe(createHash('sha256').update(Buffer.from(y.narrow(0, 0, 3).contiguous().data().buffer)).digest('hex'));
    const fp100 = TeacherCache.datasetFingerprint(new TensorDataset(x.narrow(0, 0, 100)));
    const picks = Array.from({ length: 64 }, (_, j) => Math.floor((j * 99) / 63));
    expect([fp100.sampled, fp100.samplesSha256]).toEqual([64, hashOf(picks.map((i) => [x.select(0, i)]))]);
  });

  it('lookups: their arguments, and rows served from memory, streamed, and dropped by close()', () => {
    const topDir = freshDir();
    TeacherCache.build(teacher, DATA, topDir, { topK: 2 });
    const top = TeacherCache.open(topDir);
    const dense = TeacherCache.open(dir);
    const topWhere = path.resolve(topDir);
    const cases: ErrorCase[] = [
      [() => top.logits([0]), TypeError, `TeacherCache.logits: the cache in ${topWhere} holds the top-2 logits only; use topk()`],
      [() => dense.topk([0]), TypeError, `TeacherCache.topk: the cache in ${where} is dense; use logits()`],
      [() => dense.logits(torch.zeros([2, 2], { dtype: 'int64' })), TypeError, 'TeacherCache.logits: expected 1-D int64 sample indices but received a int64 tensor of shape (2, 2)'],
      [() => top.topk(torch.zeros([2])), TypeError, 'TeacherCache.topk: expected 1-D int64 sample indices but received a float32 tensor of shape (2)'],
      [() => dense.logits('0' as unknown as number[]), TypeError, 'TeacherCache.logits: expected sample indices (a 1-D int64 tensor or an array) but received the string "0"'],
      [() => dense.logits([0, 1000]), RangeError, "TeacherCache.logits: sample index 1000 is out of range for the cache's 1000 samples"],
      [() => dense.logits([-1]), RangeError, "TeacherCache.logits: sample index -1 is out of range for the cache's 1000 samples"],
      [() => top.topk([1.5]), RangeError, "TeacherCache.topk: sample index 1.5 is out of range for the cache's 1000 samples"],
    ];
    for (const [fn, cls, message] of cases) expectError(fn, cls, message);
    // int32 indices, an empty batch, the last sample.
    expect(sameBits(dense.logits(torch.tensor([999, 3], { dtype: 'int32' })), dense.logits([999, 3]))).toBe(true);
    expect(dense.logits([]).shape).toEqual([0, 10]);
    expect(top.topk([]).indices.shape).toEqual([0, 2]);
    // sampleShape is a copy: changing it changes nothing in the cache.
    const shape = dense.sampleShape;
    shape.push(3);
    expect([dense.sampleShape, dense.logits([0]).shape]).toEqual([[10], [1, 10]]);

    // A budget of one shard (20000 bytes): shard 0 is kept, shard 1 (read after it) is streamed from its file.
    const copy = freshDir();
    fs.cpSync(dir, copy, { recursive: true });
    const want = dense.logits([1, 2, 501, 502]);
    const budget = TeacherCache.open(copy, { maxResidentBytes: 20000 });
    expect(sameBits(budget.logits([1, 501]), dense.logits([1, 501]))).toBe(true);
    fs.renameSync(path.join(copy, 'shard-00000.bin'), path.join(copy, 'shard-00000.moved'));
    fs.renameSync(path.join(copy, 'shard-00001.bin'), path.join(copy, 'shard-00001.moved'));
    expect(sameBits(budget.logits([1, 2]), want.narrow(0, 0, 2))).toBe(true); // from memory
    expect(thrown(() => budget.logits([502])).message).toMatch(/ENOENT.*shard-00001\.bin/); // streamed: the file is gone
    budget.close();
    expect(thrown(() => budget.logits([2])).message).toMatch(/ENOENT.*shard-00000\.bin/); // close() dropped shard 0
    fs.renameSync(path.join(copy, 'shard-00000.moved'), path.join(copy, 'shard-00000.bin'));
    fs.renameSync(path.join(copy, 'shard-00001.moved'), path.join(copy, 'shard-00001.bin'));
    expect(sameBits(budget.logits([1, 2, 501, 502]), want)).toBe(true);
  });

  it('a shard cut short after opening is reported as truncated, streamed or verified', () => {
    const copy = freshDir();
    fs.cpSync(dir, copy, { recursive: true });
    const shard = path.join(copy, 'shard-00001.bin');
    const truncated = `TeacherCache: shard-00001.bin in ${path.resolve(copy)} is truncated: build the cache again`;
    const verified = TeacherCache.open(copy, { maxResidentBytes: 0, verify: 'eager' });
    const unverified = TeacherCache.open(copy, { maxResidentBytes: 0 });
    fs.truncateSync(shard, 10000);
    expectError(() => verified.logits([499, 999]), TorchError, truncated); // row 999 lies past the cut
    expect(verified.logits([499, 500, 749]).shape).toEqual([3, 10]); // rows before the cut still read
    expectError(() => unverified.logits([500]), TorchError, truncated); // its digest is taken at first use
  });
});

describe('IndexedDataset', () => {
  it('adds each sample’s index as a last member, sample by sample and in batches', () => {
    const ds = new IndexedDataset(DATA);
    expect(ds.length).toBe(1000);
    const [x, y, i] = ds.get(-1);
    expect([i.dtype, i.shape, i.item()]).toEqual(['int64', [], 999]);
    expect(sameBits(x, DATA.get(999)[0]) && sameBits(y, DATA.get(999)[1])).toBe(true);
    const idx = torch.tensor([3, 1, 3], { dtype: 'int64' });
    const batch = ds.getBatch(idx);
    expect(batch.length).toBe(3);
    expect(sameBits(batch[2], idx)).toBe(true);
    expect(sameBits(batch[0], (DATA.tensors[0] as Tensor).indexSelect(0, idx))).toBe(true);
    // A dataset without getBatch: samples stacked.
    const plain = new IndexedDataset({ length: DATA.length, get: (k: number) => DATA.get(k) });
    const stacked = plain.getBatch(idx);
    expect(sameBits(stacked[1], (DATA.tensors[1] as Tensor).indexSelect(0, idx)) && sameBits(stacked[2], idx)).toBe(true);
    const [, , order] = [...new DataLoader(ds, { batchSize: 1000, shuffle: false })][0];
    expect(sameBits(order, torch.arange(1000))).toBe(true);
    expect(thrown(() => new IndexedDataset(null as unknown as torch.data.Dataset))).toBeInstanceOf(TypeError);
    expect(thrown(() => ds.get(1000))).toBeInstanceOf(RangeError);
  });
});

// ---- training from the cache --------------------------------------------------------------------------------------

interface RunLog {
  losses: number[];
  distill: number[];
  weights: Record<string, Tensor>;
}

/**
 * Two epochs of Distiller's loop (scheduler, policy, SGD) over DATA in batches of 100, shuffled by the seeded default
 * generator; the teacher live, or a cache (then the loader yields each batch's indices).
 */
function distil(teacher: nn.Module | distiller.TeacherCache, impl?: 'fused' | 'composite'): RunLog {
  torch.manualSeed(21);
  const student = torch.models.create('mlp_small_mnist');
  const opt = new optim.SGD(student.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
  const scheduler = new CompressionScheduler<distiller.Model>(student);
  const policy = new KnowledgeDistillationPolicy(student, teacher, 4.0, DistillationLossWeights(0.7, 0.3, 0), impl ? { impl } : {});
  scheduler.addPolicy(policy, { epochs: [0, 1] });
  const cached = teacher instanceof TeacherCache;
  const loader = new DataLoader(cached ? new IndexedDataset(DATA) : DATA, { batchSize: 100, shuffle: true });
  const log: RunLog = { losses: [], distill: [], weights: {} };
  for (let epoch = 0; epoch < 2; epoch++) {
    scheduler.onEpochBegin(epoch, opt);
    student.train();
    let b = 0;
    for (const batch of loader) {
      torch.tidy(() => {
        const [x, y, indices] = batch as Tensor[];
        scheduler.onMinibatchBegin(epoch, b, 10, opt);
        const out = cached ? policy.forward(x, { indices }) : policy.forward(x);
        const loss = torch.F.crossEntropy(out, y);
        const pl = scheduler.beforeBackwardPass(epoch, b, 10, loss, { optimizer: opt, returnLossComponents: true, labels: y });
        opt.zeroGrad();
        pl.overallLoss.backward();
        opt.step();
        scheduler.onMinibatchEnd(epoch, b, 10, opt);
        log.losses.push(pl.overallLoss.item() as number);
        log.distill.push(pl.lossComponents[0].value.item() as number);
      });
      for (const t of batch) t.dispose();
      b++;
    }
    scheduler.onEpochEnd(epoch, opt);
  }
  log.weights = student.stateDict();
  return log;
}

describe('training from a cache', () => {
  const teacher = teacherNet();

  it('a float32 dense cache gives the live teacher’s per-step losses and final weights, bit for bit', () => {
    const dir = freshDir();
    TeacherCache.build(teacher, DATA, dir, { batchSize: 256 });
    const live = distil(teacher);
    const cached = distil(TeacherCache.open(dir, { teacher, dataset: DATA }));
    expect(cached.losses.length).toBe(20);
    expect(cached.losses).toEqual(live.losses); // toEqual on numbers is Object.is: the same doubles
    expect(cached.distill).toEqual(live.distill);
    for (const [k, w] of Object.entries(live.weights)) expect(sameBits(cached.weights[k], w), k).toBe(true);
  });

  it('cached steps leave no tensors behind (dense and top-k lookups, errors included)', () => {
    for (const topK of [null, 3]) {
      const dir = freshDir();
      const cache = TeacherCache.build(teacher, DATA, dir, { topK, shardSize: 250 });
      const student = torch.models.create('mlp_small_mnist');
      const kd = new KnowledgeDistillationPolicy(student, cache, 2.0);
      kd.onEpochBegin(student, {}, { startingEpoch: 0, endingEpoch: 1, frequency: 1 });
      const x = (DATA.tensors[0] as Tensor).narrow(0, 0, 32);
      const y = (DATA.tensors[1] as Tensor).narrow(0, 0, 32);
      const indices = torch.arange(32);
      const step = (): void =>
        torch.tidy(() => {
          const out = kd.forward(x, { indices });
          (kd.beforeBackwardPass(student, 0, 0, 1, torch.F.crossEntropy(out, y), {}) as distiller.PolicyLoss).overallLoss.backward();
        });
      step(); // the gradients' tensors exist from here on
      const before = liveTensorsSettled();
      for (let i = 0; i < 10; i++) step();
      for (let i = 0; i < 3; i++) expect(() => torch.tidy(() => kd.forward(x, { indices: torch.arange(1000, 1032) }))).toThrow(RangeError);
      expect(torch.memory().liveTensors).toBe(before);
    }
  });

  it('a float16 cache trains to nearly the same losses (its logits are rounded to 11 bits)', () => {
    const dir = freshDir();
    TeacherCache.build(teacher, DATA, dir, { dtype: 'float16' });
    const live = distil(teacher);
    const half = distil(TeacherCache.open(dir));
    for (let i = 0; i < live.losses.length; i++) expect(Math.abs(half.losses[i] - live.losses[i])).toBeLessThan(1e-2 * Math.abs(live.losses[i]));
  });

  it('a top-k cache: the distill loss is topkKdLoss against the live teacher’s top-k, fused and composite alike', () => {
    const dir = freshDir();
    TeacherCache.build(teacher, DATA, dir, { topK: 3 });
    const cache = TeacherCache.open(dir);
    for (const impl of ['fused', 'composite'] as const) {
      torch.manualSeed(2);
      const student = torch.models.create('mlp_small_mnist');
      const kd = new KnowledgeDistillationPolicy(student, cache, 2.0, DistillationLossWeights(0.5, 0.5, 0), { impl });
      kd.onEpochBegin(student, {}, { startingEpoch: 0, endingEpoch: 1, frequency: 1 });
      const indices = torch.tensor([5, 900, 33, 400], { dtype: 'int64' });
      const x = (DATA.tensors[0] as Tensor).indexSelect(0, indices);
      const out = kd.forward(x, { indices });
      const pl = kd.beforeBackwardPass(student, 0, 0, 1, torch.F.crossEntropy(out, (DATA.tensors[1] as Tensor).indexSelect(0, indices)), {}) as distiller.PolicyLoss;
      const top = (torch.noGrad(() => teacher.eval().call(x)) as Tensor).topk(3, 1);
      const expected = topkKdLoss(out.detach(), top.values, top.indices, 2.0, { impl });
      expect(pl.lossComponents[0].value.item()).toBe(expected.item());
      pl.overallLoss.backward();
      expect(student.parameters().every((p) => p.grad !== null)).toBe(true);
    }
    const run = distil(cache);
    expect(run.losses.every(Number.isFinite)).toBe(true);
    expect(run.losses.at(-1)).toBeLessThan(run.losses[0]);
  });
});

// ---- the command line ---------------------------------------------------------------------------------------------

/** A Fashion-MNIST-shaped IDX data set in `dir`: `n` training and 100 test images of noise, with labels. */
function writeIdxSet(dir: string, n: number, seed: number): void {
  fs.mkdirSync(dir, { recursive: true });
  torch.manualSeed(seed);
  const write = (name: string, shape: number[], data: Uint8Array): void => {
    const header = Buffer.alloc(4 + 4 * shape.length);
    header.writeUInt32BE(0x0800 + shape.length, 0);
    shape.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
    fs.writeFileSync(path.join(dir, name), Buffer.concat([header, Buffer.from(data)]));
  };
  for (const [prefix, count] of [['train', n], ['t10k', 100]] as const) {
    write(`${prefix}-images-idx3-ubyte`, [count, 28, 28], torch.randint(0, 256, [count, 28, 28], { dtype: 'uint8' }).data() as Uint8Array);
    write(`${prefix}-labels-idx1-ubyte`, [count], torch.randint(0, 10, [count], { dtype: 'uint8' }).data() as Uint8Array);
  }
}

function cli(args: string[], env: Record<string, string> = {}): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'torchkd.js'), ...args], { encoding: 'utf8', cwd: tmp, env: { ...process.env, ...env } });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

describe('torchkd cache-teacher and train --kd-teacher-cache', () => {
  const data = path.join(tmp, 'idx');
  writeIdxSet(data, 3000, 4);
  const ckpt = path.join(tmp, 'teacher.pt');
  torch.save(teacherNet(8).stateDict(), ckpt);
  const BUILD = ['--arch', 'simplenet_mnist', '--kd-resume', ckpt, '--data', data, '--shard-size', '500', '-b', '250'];
  const incomplete = /holds no complete cache: manifest\.json is missing/;

  it('a build killed after some shards (or before its manifest is renamed) leaves no complete cache; a rebuild works', () => {
    const out = path.join(tmp, 'killed');
    for (const fault of ['cache-shard:2', 'write:manifest.json:1', 'write-half:shard-00004.bin:1']) {
      const r = cli(['cache-teacher', ...BUILD, '--out', out], { TORCHKD_FAULT: fault });
      expect(r.signal, `${fault}: ${r.stdout}${r.stderr}`).toBe('SIGKILL');
      expect(fs.existsSync(path.join(out, 'shard-00000.bin'))).toBe(true);
      expect(thrown(() => TeacherCache.open(out)).message).toMatch(incomplete);
    }
    const r = cli(['cache-teacher', ...BUILD, '--out', out, '--dtype', 'float16']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('3000/3000 samples written');
    // The killed builds' temporary files are gone; only the cache's own files are left.
    expect(fs.readdirSync(out).sort()).toEqual(['manifest.json', ...[0, 1, 2, 3, 4, 5].map((k) => `shard-0000${k}.bin`)]);
    const ds = new torch.data.FashionMNIST({ root: data, train: true });
    const cache = TeacherCache.open(out, { dataset: ds, teacher: torch.load(ckpt) as Record<string, Tensor>, verify: 'eager' });
    expect([cache.length, cache.dtype]).toEqual([3000, 'float16']);
  });

  it('a build killed from outside (SIGKILL mid-build) leaves no complete cache; a rebuild into the same folder works', async () => {
    const out = path.join(tmp, 'sigkill');
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'torchkd.js'), 'cache-teacher', ...BUILD, '--shard-size', '100', '-b', '50', '--out', out], { cwd: tmp });
    let stdout = '';
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        if (/\d+\/3000 samples written/.test(stdout)) resolve();
      });
      child.on('exit', () => resolve());
    });
    child.kill('SIGKILL');
    expect(await exited, stdout).toBe('SIGKILL');
    expect(thrown(() => TeacherCache.open(out)).message).toMatch(incomplete);
    expect(cli(['cache-teacher', ...BUILD, '--out', out, '--top-k', '5']).status).toBe(0);
    expect(TeacherCache.open(out, { verify: 'eager' }).topK).toBe(5);
  });

  it('bad flags exit with a message, never a crash', () => {
    const out = path.join(tmp, 'bad');
    const cases: [string[], RegExp][] = [
      [['--top-k', '0'], /--top-k must be a positive integer, got 0/],
      [['--top-k', '11'], /topK 11 is more than the teacher's 10 classes/],
      [['--dtype', 'int8'], /argument --dtype: invalid choice: 'int8'/],
      [['--kd-resume', path.join(tmp, 'none.pt')], /--kd-resume: no such file/],
      [['--data', path.join(tmp, 'nodata')], /Fashion-MNIST not found/],
    ];
    for (const [flags, message] of cases) {
      const r = cli(['cache-teacher', ...BUILD, '--out', out, ...flags]);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
    const r = cli(['cache-teacher', '--arch', 'simplenet_mnist', '--kd-resume', ckpt]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the following arguments are required: --out/);
  });

  it('train --kd-teacher-cache flags are checked against each other before anything runs', () => {
    const cases: [string[], string][] = [
      [['--kd-teacher-cache', 'c'], "--kd-teacher-cache needs the student's --arch too (the student is the model being trained)"],
      [['--arch', 'mlp_small_mnist', '--kd-teacher-cache', 'c', '--kd-teacher', 'simplenet_mnist'], '--kd-teacher with --kd-teacher-cache needs --kd-resume (the weights the cache is checked against); or leave --kd-teacher out'],
      [['--arch', 'mlp_small_mnist', '--kd-teacher-cache', 'c', '--kd-tw', '0.5'], '--kd-teacher-cache: the cached teacher is not trained, so --kd-teacher-wt must be 0'],
    ];
    for (const [flags, message] of cases) {
      const e = thrown(() => parseTrainArgs([...flags, '--out', path.join(tmp, 'never')]));
      expect(e.name).toBe('UsageError');
      expect(e.message).toBe(message);
    }
    expect(fs.existsSync(path.join(tmp, 'never'))).toBe(false);
    for (const n of ['1', '2']) expect(parseTrainArgs(['--arch', 'mlp_small_mnist', '--kd-teacher-cache', 'c', '--nproc-per-node', n, '--out', 'x']).kd_teacher_cache).toBe('c');
  });

  it('train --kd-teacher-cache (with --kd-teacher/--kd-resume) is the live-teacher run, bit for bit; another dataset is refused', () => {
    const cacheDir = path.join(tmp, 'train-cache');
    expect(cli(['cache-teacher', ...BUILD, '--out', cacheDir]).status).toBe(0);
    const common = ['--arch', 'mlp_small_mnist', '--epochs', '2', '-b', '100', '--vs', '0.1', '--seed', '3', '--data', data, '--kd-temp', '4', '--print-freq', '1000'];
    const teacherFlags = ['--kd-teacher', 'simplenet_mnist', '--kd-resume', ckpt];
    const live = runTraining(parseTrainArgs([...common, ...teacherFlags, '--out', path.join(tmp, 'run-live')]), quiet());
    const io = quiet();
    const cached = runTraining(parseTrainArgs([...common, ...teacherFlags, '--kd-teacher-cache', cacheDir, '--out', path.join(tmp, 'run-cache')]), io);
    expect(io.lines.some((l) => l.startsWith('distillation: from the teacher cache'))).toBe(true);
    const strip = (rows: typeof live.metrics) => rows.map(({ seconds, ...r }) => r);
    expect(strip(cached.metrics)).toEqual(strip(live.metrics));
    expect(cached.metrics[0].distillLoss).toBeGreaterThan(0);
    const a = torch.load(path.join(tmp, 'run-live', 'checkpoint.pt')) as { model: Record<string, Tensor> };
    const b = torch.load(path.join(tmp, 'run-cache', 'checkpoint.pt')) as { model: Record<string, Tensor> };
    for (const [k, w] of Object.entries(a.model)) expect(sameBits(b.model[k], w), k).toBe(true);
    // Without the teacher flags the cache alone drives distillation.
    const alone = runTraining(parseTrainArgs([...common, '--epochs', '1', '--kd-teacher-cache', cacheDir, '--out', path.join(tmp, 'run-alone')]), quiet());
    expect(alone.metrics[0].distillLoss).toBeGreaterThan(0);
    // Other data, or other teacher weights: refused before training, naming the difference.
    const other = path.join(tmp, 'idx-other');
    writeIdxSet(other, 3000, 5);
    const r = cli(['train', ...common, '--kd-teacher-cache', cacheDir, '--data', other, '--out', path.join(tmp, 'run-other')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--kd-teacher-cache .*: TeacherCache: the dataset is not the one the cache .* was built over \(the dataset's labels/);
    const otherCkpt = path.join(tmp, 'teacher2.pt');
    torch.save(teacherNet(9).stateDict(), otherCkpt);
    const r2 = cli(['train', ...common, '--kd-teacher', 'simplenet_mnist', '--kd-resume', otherCkpt, '--kd-teacher-cache', cacheDir, '--out', path.join(tmp, 'run-other2')]);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/teacher's weights are not those the cache .* was built with/);
    const r3 = cli(['train', ...common, '--kd-teacher-cache', path.join(tmp, 'killed-nothing'), '--out', path.join(tmp, 'run-other3')]);
    expect(r3.status).toBe(1);
    expect(r3.stderr).toMatch(/--kd-teacher-cache: TeacherCache: no cache in .*: the folder does not exist/);
    expect(fs.existsSync(path.join(tmp, 'run-other3'))).toBe(false);
  });
});
