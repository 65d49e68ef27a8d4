/**
 * Module hooks against PyTorch's semantics (torch.nn.Module._call_impl and torch.utils.hooks.BackwardHook), with what
 * Python's hooks saw and returned recorded in the fixture (scripts/fixtures/gen_nn_modules.py → nn_modules.json,
 * `hooks` and `zoo_hook`): forward pre-hooks and forward hooks replacing inputs and outputs, the order of hooks with
 * `prepend`, removal (also through `using`), `alwaysCall`, full backward hooks and pre-hooks (gradInput/gradOutput
 * values, replaced gradients flowing upstream, inputs without grad, errors), hooks on the children of a native
 * Sequential, feature capture on resnet20_cifar; then bad hook arguments and a leak check.
 * Where torchkd differs from PyTorch the test asserts PyTorch's behaviour and is marked `it.fails` with the reason.
 */
import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { type Tensor, TorchError, models, nn } from '../lib/index';
import { upstream } from './02-parity-cases';
import { expectTensor, fixture, fromJson, liveTensorsSettled, setupOnce, thrown, type TensorJson } from './helpers';

type StateJson = Record<string, TensorJson>;
type Grads = (TensorJson | null)[];
interface ErrorJson {
  error: string;
  message: string;
}
interface GradsRun {
  out: TensorJson;
  x_grad: TensorJson;
  param_grads: StateJson;
}
interface HooksFixture {
  hooks: {
    forward_replace: { state: StateJson; x: TensorJson; out: TensorJson; seen_input: TensorJson; seen_output: TensorJson; out_single_return: TensorJson; out_removed: TensorJson };
    order: { all: string[]; removed: string[] };
    always_call: {
      success_calls: [string, boolean][];
      forward_error: ErrorJson;
      forward_error_calls: [string, boolean][];
      pre_hook_error: ErrorJson;
      pre_hook_error_calls: [string, boolean][];
      hook_error: ErrorJson;
      hook_error_calls: [string, boolean][];
      always_hook_error_on_forward_error: ErrorJson;
    };
    backward_linear: { state: StateJson; x: TensorJson; out: TensorJson; grad_input: Grads; grad_output: Grads; x_grad: TensorJson; param_grads: StateJson };
    backward_two_inputs: { a: TensorJson; b: TensorJson; out: TensorJson; grad_input: Grads; grad_output: Grads; a_grad: TensorJson; b_grad: TensorJson; scale_grad: TensorJson };
    backward_two_inputs_b_constant: { grad_input: Grads; grad_output: Grads; a_grad: TensorJson };
    backward_two_outputs_one_used: { grad_input: Grads; grad_output: Grads; a_grad: TensorJson };
    replace_grads: { x: TensorJson } & Record<'baseline' | 'grad_input_doubled' | 'grad_output_negated' | 'grad_input_on_tanh', GradsRun>;
    backward_input_no_grad: { state: StateJson; x: TensorJson; grad_input: Grads; grad_output: Grads; param_grads: StateJson; returning_a_gradient: ErrorJson };
    backward_hook_wrong_length: ErrorJson;
    backward_pre_hook_wrong_length: ErrorJson;
    backward_hook_raises: { same_object: boolean; message: string };
    sequential_children: { state: StateJson; x: TensorJson; base: TensorJson; hooked: TensorJson; relu_grad_input: TensorJson; relu_grad_output: TensorJson; x_grad: TensorJson; removed: TensorJson };
  };
  zoo_hook: {
    model_seed: number;
    input_seed: number;
    input_shape: number[];
    calls: number;
    feature_train: TensorJson;
    feature_eval_sum: number;
    logits_train: TensorJson;
    logits_eval: TensorJson;
  };
}

const fxAll = fixture<HooksFixture>('nn_modules');
const fx = fxAll.hooks;

function check(title: string, fn: () => void, failing?: string): void {
  if (failing) it.fails(`${title} [differs from PyTorch: ${failing}]`, fn);
  else it(title, fn);
}

function expectState(m: nn.Module, expected: StateJson): void {
  const sd = m.stateDict();
  expect(Object.keys(sd)).toEqual(Object.keys(expected));
  for (const [k, v] of Object.entries(expected)) expectTensor(sd[k], v);
}

