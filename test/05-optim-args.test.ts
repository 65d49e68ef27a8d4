/**
 * torch.optim's argument checks, defaults and state dicts: every check of the optimizers (SGD, Adam, AdamW, the
 * parameter-group rules of the base class) and of the learning-rate schedulers rejects a bad value with its error
 * class and exact message, accepts the value at each side of its bound, and the state dicts have PyTorch's keys and
 * load back exactly. (Trajectories and schedules against PyTorch are in 05-nn.test.ts.)
 */
import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { Tensor, TorchError, optim } from '../lib/index';
import { expectError, thrown, type Rejection } from './helpers';

const S = optim.lrScheduler;


/** A float32 leaf that requires grad (a parameter). */
const leaf = (n = 2): Tensor => torch.zeros([n], { requiresGrad: true });

/** Calls a constructor with arguments its overloads do not allow. */
function construct(C: unknown, ...args: unknown[]): unknown {
  return new (C as new (...a: unknown[]) => unknown)(...args);
}

/** An SGD optimizer with one single-parameter group per learning rate. */
const sgdGroups = (...lrs: number[]): optim.SGD => new optim.SGD(lrs.map((lr) => ({ params: [leaf()], lr })));

const FLAG_TEXT = "is not supported: torchkd runs PyTorch's single-tensor algorithm";

describe('optimizer defaults', () => {
  const ADAM = { lr: 0.001, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, decoupledWeightDecay: false };
  const ADAMW = { ...ADAM, weightDecay: 0.01, decoupledWeightDecay: true };
  const SGD = { lr: 0.001, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false };
  const cases: [string, (p: Tensor[]) => optim.Optimizer, Record<string, unknown>][] = [
    ['Adam', (p) => new optim.Adam(p), ADAM],
    ['AdamW', (p) => new optim.AdamW(p), ADAMW],
    ['SGD', (p) => new optim.SGD(p), SGD],
  ];

  it.each(cases)('%s: the defaults and the first group hold PyTorch defaults', (_, make, expected) => {
    const p = leaf();
    const o = make([p]);
    expect(o.defaults).toStrictEqual(expected);
    expect(o.paramGroups).toHaveLength(1);
    const { params, ...options } = o.paramGroups[0];
    expect(params).toHaveLength(1);
    expect(params[0]).toBe(p);
    expect(options).toStrictEqual(expected);
    expect(o.state.size).toBe(0);
  });

  it('state dicts of fresh optimizers carry every PyTorch group key, in snake_case', () => {
    const ps = [leaf()];
    const adamKeys = { lr: 0.001, betas: [0.9, 0.999], eps: 1e-8, amsgrad: false, maximize: false, foreach: null, capturable: false, differentiable: false, fused: null, params: [0] };
    expect(new optim.Adam(ps).stateDict()).toStrictEqual({ state: {}, param_groups: [{ ...adamKeys, weight_decay: 0, decoupled_weight_decay: false }] });
    expect(new optim.AdamW(ps).stateDict()).toStrictEqual({ state: {}, param_groups: [{ ...adamKeys, weight_decay: 0.01, decoupled_weight_decay: true }] });
    expect(new optim.SGD(ps).stateDict()).toStrictEqual({
      state: {},
      param_groups: [{ lr: 0.001, momentum: 0, dampening: 0, weight_decay: 0, nesterov: false, maximize: false, foreach: null, differentiable: false, fused: null, params: [0] }],
    });
  });

  it('options given positionally, by name, or both set the defaults of every group', () => {
    const ps = [leaf()];
    expect(new optim.Adam(ps, 0.01, [0.8, 0.9], 1e-6, 0.1, true, { maximize: true }).defaults).toStrictEqual({
      lr: 0.01, betas: [0.8, 0.9], eps: 1e-6, weightDecay: 0.1, amsgrad: true, maximize: true, decoupledWeightDecay: false,
    });
    expect(new optim.AdamW(ps, 0.02, { betas: [0.5, 0.6] }).defaults).toStrictEqual({ ...ADAMW, lr: 0.02, betas: [0.5, 0.6] });
    expect(new optim.SGD(ps, 0.1, 0.9, 0, 1e-4, true, { maximize: true }).defaults).toStrictEqual({
      lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 1e-4, nesterov: true, maximize: true,
    });
    expect(new optim.SGD(ps, { lr: 0.5, dampening: 0.25 }).defaults).toStrictEqual({ ...SGD, lr: 0.5, dampening: 0.25 });
  });
});

