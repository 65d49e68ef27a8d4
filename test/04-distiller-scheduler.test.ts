/**
 * Distiller's policy/scheduler framework: the loss records, ScheduledTrainingPolicy, CompressionScheduler (the cases
 * Distiller's own tests covered — tests/test_infra.py::test_policy_scheduling and tests/test_loss.py — and torchkd's
 * additions) and DistillationLossWeights.
 */
import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';

import * as torch from '../lib/index';
import type { Tensor } from '../lib/index';
import {
  CompressionScheduler,
  DistillationLossWeights,
  LossComponent,
  PolicyLoss,
  ScheduledTrainingPolicy,
  type HookKwargs,
  type PolicyMeta,
  type PolicyState,
  type ZerosMaskDict,
} from '../lib/distiller/index';
import { expectError } from './helpers';

const model = { name: 'model' };
type Model = typeof model;

/** Records every hook call as [hook, tag, args]. */
class Recorder extends ScheduledTrainingPolicy<Model> {
  constructor(readonly tag: string, readonly log: unknown[][]) {
    super();
  }
  override onEpochBegin(m: Model, z: ZerosMaskDict, meta: PolicyMeta, kwargs?: HookKwargs): void {
    this.log.push(['onEpochBegin', this.tag, m, z, { ...meta }, kwargs]);
  }
  override onMinibatchBegin(m: Model, e: number, id: number, n: number, z: ZerosMaskDict, meta: PolicyMeta, opt?: unknown): void {
    this.log.push(['onMinibatchBegin', this.tag, m, e, id, n, z, { ...meta }, opt]);
  }
  override beforeBackwardPass(m: Model, e: number, id: number, n: number, loss: Tensor, z: ZerosMaskDict, opt?: unknown, kwargs?: HookKwargs): null {
    this.log.push(['beforeBackwardPass', this.tag, m, e, id, n, loss, z, opt, kwargs]);
    return null;
  }
  override beforeParameterOptimization(m: Model, e: number, id: number, n: number, z: ZerosMaskDict, meta: PolicyMeta, opt: unknown): void {
    this.log.push(['beforeParameterOptimization', this.tag, m, e, id, n, z, { ...meta }, opt]);
  }
  override onMinibatchEnd(m: Model, e: number, id: number, n: number, z: ZerosMaskDict, opt?: unknown): void {
    this.log.push(['onMinibatchEnd', this.tag, m, e, id, n, z, opt]);
  }
  override onEpochEnd(m: Model, z: ZerosMaskDict, meta: PolicyMeta, kwargs?: HookKwargs): void {
    this.log.push(['onEpochEnd', this.tag, m, z, { ...meta }, kwargs]);
  }
}

/** tests/test_loss.py's DummyPolicy: adds a constant and reports it as a component. */
class DummyPolicy extends ScheduledTrainingPolicy {
  readonly seen: number[] = [];
  constructor(readonly idx: number, readonly lossVal: Tensor) {
    super();
  }
  override beforeBackwardPass(m: unknown, e: number, id: number, n: number, loss: Tensor): PolicyLoss {
    this.seen.push(loss.item() as number);
    return new PolicyLoss(loss.add(this.lossVal), [new LossComponent(`Dummy Loss ${this.idx}`, this.lossVal)]);
  }
}

/** A policy with resumable state, like KnowledgeDistillationPolicy's `active` flag. */
class Toggle extends ScheduledTrainingPolicy {
  active = false;
  steps = 0;
  override onEpochBegin(): void {
    this.active = true;
  }
  override onEpochEnd(): void {
    this.active = false;
  }
  override onMinibatchEnd(): void {
    this.steps++;
  }
  override stateDict(): PolicyState {
    return { active: this.active, steps: this.steps };
  }
  override loadStateDict(state: PolicyState): void {
    this.active = state.active as boolean;
    this.steps = state.steps as number;
  }
}

class Returns extends ScheduledTrainingPolicy {
  constructor(readonly value: unknown) {
    super();
  }
  override beforeBackwardPass(): PolicyLoss | null {
    return this.value as PolicyLoss | null;
  }
}

const scalar = (v: number): Tensor => torch.tensor(v, { dtype: 'float64' });

describe('PolicyLoss and LossComponent', () => {
  it('are frozen records that destructure like the namedtuples', () => {
    const v = scalar(2);
    const c = new LossComponent('Distill Loss', v);
    expect(c.name).toBe('Distill Loss');
    expect(c.value).toBe(v);
    expect(Object.isFrozen(c)).toBe(true);
    const [name, value] = c;
    expect([name, value]).toEqual(['Distill Loss', v]);
    expect(() => {
      (c as { name: string }).name = 'x';
    }).toThrow(TypeError);

    const overall = scalar(3);
    const p = new PolicyLoss(overall, [c]);
    expect(p.overallLoss).toBe(overall);
    expect(p.lossComponents).toEqual([c]);
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.lossComponents)).toBe(true);
    const [o, comps] = p;
    expect(o).toBe(overall);
    expect(comps).toBe(p.lossComponents);
  });

  it('wrap a single component in a list and copy a given list', () => {
    const c = new LossComponent('a', scalar(1));
    expect(new PolicyLoss(scalar(1), c).lossComponents).toEqual([c]);
    const list = [c];
    const p = new PolicyLoss(scalar(1), list);
    list.push(c);
    expect(p.lossComponents).toHaveLength(1);
  });

  it('reject a non-tensor loss or value and a non-string name', () => {
    expectError(() => new PolicyLoss(1.5 as unknown as Tensor, []), TypeError, 'PolicyLoss: expected a Tensor for overallLoss but received the number 1.5');
    expectError(() => new LossComponent('a', 1 as unknown as Tensor), TypeError, 'LossComponent: expected a Tensor for value but received the number 1');
    expectError(() => new LossComponent(3 as unknown as string, scalar(1)), TypeError, 'LossComponent: expected a string for name but received the number 3');
  });

  it('PolicyLoss indexes as the namedtuple: [0] overallLoss, [1] lossComponents, length 2, none of them own enumerable fields', () => {
    const overall = scalar(3);
    const c = new LossComponent('c', scalar(1));
    const p = new PolicyLoss(overall, [c]);
    expect(p[0]).toBe(overall);
    expect(p[1]).toBe(p.lossComponents);
    expect(p.length).toBe(2);
    expect(Array.from(p)).toEqual([overall, [c]]);
    expect(Object.keys(p)).toEqual(['overallLoss', 'lossComponents']);
    expect({ ...p }).toEqual({ overallLoss: overall, lossComponents: [c] });
  });

  it('subclasses are not frozen by the base constructor, so they can add fields', () => {
    class TaggedComponent extends LossComponent {
      readonly tag = 'extra';
    }
    class TaggedLoss extends PolicyLoss {
      readonly tag = 'extra';
    }
    const c = new TaggedComponent('c', scalar(1));
    expect([c.name, c.tag]).toEqual(['c', 'extra']);
    const p = new TaggedLoss(scalar(1), c);
    expect([p.lossComponents, p.tag]).toEqual([[c], 'extra']);
  });
});

