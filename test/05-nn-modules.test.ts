/**
 * torch.nn's layer and loss classes and nn.init against PyTorch, case by case from the fixture
 * (scripts/fixtures/gen_nn_modules.py → test/fixtures/nn_modules.json):
 *
 * - every layer class of scripts/codegen/modules/layers.js: after the same seed the same constructor call gives the
 *   same state_dict (keys in order, values bit for bit; also with dtype float64, where PyTorch initialises directly in
 *   float64, and with non-default options), the same printout as Python's repr, and the same outputs and gradients
 *   in train mode (three steps: the running statistics after them too) and in eval mode;
 * - every loss module with each reduction and its weights: value, input gradients, `weight` / `pos_weight` buffers;
 * - nn.init: every initialiser on seeded 2-D and 4-D tensors, calculateGain, the fans, the calls PyTorch rejects;
 * - constructor calls PyTorch rejects: TypeError / RangeError / TorchError.
 *
 * The fixture names each call as Python makes it; here the keyword arguments are camelCased into the trailing options
 * object (Python's `Conv2d(3, 8, kernel_size=3, padding=1)` is `new nn.Conv2d(3, 8, {kernelSize: 3, padding: 1})`).
 * Where torchkd differs from PyTorch the test still asserts PyTorch's behaviour and is marked `it.fails` with the
 * reason (FAILING below).
 */
import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { type Tensor, TorchError, isFloatingPoint, nn } from '../lib/index';
import { upstream } from './02-parity-cases';
import { expectTensor, fixture, fromJson, liveFixture, pythonWithTorch, thrown, type TensorJson } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const LAYER_SPEC: { name: string }[] = require('../scripts/codegen/modules/layers.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const LOSS_SPEC: { name: string }[] = require('../scripts/codegen/modules/losses.js');

type StateJson = Record<string, TensorJson>;
type ArgJson = unknown;
interface CallJson {
  args: ArgJson[];
  kwargs: Record<string, ArgJson>;
}
interface PhaseJson {
  out: TensorJson | TensorJson[];
  grads: Record<string, TensorJson> | null;
  sparse_grads?: string[];
  state?: StateJson;
}
interface LayerJson extends CallJson {
  cls: string;
  seed: number;
  repr: string;
  state: StateJson;
  parameters: string[];
  frozen: string[];
  buffers: string[];
  inputs: TensorJson[];
  train: PhaseJson;
  eval: PhaseJson;
}
interface LossJson extends CallJson {
  cls: string;
  repr: string;
  state_keys: string[];
  buffers: string[];
  inputs: TensorJson[];
  requires_grad: number[];
  out: TensorJson;
  grads: Record<string, TensorJson>;
}
interface InitJson extends CallJson {
  fn: string;
  shape: number[];
  dtype: 'float32' | 'float64';
  seed: number;
  out: TensorJson;
  next_draw: TensorJson;
}
interface ErrorJson {
  error: string | null;
  message: string | null;
}
interface ModulesFixture {
  layers: Record<string, LayerJson>;
  losses: Record<string, LossJson>;
  init: {
    cases: Record<string, InitJson>;
    gains: Record<string, { nonlinearity: string; param: number | null; gain: number }>;
    fans: { shape: number[]; fans: [number, number] }[];
    errors: Record<string, CallJson & ErrorJson & { fn: string; shape: number[] }>;
    gain_errors: Record<string, ErrorJson & { args: unknown[] }>;
    empty: { seed: number; next_draw: TensorJson };
  };
  ctor_errors: Record<string, CallJson & ErrorJson & { cls: string }>;
}

const fx = fixture<ModulesFixture>('nn_modules');

// ---- building a call from the fixture ------------------------------------------------------------------------------

/** Python's keyword name as torchkd's option name: camelCase, a leading underscore dropped (`_weight` → `weight`). */
function jsName(pyName: string): string {
  return pyName.replace(/^_/, '').replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function decode(v: ArgJson): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v !== null && typeof v === 'object' && 'tensor' in v) return fromJson((v as { tensor: TensorJson }).tensor);
  return v;
}

/** The positional arguments, then the keyword arguments as a trailing options object (when there are any). */
function jsArgs(call: CallJson): unknown[] {
  const opts = Object.fromEntries(Object.entries(call.kwargs).map(([k, v]) => [jsName(k), decode(v)]));
  return [...call.args.map(decode), ...(Object.keys(opts).length ? [opts] : [])];
}