describe('Adam and AdamW reject bad options', () => {
  for (const [name, Adam] of [['optim.Adam', optim.Adam], ['optim.AdamW', optim.AdamW]] as const) {
    const ps = [leaf()];
    const make = (o: Record<string, unknown>) => (): unknown => new Adam(ps, o as never);
    const rejections: Rejection[] = [
      ['lr not a number', make({ lr: 'fast' }), TypeError, 'Expected a number for lr but received the string "fast"'],
      ['negative lr', make({ lr: -1 }), RangeError, 'Invalid learning rate: -1'],
      ['NaN lr', make({ lr: NaN }), RangeError, 'Invalid learning rate: nan'],
      ['infinite lr', make({ lr: Infinity }), RangeError, 'Invalid learning rate: inf'],
      ['eps not a number', make({ eps: '1e-8' }), TypeError, 'Expected a number for eps but received the string "1e-8"'],
      ['negative eps', make({ eps: -1e-8 }), RangeError, 'Invalid epsilon value: -1e-08'],
      ['infinite eps', make({ eps: Infinity }), RangeError, 'Invalid epsilon value: inf'],
      ['weightDecay not a number', make({ weightDecay: true }), TypeError, 'Expected a number for weightDecay but received a boolean true'],
      ['negative weightDecay', make({ weightDecay: -0.01 }), RangeError, 'Invalid weight_decay value: -0.01'],
      ['betas a number', make({ betas: 0.9 }), TypeError, 'Expected betas to be a pair of numbers, got the number 0.9'],
      ['one beta', make({ betas: [0.9] }), TypeError, 'Expected betas to be a pair of numbers, got an array'],
      ['three betas', make({ betas: [0.9, 0.99, 0.5] }), TypeError, 'Expected betas to be a pair of numbers, got an array'],
      ['beta1 a string', make({ betas: ['0.9', 0.99] }), TypeError, 'Expected betas to be a pair of numbers, got an array'],
      ['beta2 a string', make({ betas: [0.9, '0.99'] }), TypeError, 'Expected betas to be a pair of numbers, got an array'],
      ['beta1 = 1', make({ betas: [1, 0.999] }), RangeError, 'Invalid beta parameter at index 0: 1'],
      ['beta1 < 0', make({ betas: [-0.1, 0.999] }), RangeError, 'Invalid beta parameter at index 0: -0.1'],
      ['beta1 NaN', make({ betas: [NaN, 0.999] }), RangeError, 'Invalid beta parameter at index 0: nan'],
      ['beta2 = 1', make({ betas: [0.9, 1] }), RangeError, 'Invalid beta parameter at index 1: 1'],
      ['beta2 < 0', make({ betas: [0.9, -0.1] }), RangeError, 'Invalid beta parameter at index 1: -0.1'],
      ['beta2 NaN', make({ betas: [0.9, NaN] }), RangeError, 'Invalid beta parameter at index 1: nan'],
      ['amsgrad not a boolean', make({ amsgrad: 1 }), TypeError, 'Expected a boolean for amsgrad'],
      ['maximize not a boolean', make({ maximize: 'yes' }), TypeError, 'Expected a boolean for maximize'],
      ['an unknown option', make({ weight_decay: 0.1 }), TypeError,
        `${name}: got an unexpected option 'weight_decay' (it takes 'lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize', 'foreach', 'fused', 'capturable', 'differentiable')`],
      ['lr positionally and by name', () => new Adam(ps, 0.1, { lr: 0.2 } as never), TypeError, `${name}: got multiple values for argument 'lr'`],
      ['six positional options', () => construct(Adam, ps, 0.1, [0.9, 0.99], 1e-8, 0, false, true), TypeError,
        `${name}: takes 5 positional arguments after the first but 6 were given`],
    ];
    it.each(rejections)(`${name}: %s`, (_, fn, cls, message) => expectError(fn, cls, message));

    it(`${name}: implementation switches other than the default are NOT_IMPLEMENTED TorchErrors`, () => {
      for (const [flag, value, shown] of [['foreach', true, 'true'], ['fused', true, 'true'], ['capturable', true, 'true'], ['differentiable', true, 'true'], ['fused', 1, '1']] as const) {
        const fn = (): unknown => new Adam(ps, 1e-3, [0.9, 0.999], 1e-8, 0, false, { [flag]: value } as never);
        expectError(fn, TorchError, `${name}: ${flag}=${shown} ${FLAG_TEXT} (${flag}=False), whose results it matches bit for bit`);
        expect((thrown(fn) as TorchError).code).toBe('NOT_IMPLEMENTED');
      }
    });

    it(`${name}: accepts the value at each bound`, () => {
      const edge = 1 - Number.EPSILON / 2; // the largest double below 1
      const o = new Adam(ps, { lr: 0, eps: 0, weightDecay: 0, betas: [0, edge] });
      expect(o.paramGroups[0]).toMatchObject({ lr: 0, eps: 0, weightDecay: 0, betas: [0, edge] });
      expect(new Adam(ps, { betas: [edge, 0] }).paramGroups[0].betas).toEqual([edge, 0]);
      expect(new Adam(ps, { lr: 1e6, eps: 1, weightDecay: 5, amsgrad: true, maximize: true }).paramGroups[0]).toMatchObject({ lr: 1e6, eps: 1, weightDecay: 5, amsgrad: true, maximize: true });
      const nulls = new Adam(ps, 1e-3, [0.9, 0.999], 1e-8, 0, false, { foreach: null, fused: null });
      const falses = new Adam(ps, 1e-3, [0.9, 0.999], 1e-8, 0, false, { foreach: false, fused: false, capturable: false, differentiable: false });
      for (const o2 of [nulls, falses]) expect(o2.stateDict().param_groups[0]).toMatchObject({ foreach: null, fused: null, capturable: false, differentiable: false });
    });
  }
});