function expectGrads(m: nn.Module, expected: StateJson): void {
  const got = Object.fromEntries([...m.namedParameters()].map(([n, p]) => [n, p.grad]));
  expect(Object.keys(got)).toEqual(Object.keys(expected));
  for (const [k, v] of Object.entries(expected)) {
    expect(got[k], `${k}.grad`).not.toBeNull();
    expectTensor(got[k] as Tensor, v);
  }
}

/** A gradient list as a hook saw it, against Python's (null where Python had None). */
function expectGradList(actual: (Tensor | null)[], expected: Grads, what: string): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  expected.forEach((e, i) => {
    if (e === null) expect(actual[i], `${what}[${i}]`).toBeNull();
    else {
      expect(actual[i], `${what}[${i}]`).not.toBeNull();
      expectTensor(actual[i] as Tensor, e);
    }
  });
}

/** Registers a full backward hook that copies what it sees. */
function captureBackward(m: nn.Module): { seen: { gradInput: (Tensor | null)[]; gradOutput: (Tensor | null)[] } | null; handle: nn.RemovableHandle } {
  const box: { seen: { gradInput: (Tensor | null)[]; gradOutput: (Tensor | null)[] } | null; handle: nn.RemovableHandle } = { seen: null, handle: null as never };
  box.handle = m.registerFullBackwardHook((_m, gi, go) => {
    box.seen = { gradInput: gi.map((g) => g?.clone() ?? null), gradOutput: go.map((g) => g?.clone() ?? null) };
  });
  return box;
}

// ---- forward hooks -----------------------------------------------------------------------------------------------

describe('forward pre-hooks and forward hooks', () => {
  const f = fx.forward_replace;

  // A pre-hook's return value replaces the inputs (Python: a tuple is the argument list, another value the single
  // input; here an array is the argument list); a forward hook's return value replaces the output, and later hooks
  // see the replaced input and output.
  it('replace the input and the output as in PyTorch; removed, the plain output comes back', () => {
    torch.manualSeed(61);
    const lin = new nn.Linear(3, 2);
    expectState(lin, f.state);
    const x = fromJson(f.x);
    let seenInput: Tensor | null = null;
    let seenOutput: Tensor | null = null;
    const h1 = lin.registerForwardPreHook((_m, args) => [args[0].mul(2)]);
    const h2 = lin.registerForwardHook((_m, _args, out) => out.mul(3));
    const h3 = lin.registerForwardHook((_m, args, out) => {
      seenInput = args[0].clone();
      seenOutput = out.clone();
    });
    expectTensor(lin.call(x), f.out);
    expectTensor(seenInput as unknown as Tensor, f.seen_input);
    expectTensor(seenOutput as unknown as Tensor, f.seen_output);
    h1.remove();
    const h4 = lin.registerForwardPreHook((_m, args) => args[0].add(1));
    expectTensor(lin.call(x), f.out_single_return);
    for (const h of [h2, h3, h4]) h.remove();
    expectTensor(lin.call(x), f.out_removed);
  });

  it('run only through call(): forward() itself runs no hooks, as in PyTorch', () => {
    const lin = new nn.Linear(3, 2);
    let n = 0;
    lin.registerForwardHook(() => {
      n++;
    });
    lin.forward(torch.ones(1, 3));
    expect(n).toBe(0);
    lin.call(torch.ones(1, 3));
    expect(n).toBe(1);
  });
});

