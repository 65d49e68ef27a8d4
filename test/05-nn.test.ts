/**
 * Models and optimizers behave exactly as PyTorch: seeded initial weights, forward outputs, optimizer trajectories,
 * LR schedules, state-dict files both ways, and TorchScript training — against fixtures from the project venv's
 * PyTorch (scripts/fixtures/gen_nn.py).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { Tensor, TorchError, distiller, models, nn, optim } from '../lib/index';
import { HAS_CUDA, NEEDS_NO_CUDA, expectTensor, fixture, fromJson, itWhen, liveTensorsSettled, pythonWithTorch, thrown, type TensorJson } from './helpers';

type StateJson = Record<string, TensorJson>;
interface NnFixture {
  init: Record<string, { keys: string[]; shapes: number[][]; digests: string[]; state?: StateJson }>;
  forward: Record<string, { x_seed: number; train: TensorJson; eval: TensorJson; running_mean_sum?: number }>;
  optim: Record<string, { start: StateJson; end: StateJson; losses: number[] }> & { x: TensorJson; y: TensorJson };
  lr: Record<string, number[]>;
  py_mlp_small_state: { digests: Record<string, string> };
  py_checkpoint: { model: StateJson; momentum_buffer_0: TensorJson };
  py_gpu_checkpoint: { digests: Record<string, string>; shift: TensorJson };
  py_shared: { w: TensorJson };
  clip: { grads: StateJson; norm: Record<string, { total: TensorJson; grads: StateJson }>; value: StateJson };
  scripted: { end: StateJson };
}

const fx = fixture<NnFixture>('nn');
const FIXTURES = path.resolve(__dirname, 'fixtures');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-nn-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function digest(t: Tensor): string {
  const d = t.contiguous().data();
  return createHash('sha256').update(Buffer.from(d.buffer, d.byteOffset, d.byteLength)).digest('hex');
}

function expectState(model: nn.Module, expected: StateJson): void {
  const sd = model.stateDict();
  expect(Object.keys(sd)).toEqual(Object.keys(expected));
  for (const [k, v] of Object.entries(expected)) expectTensor(sd[k], v);
}

const INIT: [number, string, () => nn.Module][] = [
  [0, 'linear', () => new nn.Linear(20, 16)],
  [1, 'conv', () => new nn.Conv2d(1, 20, 5, 1)],
  [2, 'bn', () => new nn.BatchNorm2d(8)],
  [3, 'simplenet_mnist', () => models.create('simplenet_mnist')],
  [4, 'mlp_mnist', () => models.create('mlp_mnist')],
  [5, 'resnet20_cifar', () => models.create('resnet20_cifar')],
  [6, 'preact_resnet20_cifar', () => models.create('preact_resnet20_cifar')],
  [8, 'simplenet_v2_mnist', () => models.create('simplenet_v2_mnist')],
];

describe('seeded initialisation is bit-identical to PyTorch', () => {
  for (const [seed, name, make] of INIT) {
    it(`${name}: same state-dict keys, shapes and bits`, () => {
      torch.manualSeed(seed);
      const m = make();
      const sd = m.stateDict();
      const e = fx.init[name];
      expect(Object.keys(sd)).toEqual(e.keys);
      expect(Object.values(sd).map((t) => t.shape)).toEqual(e.shapes);
      expect(Object.values(sd).map(digest)).toEqual(e.digests);
      if (e.state) expectState(m, e.state);
    });
  }

  it("the zoo's factories and classes build the models create() builds, with PyTorch's weights", () => {
    const direct: [number, string, () => nn.Module][] = [
      [3, 'simplenet_mnist', () => models.simplenetMnist()],
      [4, 'mlp_mnist', () => models.mlp()],
      [5, 'resnet20_cifar', () => new models.ResNetCifar([3, 3, 3])],
      [6, 'preact_resnet20_cifar', () => new models.PreactResNetCifar([3, 3, 3])],
      [8, 'simplenet_v2_mnist', () => models.simplenetV2Mnist()],
    ];
    for (const [seed, name, make] of direct) {
      torch.manualSeed(seed);
      const sd = make().stateDict();
      expect(Object.keys(sd), name).toEqual(fx.init[name].keys);
      expect(Object.values(sd).map(digest), name).toEqual(fx.init[name].digests);
    }
  });

  it('parameters() lists weights in PyTorch order and they require grad', () => {
    const m = models.create('simplenet_mnist');
    const names = [...m.namedParameters()].map(([n]) => n);
    expect(names).toEqual(['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(m.parameters().every((p) => p.requiresGrad)).toBe(true);
  });
});

describe('forward outputs equal PyTorch', () => {
  for (const name of ['simplenet_mnist', 'mlp_mnist', 'resnet20_cifar', 'preact_resnet20_cifar', 'simplenet_v2_mnist']) {
    it(`${name} in train and eval mode`, () => {
      const e = fx.forward[name];
      torch.manualSeed(e.x_seed);
      const m = models.create(name);
      // the batch of the fixture, each sample of the shape the architecture is made for
      const x = torch.randn([e.train.shape[0], ...models.inputOf(name).shape]);
      // Convolutions and matmuls run through the same oneDNN/BLAS kernels with the same thread count: bit-equal.
      expectTensor(m.forward(x), e.train);
      m.eval();
      expectTensor(m.forward(x), e.eval);
      if (e.running_mean_sum !== undefined) {
        const sum = Object.entries(m.stateDict())
          .filter(([k]) => k.endsWith('running_mean'))
          .reduce((acc, [, t]) => acc + (t.double().sum().item() as number), 0);
        expect(sum).toBeCloseTo(e.running_mean_sum, 12);
      }
    });
  }
});

function makeMlp(): nn.Sequential {
  return new nn.Sequential(new nn.Linear(6, 8), new nn.ReLU(), new nn.Linear(8, 3));
}

const OPTIMS: Record<string, (p: Tensor[]) => optim.Optimizer> = {
  sgd_plain: (p) => new optim.SGD(p, { lr: 0.1 }),
  sgd_momentum: (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3 }),
  sgd_nesterov: (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 }),
  sgd_maximize: (p) => new optim.SGD(p, { lr: 0.01, momentum: 0.5, maximize: true }),
  adam: (p) => new optim.Adam(p, { lr: 1e-2 }),
  adam_wd_amsgrad: (p) => new optim.Adam(p, { lr: 5e-3, betas: [0.8, 0.99], weightDecay: 1e-2, amsgrad: true }),
  adamw: (p) => new optim.AdamW(p, { lr: 1e-2, weightDecay: 0.05 }),
};

describe('optimizers reach the same parameters as PyTorch after 20 steps', () => {
  const x = fromJson(fx.optim.x);
  const y = fromJson(fx.optim.y);
  for (const [name, make] of Object.entries(OPTIMS)) {
    it(`${name}: bit-identical parameters and losses`, () => {
      torch.manualSeed(21);
      const m = makeMlp();
      expectState(m, fx.optim[name].start);
      const opt = make(m.parameters());
      const losses: number[] = [];
      for (let i = 0; i < 20; i++) {
        opt.zeroGrad();
        const loss = torch.F.crossEntropy(m.forward(x), y);
        loss.backward();
        opt.step();
        losses.push(loss.item() as number);
      }
      expect(losses).toEqual(fx.optim[name].losses);
      expectState(m, fx.optim[name].end);
    });
  }

  it('per-group options (two param groups)', () => {
    torch.manualSeed(21);
    const m = makeMlp();
    const [l0, , l2] = [m.at(0), m.at(1), m.at(2)];
    const opt = new optim.SGD([{ params: l0.parameters(), lr: 0.2 }, { params: l2.parameters() }], { lr: 0.05, momentum: 0.9 });
    for (let i = 0; i < 5; i++) {
      opt.zeroGrad();
      torch.F.crossEntropy(m.forward(x), y).backward();
      opt.step();
    }
    expectState(m, (fx.optim as unknown as Record<string, { end: StateJson }>).groups.end);
    expect(opt.paramGroups[0].lr).toBe(0.2);
    expect(opt.paramGroups[1].lr).toBe(0.05);
  });

  it('a group added with addParamGroup takes the defaults for the options it leaves out', () => {
    const e = (fx.optim as unknown as Record<string, { end: StateJson; lrs: number[]; momentums: number[] }>).add_param_group;
    torch.manualSeed(21);
    const m = makeMlp();
    const opt = new optim.SGD(m.at(0).parameters(), { lr: 0.05, momentum: 0.9 });
    opt.addParamGroup({ params: m.at(2).parameters(), lr: 0.2 });
    for (let i = 0; i < 5; i++) {
      opt.zeroGrad();
      torch.F.crossEntropy(m.forward(x), y).backward();
      opt.step();
    }
    expectState(m, e.end);
    expect(opt.paramGroups.map((g) => g.lr)).toEqual(e.lrs);
    expect(opt.paramGroups.map((g) => g.momentum)).toEqual(e.momentums);
  });

  it('stateDict has PyTorch layout and loadStateDict resumes exactly', () => {
    torch.manualSeed(21);
    const a = makeMlp();
    const optA = new optim.Adam(a.parameters(), { lr: 1e-2 });
    const step = (m: nn.Module<[Tensor], Tensor>, o: optim.Optimizer): void => {
      o.zeroGrad();
      torch.F.crossEntropy(m.forward(x), y).backward();
      o.step();
    };
    for (let i = 0; i < 3; i++) step(a, optA);
    const sd = optA.stateDict();
    expect(Object.keys(sd.state)).toEqual(['0', '1', '2', '3']);
    expect(Object.keys(sd.state['0']).sort()).toEqual(['exp_avg', 'exp_avg_sq', 'step']);
    expect(sd.param_groups[0]).toMatchObject({ lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: false, params: [0, 1, 2, 3] });
    // Resume a copy from the saved state (through a torch.save file), then step both.
    const file = path.join(tmp, 'opt.pt');
    torch.save({ model: a.stateDict(), optimizer: sd }, file);
    const loaded = torch.load<{ model: nn.StateDict; optimizer: optim.OptimizerStateDict }>(file);
    const b = makeMlp();
    b.loadStateDict(loaded.model);
    const optB = new optim.Adam(b.parameters(), { lr: 1e-2 });
    optB.loadStateDict(loaded.optimizer);
    step(a, optA);
    step(b, optB);
    const sa = a.stateDict();
    const sb = b.stateDict();
    for (const k of Object.keys(sa)) expect(sa[k].equal(sb[k])).toBe(true);
    // Floating state takes the parameter's dtype whatever its own (PyTorch's _process_value_according_to_param_policy):
    // a float16 state loaded for float32 parameters comes back float32; the step count stays as it was.
    const half = optB.stateDict();
    for (const st of Object.values(half.state)) st.exp_avg = (st.exp_avg as Tensor).half();
    const optC = new optim.Adam(b.parameters(), { lr: 1e-2 });
    optC.loadStateDict(half);
    const back = optC.stateDict().state['0'];
    expect((back.exp_avg as Tensor).dtype).toBe('float32');
    expect((back.step as Tensor).dtype).toBe((half.state['0'].step as Tensor).dtype);
  });

  it('rejects bad options with TypeError / RangeError', () => {
    const p = makeMlp().parameters();
    expect(() => new optim.SGD(p, { lr: 'fast' as never })).toThrow(TypeError);
    expect(() => new optim.SGD(p, { lr: -1 })).toThrow(RangeError);
    expect(() => new optim.SGD(p, { lr: 0.1, nesterov: true })).toThrow(/Nesterov momentum requires a momentum/);
    expect(() => new optim.Adam(p, { betas: [1.5, 0.9] })).toThrow(RangeError);
    expect(() => new optim.SGD([], { lr: 0.1 })).toThrow(/empty parameter list/);
  });
});

describe('learning-rate schedules equal PyTorch epoch by epoch', () => {
  const S = optim.lrScheduler;
  const cases: Record<string, (o: optim.Optimizer) => optim.lrScheduler.LRScheduler> = {
    step: (o) => new S.StepLR(o, 7, 0.5),
    multistep: (o) => new S.MultiStepLR(o, [3, 10, 10, 20], 0.3),
    exponential: (o) => new S.ExponentialLR(o, 0.9),
    cosine: (o) => new S.CosineAnnealingLR(o, 10, 0.001),
    lambda: (o) => new S.LambdaLR(o, (e) => 1.0 / (1 + e)),
    multigamma: (o) => new S.MultiStepMultiGammaLR(o, [5, 12, 25], [0.5, 0.2, 0.1]),
  };
  for (const [name, make] of Object.entries(cases)) {
    it(name, () => {
      const p = torch.zeros([1], { requiresGrad: true });
      const o = new optim.SGD([p], { lr: 0.1 });
      const s = make(o);
      const lrs = [o.paramGroups[0].lr];
      for (let e = 0; e < 30; e++) {
        o.step();
        s.step();
        lrs.push(o.paramGroups[0].lr);
        // get_last_lr() is what the step set
        expect(s.getLastLr()).toEqual([lrs[lrs.length - 1]]);
      }
      if (name === 'cosine') {
        // Math.cos (V8) and math.cos (glibc) may differ in the last bit; the rest of the arithmetic is identical.
        lrs.forEach((v, i) => expect(Math.abs(v - fx.lr[name][i])).toBeLessThanOrEqual(4e-16 * Math.max(1, Math.abs(v))));
      } else {
        expect(lrs).toEqual(fx.lr[name]);
      }
    });
  }
});

describe('torch.save / torch.load interoperate with Python', () => {
  it('reads a Python torch.save(model.state_dict()) file into a model, bit for bit', () => {
    const sd = torch.load(path.join(FIXTURES, 'py_mlp_small_state.pt')) as Record<string, Tensor>;
    expect(Object.keys(sd)).toEqual(Object.keys(fx.py_mlp_small_state.digests));
    for (const [k, d] of Object.entries(fx.py_mlp_small_state.digests)) expect(digest(sd[k])).toBe(d);
    const m = models.create('mlp_small_mnist');
    m.loadStateDict(sd);
    expect(digest(m.stateDict()['fc1.weight'])).toBe(fx.py_mlp_small_state.digests['fc1.weight']);
  });

  it('reads a Python checkpoint with nested dicts, numbers, strings, lists and an optimizer state', () => {
    const ck = torch.load(path.join(FIXTURES, 'py_checkpoint.pt')) as Record<string, unknown>;
    expect(ck.epoch).toBe(3);
    expect(ck.best_top1).toBe(91.25);
    expect(ck.arch).toBe('mlp');
    expect(ck.history).toEqual([1.5, 1.25]);
    const model = ck.model as Record<string, Tensor>;
    for (const [k, v] of Object.entries(fx.py_checkpoint.model)) expectTensor(model[k], v);
    const opt = ck.optimizer as optim.OptimizerStateDict;
    expectTensor(opt.state['0'].momentum_buffer as Tensor, fx.py_checkpoint.momentum_buffer_0);
    expect(opt.param_groups[0].momentum).toBe(0.9);
  });

  it.skipIf(!pythonWithTorch())('Python reads torchkd files (model state dict and optimizer state with int keys)', () => {
    torch.manualSeed(5);
    const m = models.create('mlp_small_mnist');
    const o = new optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
    torch.F.crossEntropy(m.forward(torch.randn(2, 1, 28, 28)), torch.tensor([1, 2])).backward();
    o.step();
    const file = path.join(tmp, 'node.pt');
    const saved = { model: m.stateDict(), optimizer: o.stateDict() as unknown as torch.Saveable, epoch: 7, note: 'from node' };
    torch.save(saved, file);
    // saveToBuffer writes the bytes save writes
    expect(torch.saveToBuffer(saved).equals(fs.readFileSync(file))).toBe(true);
    const py = pythonWithTorch() as string;
    const script = [
      'import sys, json, hashlib, torch',
      'ck = torch.load(sys.argv[1])',
      "sd = ck['model']",
      "print(json.dumps({'keys': list(sd.keys()), 'epoch': ck['epoch'], 'note': ck['note'],",
      "  'state_keys': sorted(ck['optimizer']['state'].keys()),",
      "  'w': hashlib.sha256(sd['fc1.weight'].contiguous().numpy().tobytes()).hexdigest()}))",
    ].join('\n');
    const r = spawnSync(py, ['-c', script, file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.keys).toEqual(Object.keys(m.stateDict()));
    expect(out.epoch).toBe(7);
    expect(out.note).toBe('from node');
    expect(out.state_keys).toEqual([0, 1, 2, 3]);
    expect(out.w).toBe(digest(m.stateDict()['fc1.weight']));
  });

  // Saved as a GPU run saves: the state dict on 'cuda:0', `shift` on 'cuda:1' (scripts/fixtures/gen_nn.py).
  const gpuFile = path.join(FIXTURES, 'py_gpu_checkpoint.pt');
  const expectGpuCheckpoint = (ck: { state_dict: Record<string, Tensor>; arch: string; shift: Tensor }): void => {
    expect(ck.arch).toBe('mlp_small_mnist');
    expect(Object.keys(ck.state_dict)).toEqual(Object.keys(fx.py_gpu_checkpoint.digests));
    for (const [k, d] of Object.entries(fx.py_gpu_checkpoint.digests)) {
      expect(ck.state_dict[k].device).toBe('cpu');
      expect(digest(ck.state_dict[k])).toBe(d);
    }
    expectTensor(ck.shift, fx.py_gpu_checkpoint.shift, { rtol: 0, atol: 0 });
  };
  type GpuCk = Parameters<typeof expectGpuCheckpoint>[0];

  itWhen(!HAS_CUDA, NEEDS_NO_CUDA, 'a file saved from CUDA tensors needs a device, as in PyTorch, or mapLocation', () => {
    const err = thrown(() => torch.load(gpuFile));
    expect(err).toBeInstanceOf(TorchError);
    expect((err as TorchError).code).toBe('CUDA_UNAVAILABLE');
    expect((err as Error).message).toMatch(/saved on 'cuda:0'.*no CUDA device is available.*mapLocation: 'cpu'/);
    expect((err as Error).message).not.toMatch(/not a readable/);
    expect(() => torch.loadFromBuffer(fs.readFileSync(gpuFile))).toThrow(/saved on 'cuda:0'/);
    // Every location mapped to the CPU, by a device or by a table (PyTorch's map_location={'cuda:1': 'cpu', ...}).
    expectGpuCheckpoint(torch.load(gpuFile, { mapLocation: 'cpu' }) as GpuCk);
    expectGpuCheckpoint(torch.loadFromBuffer(fs.readFileSync(gpuFile), { mapLocation: 'cpu' }) as GpuCk);
    expectGpuCheckpoint(torch.load(gpuFile, { mapLocation: { 'cuda:0': 'cpu', 'cuda:1': 'cpu' } }) as GpuCk);
    expectGpuCheckpoint(torch.load(gpuFile, { mapLocation: new Map([['cuda:0', 'cpu'], ['cuda:1', 'cpu']]) }) as GpuCk);
    // A table that leaves one location unmapped: that location must be restorable, and here it is not.
    expect(() => torch.load(gpuFile, { mapLocation: { 'cuda:0': 'cpu' } })).toThrow(/saved on 'cuda:1'.*no CUDA device/);
    expect(() => torch.load(gpuFile, { mapLocation: { 'cuda:1': 'cpu' } })).toThrow(/saved on 'cuda:0'/);
    // A load that fails partway frees the tensors it had already built.
    const live = liveTensorsSettled();
    for (let i = 0; i < 5; i++) expect(() => torch.load(gpuFile, { mapLocation: { 'cuda:0': 'cpu' } })).toThrow(/cuda:1/);
    expect(torch.memory().liveTensors).toBe(live);
    // Mapped onto a device this machine lacks: the message names both locations.
    expect(() => torch.load(gpuFile, { mapLocation: { 'cuda:0': 'cuda:3', 'cuda:1': 'cpu' } })).toThrow(/saved on 'cuda:3' \(mapped from 'cuda:0'\)/);
  });

  it('--kd-resume and the teacher reader load a GPU-saved teacher on the CPU', () => {
    const sd = distiller.readTeacherCheckpoint(gpuFile);
    for (const [k, d] of Object.entries(fx.py_gpu_checkpoint.digests)) {
      expect(sd[k].device).toBe('cpu');
      expect(digest(sd[k])).toBe(d);
    }
    const teacher = models.create('mlp_small_mnist');
    teacher.loadStateDict(sd);
    expect(digest(teacher.stateDict()['fc2.weight'])).toBe(fx.py_gpu_checkpoint.digests['fc2.weight']);
  });

  it('tensors that share a storage in the file (tied weights, views) share it after loading, as in PyTorch', () => {
    const d = torch.load(path.join(FIXTURES, 'py_shared.pt')) as Record<'w' | 'tied' | 'row' | 'cols' | 'other', Tensor>;
    expectTensor(d.w, fx.py_shared.w, { rtol: 0, atol: 0 });
    expect(d.tied.equal(d.w)).toBe(true);
    expect(d.row.equal(d.w.select(0, 1))).toBe(true);
    expect(d.cols.shape).toEqual([4, 3]);
    expect(d.cols.stride()).toEqual([6, 1]);
    expect(d.cols.equal(d.w.narrow(1, 2, 3))).toBe(true);
    d.w.fill_(7); // one write is seen through every view
    expect([d.tied.sum().item(), d.row.sum().item(), d.cols.sum().item()]).toEqual([168, 42, 84]);
    expect(d.other.toArray()).toEqual([0, 1, 2]);
    // Independent tensors on one storage, as PyTorch's _rebuild_tensor makes them (not autograd views): in-place
    // autograd on one does not make the others require grad, and loading under noGrad changes nothing.
    const x = torch.ones(6).requiresGrad_(true);
    d.row.add_(x);
    expect([d.row.requiresGrad, d.w.requiresGrad, d.tied.requiresGrad]).toEqual([true, false, false]);
    const e = torch.noGrad(() => torch.load(path.join(FIXTURES, 'py_shared.pt'))) as Record<'row', Tensor>;
    expect(() => e.row.add_(x)).not.toThrow();
  });

  it('bad mapLocation values are TypeErrors and RangeErrors, checked before the file is read', () => {
    const missing = path.join(tmp, 'no-such-file.pt');
    expect(() => torch.load(missing, { mapLocation: 3 as never })).toThrow(TypeError);
    expect(() => torch.load(missing, { mapLocation: (() => 'cpu') as never })).toThrow(/mapLocation must be a device/);
    expect(() => torch.load(missing, { mapLocation: 'tpu' as never })).toThrow(RangeError);
    expect(() => torch.load(missing, { mapLocation: { 'cuda:0': 'tpu' } as never })).toThrow(RangeError);
    expect(() => torch.load(missing, { mapLocation: { 'cuda:0': 0 } as never })).toThrow(TypeError);
    expect(() => torch.load(missing, { mapLocation: ['cpu'] as never })).toThrow(TypeError);
    expect(() => torch.load(missing, { mapLocation: new Set(['cpu']) as never })).toThrow(TypeError);
    expect(() => torch.load(missing, { mapLocation: new Map([[0, 'cpu']]) as never })).toThrow(/keys must be saved locations/);
  });

  it('a location torchkd has no device for (mps, xpu, ...) is a clear error unless mapped', () => {
    // A torchkd file with its location string rewritten in place (same length; torchkd's reader skips CRCs).
    const file = path.join(tmp, 'mps.pt');
    torch.save({ x: torch.arange(4, { dtype: 'float32' }) }, file);
    const raw = Buffer.from(fs.readFileSync(file));
    const tag = Buffer.from('X\x03\x00\x00\x00cpu', 'latin1');
    const at = raw.indexOf(tag);
    expect(at).toBeGreaterThan(0);
    raw.write('mps', at + 5, 'latin1');
    const err = thrown(() => torch.loadFromBuffer(raw));
    expect(err).toBeInstanceOf(TorchError);
    expect((err as TorchError).code).toBe('NOT_IMPLEMENTED');
    expect((err as Error).message).toMatch(/saved on 'mps', a device torchkd does not have.*mapLocation: 'cpu'/);
    fs.writeFileSync(file, raw);
    expect(() => torch.load(file)).toThrow(/saved on 'mps'/); // not "not a readable PyTorch file": the file is fine
    expect((torch.load(file, { mapLocation: 'cpu' }) as { x: Tensor }).x.toArray()).toEqual([0, 1, 2, 3]);
    expect((torch.load(file, { mapLocation: { mps: 'cpu' } }) as { x: Tensor }).x.toArray()).toEqual([0, 1, 2, 3]);
  });

  it('saves atomically: a failed save leaves the previous file intact', () => {
    const file = path.join(tmp, 'keep.pt');
    torch.save({ a: torch.ones(3) }, file);
    const before = fs.readFileSync(file);
    expect(() => torch.save({ a: torch.ones(3), bad: (() => 1) as never }, file)).toThrow(TypeError);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('a save that cannot be written names the file asked for and why, and leaves nothing behind', () => {
    const nowhere = path.join(tmp, 'no-such-folder', 'm.pt');
    expect(() => torch.save({ a: torch.ones(1) }, nowhere)).toThrow(`cannot write ${nowhere}: the folder ${path.dirname(nowhere)} does not exist`);
    const folder = path.join(tmp, 'a-folder.pt');
    fs.mkdirSync(folder);
    expect(() => torch.save({ a: torch.ones(1) }, folder)).toThrow(`cannot write ${folder}: it is a folder`);
    if (process.getuid?.() !== 0) {
      const locked = path.join(tmp, 'locked');
      fs.mkdirSync(locked, { mode: 0o500 });
      expect(() => torch.save({ a: torch.ones(1) }, path.join(locked, 'm.pt'))).toThrow(`permission denied in ${locked}`);
    }
    expect(fs.readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('a corrupt or truncated file is a clear TorchError', () => {
    const good = fs.readFileSync(path.join(FIXTURES, 'py_checkpoint.pt'));
    const truncated = path.join(tmp, 'truncated.pt');
    fs.writeFileSync(truncated, good.subarray(0, good.length / 2));
    expect(() => torch.load(truncated)).toThrow(TorchError);
    const garbage = path.join(tmp, 'garbage.pt');
    fs.writeFileSync(garbage, 'not a checkpoint');
    expect(() => torch.load(garbage)).toThrow(/not a readable PyTorch file/);
    expect(() => torch.load(path.join(tmp, 'missing.pt'))).toThrow(/cannot read .*ENOENT/);
  });
});

describe('loadStateDict names bad keys as PyTorch does', () => {
  it('missing, unexpected and mis-shaped keys', () => {
    const m = makeMlp();
    const sd = m.stateDict();
    const { ['2.bias']: _dropped, ...missing } = sd;
    expect(() => m.loadStateDict(missing)).toThrow(/Missing key\(s\) in state_dict: "2.bias"/);
    expect(() => m.loadStateDict({ ...sd, extra: torch.ones(1) })).toThrow(/Unexpected key\(s\) in state_dict: "extra"/);
    expect(() => m.loadStateDict({ ...sd, '0.weight': torch.ones(2, 2) })).toThrow(
      /size mismatch for 0.weight: copying a param with shape \[2, 2\] from checkpoint, the shape in current model is \[8, 6\]/,
    );
    expect(m.loadStateDict(missing, { strict: false })).toEqual({ missingKeys: ['2.bias'], unexpectedKeys: [] });
  });
});

describe('TorchScript', () => {
  it('a module scripted in Python trains in Node to the same weights', () => {
    const net = torch.jit.load(path.join(FIXTURES, 'py_scripted.pt'));
    const x = fromJson(fx.optim.x);
    const y = fromJson(fx.optim.y);
    expect(net.training).toBe(true);
    const opt = new optim.SGD(net.parameters(), { lr: 0.1, momentum: 0.9 });
    for (let i = 0; i < 5; i++) {
      opt.zeroGrad();
      torch.F.crossEntropy(net.forward(x), y).backward();
      opt.step();
    }
    expectState(net, fx.scripted.end);
  });

  it('saves back and loads again', () => {
    const net = torch.jit.load(path.join(FIXTURES, 'py_scripted.pt'));
    const file = path.join(tmp, 'again.pt');
    net.save(file);
    const again = torch.jit.load(file);
    const a = net.stateDict();
    const b = again.stateDict();
    for (const k of Object.keys(a)) expect(a[k].equal(b[k])).toBe(true);
    again.eval();
    expect(again.training).toBe(false);
  });
});

describe('Module basics', () => {
  it('user modules register submodules and parameters in assignment order', () => {
    class Net extends nn.Module {
      fc = new nn.Linear(4, 2);
      scale = nn.Parameter(torch.ones(2));
      override forward(x: Tensor): Tensor {
        return this.fc.forward(x).mul(this.scale);
      }
    }
    const n = new Net();
    expect(Object.keys(n.stateDict())).toEqual(['scale', 'fc.weight', 'fc.bias']);
    n.forward(torch.ones(3, 4)).sum().backward();
    expect(n.scale.grad).not.toBeNull();
    n.zeroGrad();
    expect(n.scale.grad).toBeNull();
  });

  it('to(dtype) converts floating parameters in place and leaves integer buffers alone', () => {
    const bn = new nn.BatchNorm1d(3);
    const w = bn.weight as Tensor;
    bn.to('float64');
    expect(w.dtype).toBe('float64');
    expect(bn.numBatchesTracked?.dtype).toBe('int64');
    bn.forward(torch.randn(4, 3, { dtype: 'float64' }));
    expect(bn.numBatchesTracked?.item()).toBe(1);
  });

  it('to({memoryFormat: torch.channelsLast}) relays out 4-d weights in place; other parameters and buffers keep theirs', () => {
    torch.manualSeed(0);
    const net = new nn.Sequential(new nn.Conv2d(3, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU(), new nn.Flatten(), new nn.Linear(8 * 6 * 6, 4));
    const conv = net[0] as nn.Conv2d;
    const w = conv.weight;
    const before = w.clone();
    const opt = new optim.SGD(net.parameters(), { lr: 0.1 });
    expect(net.to({ memoryFormat: torch.channelsLast })).toBe(net);
    expect(conv.weight).toBe(w); // the same parameter: the optimizer keeps training it
    expect([w.stride(), w.isContiguous(torch.channelsLast), w.equal(before)]).toEqual([[27, 1, 9, 3], true, true]);
    expect((conv.bias as Tensor).stride()).toEqual([1]);
    expect((net[4] as nn.Linear).weight.stride()).toEqual([288, 1]);
    const x = torch.randn(2, 3, 6, 6);
    net.call(x).sum().backward();
    expect(w.grad!.shape).toEqual([8, 3, 3, 3]);
    opt.step();
    expect(w.equal(before)).toBe(false);
    expect(thrown(() => net.to({ memoryFormat: 'nhwc' as never }))).toBeInstanceOf(RangeError);
  });

  itWhen(pythonWithTorch() !== null, 'needs a Python with torch (the oracle): none found', 'a channels-last teacher computes what PyTorch\'s does, to the bit, and stays within 1e-5 of its NCHW form', () => {
    // The same seeded preact_resnet20_cifar and input in both; forward in eval mode without autograd, NCHW and then
    // after module.to(memory_format=channels_last), plus one backward in channels-last (the first conv's gradient).
    const b64 = (t: Tensor): string => Buffer.from((t.contiguous().data() as Float32Array).buffer).toString('base64');
    torch.manualSeed(0);
    const teacher = models.create('preact_resnet20_cifar');
    teacher.eval();
    const x = torch.randn(8, 3, 32, 32);
    const plain = torch.noGrad(() => teacher.call(x));
    teacher.to({ memoryFormat: torch.channelsLast });
    const cl = torch.noGrad(() => teacher.call(x));
    teacher.call(x).logsumexp(1).mean().backward();
    const grad = teacher.getParameter('conv1.weight').grad!;
    const script = [
      'import sys, json, base64, torch',
      `sys.path.insert(0, ${JSON.stringify(path.join(__dirname, '..', 'lib', 'python'))})`,
      'from zoo import ZOO',
      'b64 = lambda t: base64.b64encode(t.detach().contiguous().numpy().tobytes()).decode()',
      'torch.manual_seed(0)',
      "t = ZOO['preact_resnet20_cifar']().eval()",
      'x = torch.randn(8, 3, 32, 32)',
      'with torch.no_grad(): plain = t(x)',
      't = t.to(memory_format=torch.channels_last)',
      'with torch.no_grad(): cl = t(x)',
      't(x).logsumexp(1).mean().backward()',
      'print(json.dumps([b64(plain), b64(cl), b64(t.conv1.weight.grad), list(t.conv1.weight.stride())]))',
    ].join('\n');
    const r = spawnSync(pythonWithTorch()!, ['-c', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const [pyPlain, pyCl, pyGrad, pyStride] = JSON.parse(r.stdout);
    expect(b64(plain)).toBe(pyPlain);
    expect(b64(cl)).toBe(pyCl);
    expect(b64(grad)).toBe(pyGrad);
    expect(teacher.getParameter('conv1.weight').stride()).toEqual(pyStride);
    // The two layouts sum in other orders: close, not equal (the documented tolerance of a channels-last teacher).
    expect(cl.sub(plain).abs().max().item()).toBeLessThanOrEqual(1e-5 * plain.abs().max().item());
  });
});

describe('torch.nn.utils gradient clipping matches PyTorch to the bit', () => {
  const f = fx.clip;
  const withGrads = (): nn.Sequential => {
    const m = makeMlp();
    for (const [k, p] of m.namedParameters()) p.grad = fromJson(f.grads[k]);
    return m;
  };
  for (const [name, normType, foreach] of [
    ['2', 2, undefined],
    ['1', 1, undefined],
    ['inf', 'inf', undefined],
    ['3', 3, undefined],
    ['2_loop', 2, false],
  ] as const) {
    it(`clipGradNorm_ with p = ${name}`, () => {
      const m = withGrads();
      const total = torch.nn.utils.clipGradNorm_(m.parameters(), 0.5, { normType, foreach });
      expectTensor(total, f.norm[name].total, { rtol: 0, atol: 0 });
      for (const [k, p] of m.namedParameters()) expectTensor(p.grad as Tensor, f.norm[name].grads[k], { rtol: 0, atol: 0 });
    });
  }

  it('clipGradValue_, a single tensor, no gradients, non-finite norms and bad input', () => {
    const m = withGrads();
    torch.nn.utils.clipGradValue_(m.parameters(), 0.05);
    for (const [k, p] of m.namedParameters()) expectTensor(p.grad as Tensor, f.value[k], { rtol: 0, atol: 0 });
    const w = torch.ones(4).requiresGrad_(true);
    w.grad = torch.full([4], 3, { dtype: 'float32' });
    expect(torch.nn.utils.clipGradNorm_(w, 3).item()).toBe(6); // one tensor, as PyTorch accepts
    expect(((w.grad as Tensor).toArray() as number[]).every((v) => Math.abs(v - 1.5) < 1e-6)).toBe(true);
    const none = torch.nn.utils.clipGradNorm_([torch.ones(2)], 1);
    expect([none.item(), none.dtype]).toEqual([0, 'float32']);
    const bad = torch.ones(2).requiresGrad_(true);
    bad.grad = torch.tensor([1, NaN], { dtype: 'float32' });
    expect(() => torch.nn.utils.clipGradNorm_([bad], 1, { errorIfNonfinite: true })).toThrow(/total norm of order 2.0 .* non-finite/);
    expect(Number.isNaN(torch.nn.utils.clipGradNorm_([bad], 1).item() as number)).toBe(true);
    expect(() => torch.nn.utils.clipGradNorm_(5 as never, 1)).toThrow(TypeError);
    expect(() => torch.nn.utils.clipGradNorm_([w, 'x' as never], 1)).toThrow(TypeError);
    expect(() => torch.nn.utils.clipGradNorm_([w], 'big' as never)).toThrow(TypeError);
    expect(() => torch.nn.utils.clipGradNorm_([w], 1, { normType: 'two' as never })).toThrow(TypeError);
    expect(() => torch.nn.utils.clipGradValue_([w], 1, { foreach: 'yes' as never })).toThrow(TypeError);
  });
});