describe('SGD rejects bad options', () => {
  const ps = [leaf()];
  const make = (o: Record<string, unknown>) => (): unknown => new optim.SGD(ps, o as never);
  const NESTEROV = 'Nesterov momentum requires a momentum and zero dampening';
  const rejections: Rejection[] = [
    ['lr not a number', make({ lr: '0.1' }), TypeError, 'Expected a number for lr but received the string "0.1"'],
    ['negative lr', make({ lr: -0.5 }), RangeError, 'Invalid learning rate: -0.5'],
    ['NaN lr', make({ lr: NaN }), RangeError, 'Invalid learning rate: nan'],
    ['momentum not a number', make({ momentum: [0.9] }), TypeError, 'Expected a number for momentum but received an array'],
    ['negative momentum', make({ momentum: -0.1 }), RangeError, 'Invalid momentum value: -0.1'],
    ['infinite momentum', make({ momentum: Infinity }), RangeError, 'Invalid momentum value: inf'],
    ['dampening not a number', make({ dampening: 'x' }), TypeError, 'Expected a number for dampening but received the string "x"'],
    ['dampening -Infinity', make({ dampening: -Infinity }), RangeError, 'Invalid dampening value: -inf'],
    ['dampening NaN', make({ dampening: NaN }), RangeError, 'Invalid dampening value: nan'],
    ['weightDecay not a number', make({ weightDecay: false }), TypeError, 'Expected a number for weightDecay but received a boolean false'],
    ['negative weightDecay', make({ weightDecay: -1e-4 }), RangeError, 'Invalid weight_decay value: -0.0001'],
    ['nesterov not a boolean', make({ nesterov: 'true' }), TypeError, 'Expected a boolean for nesterov'],
    ['maximize not a boolean', make({ maximize: 0 }), TypeError, 'Expected a boolean for maximize'],
    ['nesterov without momentum', make({ nesterov: true }), RangeError, NESTEROV],
    ['nesterov with dampening', make({ nesterov: true, momentum: 0.9, dampening: 0.1 }), RangeError, NESTEROV],
    ['nesterov with negative dampening', make({ nesterov: true, momentum: 0.9, dampening: -0.1 }), RangeError, NESTEROV],
    ['an unknown option', make({ weight_decay: 0 }), TypeError,
      "optim.SGD: got an unexpected option 'weight_decay' (it takes 'lr', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'maximize', 'foreach', 'fused', 'differentiable')"],
    ['momentum positionally and by name', () => new optim.SGD(ps, 0.1, 0.9, { momentum: 0.5 } as never), TypeError, "optim.SGD: got multiple values for argument 'momentum'"],
    ['six positional options', () => construct(optim.SGD, ps, 0.1, 0.9, 0, 0, false, false), TypeError, 'optim.SGD: takes 5 positional arguments after the first but 6 were given'],
  ];
  it.each(rejections)('%s', (_, fn, cls, message) => expectError(fn, cls, message));

  it('implementation switches other than the default are NOT_IMPLEMENTED TorchErrors', () => {
    for (const flag of ['foreach', 'fused', 'differentiable']) {
      const fn = (): unknown => new optim.SGD(ps, 0.1, 0, 0, 0, false, { [flag]: true });
      expectError(fn, TorchError, `optim.SGD: ${flag}=true ${FLAG_TEXT} (${flag}=False), whose results it matches bit for bit`);
      expect((thrown(fn) as TorchError).code).toBe('NOT_IMPLEMENTED');
    }
    expect(new optim.SGD(ps, 0.1, 0, 0, 0, false, { foreach: null, fused: null }).defaults.lr).toBe(0.1);
    expect(new optim.SGD(ps, 0.1, 0, 0, 0, false, { foreach: false, fused: false, differentiable: false }).defaults.lr).toBe(0.1);
    // PyTorch's SGD has no capturable switch: "SGD.__init__() got an unexpected keyword argument 'capturable'".
    expectError(() => new optim.SGD(ps, 0.1, 0, 0, 0, false, { capturable: false } as never), TypeError,
      "optim.SGD: got an unexpected option 'capturable' (it takes 'lr', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'maximize', 'foreach', 'fused', 'differentiable')");
    // A group may carry the default switches; they are kept in it and in the state dict.
    const grouped = new optim.SGD([{ params: [leaf()], foreach: false, fused: null }], { lr: 0.1 });
    expect(grouped.stateDict().param_groups[0]).toMatchObject({ foreach: false, fused: null, differentiable: false });
  });

  it('accepts the value at each bound', () => {
    expect(new optim.SGD(ps, { lr: 0, momentum: 0, weightDecay: 0 }).paramGroups[0]).toMatchObject({ lr: 0, momentum: 0, weightDecay: 0 });
    // PyTorch does not check dampening: any finite value is taken.
    expect(new optim.SGD(ps, { dampening: -5 }).paramGroups[0].dampening).toBe(-5);
    // Nesterov needs momentum > 0 and dampening exactly 0; without nesterov neither is required.
    expect(new optim.SGD(ps, { nesterov: true, momentum: 1e-12 }).paramGroups[0]).toMatchObject({ nesterov: true, momentum: 1e-12, dampening: 0 });
    expect(new optim.SGD(ps, { nesterov: false, momentum: 0, dampening: 0.5 }).paramGroups[0]).toMatchObject({ nesterov: false, momentum: 0, dampening: 0.5 });
  });
});

describe('a step skips parameters without a gradient', () => {
  it.each([['SGD', (ps: Tensor[]) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9 })], ['Adam', (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.1 })]] as const)(
    '%s: the parameter keeps its value and gets no state (as PyTorch)',
    (_, make) => {
      const [a, b] = [torch.ones([2], { requiresGrad: true }), torch.ones([2], { requiresGrad: true })];
      a.mul(3).sum().backward();
      const o = make([a, b]);
      o.step();
      expect([b.toArray(), o.state.has(b), o.state.has(a), a.lt(1).all().item()]).toEqual([[1, 1], false, true, true]);
    },
  );
});