function construct(cls: string, call: CallJson): nn.Module {
  const Ctor = (nn as unknown as Record<string, new (...a: unknown[]) => nn.Module>)[cls];
  expect(typeof Ctor, `nn.${cls}`).toBe('function');
  return new Ctor(...jsArgs(call));
}

function callModule(m: nn.Module, inputs: Tensor[]): unknown {
  return (m.call as (...a: Tensor[]) => unknown).apply(m, inputs);
}

function expectState(actual: Record<string, Tensor>, expected: StateJson): void {
  expect(Object.keys(actual)).toEqual(Object.keys(expected));
  for (const [k, v] of Object.entries(expected)) {
    try {
      expectTensor(actual[k], v);
    } catch (e) {
      throw new Error(`state_dict['${k}']: ${(e as Error).message}`);
    }
  }
}

function outputList(out: unknown): Tensor[] {
  if (out instanceof torch.ValuesIndices) return [out.values, out.indices];
  return Array.isArray(out) ? (out as Tensor[]) : [out as Tensor];
}

/** The layer in the fixture's initial state (seeded as Python, then loaded so that forward is tested on its own). */
function seededLayer(c: LayerJson): nn.Module {
  torch.manualSeed(c.seed);
  const m = construct(c.cls, c);
  m.loadStateDict(Object.fromEntries(Object.entries(c.state).map(([k, v]) => [k, fromJson(v)])));
  return m;
}

/** One phase as the generator runs it: `steps` calls (seeded before each), backward of the last output. */
function runPhase(m: nn.Module, c: LayerJson, e: PhaseJson, seed: number, steps: number): void {
  const leaves = c.inputs.map((j) => fromJson(j, { requiresGrad: isFloatingPoint(j.dtype) }));
  let out: unknown;
  for (let k = 0; k < steps; k++) {
    torch.manualSeed(seed + k);
    out = callModule(
      m,
      leaves.map((x) => x.clone()), // in-place layers work on a copy; the gradients reach the leaves
    );
  }
  const outs = outputList(out);
  const expected = Array.isArray(e.out) ? e.out : [e.out];
  expect(outs.length, 'number of outputs').toBe(expected.length);
  outs.forEach((o, i) => expectTensor(o, expected[i]));
  const diff = outs.filter((o) => o.requiresGrad);
  expect(diff.length > 0, 'differentiable output').toBe(e.grads !== null);
  if (e.grads !== null) {
    diff.map((o) => o.mul(upstream(o)).sum()).reduce((a, b) => a.add(b)).backward();
    const got: Record<string, Tensor> = {};
    leaves.forEach((x, i) => {
      if (x.grad !== null) got[`input${i}`] = x.grad;
    });
    for (const [n, p] of m.namedParameters()) if (p.grad !== null) got[n] = p.grad;
    expect(Object.keys(got).sort(), 'tensors with gradients').toEqual(Object.keys(e.grads).sort());
    for (const [k, g] of Object.entries(got)) {
      try {
        expectTensor(e.sparse_grads?.includes(k) ? (g as unknown as { toDense(): Tensor }).toDense() : g, e.grads[k]);
      } catch (err) {
        throw new Error(`gradient of ${k}: ${(err as Error).message}`);
      }
    }
    m.zeroGrad();
  }
}

// ---- known differences from PyTorch (asserted as PyTorch behaves, expected to fail) --------------------------------

const FAILING: Record<string, string> = {
  // sparse gradients
  'embedding_sparse: forward and backward in train and eval mode':
    'the sparse weight gradient of Embedding(sparse=true) cannot be read: Tensor has no toDense()/isSparse and data() fails with "unsupported memory format option Contiguous"',
  // PyTorch's (None, k) output size
  ...Object.fromEntries(
    ['seeded state_dict', 'printout', 'forward and backward in train and eval mode'].map((p) => [
      `adaptive_avg_pool2d_none: ${p}`,
      "layers.js types outputSize as int[2]: PyTorch's None (keep that input size) is a TypeError",
    ]),
  ),
};

const titles = new Set<string>();
function check(title: string, fn: () => void): void {
  titles.add(title);
  const reason = FAILING[title];
  if (reason) it.fails(`${title} [differs from PyTorch: ${reason}]`, fn);
  else it(title, fn);
}

// ---- layers ----------------------------------------------------------------------------------------------------------