describe('hook order, prepend and removal', () => {
  class Rec extends nn.Module {
    fc = new nn.Linear(3, 2);
    override forward(x: Tensor): Tensor {
      return this.fc.call(x);
    }
  }
  const events: string[] = [];
  const run = (m: Rec): string[] => {
    events.length = 0;
    m.call(torch.randn(2, 3).requiresGrad_(true)).sum().backward();
    return [...events];
  };
  const register = (m: Rec): Record<string, nn.RemovableHandle> => {
    const handles: Record<string, nn.RemovableHandle> = {};
    const kinds: [string, (fn: () => void, o: { prepend: boolean }) => nn.RemovableHandle][] = [
      ['pre', (fn, o) => m.registerForwardPreHook(fn, o)],
      ['fwd', (fn, o) => m.registerForwardHook(fn, o)],
      ['bwpre', (fn, o) => m.registerFullBackwardPreHook(fn, o)],
      ['bw', (fn, o) => m.registerFullBackwardHook(fn, o)],
    ];
    for (const [kind, reg] of kinds) {
      for (const [name, prepend] of [['A', false], ['B', false], ['C', true], ['D', false], ['E', true]] as const) {
        const tag = `${kind}:${name}`;
        handles[tag] = reg(() => {
          events.push(tag);
        }, { prepend });
      }
    }
    return handles;
  };

  // Registration order, except that prepend puts a hook before all registered so far; per call: pre-hooks, forward
  // hooks, then in backward the backward pre-hooks and the backward hooks.
  it('prepend runs a hook first; remove() takes it out (twice is harmless)', () => {
    const m = new Rec();
    const handles = register(m);
    expect(run(m)).toEqual(fx.order.all);
    for (const kind of ['pre', 'fwd', 'bwpre', 'bw']) {
      handles[`${kind}:B`].remove();
      handles[`${kind}:E`].remove();
      handles[`${kind}:E`].remove();
    }
    expect(run(m)).toEqual(fx.order.removed);
  });

  it('`using` removes a hook at the end of the block (handle[Symbol.dispose] is remove)', () => {
    const m = new Rec();
    let n = 0;
    {
      using h = m.registerForwardHook(() => {
        n++;
      });
      expect(typeof h.id).toBe('number');
      m.call(torch.ones(1, 3));
    }
    m.call(torch.ones(1, 3));
    expect(n).toBe(1);
  });

  it('handles have distinct ids, and a hook removed while the hooks run still runs this time (PyTorch iterates a snapshot)', () => {
    const m = new Rec();
    const calls: string[] = [];
    const second = { h: null as nn.RemovableHandle | null };
    const first = m.registerForwardHook(() => {
      calls.push('first');
      second.h?.remove();
    });
    second.h = m.registerForwardHook(() => {
      calls.push('second');
    });
    expect(first.id).not.toBe(second.h.id);
    m.call(torch.ones(1, 3));
    m.call(torch.ones(1, 3));
    expect(calls).toEqual(['first', 'second', 'first']);
  });
});

describe('alwaysCall forward hooks', () => {
  const a = fx.always_call;
  const setup = (): { lin: nn.Linear; calls: [string, boolean][] } => {
    torch.manualSeed(63);
    const lin = new nn.Linear(3, 2);
    const calls: [string, boolean][] = [];
    lin.registerForwardHook((_m, _a, o) => {
      calls.push(['plain', o == null]);
    });
    lin.registerForwardHook(
      (_m, _a, o) => {
        calls.push(['always', o == null]);
      },
      { alwaysCall: true },
    );
    return { lin, calls };
  };

  it('run once per successful call, like the others', () => {
    const { lin, calls } = setup();
    lin.call(torch.randn(4, 3));
    expect(calls).toEqual(a.success_calls);
  });

  // Python's _call_impl: when forward raises, the always-called hooks that have not run yet run with output None,
  // and the forward's exception propagates.
  it('run (seeing no output) when forward throws; the forward error propagates', () => {
    const { lin, calls } = setup();
    const err = thrown(() => lin.call(torch.randn(4, 5)));
    expect(err).toBeInstanceOf(TorchError);
    expect(err.message).toBe(a.forward_error.message);
    expect(calls).toEqual(a.forward_error_calls);
  });

  it("an always-called hook that throws too does not hide the forward's error", () => {
    const lin = new nn.Linear(3, 2);
    lin.registerForwardHook(
      () => {
        throw new Error('always hook failed');
      },
      { alwaysCall: true },
    );
    expect(thrown(() => lin.call(torch.randn(4, 5))).message).toBe(a.always_hook_error_on_forward_error.message);
  });

  check(
    'run when a forward pre-hook throws (Python wraps pre-hooks, forward and forward hooks in one try)',
    () => {
      const { lin, calls } = setup();
      lin.registerForwardPreHook(() => {
        throw new RangeError('pre-hook failed');
      });
      expect(thrown(() => lin.call(torch.randn(4, 3))).message).toBe(a.pre_hook_error.message);
      expect(calls).toEqual(a.pre_hook_error_calls);
    },
  );

  check(
    'run (with the output) when an earlier forward hook throws',
    () => {
      const lin = new nn.Linear(3, 2);
      const calls: [string, boolean][] = [];
      lin.registerForwardHook(() => {
        throw new RangeError('hook failed');
      });
      lin.registerForwardHook(
        (_m, _a, o) => {
          calls.push(['always', o == null]);
        },
        { alwaysCall: true },
      );
      expect(thrown(() => lin.call(torch.randn(4, 3))).message).toBe(a.hook_error.message);
      expect(calls).toEqual(a.hook_error_calls);
    },
  );
});