describe('parameter groups', () => {
  it.each([
    ['an empty list', () => new optim.SGD([])],
    ['an empty Set', () => new optim.SGD(new Set<Tensor>())],
    ['an empty generator', () => new optim.Adam((function* () {})())],
  ])('%s of parameters is a RangeError', (_, fn) => expectError(fn, RangeError, 'optimizer got an empty parameter list'));

  const a = leaf();
  const rejections: Rejection[] = [
    ['a number among the tensors', () => new optim.SGD([a, 3] as never), TypeError, 'optimizer params must be Tensors, got the number 3'],
    ['null in a group', () => new optim.SGD([{ params: [a, null] }] as never), TypeError, 'optimizer params must be Tensors, got null'],
    ['a string in an added group', () => new optim.SGD([a]).addParamGroup({ params: ['w'] } as never), TypeError, 'optimizer params must be Tensors, got the string "w"'],
    ['a non-leaf tensor', () => new optim.SGD([a.mul(2)]), TypeError, "can't optimize a non-leaf Tensor"],
    ['a non-leaf tensor in a group', () => new optim.Adam([{ params: [a] }, { params: [leaf().add(1)] }]), TypeError, "can't optimize a non-leaf Tensor"],
    ['a group without params', () => new optim.SGD([{ lr: 0.1 }] as never), TypeError, 'a param group must be an object with params, got an object (Object)'],
    ['a number after a group', () => new optim.SGD([{ params: [a] }, 7] as never), TypeError, 'a param group must be an object with params, got the number 7'],
    ['adding null', () => new optim.SGD([a]).addParamGroup(null as never), TypeError, 'a param group must be an object with params, got null'],
    ['adding a function that carries params', () => new optim.SGD([leaf()]).addParamGroup(Object.assign(() => 0, { params: [a] }) as never), TypeError,
      'a param group must be an object with params, got the function (anonymous)'],
    ['a parameter in two groups', () => new optim.SGD([{ params: [a] }, { params: [leaf(), a] }]), RangeError, 'some parameters appear in more than one parameter group'],
    ['an option explicitly undefined', () => new optim.SGD([a]).addParamGroup({ params: [leaf()], momentum: undefined }), TypeError,
      "parameter group didn't specify a value of required optimization parameter momentum"],
    ['a bad option in one group', () => new optim.Adam([{ params: [a] }, { params: [leaf()], lr: -1 }]), RangeError, 'Invalid learning rate: -1'],
    ['an implementation switch in a group', () => new optim.SGD([{ params: [leaf()], foreach: true }]), TorchError,
      `optim.SGD: foreach=true ${FLAG_TEXT} (foreach=False), whose results it matches bit for bit`],
    ['an implementation switch in an added group', () => new optim.Adam([leaf()]).addParamGroup({ params: [leaf()], fused: true }), TorchError,
      `optim.Adam: fused=true ${FLAG_TEXT} (fused=False), whose results it matches bit for bit`],
  ];
  it.each(rejections)('%s is rejected', (_, fn, cls, message) => expectError(fn, cls, message));

  it('a group that fails to be added leaves the optimizer as it was', () => {
    const [p, q] = [leaf(), leaf()];
    const o = new optim.SGD([p], { lr: 0.1 });
    expectError(() => o.addParamGroup({ params: [q, p] }), RangeError, 'some parameters appear in more than one parameter group');
    expectError(() => o.addParamGroup({ params: [q], lr: -1 }), RangeError, 'Invalid learning rate: -1');
    expectError(() => o.addParamGroup({ params: [q], lr: undefined }), TypeError, "parameter group didn't specify a value of required optimization parameter lr");
    expect(o.paramGroups).toHaveLength(1);
    // q was never added, so it can still be
    o.addParamGroup({ params: [q], lr: 0.2 });
    expect(o.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.2]);
  });

  it('parameters come from any iterable; a group may hold a single tensor; groups keep extra keys', () => {
    const [p, q, r] = [leaf(), leaf(), leaf()];
    const o = new optim.SGD(new Set([p, q]), { lr: 0.1 });
    expect(o.paramGroups[0].params).toHaveLength(2);
    expect(o.paramGroups[0].params[0]).toBe(p);
    expect(o.paramGroups[0].params[1]).toBe(q);
    o.addParamGroup({ params: r as never, momentum: 0.5, note: 'head' });
    expect(o.paramGroups[1].params).toHaveLength(1);
    expect(o.paramGroups[1].params[0]).toBe(r);
    expect(o.paramGroups[1]).toMatchObject({ lr: 0.1, momentum: 0.5, note: 'head' });
    expect(o.stateDict().param_groups.map((g) => g.params)).toEqual([[0, 1], [2]]);
    expect(o.stateDict().param_groups[1].note).toBe('head');
  });
});

describe('zeroGrad', () => {
  it('clears the gradients of every group to null by default, or to zeros with setToNone: false', () => {
    const [p, q] = [leaf(), leaf(3)];
    const o = new optim.SGD([{ params: [p] }, { params: [q] }], { lr: 0.1 });
    const fill = (): void => {
      p.grad = torch.ones([2]);
      q.grad = torch.ones([3]);
    };
    fill();
    o.zeroGrad();
    expect([p.grad, q.grad]).toEqual([null, null]);
    fill();
    o.zeroGrad({ setToNone: false });
    expect([p.grad?.tolist(), q.grad?.tolist()]).toEqual([[0, 0], [0, 0, 0]]);
    fill();
    o.zeroGrad({ setToNone: true });
    expect([p.grad, q.grad]).toEqual([null, null]);
    fill();
    o.zeroGrad({});
    expect([p.grad, q.grad]).toEqual([null, null]);
  });
});