describe('layers: seeded state_dict, printout, forward and gradients as PyTorch', () => {
  it('every layer class of scripts/codegen/modules/layers.js has cases', () => {
    const covered = new Set(Object.values(fx.layers).map((c) => c.cls));
    expect(LAYER_SPEC.map((s) => s.name).filter((n) => !covered.has(n))).toEqual([]);
  });

  for (const [name, c] of Object.entries(fx.layers)) {
    describe(name, () => {
      // torch.manual_seed(s); nn.X(...).state_dict(): the parameters are drawn from the default generator in PyTorch's
      // order, directly in the requested dtype; buffers (running statistics) in order after the parameters.
      check(`${name}: seeded state_dict`, () => {
        torch.manualSeed(c.seed);
        const m = construct(c.cls, c);
        expectState(m.stateDict(), c.state);
        expect([...m.namedParameters()].map(([n]) => n)).toEqual(c.parameters);
        expect([...m.namedBuffers()].map(([n]) => n)).toEqual(c.buffers);
        expect([...m.namedParameters()].filter(([, p]) => !p.requiresGrad).map(([n]) => n)).toEqual(c.frozen);
      });

      // repr(module): PyTorch's extra_repr formatting (tuples, floats, True/False/None, which options are shown).
      check(`${name}: printout`, () => {
        torch.manualSeed(c.seed);
        expect(String(construct(c.cls, c))).toBe(c.repr);
      });

      // module(x) three times in training mode (dropout masks from the seed before each call; batch statistics and
      // running averages), then once in eval mode; gradients of the inputs and parameters of the last call.
      check(`${name}: forward and backward in train and eval mode`, () => {
        const m = seededLayer(c);
        expect(m.training).toBe(true);
        runPhase(m, c, c.train, c.seed + 1, 3);
        expectState(m.stateDict(), c.train.state ?? c.state);
        m.eval();
        runPhase(m, c, c.eval, c.seed + 10, 1);
      });
    });
  }
});

// ---- losses ----------------------------------------------------------------------------------------------------------

describe('loss modules: values, gradients and weight buffers as PyTorch', () => {
  it('every loss class of scripts/codegen/modules/losses.js has cases, each reduction included', () => {
    const covered = new Set(Object.values(fx.losses).map((c) => c.cls));
    expect(LOSS_SPEC.map((s) => s.name).filter((n) => !covered.has(n))).toEqual([]);
    for (const cls of covered) {
      const reductions = new Set(Object.values(fx.losses).filter((c) => c.cls === cls).map((c) => c.kwargs.reduction ?? 'mean'));
      expect([...reductions].sort(), cls).toEqual(cls === 'KLDivLoss' ? ['batchmean', 'mean', 'none', 'sum'] : ['mean', 'none', 'sum']);
    }
  });

  for (const [name, c] of Object.entries(fx.losses)) {
    // loss(input, target) and its gradients w.r.t. every floating input PyTorch differentiates; `weight` and
    // `pos_weight` are registered buffers (in state_dict exactly when given), the printout has no options.
    check(`${name}: value, gradients, buffers and printout`, () => {
      const m = construct(c.cls, c);
      expect(String(m)).toBe(c.repr);
      expect(Object.keys(m.stateDict())).toEqual(c.state_keys);
      expect([...m.namedBuffers()].map(([n]) => n)).toEqual(c.buffers);
      const inputs = c.inputs.map((j, i) => fromJson(j, { requiresGrad: c.requires_grad.includes(i) }));
      const out = callModule(m, inputs) as Tensor;
      expectTensor(out, c.out);
      out.mul(upstream(out)).sum().backward();
      const got = Object.fromEntries(inputs.flatMap((x, i) => (x.grad === null ? [] : [[`input${i}`, x.grad]])));
      expect(Object.keys(got)).toEqual(Object.keys(c.grads));
      for (const [k, g] of Object.entries(got)) expectTensor(g, c.grads[k]);
    });
  }

  it('weight buffers follow the module: to(float64) converts them, and they load from a state_dict', () => {
    const m = new nn.CrossEntropyLoss(torch.tensor([1, 2, 3], { dtype: 'float32' }), { labelSmoothing: 0.1 });
    m.to('float64');
    expect((m.getBuffer('weight') as Tensor).dtype).toBe('float64');
    m.loadStateDict({ weight: torch.tensor([3, 2, 1], { dtype: 'float64' }) });
    expect((m.getBuffer('weight') as Tensor).toArray()).toEqual([3, 2, 1]);
    expect(Object.keys(new nn.CrossEntropyLoss().stateDict())).toEqual([]);
  });
});