// ---- full backward hooks -------------------------------------------------------------------------------------------

describe('full backward hooks see the gradients PyTorch passes', () => {
  it('Linear: gradInput = (dL/dx,), gradOutput = (dL/dy,); the gradients themselves unchanged', () => {
    const e = fx.backward_linear;
    torch.manualSeed(64);
    const lin = new nn.Linear(4, 3);
    expectState(lin, e.state);
    const x = fromJson(e.x, { requiresGrad: true });
    const cap = captureBackward(lin);
    const out = lin.call(x);
    expectTensor(out, e.out);
    out.mul(upstream(out)).sum().backward();
    cap.handle.remove();
    expectGradList(cap.seen!.gradInput, e.grad_input, 'gradInput');
    expectGradList(cap.seen!.gradOutput, e.grad_output, 'gradOutput');
    expectTensor(x.grad as Tensor, e.x_grad);
    expectGrads(lin, e.param_grads);
  });

  class TwoInput extends nn.Module {
    scale = nn.Parameter(torch.tensor([0.5, -1.5]));
    override forward(a: Tensor, b: Tensor, k: number): Tensor {
      return a.tanh().matmul(b).mul(this.scale).mul(k);
    }
  }
  class TwoOutput extends nn.Module {
    override forward(a: Tensor): [Tensor, Tensor] {
      return [a.mul(2), a.sin()];
    }
  }

  it('two tensor inputs and a number: one gradInput entry per argument, null for the number', () => {
    const e = fx.backward_two_inputs;
    const a = fromJson(e.a, { requiresGrad: true });
    const b = fromJson(e.b, { requiresGrad: true });
    const m = new TwoInput();
    const cap = captureBackward(m);
    const out = m.call(a, b, 3.0);
    expectTensor(out, e.out);
    out.mul(upstream(out)).sum().backward();
    expectGradList(cap.seen!.gradInput, e.grad_input, 'gradInput');
    expectGradList(cap.seen!.gradOutput, e.grad_output, 'gradOutput');
    expectTensor(a.grad as Tensor, e.a_grad);
    expectTensor(b.grad as Tensor, e.b_grad);
    expectTensor(m.scale.grad as Tensor, e.scale_grad);
  });

  // PyTorch passes all tensor inputs through one autograd Function (BackwardHookFunction); the gradient of an input
  // that does not require grad comes out of it materialised as zeros.
  check(
    'an input that does not require grad gets a zero gradient in gradInput when another input does',
    () => {
      const e = fx.backward_two_inputs_b_constant;
      const a = fromJson(fx.backward_two_inputs.a, { requiresGrad: true });
      const b = fromJson(fx.backward_two_inputs.b);
      const m = new TwoInput();
      const cap = captureBackward(m);
      const out = m.call(a, b, 3.0);
      out.mul(upstream(out)).sum().backward();
      expectGradList(cap.seen!.gradInput, e.grad_input, 'gradInput');
      expectGradList(cap.seen!.gradOutput, e.grad_output, 'gradOutput');
      expectTensor(a.grad as Tensor, e.a_grad);
    },
  );

  // PyTorch reads gradOutput in a hook on the identity's autograd node, before autograd fills in missing gradients.
  check('an output that does not reach the loss has a null gradOutput entry', () => {
    const e = fx.backward_two_outputs_one_used;
    const a = fromJson(fx.backward_two_inputs.a, { requiresGrad: true });
    const m = new TwoOutput();
    const cap = captureBackward(m);
    const [first] = m.call(a);
    first.mul(upstream(first)).sum().backward();
    expectGradList(cap.seen!.gradInput, e.grad_input, 'gradInput');
    expectGradList(cap.seen!.gradOutput, e.grad_output, 'gradOutput');
    expectTensor(a.grad as Tensor, e.a_grad);
  });
});