describe('optimizer state dicts', () => {
  it('numbers parameters across groups and hands out copies of the groups and of each state record', () => {
    const [a, b, c] = [leaf(), leaf(), leaf()];
    const o = new optim.SGD([{ params: [a, b] }, { params: [c], lr: 0.5 }], { lr: 0.1, momentum: 0.9 });
    a.grad = torch.ones([2]);
    c.grad = torch.ones([2]);
    o.step();
    const sd = o.stateDict();
    expect(sd.param_groups.map((g) => [g.lr, g.params])).toEqual([[0.1, [0, 1]], [0.5, [2]]]);
    expect(Object.keys(sd.state)).toEqual(['0', '2']);
    // the state tensors are the optimizer's own; the records holding them are copies
    expect(sd.state['0'].momentum_buffer).toBe(o.state.get(a)?.momentum_buffer);
    expect(sd.state['2'].momentum_buffer).toBe(o.state.get(c)?.momentum_buffer);
    delete sd.state['0'].momentum_buffer;
    expect(Object.keys(o.state.get(a) ?? {})).toEqual(['momentum_buffer']);

    const adam = new optim.Adam([a]);
    const asd = adam.stateDict();
    (asd.param_groups[0].betas as number[])[0] = 0.5;
    expect(adam.paramGroups[0].betas).toEqual([0.9, 0.999]);
  });

  it('Adam with amsgrad saves step, exp_avg, exp_avg_sq and max_exp_avg_sq and loads them into another optimizer', () => {
    const [a, b] = [leaf(), leaf()];
    const src = new optim.Adam([a], { lr: 0.01, amsgrad: true });
    a.grad = torch.ones([2]);
    src.step();
    const sd = src.stateDict();
    expect(Object.keys(sd.state['0']).sort()).toEqual(['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq', 'step']);
    const step = sd.state['0'].step as Tensor;
    expect([step.dtype, step.shape, step.item()]).toEqual(['float32', [], 1]);
    const dst = new optim.Adam([b], { lr: 0.5 });
    dst.loadStateDict(sd);
    expect(dst.paramGroups[0]).toMatchObject({ lr: 0.01, amsgrad: true });
    const got = dst.state.get(b) ?? {};
    expect(Object.keys(got).sort()).toEqual(['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq', 'step']);
    for (const k of Object.keys(got)) {
      expect(got[k]).not.toBe(sd.state['0'][k]);
      expect((got[k] as Tensor).equal(sd.state['0'][k] as Tensor)).toBe(true);
    }
    expect((got.exp_avg as Tensor).tolist()).toEqual((src.state.get(a)?.exp_avg as Tensor).tolist());
  });

  it('loading maps saved ids to parameters, converts the state to each parameter, and replaces the options and old state', () => {
    const [a, b] = [leaf(), leaf()];
    const o = new optim.SGD([a, b], { lr: 0.1, momentum: 0.9 });
    a.grad = torch.ones([2]);
    o.step();
    expect(o.state.has(a)).toBe(true);
    const buf = torch.tensor([1, 2], { dtype: 'float64' });
    const step = torch.tensor(4, { dtype: 'float64' });
    const ids = torch.tensor([5, 6]);
    o.loadStateDict({
      state: { 20: { momentum_buffer: buf, step, ids, count: 3 }, 99: { momentum_buffer: torch.ones([2]) } },
      param_groups: [{ params: [10, 20], lr: 0.5, momentum: 0.8, dampening: 0, weight_decay: 0.25, nesterov: false, maximize: false, foreach: true, differentiable: false, fused: null, initial_lr: 0.5 }],
    });
    const { params, ...options } = o.paramGroups[0];
    expect(params[0]).toBe(a);
    expect(params[1]).toBe(b);
    // options come back in camelCase; PyTorch's implementation switches are not options here
    expect(options).toStrictEqual({ lr: 0.5, momentum: 0.8, dampening: 0, weightDecay: 0.25, nesterov: false, maximize: false, initialLr: 0.5 });
    // saved id 20 is the second parameter; id 99 names no parameter; a's old state is gone
    expect([o.state.size, o.state.has(a)]).toEqual([1, false]);
    const s = o.state.get(b) ?? {};
    const t = (k: string): Tensor => s[k] as Tensor;
    expect(s.count).toBe(3);
    // floating state takes the parameter's dtype, integer state keeps its own, the step count keeps its dtype
    expect([t('momentum_buffer').dtype, t('ids').dtype, t('step').dtype]).toEqual(['float32', 'int64', 'float64']);
    expect([t('momentum_buffer').tolist(), t('ids').tolist(), t('step').item()]).toEqual([[1, 2], [5, 6], 4]);
    // the loaded tensors are copies
    for (const src of [buf, step, ids]) src.fill_(7);
    expect([t('momentum_buffer').tolist(), t('ids').tolist(), t('step').item()]).toEqual([[1, 2], [5, 6], 4]);
    expect(o.stateDict().param_groups[0]).toMatchObject({ lr: 0.5, weight_decay: 0.25, initial_lr: 0.5, foreach: null, params: [0, 1] });
  });

  it('loaded arrays are copies of the saved ones', () => {
    const p = leaf();
    const o = new optim.Adam([p]);
    const sd = new optim.Adam([leaf()], { betas: [0.5, 0.6] }).stateDict();
    o.loadStateDict(sd);
    expect(o.paramGroups[0].betas).toEqual([0.5, 0.6]);
    (sd.param_groups[0].betas as number[])[0] = 0.1;
    expect(o.paramGroups[0].betas).toEqual([0.5, 0.6]);
  });

  const LAYOUT = 'loadStateDict expects {state, param_groups} as made by stateDict()';
  const o2 = (): optim.SGD => new optim.SGD([{ params: [leaf(), leaf()] }, { params: [leaf()] }], { lr: 0.1 });
  const rejections: Rejection[] = [
    ['null', () => o2().loadStateDict(null as never), TypeError, LAYOUT],
    ['a number', () => o2().loadStateDict(5 as never), TypeError, LAYOUT],
    ['no param_groups', () => o2().loadStateDict({ state: {} } as never), TypeError, LAYOUT],
    ['param_groups not an array', () => o2().loadStateDict({ state: {}, param_groups: { 0: { params: [0] } } } as never), TypeError, LAYOUT],
    ['no state', () => o2().loadStateDict({ param_groups: [{ params: [0, 1] }, { params: [2] }] } as never), TypeError, LAYOUT],
    ['state a string', () => o2().loadStateDict({ state: 'x', param_groups: [] } as never), TypeError, LAYOUT],
    ['state null', () => o2().loadStateDict({ state: null, param_groups: [{ params: [0, 1] }, { params: [2] }] } as never), TypeError, LAYOUT],
    ['a function carrying both keys', () => o2().loadStateDict(Object.assign(() => 0, { state: {}, param_groups: [] }) as never), TypeError, LAYOUT],
    ['fewer groups', () => o2().loadStateDict({ state: {}, param_groups: [{ params: [0, 1] }] }), TorchError, 'loaded state dict has a different number of parameter groups'],
    ['more groups', () => o2().loadStateDict({ state: {}, param_groups: [{ params: [0, 1] }, { params: [2] }, { params: [3] }] }), TorchError,
      'loaded state dict has a different number of parameter groups'],
    ['a group with fewer parameters', () => o2().loadStateDict({ state: {}, param_groups: [{ params: [0] }, { params: [2] }] }), TorchError,
      "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"],
    ['a group with more parameters', () => o2().loadStateDict({ state: {}, param_groups: [{ params: [0, 1] }, { params: [2, 3] }] }), TorchError,
      "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"],
    ['params not an array', () => o2().loadStateDict({ state: {}, param_groups: [{ params: '01' }, { params: [2] }] }), TorchError,
      "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"],
  ];
  it.each(rejections)('rejects %s', (_, fn, cls, message) => {
    expectError(fn, cls, message);
    if (cls === TorchError) expect((thrown(fn) as TorchError).code).toBe('VALUE_ERROR');
  });

  it('a rejected state dict changes nothing', () => {
    const [a, b] = [leaf(), leaf()];
    const o = new optim.SGD([{ params: [a] }, { params: [b] }], { lr: 0.1, momentum: 0.9 });
    a.grad = torch.ones([2]);
    o.step();
    const before = o.stateDict();
    const bad = { state: {}, param_groups: [{ params: [0], lr: 7 }, { params: [1, 2], lr: 7 }] };
    expectError(() => o.loadStateDict(bad), TorchError, "loaded state dict contains a parameter group that doesn't match the size of optimizer's group");
    expect(o.paramGroups.map((g) => g.lr)).toEqual([0.1, 0.1]);
    expect(o.stateDict()).toStrictEqual(before);
  });
});