// ---- nn.init ---------------------------------------------------------------------------------------------------------

type InitFn = (t: Tensor, ...rest: unknown[]) => Tensor;

describe('nn.init: the same values as PyTorch after the same seed', () => {
  for (const [name, c] of Object.entries(fx.init.cases)) {
    // nn.init.<fn>(t, ...) after torch.manual_seed(s) overwrites every element with PyTorch's draws (bit for bit) and
    // consumes as much of the random stream: the next torch.rand draw is the same too.
    check(`init ${name}`, () => {
      const fn = (nn.init as unknown as Record<string, InitFn>)[jsName(c.fn)];
      expect(typeof fn, `nn.init.${jsName(c.fn)}`).toBe('function');
      const t = torch.full(c.shape, 7, { dtype: c.dtype });
      torch.manualSeed(c.seed);
      const r = fn(t, ...jsArgs(c));
      expect(r).toBe(t);
      expectTensor(t, c.out);
      expectTensor(torch.rand(2, { dtype: 'float64' }), c.next_draw);
    });
  }

  it('calculateGain gives PyTorch\'s values for every non-linearity', () => {
    for (const g of Object.values(fx.init.gains)) {
      const got = g.param === null ? nn.init.calculateGain(g.nonlinearity as nn.init.Nonlinearity) : nn.init.calculateGain(g.nonlinearity as nn.init.Nonlinearity, g.param);
      expect(got, `${g.nonlinearity} ${g.param}`).toBe(g.gain);
    }
  });

  it('calculateFanInAndFanOut gives PyTorch\'s fans (receptive field included)', () => {
    for (const f of fx.init.fans) expect(nn.init.calculateFanInAndFanOut(torch.empty(f.shape)), f.shape.join('x')).toEqual(f.fans);
  });

  for (const [name, e] of Object.entries(fx.init.errors)) {
    // PyTorch's ValueError: a TorchError with code VALUE_ERROR and PyTorch's message.
    check(`init error ${name}`, () => {
      const fn = (nn.init as unknown as Record<string, InitFn>)[jsName(e.fn)];
      expect(typeof fn, `nn.init.${jsName(e.fn)}`).toBe('function');
      const err = thrown(() => fn(torch.empty(e.shape), ...jsArgs(e)));
      expect(err).toBeInstanceOf(TorchError);
      expect((err as TorchError).code).toBe('VALUE_ERROR');
      expect(err.message).toBe(e.message);
    });
  }

  it('calculateGain rejects an unknown non-linearity and a non-numeric slope as PyTorch does', () => {
    for (const e of Object.values(fx.init.gain_errors)) {
      const err = thrown(() => (nn.init.calculateGain as (...a: unknown[]) => number)(...e.args));
      expect(err).toBeInstanceOf(TorchError);
      expect(err.message).toBe(e.message);
    }
  });

  it('a zero-element tensor is left alone and draws no random numbers', () => {
    torch.manualSeed(fx.init.empty.seed);
    const t = torch.empty(0, 3);
    expect(nn.init.kaimingUniform_(t)).toBe(t);
    expectTensor(torch.rand(2, { dtype: 'float64' }), fx.init.empty.next_draw);
  });

  it('rejects non-tensors and non-numbers with TypeErrors naming the function', () => {
    expect(() => nn.init.uniform_([1, 2] as never)).toThrow(/nn\.init\.uniform_: expected a Tensor/);
    expect(() => nn.init.normal_(torch.empty(2), 'zero' as never)).toThrow(TypeError);
    expect(() => nn.init.kaimingUniform_(torch.empty(2, 2), { a: 'x' } as never)).toThrow(/expected a number for a/);
    expect(() => nn.init.xavierNormal_(torch.empty(2, 2), null as never)).toThrow(TypeError);
  });
});

// ---- constructor errors --------------------------------------------------------------------------------------------

/**
 * What torchkd throws for each constructor call of the fixture's `ctor_errors`. Python's TypeError is a TypeError; its
 * ValueError / AssertionError / RuntimeError a RangeError or a TorchError (with PyTorch's message where it says the
 * same thing). `late` marks the calls PyTorch accepts at construction and fails on at forward: torchkd checks the
 * option's type or value when it is given.
 */