describe('ScheduledTrainingPolicy', () => {
  it('has six hooks that do nothing and return undefined (beforeBackwardPass: null)', () => {
    const p = new ScheduledTrainingPolicy();
    const z = {};
    const meta: PolicyMeta = { startingEpoch: 0, endingEpoch: 1, frequency: 1 };
    expect(p.onEpochBegin(model, z, meta)).toBeUndefined();
    expect(p.onMinibatchBegin(model, 0, 0, 1, z, meta)).toBeUndefined();
    expect(p.beforeBackwardPass(model, 0, 0, 1, scalar(1), z)).toBeNull();
    expect(p.beforeParameterOptimization(model, 0, 0, 1, z, meta, null)).toBeUndefined();
    expect(p.onMinibatchEnd(model, 0, 0, 1, z)).toBeUndefined();
    expect(p.onEpochEnd(model, z, meta)).toBeUndefined();
    expect(p.classes).toBeNull();
    expect(p.layers).toBeNull();
    expect(p.stateDict).toBeUndefined();
  });
});

describe('CompressionScheduler.addPolicy', () => {
  it('rejects a policy without a schedule, or with both forms (Distiller asserted)', () => {
    const s = new CompressionScheduler(model);
    const p = new ScheduledTrainingPolicy<Model>();
    expect(() => s.addPolicy(p, undefined as never)).toThrow(TypeError);
    expect(() => s.addPolicy(p, {} as never)).toThrow(/needs a schedule/);
    expect(() => s.addPolicy(p, { epochs: [1, 2, 3], startingEpoch: 4, endingEpoch: 5, frequency: 1 } as never)).toThrow(/not both/);
    expect(() => s.addPolicy(p, { epochs: [1], frequency: 1 } as never)).toThrow(TypeError);
    expect(() => s.addPolicy(p, { startingEpoch: 4 } as never)).toThrow(TypeError);
    expect(() => s.addPolicy(p, { endingEpoch: 4 } as never)).toThrow(TypeError);
    expect(s.policies.size).toBe(0);
    expect(s.schedMetadata.size).toBe(0);
  });

  it('checks 0 <= startingEpoch < endingEpoch and 0 < frequency <= endingEpoch - startingEpoch', () => {
    const s = new CompressionScheduler(model);
    const p = new ScheduledTrainingPolicy<Model>();
    expect(() => s.addPolicy(p, { startingEpoch: -1, endingEpoch: 3 })).toThrow(RangeError);
    expect(() => s.addPolicy(p, { startingEpoch: 3, endingEpoch: 3 })).toThrow(RangeError);
    expect(() => s.addPolicy(p, { startingEpoch: 4, endingEpoch: 3 })).toThrow(RangeError);
    expect(() => s.addPolicy(p, { startingEpoch: 0, endingEpoch: 3, frequency: 0 })).toThrow(RangeError);
    expect(() => s.addPolicy(p, { startingEpoch: 0, endingEpoch: 3, frequency: 4 })).toThrow(RangeError);
    expect(() => s.addPolicy(p, { startingEpoch: 0.5, endingEpoch: 3 })).toThrow(RangeError);
    expect(() => s.addPolicy(p, { startingEpoch: '0' as never, endingEpoch: 3 })).toThrow(TypeError);
    expect(() => s.addPolicy(p, { startingEpoch: 0, endingEpoch: 3, frequency: 3 })).not.toThrow();
  });

  it('checks a list of epochs: non-empty, non-negative integers, strictly increasing', () => {
    const s = new CompressionScheduler(model);
    const p = new ScheduledTrainingPolicy<Model>();
    expect(() => s.addPolicy(p, { epochs: [] })).toThrow(RangeError);
    expect(() => s.addPolicy(p, { epochs: [-1, 2] })).toThrow(RangeError);
    expect(() => s.addPolicy(p, { epochs: [1.5] })).toThrow(RangeError);
    expect(() => s.addPolicy(p, { epochs: [3, 1] })).toThrow(/strictly increasing/);
    expect(() => s.addPolicy(p, { epochs: [1, 1] })).toThrow(RangeError);
    expect(() => s.addPolicy(p, { epochs: 'abc' as never })).toThrow(TypeError);
    expect(() => s.addPolicy({} as never, { epochs: [1] })).toThrow(/ScheduledTrainingPolicy/);
    expect(s.policies.size).toBe(0);
  });

  it('records metadata as Distiller did (regression test for Distiller issue #176)', () => {
    const s = new CompressionScheduler(model);
    const p = new ScheduledTrainingPolicy<Model>();
    s.addPolicy(p, { startingEpoch: 4, endingEpoch: 5, frequency: 1 });
    expect(s.schedMetadata.get(p)).toEqual({ startingEpoch: 4, endingEpoch: 5, frequency: 1 });
    s.addPolicy(p, { epochs: [1, 2, 3] });
    expect(s.schedMetadata.get(p)).toEqual({ startingEpoch: 1, endingEpoch: 4, frequency: null });
    s.addPolicy(p, { epochs: [5] });
    expect(s.schedMetadata.get(p)).toEqual({ startingEpoch: 5, endingEpoch: 6, frequency: null });
    expect([...s.policies.keys()].sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('schedules startingEpoch, startingEpoch + frequency, … excluding endingEpoch; frequency defaults to 1', () => {
    const s = new CompressionScheduler(model);
    const a = new ScheduledTrainingPolicy<Model>();
    const b = new ScheduledTrainingPolicy<Model>();
    const c = new ScheduledTrainingPolicy<Model>();
    s.addPolicy(a, { startingEpoch: 2, endingEpoch: 10, frequency: 3 });
    s.addPolicy(b, { startingEpoch: 0, endingEpoch: 6, frequency: 2 });
    s.addPolicy(c, { startingEpoch: 1, endingEpoch: 3 });
    const active = (p: ScheduledTrainingPolicy<Model>): number[] =>
      [...s.policies].filter(([, ps]) => ps.includes(p)).map(([e]) => e).sort((x, y) => x - y);
    expect(active(a)).toEqual([2, 5, 8]);
    expect(active(b)).toEqual([0, 2, 4]);
    expect(active(c)).toEqual([1, 2]);
    expect(s.policies.get(2)).toEqual([a, b, c]);
    expect(s.schedMetadata.get(c)).toEqual({ startingEpoch: 1, endingEpoch: 3, frequency: 1 });
  });

  it('accepts any iterable of epochs', () => {
    const s = new CompressionScheduler(model);
    const p = new ScheduledTrainingPolicy<Model>();
    s.addPolicy(p, { epochs: new Set([0, 3]) });
    expect([...s.policies.keys()]).toEqual([0, 3]);
  });

  it('treats null like a missing key in either form (Python\'s None)', () => {
    const s = new CompressionScheduler(model);
    const a = new ScheduledTrainingPolicy<Model>();
    const b = new ScheduledTrainingPolicy<Model>();
    s.addPolicy(a, { epochs: null, startingEpoch: 2, endingEpoch: 4, frequency: null } as never);
    s.addPolicy(b, { epochs: [5], startingEpoch: null, endingEpoch: null, frequency: null } as never);
    expect(s.schedMetadata.get(a)).toEqual({ startingEpoch: 2, endingEpoch: 4, frequency: 1 });
    expect(s.schedMetadata.get(b)).toEqual({ startingEpoch: 5, endingEpoch: 6, frequency: null });
    expect([...s.policies]).toEqual([[2, [a]], [3, [a]], [5, [b]]]);
  });

  it('says what is wrong with a schedule', () => {
    const s = new CompressionScheduler(model);
    const p = new ScheduledTrainingPolicy<Model>();
    const add = (schedule: unknown) => (): void => s.addPolicy(p, schedule as never);
    const needs = 'addPolicy needs a schedule: {epochs: [...]} or {startingEpoch, endingEpoch, frequency?}';
    expectError(add(undefined), TypeError, `${needs}, but received undefined`);
    expectError(add(null), TypeError, `${needs}, but received null`);
    expectError(add(5), TypeError, `${needs}, but received the number 5`);
    const bothEnds = `${needs} (both ends of a range are required)`;
    for (const range of [{}, { startingEpoch: 4 }, { endingEpoch: 4 }, { startingEpoch: null, endingEpoch: 4 }, { startingEpoch: 0, endingEpoch: null }, { frequency: 2 }]) {
      expectError(add(range), TypeError, bothEnds);
    }
    const both = 'addPolicy takes either epochs or a range (startingEpoch, endingEpoch, frequency), not both (got epochs and';
    expectError(add({ epochs: [1], startingEpoch: 4 }), TypeError, `${both} startingEpoch)`);
    expectError(add({ epochs: [1], endingEpoch: 4 }), TypeError, `${both} endingEpoch)`);
    expectError(add({ epochs: [1], frequency: 1 }), TypeError, `${both} frequency)`);
    expectError(add({ epochs: [1, 2, 3], startingEpoch: 4, endingEpoch: 5, frequency: 1 }), TypeError, `${both} startingEpoch, endingEpoch, frequency)`);
    const notList = 'addPolicy: expected an array (or iterable) of epochs but received';
    expectError(add({ epochs: 'abc' }), TypeError, `${notList} the string "abc"`);
    expectError(add({ epochs: 3 }), TypeError, `${notList} the number 3`);
    expectError(add({ epochs: { 0: 1, length: 1 } }), TypeError, `${notList} an object (Object)`);
    expectError(add({ epochs: [] }), RangeError, 'addPolicy: epochs must not be empty');
    expectError(add({ epochs: [0, -1] }), RangeError, 'Expected a non-negative integer for epochs[1] but received -1');
    expectError(add({ epochs: [0, 1.5] }), RangeError, 'Expected an integer for epochs[1] but received 1.5');
    expectError(add({ epochs: [0, 2, '3'] }), TypeError, 'Expected an integer for epochs[2] but received the string "3"');
    expectError(add({ epochs: [0, 4, 3] }), RangeError, 'addPolicy: epochs must be strictly increasing, but epochs[2] = 3 follows 4');
    expectError(add({ epochs: [2, 2, 5] }), RangeError, 'addPolicy: epochs must be strictly increasing, but epochs[1] = 2 follows 2');
    expectError(add({ startingEpoch: 0.5, endingEpoch: 3 }), RangeError, 'Expected an integer for startingEpoch but received 0.5');
    expectError(add({ startingEpoch: 0, endingEpoch: '3' }), TypeError, 'Expected an integer for endingEpoch but received the string "3"');
    expectError(add({ startingEpoch: 0, endingEpoch: 3, frequency: 1.5 }), RangeError, 'Expected an integer for frequency but received 1.5');
    const order = 'addPolicy: need 0 <= startingEpoch < endingEpoch, but';
    expectError(add({ startingEpoch: -1, endingEpoch: 3 }), RangeError, `${order} startingEpoch = -1 and endingEpoch = 3`);
    expectError(add({ startingEpoch: 3, endingEpoch: 3 }), RangeError, `${order} startingEpoch = 3 and endingEpoch = 3`);
    expectError(add({ startingEpoch: 4, endingEpoch: 3, frequency: 1 }), RangeError, `${order} startingEpoch = 4 and endingEpoch = 3`);
    const freq = 'addPolicy: need 0 < frequency <= endingEpoch - startingEpoch';
    expectError(add({ startingEpoch: 2, endingEpoch: 4, frequency: 3 }), RangeError, `${freq} (2), but frequency = 3`);
    expectError(add({ startingEpoch: 2, endingEpoch: 4, frequency: 0 }), RangeError, `${freq} (2), but frequency = 0`);
    expectError(add({ startingEpoch: 2, endingEpoch: 4, frequency: -2 }), RangeError, `${freq} (2), but frequency = -2`);
    expect(s.policies.size).toBe(0);
    // The largest frequency the rule allows: one epoch, startingEpoch.
    s.addPolicy(p, { startingEpoch: 2, endingEpoch: 4, frequency: 2 });
    expect([...s.policies.keys()]).toEqual([2]);
  });
});

describe('CompressionScheduler hooks', () => {
  it('call, in insertion order, only the policies scheduled for the epoch, with Distiller\'s arguments', () => {
    const log: unknown[][] = [];
    const masks = { 'fc.weight': null };
    const s = new CompressionScheduler(model, { zerosMaskDict: masks });
    const a = new Recorder('a', log);
    const b = new Recorder('b', log);
    s.addPolicy(a, { epochs: [0, 1] });
    s.addPolicy(b, { startingEpoch: 1, endingEpoch: 3 });
    const opt = { name: 'optimizer' };
    const loss = scalar(1);

    s.onEpochBegin(0, opt, { metrics: 1 });
    expect(log).toEqual([['onEpochBegin', 'a', model, masks, { startingEpoch: 0, endingEpoch: 2, frequency: null, currentEpoch: 0 }, { metrics: 1 }]]);
    log.length = 0;

    s.onEpochBegin(1);
    s.onMinibatchBegin(1, 3, 10, opt);
    s.beforeBackwardPass(1, 3, 10, loss, { optimizer: opt });
    s.beforeParameterOptimization(1, 3, 10, opt);
    s.onMinibatchEnd(1, 3, 10, opt);
    s.onEpochEnd(1, opt);
    const metaA = { startingEpoch: 0, endingEpoch: 2, frequency: null, currentEpoch: 1 };
    const metaB = { startingEpoch: 1, endingEpoch: 3, frequency: 1, currentEpoch: 1 };
    expect(log).toEqual([
      ['onEpochBegin', 'a', model, masks, metaA, {}],
      ['onEpochBegin', 'b', model, masks, metaB, {}],
      ['onMinibatchBegin', 'a', model, 1, 3, 10, masks, metaA, opt],
      ['onMinibatchBegin', 'b', model, 1, 3, 10, masks, metaB, opt],
      ['beforeBackwardPass', 'a', model, 1, 3, 10, loss, masks, opt, {}],
      ['beforeBackwardPass', 'b', model, 1, 3, 10, loss, masks, opt, {}],
      ['beforeParameterOptimization', 'a', model, 1, 3, 10, masks, metaA, opt],
      ['beforeParameterOptimization', 'b', model, 1, 3, 10, masks, metaB, opt],
      ['onMinibatchEnd', 'a', model, 1, 3, 10, masks, opt],
      ['onMinibatchEnd', 'b', model, 1, 3, 10, masks, opt],
      ['onEpochEnd', 'a', model, masks, { ...metaA, optimizer: opt }, {}],
      ['onEpochEnd', 'b', model, masks, { ...metaB, optimizer: opt }, {}],
    ]);
    log.length = 0;

    for (const e of [3, 7]) {
      s.onEpochBegin(e);
      s.onMinibatchBegin(e, 0, 1);
      s.beforeBackwardPass(e, 0, 1, loss);
      s.beforeParameterOptimization(e, 0, 1, opt);
      s.onMinibatchEnd(e, 0, 1);
      s.onEpochEnd(e);
    }
    expect(log).toEqual([]);
  });

  it('pass the same meta object to a policy each time, and an empty frozen zerosMaskDict by default', () => {
    const metas: PolicyMeta[] = [];
    const masks: ZerosMaskDict[] = [];
    class P extends ScheduledTrainingPolicy {
      override onEpochBegin(m: unknown, z: ZerosMaskDict, meta: PolicyMeta): void {
        metas.push(meta);
        masks.push(z);
        meta.seenBy = 'P';
      }
    }
    const s = new CompressionScheduler(model);
    const p = new P();
    s.addPolicy(p, { epochs: [0, 1] });
    s.onEpochBegin(0);
    s.onEpochBegin(1);
    expect(metas[0]).toBe(metas[1]);
    expect(metas[1]).toBe(s.schedMetadata.get(p));
    expect(metas[1]).toMatchObject({ currentEpoch: 1, seenBy: 'P' });
    expect(masks[0]).toEqual({});
    expect(Object.isFrozen(masks[0])).toBe(true);
    expect(s.device).toBe('cpu');
  });

  it('reject a non-integer epoch', () => {
    const s = new CompressionScheduler(model);
    expectError(() => s.onEpochBegin(0.5), RangeError, 'Expected an integer for epoch but received 0.5');
    expectError(() => s.onEpochEnd('1' as never), TypeError, 'Expected an integer for epoch but received the string "1"');
  });

  it('pass kwargs to onEpochEnd, a copy per policy', () => {
    const log: unknown[][] = [];
    const s = new CompressionScheduler(model);
    s.addPolicy(new Recorder('a', log), { epochs: [2] });
    s.addPolicy(new Recorder('b', log), { epochs: [2] });
    const kwargs = { top1: 71.5 };
    s.onEpochEnd(2, null, kwargs);
    expect(log.map((l) => [l[0], l[1], l[5]])).toEqual([['onEpochEnd', 'a', kwargs], ['onEpochEnd', 'b', kwargs]]);
    expect(log[0][5]).not.toBe(kwargs);
    expect(log[0][5]).not.toBe(log[1][5]);
  });

  it('take their options as an object', () => {
    const opts = 'CompressionScheduler: expected an options object but received';
    expectError(() => new CompressionScheduler(model, null as never), TypeError, `${opts} null`);
    expectError(() => new CompressionScheduler(model, 'cuda' as never), TypeError, `${opts} the string "cuda"`);
    const s = new CompressionScheduler(model, { device: 'cuda:1' });
    expect([s.model, s.device]).toEqual([model, 'cuda:1']);
  });
});

describe('CompressionScheduler.beforeBackwardPass', () => {
  const values = [4177, 812, 9021];
  const main = 2536;

  function threePolicies(): { s: CompressionScheduler; policies: DummyPolicy[] } {
    const s = new CompressionScheduler(model);
    const policies = values.map((v, i) => new DummyPolicy(i, torch.tensor([v], { dtype: 'int64' })));
    for (const p of policies) s.addPolicy(p, { epochs: [0] });
    return { s, policies };
  }

  for (const returnLossComponents of [false, true]) {
    it(`chains three policies in order and leaves the input loss alone (returnLossComponents: ${returnLossComponents})`, () => {
      const { s, policies } = threePolicies();
      const loss = torch.tensor([main], { dtype: 'int64' });
      const result = s.beforeBackwardPass(0, 0, 1, loss, { returnLossComponents });
      expect(loss.item()).toBe(main);
      expect(policies.map((p) => p.seen)).toEqual([[main], [main + values[0]], [main + values[0] + values[1]]]);
      const expected = main + values[0] + values[1] + values[2];
      if (returnLossComponents) {
        expect(result).toBeInstanceOf(PolicyLoss);
        const pl = result as PolicyLoss;
        expect(pl.overallLoss.item()).toBe(expected);
        expect(pl.lossComponents.map((c) => c.name)).toEqual(['Dummy Loss 0', 'Dummy Loss 1', 'Dummy Loss 2']);
        expect(pl.lossComponents.map((c) => c.value.item())).toEqual(values);
        expect(pl.lossComponents.map((c) => c.value)).toEqual(policies.map((p) => p.lossVal));
      } else {
        expect(result).not.toBeInstanceOf(PolicyLoss);
        expect((result as Tensor).item()).toBe(expected);
        expect(result).not.toBe(loss);
      }
    });
  }

  it('returns the input loss itself when no policy is active or all return null/undefined', () => {
    const s = new CompressionScheduler(model);
    s.addPolicy(new Returns(null), { epochs: [0] });
    s.addPolicy(new Returns(undefined), { epochs: [0] });
    const loss = scalar(1.5);
    expect(s.beforeBackwardPass(0, 0, 1, loss)).toBe(loss);
    expect(s.beforeBackwardPass(5, 0, 1, loss)).toBe(loss);
    const pl = s.beforeBackwardPass(0, 0, 1, loss, { returnLossComponents: true });
    expect(pl.overallLoss).toBe(loss);
    expect(pl.lossComponents).toEqual([]);
  });

  it('keeps the autograd graph through the chain', () => {
    const w = torch.tensor(2, { dtype: 'float64', requiresGrad: true });
    const { s } = threePolicies();
    const loss = w.mul(3);
    const out = s.beforeBackwardPass(0, 0, 1, loss.to('float64'));
    out.sum().backward();
    expect(w.grad?.item()).toBe(3);
  });

  it('accepts a PolicyLoss built with a single component', () => {
    const c = new LossComponent('one', scalar(1));
    const s = new CompressionScheduler(model);
    s.addPolicy(new Returns(new PolicyLoss(scalar(7), c)), { epochs: [0] });
    const pl = s.beforeBackwardPass(0, 0, 1, scalar(1), { returnLossComponents: true });
    expect(pl.lossComponents).toEqual([c]);
    expect(pl.overallLoss.item()).toBe(7);
  });

  it('rejects anything but null or a PolicyLoss with a TypeError', () => {
    const bad: unknown[] = [
      new LossComponent('c', scalar(1)),
      { overallLoss: scalar(1), lossComponents: [] },
      scalar(2),
      3,
    ];
    for (const value of bad) {
      const s = new CompressionScheduler(model);
      s.addPolicy(new Returns(value), { epochs: [0] });
      expect(() => s.beforeBackwardPass(0, 0, 1, scalar(1))).toThrow(TypeError);
      expect(() => s.beforeBackwardPass(0, 0, 1, scalar(1))).toThrow(/Returns\.beforeBackwardPass must return either null or a PolicyLoss/);
    }
  });

  it('rejects components that are not LossComponents with a TypeError', () => {
    for (const comps of [['oops'], [new LossComponent('ok', scalar(1)), { name: 'x', value: scalar(1) }], 'oops']) {
      const s = new CompressionScheduler(model);
      s.addPolicy(new Returns(new PolicyLoss(scalar(1), comps as never)), { epochs: [0] });
      expect(() => s.beforeBackwardPass(0, 0, 1, scalar(1))).toThrow(TypeError);
      expect(() => s.beforeBackwardPass(0, 0, 1, scalar(1))).toThrow(/expected a LossComponent or a list of them/);
    }
    expect(() => CompressionScheduler.verifyPolicyLoss({})).toThrow(/must return either null or a PolicyLoss/);
  });

  it('passes the optimizer and extra kwargs such as labels to the policies (beyond Distiller)', () => {
    const log: unknown[][] = [];
    const s = new CompressionScheduler(model);
    s.addPolicy(new Recorder('a', log), { epochs: [0] });
    s.addPolicy(new Recorder('b', log), { epochs: [0] });
    const labels = torch.tensor([1, 0], { dtype: 'int64' });
    const opt = { name: 'sgd' };
    const loss = scalar(1);
    s.beforeBackwardPass(0, 2, 5, loss, { optimizer: opt, labels, returnLossComponents: false, extra: 'x' });
    expect(log.map((l) => l[8])).toEqual([opt, opt]);
    expect(log.map((l) => l[9])).toEqual([{ labels, extra: 'x' }, { labels, extra: 'x' }]);
    expect(log[0][9]).not.toBe(log[1][9]);
  });

  it('rejects a loss that is not a tensor', () => {
    const s = new CompressionScheduler(model);
    expectError(() => s.beforeBackwardPass(0, 0, 1, 1.5 as never), TypeError, 'beforeBackwardPass: expected a Tensor for loss but received the number 1.5');
  });

  it('verifyPolicyLoss names the policy by its class, or generically', () => {
    const bad = 'must return either null or a PolicyLoss, but it returned an object (Object)';
    expectError(() => CompressionScheduler.verifyPolicyLoss({}), TypeError, `A policy's beforeBackwardPass ${bad}`);
    expectError(() => CompressionScheduler.verifyPolicyLoss({}, new Returns(null)), TypeError, `Returns.beforeBackwardPass ${bad}`);
    const anonymous = new (class extends ScheduledTrainingPolicy {})();
    expect(anonymous.constructor.name).toBe('');
    expectError(() => CompressionScheduler.verifyPolicyLoss({}, anonymous), TypeError, `policy.beforeBackwardPass ${bad}`);
    expectError(() => CompressionScheduler.verifyPolicyLoss({}, Object.create(null)), TypeError, `policy.beforeBackwardPass ${bad}`);
  });

  it('verifyPolicyLoss checks what a PolicyLoss subclass holds, and wraps a single component as Distiller did', () => {
    const c = new LossComponent('c', scalar(1));
    class Loose extends PolicyLoss {
      constructor(overall: unknown, components: unknown) {
        super(scalar(1), []);
        Object.assign(this, { overallLoss: overall, lossComponents: components });
      }
    }
    expect(CompressionScheduler.verifyPolicyLoss(new Loose(scalar(2), c))).toEqual([c]);
    expect(CompressionScheduler.verifyPolicyLoss(new Loose(scalar(2), [c, c]))).toEqual([c, c]);
    expectError(() => CompressionScheduler.verifyPolicyLoss(new Loose(2, [c]), new Returns(null)), TypeError,
      'Returns.beforeBackwardPass returned a PolicyLoss whose overallLoss is the number 2, not a Tensor');
    expectError(() => CompressionScheduler.verifyPolicyLoss(new Loose(scalar(2), 'c')), TypeError,
      "A policy's beforeBackwardPass returned a PolicyLoss with a bad component: expected a LossComponent or a list of them, but component 0 is the string \"c\"");
  });
});

describe('CompressionScheduler.stateDict / loadStateDict', () => {
  function build(): { s: CompressionScheduler; a: Toggle; b: DummyPolicy; c: Toggle } {
    const s = new CompressionScheduler(model);
    const a = new Toggle();
    const b = new DummyPolicy(0, scalar(1));
    const c = new Toggle();
    s.addPolicy(a, { startingEpoch: 0, endingEpoch: 10, frequency: 2 });
    s.addPolicy(b, { epochs: [1, 3] });
    s.addPolicy(c, { epochs: [4] });
    s.addPolicy(a, { epochs: [5] });
    return { s, a, b, c };
  }

  it('saves every schedule by policy index and each policy\'s state, as plain JSON', () => {
    const { s, a } = build();
    s.onEpochBegin(0);
    s.onMinibatchEnd(0, 0, 2);
    s.onMinibatchEnd(0, 1, 2);
    const state = s.stateDict();
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
    expect(state).toEqual({
      format: 'torchkd.CompressionScheduler',
      version: 1,
      policies: [
        { type: 'Toggle', state: { active: true, steps: 2 } },
        { type: 'DummyPolicy', state: null },
        { type: 'Toggle', state: { active: false, steps: 0 } },
      ],
      schedule: [
        { policy: 0, startingEpoch: 0, endingEpoch: 10, frequency: 2 },
        { policy: 1, epochs: [1, 3] },
        { policy: 2, epochs: [4] },
        { policy: 0, epochs: [5] },
      ],
    });
    a.steps = 99;
    expect(state.policies[0].state).toEqual({ active: true, steps: 2 });
  });

  it('round-trips through JSON into a scheduler holding the same policies, replacing its schedule', () => {
    const { s } = build();
    s.onEpochBegin(4);
    s.onEpochEnd(4);
    s.onEpochBegin(5);
    const saved = JSON.parse(JSON.stringify(s.stateDict()));

    const t = new CompressionScheduler(model);
    const a = new Toggle();
    const b = new DummyPolicy(0, scalar(1));
    const c = new Toggle();
    t.addPolicy(a, { epochs: [0] });
    t.addPolicy(b, { epochs: [0] });
    t.addPolicy(c, { epochs: [0] });
    t.loadStateDict(saved);

    // saved mid-epoch 5, where only `a` runs (its second schedule): a is active, c is not
    expect([a.active, c.active]).toEqual([true, false]);
    const shape = (x: CompressionScheduler, ps: ScheduledTrainingPolicy[]): [number, number[]][] =>
      [...x.policies].sort(([e1], [e2]) => e1 - e2).map(([e, list]) => [e, list.map((p) => ps.indexOf(p))]);
    const orig = build();
    expect(shape(t, [a, b, c])).toEqual(shape(orig.s, [orig.a, orig.b, orig.c]));
    expect(t.schedMetadata.get(a)).toEqual({ startingEpoch: 5, endingEpoch: 6, frequency: null });
    expect(t.stateDict()).toEqual(saved);
  });

  it('refuses a state that does not fit, and changes nothing', () => {
    const { s } = build();
    const saved = s.stateDict();
    const t = new CompressionScheduler(model);
    const only = new Toggle();
    t.addPolicy(only, { epochs: [7] });
    expect(() => t.loadStateDict(saved)).toThrow(RangeError);

    const u = new CompressionScheduler(model);
    u.addPolicy(new DummyPolicy(0, scalar(1)), { epochs: [0] });
    u.addPolicy(new DummyPolicy(1, scalar(1)), { epochs: [0] });
    u.addPolicy(new Toggle(), { epochs: [0] });
    expect(() => u.loadStateDict(saved)).toThrow(/was a Toggle/);

    const bad = { ...saved, schedule: [{ policy: 0, epochs: [] }] };
    const v = build();
    expect(() => v.s.loadStateDict(bad)).toThrow(RangeError);
    expect(v.s.stateDict()).toEqual(saved);
    expect(() => v.s.loadStateDict({ ...saved, schedule: [{ policy: 9, epochs: [1] }] })).toThrow(/does not have/);
    expect(() => v.s.loadStateDict({ masks_dict: {} } as never)).toThrow(TypeError);
    expect(() => v.s.loadStateDict({ ...saved, version: 2 as never })).toThrow(RangeError);
    expect([...t.policies.keys()]).toEqual([7]);
  });

  it('requires policy state to be plain JSON and a loadStateDict to restore it', () => {
    class Bad extends ScheduledTrainingPolicy {
      override stateDict(): PolicyState {
        return { t: scalar(1) as never };
      }
    }
    const s = new CompressionScheduler(model);
    s.addPolicy(new Bad(), { epochs: [0] });
    expect(() => s.stateDict()).toThrow(/plain JSON/);

    class NaNState extends ScheduledTrainingPolicy {
      override stateDict(): PolicyState {
        return { x: NaN };
      }
    }
    const n = new CompressionScheduler(model);
    n.addPolicy(new NaNState(), { epochs: [0] });
    expect(() => n.stateDict()).toThrow(TypeError);

    const t = new CompressionScheduler(model);
    t.addPolicy(new ScheduledTrainingPolicy(), { epochs: [0] });
    const state = t.stateDict();
    state.policies[0].state = { x: 1 };
    expect(() => t.loadStateDict(state)).toThrow(/no loadStateDict/);
  });
});

describe('CompressionScheduler.stateDict / loadStateDict: policy state and errors', () => {
  /** A policy whose state is whatever it is given. */
  class Holder extends ScheduledTrainingPolicy {
    loaded: PolicyState[] = [];
    constructor(public state: unknown) {
      super();
    }
    override stateDict(): PolicyState {
      return this.state as PolicyState;
    }
    override loadStateDict(state: PolicyState): void {
      this.loaded.push(state);
    }
  }

  function holding(state: unknown): CompressionScheduler {
    const s = new CompressionScheduler(model);
    s.addPolicy(new Holder(state), { epochs: [0] });
    return s;
  }

  it('saves and restores any plain JSON: strings, booleans, null, nested arrays and objects, null-prototype objects', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { k: 'v' });
    const state = { mode: 'warm', on: false, none: null, n: -0.25, list: [1, 'a', [true, null]], nested: { bare } };
    const saved = holding(state).stateDict();
    const plain = { mode: 'warm', on: false, none: null, n: -0.25, list: [1, 'a', [true, null]], nested: { bare: { k: 'v' } } };
    expect(saved.policies).toEqual([{ type: 'Holder', state: plain }]);
    expect(Object.getPrototypeOf(saved.policies[0].state!.nested)).toBe(Object.prototype);
    expect(saved.policies[0].state!.list).not.toBe(state.list);

    const t = new CompressionScheduler(model);
    const h = new Holder(null);
    t.addPolicy(h, { epochs: [3] });
    t.loadStateDict(JSON.parse(JSON.stringify(saved)));
    expect(h.loaded).toEqual([plain]);
  });

  it('names the first value that is not plain JSON by its path', () => {
    const json = 'policy state must be plain JSON (objects, arrays, strings, numbers, booleans, null)';
    expectError(() => holding({ x: NaN }).stateDict(), TypeError, 'policies[0].state.x is NaN, which JSON cannot represent');
    expectError(() => holding({ xs: [1, [2, -Infinity]] }).stateDict(), TypeError, 'policies[0].state.xs[1][1] is -Infinity, which JSON cannot represent');
    expectError(() => holding({ a: { t: scalar(1) } }).stateDict(), TypeError, `policies[0].state.a.t is an object (Tensor); ${json}`);
    expectError(() => holding({ a: [new Map()] }).stateDict(), TypeError, `policies[0].state.a[0] is an object (Map); ${json}`);
    expectError(() => holding({ u: undefined }).stateDict(), TypeError, `policies[0].state.u is undefined; ${json}`);
    expectError(() => holding({ f: function step(): void {} }).stateDict(), TypeError, `policies[0].state.f is the function step; ${json}`);
    expectError(() => holding({ b: 1n }).stateDict(), TypeError, `policies[0].state.b is a bigint 1; ${json}`);
  });

  it('loads a policy without saved state (null or absent) without calling its loadStateDict', () => {
    const { s, a, c } = ((): { s: CompressionScheduler; a: Toggle; c: Toggle } => {
      const s = new CompressionScheduler(model);
      const a = new Toggle();
      const c = new Toggle();
      s.addPolicy(a, { epochs: [0] });
      s.addPolicy(new ScheduledTrainingPolicy(), { epochs: [1] });
      s.addPolicy(c, { epochs: [2] });
      return { s, a, c };
    })();
    a.active = true;
    a.steps = 4;
    c.steps = 7;
    s.loadStateDict({
      format: 'torchkd.CompressionScheduler',
      version: 1,
      policies: [{ type: 'Toggle', state: null }, { type: 'ScheduledTrainingPolicy' } as never, { type: 'Toggle', state: undefined } as never],
      schedule: [{ policy: 1, epochs: [6] }],
    });
    expect([a.active, a.steps, c.active, c.steps]).toEqual([true, 4, false, 7]);
    expect([...s.policies.keys()]).toEqual([6]);
  });

  it('says why a state does not fit, and changes nothing', () => {
    const s = new CompressionScheduler(model);
    const a = new Toggle();
    s.addPolicy(a, { epochs: [0, 1] });
    s.addPolicy(new ScheduledTrainingPolicy(), { epochs: [1] });
    a.steps = 3;
    const saved = s.stateDict();
    const load = (state: unknown) => (): void => s.loadStateDict(state as never);
    const notState = 'loadStateDict: expected an object from CompressionScheduler.stateDict() but received';
    expectError(load(null), TypeError, `${notState} null`);
    expectError(load('state'), TypeError, `${notState} the string "state"`);
    expectError(load({ ...saved, format: 'distiller' }), TypeError, `${notState} an object (Object)`);
    expectError(load({ ...saved, version: 2 }), RangeError, 'loadStateDict: unsupported state version 2');
    expectError(load({ ...saved, version: undefined }), RangeError, 'loadStateDict: unsupported state version undefined');
    const arrays = 'loadStateDict: the state needs arrays "policies" and "schedule"';
    expectError(load({ ...saved, policies: undefined }), TypeError, arrays);
    expectError(load({ ...saved, schedule: {} }), TypeError, arrays);
    expectError(load({ ...saved, policies: saved.policies.slice(1) }), RangeError,
      'loadStateDict: the state has 1 policies but this scheduler has 2; add the same policies in the same order before loading');
    expectError(load({ ...saved, policies: [null, saved.policies[1]] }), TypeError, 'loadStateDict: policies[0] is null');
    expectError(load({ ...saved, policies: [saved.policies[0], 'Toggle'] }), TypeError, 'loadStateDict: policies[1] is the string "Toggle"');
    expectError(load({ ...saved, policies: [saved.policies[0], { type: 'Toggle', state: null }] }), TypeError,
      "loadStateDict: policies[1] was a Toggle but this scheduler's policy 1 is a ScheduledTrainingPolicy");
    expectError(load({ ...saved, policies: [saved.policies[0], { type: 'ScheduledTrainingPolicy', state: {} }] }), TypeError,
      'loadStateDict: policies[1] (ScheduledTrainingPolicy) has saved state but no loadStateDict() method');
    expectError(load({ ...saved, schedule: [saved.schedule[0], null] }), TypeError, 'loadStateDict: schedule[1] is null');
    expectError(load({ ...saved, schedule: [7] }), TypeError, 'loadStateDict: schedule[0] is the number 7');
    for (const policy of [-1, 2, 1.5, '0', undefined]) {
      expectError(load({ ...saved, schedule: [saved.schedule[0], { policy, epochs: [3] }] }), RangeError,
        `loadStateDict: schedule[1] names policy ${String(policy)}, which this scheduler does not have`);
    }
    expect(s.stateDict()).toEqual(saved);
    expect(a.steps).toBe(3);
  });
});

describe('DistillationLossWeights', () => {
  it('defaults to (0.5, 0.5, 0) and reads by name and index', () => {
    const w = DistillationLossWeights();
    expect([w.distill, w.student, w.teacher]).toEqual([0.5, 0.5, 0]);
    expect([w[0], w[1], w[2]]).toEqual([0.5, 0.5, 0]);
    expect(w.length).toBe(3);
    const [d, s, t] = DistillationLossWeights(0.7, 0.3, 0.1);
    expect([d, s, t]).toEqual([0.7, 0.3, 0.1]);
    expect([...DistillationLossWeights(1)]).toEqual([1, 0.5, 0]);
    expect(DistillationLossWeights.fields).toEqual(['distill', 'student', 'teacher']);
  });

  it('is callable with or without new and frozen', () => {
    const a = DistillationLossWeights(0.2, 0.8, 0);
    const b = new DistillationLossWeights(0.2, 0.8, 0);
    expect(a).toBeInstanceOf(DistillationLossWeights);
    expect(b).toBeInstanceOf(DistillationLossWeights);
    expect(a.equals(b)).toBe(true);
    expect(a.equals(DistillationLossWeights(0.2, 0.8, 0.1))).toBe(false);
    expect(Object.isFrozen(a)).toBe(true);
    expect(() => {
      (a as { distill: number }).distill = 1;
    }).toThrow(TypeError);
    expect(() => {
      (a as unknown as number[])[0] = 1;
    }).toThrow(TypeError);
  });

  it('prints like the namedtuple and serialises by name', () => {
    const w = DistillationLossWeights(0.5, 0.5, 0);
    expect(String(w)).toBe('DistillationLossWeights(distill=0.5, student=0.5, teacher=0)');
    expect(`${DistillationLossWeights(0.25, 0.75, 1)}`).toBe('DistillationLossWeights(distill=0.25, student=0.75, teacher=1)');
    expect(inspect(w)).toBe('DistillationLossWeights(distill=0.5, student=0.5, teacher=0)');
    expect(JSON.stringify(w)).toBe('{"distill":0.5,"student":0.5,"teacher":0}');
    expect(w.asDict()).toEqual({ distill: 0.5, student: 0.5, teacher: 0 });
    expect(Object.keys(w)).toEqual(['0', '1', '2', 'distill', 'student', 'teacher']);
  });

  it('replaces fields into a new value', () => {
    const w = DistillationLossWeights(0.5, 0.5, 0);
    const r = w.replace({ teacher: 0.3 });
    expect([...r]).toEqual([0.5, 0.5, 0.3]);
    expect([...w]).toEqual([0.5, 0.5, 0]);
    expect(() => w.replace({ student: -1 })).toThrow(RangeError);
    // Each field on its own, zero included (a given 0 replaces; a missing field keeps the old value).
    const v = DistillationLossWeights(0.7, 0.2, 0.1);
    expect([...v.replace({ distill: 0 })]).toEqual([0, 0.2, 0.1]);
    expect([...v.replace({ student: 0 })]).toEqual([0.7, 0, 0.1]);
    expect([...v.replace({ teacher: 0 })]).toEqual([0.7, 0.2, 0]);
    expect([...v.replace({ distill: 0.4, student: 0.6 })]).toEqual([0.4, 0.6, 0.1]);
    expect([...v.replace({})]).toEqual([0.7, 0.2, 0.1]);
  });

  it('equals compares every field, and only weights', () => {
    const v = DistillationLossWeights(0.7, 0.2, 0.1);
    expect(v.equals(DistillationLossWeights(0.7, 0.2, 0.1))).toBe(true);
    expect(v.equals(DistillationLossWeights(0.6, 0.2, 0.1))).toBe(false);
    expect(v.equals(DistillationLossWeights(0.7, 0.3, 0.1))).toBe(false);
    expect(v.equals(DistillationLossWeights(0.7, 0.2, 0.2))).toBe(false);
    expect(v.equals({ distill: 0.7, student: 0.2, teacher: 0.1 })).toBe(false);
    expect(v.equals([0.7, 0.2, 0.1])).toBe(false);
  });

  it('its methods are ordinary class methods (non-enumerable, writable, configurable) and fields is a read-only enumerable static', () => {
    for (const key of ['toString', 'asDict', 'toJSON', 'replace', 'equals', Symbol.iterator]) {
      expect(Object.getOwnPropertyDescriptor(DistillationLossWeights.prototype, key)).toMatchObject({ enumerable: false, writable: true, configurable: true });
    }
    const spy = vi.spyOn(DistillationLossWeights.prototype, 'toString').mockReturnValue('patched');
    expect(String(DistillationLossWeights())).toBe('patched');
    spy.mockRestore();
    expect(String(DistillationLossWeights())).toBe('DistillationLossWeights(distill=0.5, student=0.5, teacher=0)');
    expect(Object.getOwnPropertyDescriptor(DistillationLossWeights, 'fields')).toEqual({
      value: ['distill', 'student', 'teacher'], writable: false, enumerable: true, configurable: false,
    });
    expect(Object.isFrozen(DistillationLossWeights.fields)).toBe(true);
  });

  it('its methods are not enumerable (for...in sees the fields only) and it names its type', () => {
    const v = DistillationLossWeights(0.7, 0.2, 0.1);
    const seen: string[] = [];
    for (const k in v) seen.push(k);
    expect(seen).toEqual(['0', '1', '2', 'distill', 'student', 'teacher']);
    expect(Object.prototype.toString.call(v)).toBe('[object DistillationLossWeights]');
  });

  it('rejects non-numbers (TypeError) and negative or non-finite weights (RangeError)', () => {
    expect(() => DistillationLossWeights('0.5' as never)).toThrow(TypeError);
    expect(() => DistillationLossWeights(0.5, null as never)).toThrow('DistillationLossWeights: expected a number for student but received null');
    expect(() => DistillationLossWeights(-0.1)).toThrow(RangeError);
    expect(() => DistillationLossWeights(0.5, NaN)).toThrow(RangeError);
    expect(() => DistillationLossWeights(0.5, 0.5, Infinity)).toThrow(/teacher must be a finite number >= 0/);
  });
});