describe('learning-rate schedulers reject bad arguments', () => {
  const o = (): optim.SGD => sgdGroups(0.1);
  const NOT_FINITE = (what: string, got: string): string => `Expected a finite number for ${what} but received ${got}`;
  const rejections: Rejection[] = [
    ['StepLR: an object that is not an optimizer', () => new S.StepLR({} as never, 3), TypeError, 'an object (Object) is not an Optimizer'],
    ['StepLR: null for the optimizer', () => new S.StepLR(null as never, 3), TypeError, 'null is not an Optimizer'],
    ['ExponentialLR: a number for the optimizer', () => new S.ExponentialLR(5 as never, 0.9), TypeError, 'the number 5 is not an Optimizer'],
    ['LambdaLR: a model for the optimizer', () => new S.LambdaLR(new torch.nn.Linear(1, 1) as never, () => 1), TypeError, 'an object (Linear) is not an Optimizer'],
    ['StepLR: stepSize missing', () => construct(S.StepLR, o()), TypeError, "StepLR: missing required argument 'stepSize'"],
    ['StepLR: stepSize 0', () => new S.StepLR(o(), 0), RangeError, 'stepSize must be positive, got 0'],
    ['StepLR: stepSize negative', () => new S.StepLR(o(), -2), RangeError, 'stepSize must be positive, got -2'],
    ['StepLR: stepSize fractional', () => new S.StepLR(o(), 1.5), TypeError, 'Expected an integer for stepSize but received the number 1.5'],
    ['StepLR: stepSize a string', () => new S.StepLR(o(), '3' as never), TypeError, 'Expected an integer for stepSize but received the string "3"'],
    ['StepLR: gamma NaN', () => new S.StepLR(o(), 3, NaN), TypeError, NOT_FINITE('gamma', 'NaN')],
    ['StepLR: gamma infinite', () => new S.StepLR(o(), 3, Infinity), TypeError, NOT_FINITE('gamma', 'the number Infinity')],
    ['StepLR: gamma a string', () => new S.StepLR(o(), { stepSize: 3, gamma: '0.5' as never }), TypeError, NOT_FINITE('gamma', 'the string "0.5"')],
    ['StepLR: an unknown option', () => new S.StepLR(o(), { step_size: 3 } as never), TypeError, "StepLR: got an unexpected option 'step_size' (it takes 'stepSize', 'gamma', 'lastEpoch')"],
    ['StepLR: four positional arguments', () => construct(S.StepLR, o(), 3, 0.1, -1, 0), TypeError, 'StepLR: takes 3 positional arguments after the first but 4 were given'],
    ['StepLR: stepSize twice', () => construct(S.StepLR, o(), 3, { stepSize: 4 }), TypeError, "StepLR: got multiple values for argument 'stepSize'"],
    ['MultiStepLR: milestones missing', () => construct(S.MultiStepLR, o()), TypeError, "MultiStepLR: missing required argument 'milestones'"],
    ['MultiStepLR: milestones a number', () => new S.MultiStepLR(o(), 3 as never), TypeError, 'Expected an array of milestones but received the number 3'],
    ['MultiStepLR: gamma -Infinity', () => new S.MultiStepLR(o(), [2], -Infinity), TypeError, NOT_FINITE('gamma', 'the number -Infinity')],
    ['MultiStepLR: an unknown option', () => new S.MultiStepLR(o(), { milestones: [2], gammas: [0.1] } as never), TypeError,
      "MultiStepLR: got an unexpected option 'gammas' (it takes 'milestones', 'gamma', 'lastEpoch')"],
    ['ExponentialLR: gamma missing', () => construct(S.ExponentialLR, o()), TypeError, "ExponentialLR: missing required argument 'gamma'"],
    ['ExponentialLR: gamma NaN', () => new S.ExponentialLR(o(), NaN), TypeError, NOT_FINITE('gamma', 'NaN')],
    ['ExponentialLR: three positional arguments', () => construct(S.ExponentialLR, o(), 0.9, -1, 1), TypeError, 'ExponentialLR: takes 2 positional arguments after the first but 3 were given'],
    ['ExponentialLR: an unknown option', () => new S.ExponentialLR(o(), { gamma: 0.9, last_epoch: -1 } as never), TypeError,
      "ExponentialLR: got an unexpected option 'last_epoch' (it takes 'gamma', 'lastEpoch')"],
    ['CosineAnnealingLR: tMax missing', () => construct(S.CosineAnnealingLR, o(), { etaMin: 0 }), TypeError, "CosineAnnealingLR: missing required argument 'tMax'"],
    ['CosineAnnealingLR: tMax 0', () => new S.CosineAnnealingLR(o(), 0), RangeError, 'tMax must be positive, got 0'],
    ['CosineAnnealingLR: tMax fractional', () => new S.CosineAnnealingLR(o(), 2.5), TypeError, 'Expected an integer for tMax but received the number 2.5'],
    ['CosineAnnealingLR: etaMin NaN', () => new S.CosineAnnealingLR(o(), 10, NaN), TypeError, NOT_FINITE('etaMin', 'NaN')],
    ['CosineAnnealingLR: an unknown option', () => new S.CosineAnnealingLR(o(), { T_max: 10 } as never), TypeError,
      "CosineAnnealingLR: got an unexpected option 'T_max' (it takes 'tMax', 'etaMin', 'lastEpoch')"],
    ['LambdaLR: fewer functions than groups', () => new S.LambdaLR(sgdGroups(0.1, 0.2), [() => 1]), RangeError, 'Expected 2 lr_lambdas, but got 1'],
    ['LambdaLR: more functions than groups', () => new S.LambdaLR(o(), [() => 1, () => 2]), RangeError, 'Expected 1 lr_lambdas, but got 2'],
    ['LambdaLR: a number', () => new S.LambdaLR(o(), 0.5 as never), TypeError, 'Expected a function (or one per group) for lrLambda but received the number 0.5'],
    ['LambdaLR: null', () => new S.LambdaLR(o(), null as never), TypeError, 'Expected a function (or one per group) for lrLambda but received null'],
    ['MultiStepMultiGammaLR: milestones not an array', () => new S.MultiStepMultiGammaLR(o(), 5 as never, [0.5]), TypeError, 'MultiStepMultiGammaLR expects arrays of milestones and gammas'],
    ['MultiStepMultiGammaLR: gammas not an array', () => new S.MultiStepMultiGammaLR(o(), [5], 0.5 as never), TypeError, 'MultiStepMultiGammaLR expects arrays of milestones and gammas'],
    ['MultiStepMultiGammaLR: milestones out of order', () => new S.MultiStepMultiGammaLR(o(), [1, 5, 3], [0.5, 0.5, 0.5]), RangeError,
      'Milestones should be a list of increasing integers. Got [1, 5, 3]'],
    ['MultiStepMultiGammaLR: milestones decreasing', () => new S.MultiStepMultiGammaLR(o(), [10, 5], [0.5, 0.5]), RangeError,
      'Milestones should be a list of increasing integers. Got [10, 5]'],
    ['MultiStepMultiGammaLR: a gamma NaN', () => new S.MultiStepMultiGammaLR(o(), [5, 10], [0.5, NaN]), TypeError, NOT_FINITE('gamma', 'NaN')],
    // Distiller's get_lr indexes the cumulative gammas by the milestones passed: an IndexError there, NaN rates if unchecked.
    ['MultiStepMultiGammaLR: fewer gammas than milestones', () => new S.MultiStepMultiGammaLR(o(), [5, 10, 15], [0.5, 0.5]), RangeError,
      'MultiStepMultiGammaLR: expected a gamma for each of the 3 milestones but got 2'],
  ];
  it.each(rejections)('%s', (_, fn, cls, message) => expectError(fn, cls, message));

  const RESUMING: [string, (opt: optim.Optimizer) => unknown][] = [
    ['StepLR', (opt) => new S.StepLR(opt, 3, 0.1, 4)],
    ['MultiStepLR', (opt) => new S.MultiStepLR(opt, { milestones: [2], lastEpoch: 4 })],
    ['ExponentialLR', (opt) => new S.ExponentialLR(opt, 0.9, 0)],
    ['CosineAnnealingLR', (opt) => new S.CosineAnnealingLR(opt, 10, { lastEpoch: 4 })],
    ['LambdaLR', (opt) => new S.LambdaLR(opt, () => 1, 4)],
    ['MultiStepMultiGammaLR', (opt) => new S.MultiStepMultiGammaLR(opt, [2], [0.5], 4)],
  ];
  it.each(RESUMING)('%s: resuming (lastEpoch >= 0) needs initialLr in every group, and names the first group without it', (_, make) => {
    const opt = new optim.SGD([{ params: [leaf()], initialLr: 0.1 }, { params: [leaf()] }, { params: [leaf()] }], { lr: 0.1 });
    expectError(() => make(opt), RangeError, "param 'initial_lr' is not specified in param_groups[1] when resuming scheduler with last_epoch >= 0");
    for (const g of opt.paramGroups) g.initialLr = 0.1;
    expect(() => make(opt)).not.toThrow();
  });
});