describe('backward hooks that replace gradients', () => {
  const r = fx.replace_grads;
  const run = (register: (net: nn.Sequential) => nn.RemovableHandle | null, e: GradsRun): void => {
    torch.manualSeed(65);
    const net = new nn.Sequential(new nn.Linear(4, 5), new nn.Tanh(), new nn.Linear(5, 3));
    const x = fromJson(r.x, { requiresGrad: true });
    const h = register(net);
    const out = net.call(x);
    out.mul(upstream(out)).sum().backward();
    h?.remove();
    expectTensor(out, e.out);
    expectTensor(x.grad as Tensor, e.x_grad);
    expectGrads(net, e.param_grads);
  };

  it('no hook: the baseline gradients', () => run(() => null, r.baseline));

  // net[2]'s hook doubles its gradInput: net[0]'s gradients and x's double; net[2]'s own are unchanged.
  it('a backward hook returning [2·gradInput] changes every gradient upstream of the module, as in PyTorch', () =>
    run((net) => net[2].registerFullBackwardHook((_m, gi) => [(gi[0] as Tensor).mul(2)]), r.grad_input_doubled));

  it('a backward hook on an activation shifting gradInput', () =>
    run((net) => net[1].registerFullBackwardHook((_m, gi) => [(gi[0] as Tensor).add(0.25)]), r.grad_input_on_tanh));

  // A backward pre-hook replaces gradOutput before it flows into the module: its own parameters see it too.
  it('a backward pre-hook returning [−gradOutput] changes the module\'s gradients and everything upstream', () =>
    run((net) => net[2].registerFullBackwardPreHook((_m, go) => [(go[0] as Tensor).mul(-1)]), r.grad_output_negated));
});

describe('backward hooks: inputs without grad, wrong returns, errors', () => {
  it('a module whose input does not require grad: the hook runs with gradInput [null] and the output gradient', () => {
    const e = fx.backward_input_no_grad;
    torch.manualSeed(66);
    const lin = new nn.Linear(4, 3);
    expectState(lin, e.state);
    const x = fromJson(e.x);
    const cap = captureBackward(lin);
    const out = lin.call(x);
    out.mul(upstream(out)).sum().backward();
    cap.handle.remove();
    expect(cap.seen).not.toBeNull();
    expectGradList(cap.seen!.gradInput, e.grad_input, 'gradInput');
    expectGradList(cap.seen!.gradOutput, e.grad_output, 'gradOutput');
    expectGrads(lin, e.param_grads);
    // Returning a gradient there is PyTorch's RuntimeError.
    lin.zeroGrad();
    lin.registerFullBackwardHook(() => [torch.ones(2, 4)]);
    const err = thrown(() => lin.call(x).sum().backward());
    expect(err).toBeInstanceOf(TorchError);
    expect(err.message).toBe(e.returning_a_gradient.message);
  });

  it('a hook returning the wrong number of gradients is PyTorch\'s error', () => {
    const lin = new nn.Linear(4, 3);
    lin.registerFullBackwardHook((_m, gi) => [gi[0], gi[0]]);
    const err = thrown(() => lin.call(torch.randn(2, 4).requiresGrad_(true)).sum().backward());
    expect(err).toBeInstanceOf(TorchError);
    expect(err.message).toBe(fx.backward_hook_wrong_length.message);
    const pre = new nn.Linear(4, 3);
    pre.registerFullBackwardPreHook((_m, go) => [go[0], go[0]]);
    const err2 = thrown(() => pre.call(torch.randn(2, 4).requiresGrad_(true)).sum().backward());
    expect(err2).toBeInstanceOf(TorchError);
    expect(err2.message).toBe(fx.backward_pre_hook_wrong_length.message);
  });

  it('an exception thrown inside a backward hook comes out of backward() as the same object', () => {
    expect(fx.backward_hook_raises.same_object).toBe(true); // Python: `except HookError as e: e is err`
    class HookError extends Error {}
    const err = new HookError(fx.backward_hook_raises.message);
    const lin = new nn.Linear(4, 3);
    lin.registerFullBackwardHook(() => {
      throw err;
    });
    expect(thrown(() => lin.call(torch.randn(2, 4).requiresGrad_(true)).sum().backward())).toBe(err);
    // The module and autograd still work afterwards.
    const ok = new nn.Linear(4, 3);
    ok.call(torch.randn(2, 4).requiresGrad_(true)).sum().backward();
    expect(ok.weight.grad).not.toBeNull();
  });

  it('a hook returning something other than tensors and nulls is a TypeError', () => {
    const lin = new nn.Linear(4, 3);
    lin.registerFullBackwardHook(() => [3 as never]);
    expect(() => lin.call(torch.randn(2, 4).requiresGrad_(true)).sum().backward()).toThrow(TypeError);
  });

  it('no backward hook runs under noGrad, and none is set up', () => {
    const lin = new nn.Linear(4, 3);
    let n = 0;
    lin.registerFullBackwardHook(() => {
      n++;
    });
    const out = torch.noGrad(() => lin.call(torch.randn(2, 4).requiresGrad_(true)));
    expect(out.requiresGrad).toBe(false);
    expect(n).toBe(0);
  });
});