const CTOR_ERRORS: Record<string, { type: ErrorConstructor | typeof TorchError; message: RegExp | 'python'; late?: true }> = {
  linear_string_features: { type: TypeError, message: /nn\.Linear\(\): expected an integer for inFeatures/ },
  linear_float_features: { type: RangeError, message: /nn\.Linear\(\): expected an integer for inFeatures but received the number 3\.5/ },
  linear_negative_features: { type: TorchError, message: /negative dimension -1/ },
  linear_unknown_option: { type: TypeError, message: /nn\.Linear\(\): got an unexpected option 'biass'/ },
  linear_missing_argument: { type: TypeError, message: /nn\.Linear\(\): missing required argument 'outFeatures'/ },
  linear_bias_twice: { type: TypeError, message: /nn\.Linear\(\): got multiple values for argument 'bias'/ },
  linear_too_many: { type: TypeError, message: /nn\.Linear\(\): takes 3 positional arguments but 6 were given/ },
  linear_integer_dtype: { type: TypeError, message: /dtype must be a floating-point type for a layer's parameters, got int64/ },
  conv2d_groups_indivisible: { type: TorchError, message: 'python' },
  conv2d_groups_zero: { type: TorchError, message: 'python' },
  conv2d_bad_padding_mode: { type: RangeError, message: /nn\.Conv2d\(\): expected one of .*'reflect'.* for paddingMode but received the string "mirror"/ },
  conv2d_bad_padding_string: { type: RangeError, message: /nn\.Conv2d\(\): expected one of 'same', 'valid' for padding but received the string "full"/ },
  conv2d_same_strided: { type: TorchError, message: 'python' },
  conv_transpose2d_padding_mode: { type: RangeError, message: /nn\.ConvTranspose2d\(\): expected one of 'zeros' for paddingMode/ },
  dropout_p_above_one: { type: TorchError, message: 'python' },
  dropout2d_negative_p: { type: TorchError, message: 'python' },
  embedding_padding_idx_out_of_range: { type: TorchError, message: 'python' },
  embedding_weight_shape: { type: TorchError, message: 'python' },
  group_norm_indivisible: { type: TorchError, message: 'python' },
  batch_norm_string_momentum: { type: TypeError, message: /nn\.BatchNorm2d\(\): expected a number .*momentum/, late: true },
  upsample_bad_mode: { type: RangeError, message: /nn\.Upsample\(\): expected one of .* for mode but received the string "cubic"/, late: true },
  softmax_string_dim: { type: TypeError, message: /nn\.Softmax\(\): expected an integer .*dim/, late: true },
  elu_string_alpha: { type: TypeError, message: /nn\.ELU\(\): expected a number for alpha/, late: true },
  cross_entropy_list_weight: { type: TypeError, message: /nn\.CrossEntropyLoss\(\): expected a Tensor .*weight/ },
};

describe('constructors reject what PyTorch rejects, with TypeError / RangeError / TorchError', () => {
  it('the table covers the fixture', () => {
    expect(Object.keys(CTOR_ERRORS).sort()).toEqual(Object.keys(fx.ctor_errors).sort());
  });
  for (const [name, e] of Object.entries(fx.ctor_errors)) {
    const want = CTOR_ERRORS[name];
    check(`constructor error ${name}`, () => {
      // PyTorch rejects the call (at construction, or at the first forward for `late` ones).
      expect(e.error === null, `PyTorch accepts ${name} at construction`).toBe(want.late === true);
      const err = thrown(() => construct(e.cls, e));
      expect(err).toBeInstanceOf(want.type);
      if (want.message === 'python') expect(err.message).toBe(e.message);
      else expect(err.message).toMatch(want.message);
    });
  }

  it('a non-integer, a NaN and a negative size are refused before any tensor is made', () => {
    expect(() => new nn.Conv2d(3, 4, 2.5)).toThrow(RangeError);
    expect(() => new nn.BatchNorm1d(NaN)).toThrow(RangeError);
    expect(() => new nn.LayerNorm([2, 'x'] as never)).toThrow(TypeError);
    expect(() => new nn.Embedding(10, 3, { paddingIdx: -11 })).toThrow(/Padding_idx must be within num_embeddings/);
  });
});

it('every entry of FAILING names a test of this file', () => {
  expect(Object.keys(FAILING).filter((t) => !titles.has(t))).toEqual([]);
});

describe('live parity', () => {
  it.skipIf(pythonWithTorch() === null)('the committed nn_modules fixture is what the current PyTorch produces', () => {
    expect(liveFixture<ModulesFixture>('gen_nn_modules.py')).toEqual(fx);
  });
});