describe('learning-rate schedulers: defaults, bounds and state', () => {
  it('the smallest valid stepSize and tMax, and any finite gamma or etaMin, are taken', () => {
    const s = new S.StepLR(sgdGroups(1), 1);
    expect([s.stepSize, s.gamma]).toEqual([1, 0.1]);
    expect(new S.StepLR(sgdGroups(1), { stepSize: 2, gamma: -0.5 }).gamma).toBe(-0.5);
    expect(new S.StepLR(sgdGroups(1), 2, { gamma: 0 }).gamma).toBe(0);
    const m = new S.MultiStepLR(sgdGroups(1), [2, 4]);
    expect([m.milestones, m.gamma]).toEqual([[2, 4], 0.1]);
    const c = new S.CosineAnnealingLR(sgdGroups(1), 1);
    expect([c.tMax, c.etaMin]).toEqual([1, 0]);
    expect(new S.CosineAnnealingLR(sgdGroups(1), { tMax: 3, etaMin: -1 }).etaMin).toBe(-1);
    expect(new S.ExponentialLR(sgdGroups(1), { gamma: 2 }).gamma).toBe(2);
  });

  it('MultiStepMultiGammaLR takes milestones in increasing numeric order, repeats included', () => {
    const opt = sgdGroups(1);
    const s = new S.MultiStepMultiGammaLR(opt, [3, 20, 100], [0.5, 0.5, 0.5]);
    expect(s.milestones).toEqual([3, 20, 100]);
    const r = new S.MultiStepMultiGammaLR(sgdGroups(1), [2, 2], [0.5, 0.25]);
    r.step();
    r.step();
    expect(r.getLastLr()).toEqual([0.125]);
    // Gammas beyond the milestones are never reached, as in Distiller.
    const extra = new S.MultiStepMultiGammaLR(sgdGroups(1), [1], [0.5, 0.1]);
    for (let e = 0; e < 3; e++) extra.step();
    expect(extra.getLastLr()).toEqual([0.5]);
  });

  it('LambdaLR takes one function per group', () => {
    const opt = sgdGroups(1, 2);
    const s = new S.LambdaLR(opt, [(e) => e + 1, (e) => 10 * (e + 1)]);
    expect(s.getLastLr()).toEqual([1, 20]);
    s.step();
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([2, 40]);
  });

  it('the first scheduler sets initialLr on each group; an initialLr already there is the base', () => {
    const opt = sgdGroups(0.1, 0.2);
    opt.paramGroups[1].initialLr = 0.5;
    const s = new S.StepLR(opt, 2, 0.5);
    expect(opt.paramGroups.map((g) => g.initialLr)).toEqual([0.1, 0.5]);
    expect(s.baseLrs).toEqual([0.1, 0.5]);
    expect(opt.stateDict().param_groups.map((g) => g.initial_lr)).toEqual([0.1, 0.5]);
    // the learning rates themselves are untouched until the schedule changes them
    expect(s.getLastLr()).toEqual([0.1, 0.2]);
  });

  it('a fresh scheduler has taken its initial step: state dict in PyTorch keys', () => {
    const s = new S.StepLR(sgdGroups(0.1, 0.2), 2, 0.5);
    expect(s.lastEpoch).toBe(0);
    expect(s.stateDict()).toStrictEqual({ last_epoch: 0, _step_count: 1, base_lrs: [0.1, 0.2], _last_lr: [0.1, 0.2] });
    s.step();
    s.step();
    // as PyTorch 2.13's StepLR(opt, 2, 0.5) after two steps
    expect(s.stateDict()).toStrictEqual({ last_epoch: 2, _step_count: 3, base_lrs: [0.1, 0.2], _last_lr: [0.05, 0.1] });
  });

  it('resuming at lastEpoch 5 steps once from there, as PyTorch', () => {
    const opt = new optim.SGD([{ params: [leaf()], lr: 1, initialLr: 2 }], { lr: 1 });
    const s = new S.StepLR(opt, 3, 0.5, 5);
    // PyTorch: StepLR(opt, 3, 0.5, last_epoch=5) with initial_lr 2 and lr 1
    expect(s.stateDict()).toStrictEqual({ last_epoch: 6, _step_count: 1, base_lrs: [2], _last_lr: [0.5] });
    expect(opt.paramGroups[0].lr).toBe(0.5);
  });

  it('getLastLr and stateDict hand out copies', () => {
    const s = new S.ExponentialLR(sgdGroups(0.1), 0.5);
    s.getLastLr()[0] = 9;
    const sd = s.stateDict();
    sd.base_lrs[0] = 9;
    sd._last_lr[0] = 9;
    expect(s.getLastLr()).toEqual([0.1]);
    expect(s.baseLrs).toEqual([0.1]);
    expect(s.stateDict()).toStrictEqual({ last_epoch: 0, _step_count: 1, base_lrs: [0.1], _last_lr: [0.1] });
  });

  it('loadStateDict rejects anything without a numeric last_epoch', () => {
    const s = new S.StepLR(sgdGroups(0.1), 2);
    for (const bad of [null, undefined, {}, { last_epoch: '3' }, { _step_count: 1, base_lrs: [1] }]) {
      expectError(() => s.loadStateDict(bad as never), TypeError, 'loadStateDict expects a scheduler state dict');
    }
    expect(s.stateDict()).toStrictEqual({ last_epoch: 0, _step_count: 1, base_lrs: [0.1], _last_lr: [0.1] });
  });

  it('a state dict round trip resumes the schedule exactly', () => {
    const a = sgdGroups(0.1, 0.3);
    const sa = new S.StepLR(a, 2, 0.5);
    for (let i = 0; i < 3; i++) sa.step();
    const b = sgdGroups(0.7, 0.7);
    b.loadStateDict(a.stateDict());
    const sb = new S.StepLR(b, 2, 0.5);
    sb.loadStateDict(sa.stateDict());
    expect(sb.stateDict()).toStrictEqual(sa.stateDict());
    expect(sb.stateDict()).toStrictEqual({ last_epoch: 3, _step_count: 4, base_lrs: [0.1, 0.3], _last_lr: [0.05, 0.15] });
    const lrs: number[][] = [];
    for (let i = 0; i < 3; i++) {
      sa.step();
      sb.step();
      lrs.push(sb.getLastLr());
      expect(sb.getLastLr()).toEqual(sa.getLastLr());
    }
    expect(lrs).toEqual([[0.025, 0.075], [0.025, 0.075], [0.0125, 0.0375]]);
  });

  it('loadStateDict takes the keys present and keeps the others', () => {
    const s = new S.LambdaLR(sgdGroups(0.1), (e) => 1 / (e + 1));
    s.loadStateDict({ last_epoch: 7 });
    expect(s.stateDict()).toStrictEqual({ last_epoch: 7, _step_count: 1, base_lrs: [0.1], _last_lr: [0.1] });
    s.loadStateDict({ last_epoch: 4, _step_count: 5, base_lrs: [1], _last_lr: [0.2] });
    expect(s.stateDict()).toStrictEqual({ last_epoch: 4, _step_count: 5, base_lrs: [1], _last_lr: [0.2] });
    expect(s.baseLrs).toEqual([1]);
    // the scheduler keeps its own copy of what it loaded
    const sd = { last_epoch: 4, _last_lr: [0.2] };
    s.loadStateDict(sd);
    sd._last_lr[0] = 9;
    expect(s.getLastLr()).toEqual([0.2]);
    // the loaded base rate drives the schedule: 1 · 1/(5 + 1)
    s.step();
    expect(s.getLastLr()).toEqual([1 / 6]);
  });

  it('a cosine schedule loaded at step count 0 continues from the closed form past epoch 0, as PyTorch', () => {
    // PyTorch 2.13's values (Math.cos and glibc's cos may differ in the last bit)
    for (const [lastEpoch, expected] of [[3, 0.0657963412215599], [-1, 0.10248347746275474]]) {
      const s = new S.CosineAnnealingLR(sgdGroups(0.1), 10, 0.001);
      s.loadStateDict({ ...s.stateDict(), last_epoch: lastEpoch, _step_count: 0 });
      s.step();
      expect(s.lastEpoch).toBe(lastEpoch + 1);
      expect(Math.abs(s.getLastLr()[0] - expected)).toBeLessThanOrEqual(2e-17);
    }
  });
});