// ---- hooks inside models ------------------------------------------------------------------------------------------

describe('hooks on the children of a Sequential of built-in layers', () => {
  // A Sequential of native layers runs in one native call; a hook on a child makes it run child by child in JS (so
  // the hook fires); removed, the outputs are the original ones again.
  it('fire, change the outputs and gradients as in PyTorch, and once removed the outputs are unchanged', () => {
    const e = fx.sequential_children;
    torch.manualSeed(67);
    const seq = new nn.Sequential(new nn.Linear(4, 5), new nn.ReLU(), new nn.Linear(5, 2));
    expectState(seq, e.state);
    const x = fromJson(e.x);
    expectTensor(seq.call(x), e.base);
    expect(seq.nativeHandle()).not.toBeNull();
    const h1 = seq[0].registerForwardHook((_m, _a, o) => o.mul(0.5));
    const h2 = seq[2].registerForwardPreHook((_m, a) => [a[0].add(1)]);
    const cap = captureBackward(seq[1]);
    expect(seq.nativeHandle()).toBeNull();
    const xr = fromJson(e.x, { requiresGrad: true });
    const hooked = seq.call(xr);
    expectTensor(hooked, e.hooked);
    hooked.mul(upstream(hooked)).sum().backward();
    expectTensor(cap.seen!.gradInput[0] as Tensor, e.relu_grad_input);
    expectTensor(cap.seen!.gradOutput[0] as Tensor, e.relu_grad_output);
    expectTensor(xr.grad as Tensor, e.x_grad);
    for (const h of [h1, h2, cap.handle]) h.remove();
    expect(seq.nativeHandle()).not.toBeNull();
    expectTensor(seq.call(x), e.removed);
    expectTensor(seq.call(x), e.base);
  });
});

describe('feature capture on resnet20_cifar (Distiller\'s model in lib/python/zoo.py)', () => {
  // model.get_submodule('layer3').register_forward_hook(...) captures layer3's output in train and eval mode; the
  // logits are those of the model without the hook.
  it('a forward hook on getSubmodule("layer3") captures the same feature map as the Python hook', () => {
    const z = fxAll.zoo_hook;
    torch.manualSeed(z.model_seed);
    const model = models.create('resnet20_cifar');
    torch.manualSeed(z.input_seed);
    const img = torch.randn(z.input_shape);
    const feats: Tensor[] = [];
    const h = model.getSubmodule('layer3').registerForwardHook((_m, _a, o) => {
      feats.push((o as Tensor).detach().clone());
    });
    expectTensor(model.call(img) as Tensor, z.logits_train);
    model.eval();
    expectTensor(model.call(img) as Tensor, z.logits_eval);
    h.remove();
    expect(feats.length).toBe(z.calls);
    expectTensor(feats[0].narrow(0, 0, 1), z.feature_train);
    expect(feats[1].double().sum().item()).toBe(z.feature_eval_sum);
    model.call(img);
    expect(feats.length).toBe(z.calls);
  });
});

// ---- bad input and leaks -------------------------------------------------------------------------------------------

describe('hook registration rejects bad arguments', () => {
  let lin: nn.Linear;
  setupOnce(() => (lin = new nn.Linear(2, 2)));
  const registrations: [string, (fn: unknown, o?: unknown) => unknown][] = [
    ['registerForwardPreHook', (fn, o) => lin.registerForwardPreHook(fn as never, o as never)],
    ['registerForwardHook', (fn, o) => lin.registerForwardHook(fn as never, o as never)],
    ['registerFullBackwardHook', (fn, o) => lin.registerFullBackwardHook(fn as never, o as never)],
    ['registerFullBackwardPreHook', (fn, o) => lin.registerFullBackwardPreHook(fn as never, o as never)],
  ];
  for (const [name, reg] of registrations) {
    it(`${name}: a hook that is not a function, or options that are not an object, is a TypeError`, () => {
      for (const bad of [3, 'hook', null, undefined, {}, [() => 1]]) {
        const err = thrown(() => reg(bad));
        expect(err).toBeInstanceOf(TypeError);
        expect(err.message).toMatch(new RegExp(`^${name} expects a function but received`));
      }
      for (const bad of ['prepend', 1, null]) {
        const err = thrown(() => reg(() => undefined, bad));
        expect(err).toBeInstanceOf(TypeError);
        expect(err.message).toMatch(/expected an options object/);
      }
      expect(lin._hasHooks()).toBe(false);
    });
  }
});

const LEAK =
  "3 tensors per call stay alive (6 with backward): in BackwardHooks.setupInputs/setupOutputs (lib/nn/backward-hooks.ts) the callback `(grads) => this.onInputGrads(grads)` shares its closure context with the forEach/some closures that reference `args`/`list`/`res`/`outs`, so the strong napi_ref the autograd node holds on the callback (native/hooks.cc JsHook) keeps the wrapped tensors reachable, and they keep the node: a cycle through a GC root. Creating the callback in a helper that captures only `this` removes the leak (checked by patching the prototype)";

describe('hooks do not leak', () => {
  check('2,000 calls of a module with a backward hook (no backward) and 200 with backward free their tensors', () => {
    const lin = new nn.Linear(8, 4);
    let fired = 0;
    lin.registerFullBackwardHook(() => {
      fired++;
    });
    lin.registerForwardHook((_m, _a, o) => o.mul(1));
    const x = torch.randn(16, 8).requiresGrad_(true);
    const before = liveTensorsSettled();
    for (let i = 0; i < 2000; i++) lin.call(x);
    for (let i = 0; i < 200; i++) lin.call(x).sum().backward();
    expect(fired).toBe(200);
    lin.zeroGrad();
    x.grad = null;
    // Small tensors are freed in groups of 32 (lib/tensor/lifetime.ts), so a partly filled group stays; a leak of one
    // tensor per call would show as thousands.
    expect(liveTensorsSettled() - before).toBeLessThanOrEqual(100);
  });

  it('forward hooks alone (no backward hook): 2,000 calls free their tensors', () => {
    const lin = new nn.Linear(8, 4);
    lin.registerForwardPreHook((_m, a) => [a[0].mul(1)]);
    lin.registerForwardHook((_m, _a, o) => o.mul(1));
    const x = torch.randn(16, 8).requiresGrad_(true);
    const before = liveTensorsSettled();
    for (let i = 0; i < 2000; i++) lin.call(x);
    for (let i = 0; i < 200; i++) lin.call(x).sum().backward();
    lin.zeroGrad();
    x.grad = null;
    expect(liveTensorsSettled() - before).toBeLessThanOrEqual(100);
  });
});
