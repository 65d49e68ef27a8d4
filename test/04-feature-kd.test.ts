/**
 * Feature distillation against PyTorch: feature capture by module name, the feature losses (FitNets, attention
 * transfer, relational KD, cosine, MSE/L1) with their gradients, each feature policy through the CompressionScheduler,
 * and a two-network recipe (FitNets regressor + attention transfer + logit KD on an epoch schedule, SGD) — every
 * step's loss terms and the final weights equal to Python's, to the bit.
 * Fixtures: scripts/fixtures/gen_feature_kd.py → test/fixtures/feature_kd.json (the losses written as torchdistill,
 * the attention-transfer reference and PyTorch's KD tutorial write them; the runs as plain PyTorch loops with forward
 * hooks). Both sides use one intra-op thread, so the committed fixture does not depend on the machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { CompressionScheduler, DistillationLossWeights, KnowledgeDistillationPolicy, Tensor, TorchError, distiller, nn, optim } from '../lib/index';
import { expectTensor, fixture, fromJson, liveFixture, pythonWithTorch, thrown, thrownMessage, type TensorJson } from './helpers';

const F = torch.F;

type StateJson = Record<string, TensorJson>;
type Step = Record<string, number>;
interface LossCase {
  name: string;
  fn: string;
  options: Record<string, string>;
  s: TensorJson;
  t: TensorJson;
  loss: TensorJson;
  grad: TensorJson;
  params?: StateJson;
  param_grads?: StateJson;
}
interface Run {
  steps: Step[];
  student: StateJson;
  regressor?: StateJson;
}
interface FeatureKdFixture {
  torch: string;
  losses: LossCase[];
  data: { X: TensorJson; Y: TensorJson };
  teacher: StateJson;
  student_init: StateJson;
  regressor_init: StateJson;
  capture: { student: StateJson; fc_input: TensorJson; output: TensorJson; teacher: StateJson };
  policies: Record<string, Run>;
  recipe: Run;
}

const fx = fixture<FeatureKdFixture>('feature_kd');

const threads = torch.getNumThreads();
beforeAll(() => torch.setNumThreads(1));
afterAll(() => torch.setNumThreads(threads));

function load(m: nn.Module, sd: StateJson): void {
  m.loadStateDict(Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, fromJson(v)])));
}

function expectState(model: nn.Module, expected: StateJson): void {
  const sd = model.stateDict();
  expect(Object.keys(sd)).toEqual(Object.keys(expected));
  for (const [k, v] of Object.entries(expected)) {
    try {
      expectTensor(sd[k], v);
    } catch (e) {
      throw new Error(`${k}: ${(e as Error).message}`);
    }
  }
}

/** Every term of every step equal to the bit (key order too); the first difference is named. */
function expectSteps(actual: Step[], expected: Step[]): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => {
    expect(Object.keys(actual[i]), `step ${i}`).toEqual(Object.keys(e));
    for (const [k, v] of Object.entries(e)) {
      if (!Object.is(actual[i][k], v)) throw new Error(`step ${i} ${k}: got ${actual[i][k]}, expected ${v} (|diff| ${Math.abs(actual[i][k] - v)})`);
    }
  });
}

// ---- the two networks of gen_feature_kd.py ------------------------------------------------------------------------

class Teacher extends nn.Module {
  layer1 = new nn.Sequential(new nn.Conv2d(3, 8, { kernelSize: 3, padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU());
  layer2 = new nn.Sequential(new nn.Conv2d(8, 16, { kernelSize: 3, stride: 2, padding: 1 }), new nn.BatchNorm2d(16), new nn.ReLU());
  pool = new nn.AdaptiveAvgPool2d(1);
  flatten = new nn.Flatten();
  fc = new nn.Linear(16, 5);

  override forward(x: Tensor): Tensor {
    return this.fc.call(this.flatten.call(this.pool.call(this.layer2.call(this.layer1.call(x)))));
  }
}

class Student extends nn.Module {
  layer1 = new nn.Sequential(new nn.Conv2d(3, 4, { kernelSize: 3, padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU());
  layer2 = new nn.Sequential(new nn.Conv2d(4, 8, { kernelSize: 3, stride: 2, padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU());
  pool = new nn.AdaptiveAvgPool2d(1);
  embed = new nn.Linear(8, 16);
  fc = new nn.Linear(16, 5);

  override forward(x: Tensor): Tensor {
    const h = this.embed.call(torch.flatten(this.pool.call(this.layer2.call(this.layer1.call(x))), 1));
    return this.fc.call(torch.relu(h));
  }
}

interface Nets {
  student: Student;
  teacher: Teacher;
  regressor: nn.Conv2d;
}

function nets(): Nets {
  const student = new Student();
  const teacher = new Teacher();
  const regressor = new nn.Conv2d(8, 16, { kernelSize: 1 });
  load(student, fx.student_init);
  load(teacher, fx.teacher);
  load(regressor, fx.regressor_init);
  teacher.eval();
  return { student, teacher, regressor };
}

const X = fromJson(fx.data.X);
const Y = fromJson(fx.data.Y);

/** gen_feature_kd.py's train(): SGD over 3 batches of 8 per epoch, in Distiller's training-loop order. */
function train(scheduler: CompressionScheduler<distiller.Model>, student: nn.Module, forward: (x: Tensor) => Tensor, params: Tensor[], epochs: number): Step[] {
  const opt = new optim.SGD(params, { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
  const steps: Step[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    scheduler.onEpochBegin(epoch, opt);
    student.train();
    for (let b = 0; b < 3; b++) {
      const x = X.narrow(0, b * 8, 8);
      const y = Y.narrow(0, b * 8, 8);
      scheduler.onMinibatchBegin(epoch, b, 3, opt);
      const out = forward(x);
      const ce = F.crossEntropy(out, y);
      const pl = scheduler.beforeBackwardPass(epoch, b, 3, ce, { optimizer: opt, returnLossComponents: true, labels: y });
      const record: Step = { ce: ce.item() };
      for (const c of pl.lossComponents) record[c.name] = c.value.item();
      record.overall = pl.overallLoss.item();
      steps.push(record);
      opt.zeroGrad();
      pl.overallLoss.backward();
      scheduler.beforeParameterOptimization(epoch, b, 3, opt);
      opt.step();
      scheduler.onMinibatchEnd(epoch, b, 3, opt);
    }
    scheduler.onEpochEnd(epoch, opt);
  }
  return steps;
}

/** Counts forwards of the whole teacher (a forward hook of its own). */
function countForwards(m: nn.Module): { count: number; remove(): void } {
  const c = { count: 0, remove: () => h.remove() };
  const h = m.registerForwardHook(() => {
    c.count++;
  });
  return c;
}

// ---- feature capture ------------------------------------------------------------------------------------------------

describe('FeatureCapture: outputs of named submodules through forward hooks', () => {
  it('captures what PyTorch’s hooks capture: student features in train mode, a module’s input, teacher features under no-grad', () => {
    const { student, teacher } = nets();
    student.train();
    const cap = new distiller.FeatureCapture(student, ['layer1', 'layer2.1', 'embed']);
    const fcIn = new distiller.FeatureCapture(student, ['fc'], { io: 'input' });
    const out = student.call(X.narrow(0, 0, 8));
    expectTensor(out, fx.capture.output);
    for (const [name, v] of Object.entries(fx.capture.student)) expectTensor(cap.get(name), v);
    expectTensor(fcIn.get('fc'), fx.capture.fc_input);
    expect(cap.get('embed').requiresGrad).toBe(true);
    expect(cap.inputs?.[0]).toBeInstanceOf(Tensor);
    const tcap = new distiller.FeatureCapture(teacher, ['layer2', 'flatten'], { detach: true });
    torch.noGrad(() => teacher.call(X.narrow(0, 0, 8)));
    for (const [name, v] of Object.entries(fx.capture.teacher)) {
      expectTensor(tcap.get(name), v);
      expect(tcap.get(name).requiresGrad).toBe(false);
    }
    for (const c of [cap, fcIn, tcap]) c.remove();
  });

  it('is emptied by each forward of the model and by clear(): a stale read is a TorchError, never last step’s tensor', () => {
    const { student } = nets();
    const cap = new distiller.FeatureCapture(student, ['layer1', 'embed']);
    expect(() => cap.get('embed')).toThrow(TorchError);
    student.call(X.narrow(0, 0, 8));
    const first = cap.get('embed');
    expect(cap.forwardCount).toBe(1);
    student.call(X.narrow(0, 8, 8));
    expect(cap.get('embed')).not.toBe(first);
    cap.clear();
    const e = thrown(() => cap.get('embed'));
    expect(e).toBeInstanceOf(TorchError);
    expect(e.message).toMatch(/no output of 'embed' was captured since the last clear\(\)/);
    expect(cap.inputs).toBeNull();
    expect(() => cap.get('layer2')).toThrow(RangeError);
    // A module the forward does not run leaves nothing to read.
    student.embed.call(torch.randn(2, 8));
    expect(cap.has('layer1')).toBe(false);
    cap.remove();
  });

  it('remove() (or `using`) takes the hooks off: the model runs natively again and nothing is captured', () => {
    const seq = new nn.Sequential(new nn.Linear(4, 3), new nn.ReLU(), new nn.Linear(3, 2));
    const native = seq.nativeHandle();
    expect(native).not.toBeNull();
    {
      using cap = new distiller.FeatureCapture(seq, ['0', '1']);
      expect(seq.nativeHandle()).toBeNull();
      seq.call(torch.randn(5, 4));
      expect(cap.get('1').shape).toEqual([5, 3]);
    }
    expect(seq.nativeHandle()).not.toBeNull();
    const cap = new distiller.FeatureCapture(seq, ['2']);
    cap.remove();
    cap.remove();
    expect(cap.removed).toBe(true);
    seq.call(torch.randn(5, 4));
    expect(cap.has('2')).toBe(false);
  });

  it('names the submodules when a name is unknown, and checks its arguments', () => {
    const { student } = nets();
    const e = thrown(() => new distiller.FeatureCapture(student, ['layer3']));
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toMatch(/Student has no submodule 'layer3'.*'layer1', 'layer1.0'/);
    expect(() => new distiller.FeatureCapture(student, ['layer1.7'])).toThrow(RangeError);
    expect(() => new distiller.FeatureCapture((() => 0) as never, ['a'])).toThrow(TypeError);
    expect(() => new distiller.FeatureCapture(student, 'layer1' as never)).toThrow(TypeError);
    expect(() => new distiller.FeatureCapture(student, [3 as never])).toThrow(TypeError);
    expect(() => new distiller.FeatureCapture(student, ['layer1'], { io: 'both' as never })).toThrow(RangeError);
    // Nothing was left hooked by the failed constructions.
    expect([...student.modules()].some((m) => m._hasHooks())).toBe(false);
    // A module whose output is not a tensor is reported when read.
    class Pair extends nn.Module {
      inner = new nn.Identity();
      override forward(x: Tensor): unknown {
        return [this.inner.call(x), x];
      }
    }
    class Outer extends nn.Module {
      pair = new Pair();
      override forward(x: Tensor): unknown {
        return this.pair.call(x);
      }
    }
    const outer = new Outer();
    const cap = new distiller.FeatureCapture(outer, ['pair']);
    outer.call(torch.ones(2));
    expect(thrownMessage(() => cap.get('pair'))).toBe("TypeError: FeatureCapture: the output of 'pair' is an array, not a Tensor");
  });
  it('its errors, word for word: the submodules it has (the first 12), the argument, the step that did not run', () => {
    const identities = (n: number): nn.Sequential => new nn.Sequential(...Array.from({ length: n }, () => new nn.Identity()));
    const cases: [() => unknown, string][] = [
      [() => new distiller.FeatureCapture(new nn.Linear(6, 4), ['x']), 'RangeError: FeatureCapture: names[0]: Linear has no submodule \'x\'; it has no submodules'],
      [() => new distiller.FeatureCapture(identities(12), ['x']), 'RangeError: FeatureCapture: names[0]: Sequential has no submodule \'x\'; its submodules are \'0\', \'1\', \'2\', \'3\', \'4\', \'5\', \'6\', \'7\', \'8\', \'9\', \'10\', \'11\''],
      [() => new distiller.FeatureCapture(identities(13), ['x']), 'RangeError: FeatureCapture: names[0]: Sequential has no submodule \'x\'; its submodules are \'0\', \'1\', \'2\', \'3\', \'4\', \'5\', \'6\', \'7\', \'8\', \'9\', \'10\', \'11\', … (13 in all)'],
      [() => new distiller.FeatureCapture(identities(2), [3 as never]), 'TypeError: FeatureCapture: names[0]: expected a module name (a dotted path such as \'layer3\' or \'features.4\') but received the number 3'],
      [() => new distiller.FeatureCapture((() => 0) as never, ['a']), 'TypeError: FeatureCapture: expected an nn.Module for model but received the function (anonymous)'],
      [() => new distiller.FeatureCapture(identities(2), 'a' as never), 'TypeError: FeatureCapture: expected an array of module names for names but received the string "a"'],
      [() => new distiller.FeatureCapture(identities(2), {} as never), 'TypeError: FeatureCapture: expected an array of module names for names but received an object (Object)'],
      [() => new distiller.FeatureCapture(identities(2), null as never), 'TypeError: FeatureCapture: expected an array of module names for names but received null'],
      [() => new distiller.FeatureCapture(identities(2), ['0'], null as never), 'TypeError: FeatureCapture: expected an options object but received null'],
      [() => new distiller.FeatureCapture(identities(2), ['0'], 'output' as never), 'TypeError: FeatureCapture: expected an options object but received the string "output"'],
      [() => new distiller.FeatureCapture(identities(2), ['0'], { io: 'both' as never }), 'RangeError: FeatureCapture: io must be \'output\' or \'input\', got the string "both"'],
      [() => new distiller.FeatureCapture(identities(2), ['0', '1', '5']), 'RangeError: FeatureCapture: names[2]: Sequential has no submodule \'5\'; its submodules are \'0\', \'1\''],
      [() => new distiller.FeatureCapture(identities(2), []).get('0'), 'RangeError: FeatureCapture.get: \'0\' is not captured; the captured modules are none'],
      [() => new distiller.FeatureCapture(identities(2), ['0', '1']).get('2'), 'RangeError: FeatureCapture.get: \'2\' is not captured; the captured modules are \'0\', \'1\''],
      [() => new distiller.FeatureCapture(identities(2), ['1'], { io: 'input' }).get('1'), 'TorchError: FeatureCapture: no input of \'1\' was captured since the last clear(): run the model through call() (or the policy\'s forward) in this step before reading its features; features are never reused from an earlier step'],
      [() => new distiller.FeatureCapture(identities(2), ['1']).get('1'), 'TorchError: FeatureCapture: no output of \'1\' was captured since the last clear(): run the model through call() (or the policy\'s forward) in this step before reading its features; features are never reused from an earlier step'],
    ];
    for (const [fn, expected] of cases) expect(thrownMessage(fn)).toBe(expected);
  });
});

// ---- the losses -----------------------------------------------------------------------------------------------------

type LossFn = (s: Tensor, t: Tensor, options: Record<string, string>, regressor: nn.Module | null) => Tensor;
const LOSSES: Record<string, LossFn> = {
  fitnetsLoss: (s, t, o, regressor) => distiller.fitnetsLoss(s, t, { ...o, regressor } as distiller.FitNetsLossOptions),
  attentionTransferLoss: (s, t, o) => distiller.attentionTransferLoss(s, t, o as { mode: distiller.AttentionMode }),
  attentionMap: (f, w, o) => distiller.attentionMap(f, o as { mode: distiller.AttentionMode }).mul(w).sum(),
  rkdDistanceLoss: (s, t, o) => distiller.rkdDistanceLoss(s, t, o as distiller.RkdLossOptions),
  rkdAngleLoss: (s, t, o) => distiller.rkdAngleLoss(s, t, o as distiller.RkdLossOptions),
  cosineFeatureLoss: (s, t, o) => distiller.cosineFeatureLoss(s, t, o as distiller.RkdLossOptions),
  featureLoss: (s, t, o) => distiller.featureLoss(s, t, o as distiller.FeatureLossOptions),
};

describe('feature losses: value and gradient equal PyTorch’s (torchdistill / AT reference / KD tutorial) to the bit', () => {
  for (const c of fx.losses) {
    it(c.name, () => {
      const s = fromJson(c.s, { requiresGrad: true });
      const t = fromJson(c.t);
      let regressor: nn.Conv2d | null = null;
      if (c.params) {
        regressor = new nn.Conv2d(8, 16, { kernelSize: 1, dtype: c.s.dtype });
        load(regressor, c.params);
      }
      const loss = LOSSES[c.fn](s, t, c.options, regressor);
      expectTensor(loss, c.loss);
      loss.backward();
      expectTensor(s.grad as Tensor, c.grad);
      if (regressor && c.param_grads) for (const [k, p] of regressor.namedParameters()) expectTensor(p.grad as Tensor, c.param_grads[k]);
    });
  }

  it('bad arguments: shape mismatches, reductions, modes and non-tensors are clear errors', () => {
    const a = torch.randn(4, 8, 4, 4);
    const b = torch.randn(4, 16, 4, 4);
    expect(thrown(() => distiller.fitnetsLoss(a, b)).message).toMatch(/student feature has shape \[4, 8, 4, 4\] but the teacher's hint \[4, 16, 4, 4\]; give a regressor/);
    expect(() => distiller.fitnetsLoss(a, b, { regressor: new nn.Conv2d(8, 12, { kernelSize: 1 }) })).toThrow(RangeError);
    expect(() => distiller.fitnetsLoss(a, b, { regressor: 3 as never })).toThrow(TypeError);
    expect(() => distiller.fitnetsLoss(a, b, { regressor: () => 1 as never })).toThrow(TypeError);
    expect(() => distiller.fitnetsLoss(a, a, { reduction: 'none' as never })).toThrow(RangeError);
    expect(thrown(() => distiller.attentionTransferLoss(a, torch.randn(4, 8, 2, 2))).message).toMatch(/same batch size and spatial size/);
    expect(() => distiller.attentionTransferLoss(a, b, { mode: 'both' as never })).toThrow(RangeError);
    expect(() => distiller.attentionMap(torch.randn(4, 8))).toThrow(RangeError);
    expect(() => distiller.rkdDistanceLoss(torch.randn(4, 3), torch.randn(5, 3))).toThrow(RangeError);
    expect(() => distiller.rkdAngleLoss(torch.randn(1, 3), torch.randn(1, 3))).toThrow(/at least 2 samples/);
    expect(() => distiller.cosineFeatureLoss(torch.randn(4, 3), torch.randn(4, 5))).toThrow(RangeError);
    expect(() => distiller.featureLoss(a, b)).toThrow(RangeError);
    expect(() => distiller.featureLoss(a, a, { loss: 'huber' as never })).toThrow(RangeError);
    expect(() => distiller.featureLoss([1, 2] as never, a)).toThrow(TypeError);
    expect(() => distiller.featureLoss(a, a, 'sum' as never)).toThrow(TypeError);
  });

  it('every error names the function, the argument and what was wrong, word for word', () => {
    const a = torch.randn(4, 8, 4, 4);
    const b = torch.randn(4, 16, 4, 4);
    const cases: [() => unknown, string][] = [
      [() => distiller.featureLoss([1, 2] as never, a), 'TypeError: featureLoss: expected a Tensor for student feature but received an array'],
      [() => distiller.attentionMap(torch.randn(4, 8)), 'RangeError: attentionMap: the feature map needs at least 3 dimensions (batch first), got shape [4, 8]'],
      [() => distiller.featureLoss(torch.randn(4, 8), torch.randn(4, 8, 3)), 'RangeError: featureLoss: the features must have the same shape, got student [4, 8], teacher [4, 8, 3]'],
      [() => distiller.featureLoss(a, a, { reduction: 'none' as never }), 'RangeError: featureLoss: reduction must be \'mean\' or \'sum\', got the string "none"'],
      [() => distiller.featureLoss(a, a, null as never), 'TypeError: featureLoss: expected an options object but received null'],
      [() => distiller.fitnetsLoss(1 as never, b), 'TypeError: fitnetsLoss: expected a Tensor for student feature but received the number 1'],
      [() => distiller.fitnetsLoss(a, 'x' as never), 'TypeError: fitnetsLoss: expected a Tensor for teacher feature but received the string "x"'],
      [() => distiller.fitnetsLoss(a, b, { regressor: 3 as never }), 'TypeError: fitnetsLoss: expected an nn.Module, a function or null for regressor but received the number 3'],
      [() => distiller.fitnetsLoss(a, b, { regressor: () => 1 as never }), 'TypeError: fitnetsLoss: the regressor returned the number 1, not a Tensor'],
      [() => distiller.fitnetsLoss(a, b, { regressor: new nn.Conv2d(8, 12, { kernelSize: 1 }) }), 'RangeError: fitnetsLoss: the regressed student feature has shape [4, 12, 4, 4] but the teacher\'s hint [4, 16, 4, 4]'],
      [() => distiller.fitnetsLoss(a, b), 'RangeError: fitnetsLoss: the student feature has shape [4, 8, 4, 4] but the teacher\'s hint [4, 16, 4, 4]; give a regressor that maps one to the other'],
      [() => distiller.attentionMap(a, { mode: 'both' as never }), 'RangeError: attentionMap: mode must be \'code\' or \'paper\', got the string "both"'],
      [() => distiller.attentionTransferLoss(torch.randn(4, 8), a), 'RangeError: attentionTransferLoss: the student feature map needs at least 3 dimensions (batch first), got shape [4, 8]'],
      [() => distiller.attentionTransferLoss(a, torch.randn(4, 8)), 'RangeError: attentionTransferLoss: the teacher feature map needs at least 3 dimensions (batch first), got shape [4, 8]'],
      [() => distiller.attentionTransferLoss(a, torch.randn(3, 8, 4, 4)), 'RangeError: attentionTransferLoss: attention maps need the same batch size and spatial size (channels may differ), got student [4, 8, 4, 4], teacher [3, 8, 4, 4]'],
      [() => distiller.rkdDistanceLoss(torch.randn(4, 3), torch.randn(5, 3)), 'RangeError: rkdDistanceLoss: student and teacher features need the same batch size, got student [4, 3], teacher [5, 3]'],
      [() => distiller.rkdDistanceLoss(torch.randn(4), torch.randn(4, 3)), 'RangeError: rkdDistanceLoss: the student feature needs at least 2 dimensions (batch first), got shape [4]'],
      [() => distiller.rkdAngleLoss(torch.randn(4, 3), 7 as never), 'TypeError: rkdAngleLoss: expected a Tensor for teacher feature but received the number 7'],
      [() => distiller.rkdAngleLoss(torch.randn(2, 3), torch.randn(2, 3), { reduction: 'max' as never }), 'RangeError: rkdAngleLoss: reduction must be \'mean\' or \'sum\', got the string "max"'],
      [() => distiller.cosineFeatureLoss(torch.randn(4, 3), torch.randn(4, 5)), 'RangeError: cosineFeatureLoss: the flattened features must have the same shape, got student [4, 3], teacher [4, 5]'],
      [() => distiller.cosineFeatureLoss(torch.randn(4), torch.randn(4, 5)), 'RangeError: cosineFeatureLoss: the student feature needs at least 2 dimensions (batch first), got shape [4]'],
      [() => distiller.cosineFeatureLoss(torch.randn(4, 3), torch.randn(4, 3), { reduction: 'none' as never }), 'RangeError: cosineFeatureLoss: reduction must be \'mean\' or \'sum\', got the string "none"'],
      [() => distiller.featureLoss(a, b), 'RangeError: featureLoss: the features must have the same shape, got student [4, 8, 4, 4], teacher [4, 16, 4, 4]'],
      [() => distiller.featureLoss(a, a, { loss: 'huber' as never }), 'RangeError: featureLoss: loss must be \'mse\' or \'l1\', got the string "huber"'],
      [() => distiller.featureLoss(a, 5 as never), 'TypeError: featureLoss: expected a Tensor for teacher feature but received the number 5'],
      [() => distiller.attentionTransferLoss(a, b, 'code' as never), 'TypeError: attentionTransferLoss: expected an options object but received the string "code"'],
      [() => distiller.attentionMap(a, 3 as never), 'TypeError: attentionMap: expected an options object but received the number 3'],
      [() => distiller.cosineFeatureLoss(torch.randn(4, 3), 'x' as never), 'TypeError: cosineFeatureLoss: expected a Tensor for teacher feature but received the string "x"'],
      [() => distiller.rkdAngleLoss(torch.randn(1, 3), torch.randn(1, 3)), 'RangeError: rkdAngleLoss: relations need at least 2 samples in the batch, got 1'],
    ];
    for (const [fn, expected] of cases) expect(thrownMessage(fn)).toBe(expected);
    // Two samples are enough for relations; the default attention mode is the authors' code.
    expect(Number.isFinite(distiller.rkdAngleLoss(torch.randn(2, 3), torch.randn(2, 3)).item())).toBe(true);
    expect(distiller.attentionMap(a).equal(distiller.attentionMap(a, { mode: 'code' }))).toBe(true);
    expect(distiller.attentionTransferLoss(a, b).equal(distiller.attentionTransferLoss(a, b, { mode: 'code' }))).toBe(true);
  });
});

// ---- each policy through the scheduler ------------------------------------------------------------------------------

type Make = (n: Nets) => { policy: distiller.FeatureDistillationPolicy; forward: (x: Tensor) => Tensor; params: Tensor[] };

const studentCall = (n: Nets) => (x: Tensor): Tensor => n.student.call(x);

const POLICIES: Record<string, [string, Make]> = {
  fitnets: ['FitNetsPolicy: a 1×1 conv regressor, reduction sum, policy.forward', (n) => {
    const policy = new distiller.FitNetsPolicy(n.student, n.teacher, 'layer2', n.regressor, { weight: 0.001, reduction: 'sum' });
    return { policy, forward: (x) => policy.forward(x), params: [...n.student.parameters(), ...policy.parameters()] };
  }],
  at_paper: ['AttentionTransferPolicy, paper mode, two pairs with factors 1 and 0.5, the teacher run by the policy', (n) => {
    const policy = new distiller.AttentionTransferPolicy(n.student, n.teacher, ['layer1', 'layer2'], { mode: 'paper', pairWeights: [1, 0.5], weight: 10 });
    return { policy, forward: studentCall(n), params: n.student.parameters() };
  }],
  at_code: ['AttentionTransferPolicy, code mode, β = 1000', (n) => {
    const policy = new distiller.AttentionTransferPolicy(n.student, n.teacher, ['layer1', 'layer2'], { weight: 1000 });
    return { policy, forward: (x) => policy.forward(x), params: n.student.parameters() };
  }],
  rkd: ['RelationalKDPolicy: distance (1) and angle (2) between a student embedding and the teacher’s pooled features', (n) => {
    const policy = new distiller.RelationalKDPolicy(n.student, n.teacher, ['embed', 'pool']);
    return { policy, forward: studentCall(n), params: n.student.parameters() };
  }],
  rkd_angle_sum: ['RelationalKDPolicy: angle only, reduction sum', (n) => {
    const policy = new distiller.RelationalKDPolicy(n.student, n.teacher, ['embed', 'pool'], { distanceWeight: 0, angleWeight: 0.1, reduction: 'sum' });
    return { policy, forward: studentCall(n), params: n.student.parameters() };
  }],
  cosine: ['CosineFeaturePolicy: the KD tutorial’s cosine loss on hidden representations', (n) => {
    const policy = new distiller.CosineFeaturePolicy(n.student, n.teacher, [['embed', 'pool']], { weight: 0.25 });
    return { policy, forward: (x) => policy.forward(x), params: n.student.parameters() };
  }],
  mse: ['FeatureLossPolicy: MSE', (n) => {
    const policy = new distiller.FeatureLossPolicy(n.student, n.teacher, [['embed', 'flatten']]);
    return { policy, forward: studentCall(n), params: n.student.parameters() };
  }],
  l1_two_pairs: ['FeatureLossPolicy: L1, reduction sum, two pairs with factors', (n) => {
    const policy = new distiller.FeatureLossPolicy(n.student, n.teacher, [['embed', 'flatten'], ['embed', 'flatten']], { loss: 'l1', reduction: 'sum', pairWeights: [1, 0.5], weight: 0.01 });
    return { policy, forward: studentCall(n), params: n.student.parameters() };
  }],
  custom: ['FeatureDistillationPolicy with a criterion of one’s own (smooth L1)', (n) => {
    const policy = new distiller.FeatureDistillationPolicy(n.student, n.teacher, [['embed', 'flatten']], (s, t) => F.smoothL1Loss(s, t), { name: 'Hint Loss', weight: 3 });
    return { policy, forward: studentCall(n), params: n.student.parameters() };
  }],
};

describe('each feature policy through the CompressionScheduler matches PyTorch step for step, to the bit', () => {
  for (const [key, [title, make]] of Object.entries(POLICIES)) {
    it(title, () => {
      const n = nets();
      const { policy, forward, params } = make(n);
      const scheduler = new CompressionScheduler<distiller.Model>(n.student);
      scheduler.addPolicy(policy, { startingEpoch: 0, endingEpoch: 2 });
      const teacherRuns = countForwards(n.teacher);
      const steps = train(scheduler, n.student, forward, params, 2);
      expect(teacherRuns.count).toBe(6); // once per step, whether the policy or the loop ran the student
      expectSteps(steps, fx.policies[key].steps);
      expectState(n.student, fx.policies[key].student);
      if (fx.policies[key].regressor) expectState(n.regressor, fx.policies[key].regressor as StateJson);
      policy.remove();
      teacherRuns.remove();
    });
  }
});

// ---- the recipe -----------------------------------------------------------------------------------------------------

describe('recipe: FitNets regressor + attention transfer + logit KD on an epoch schedule, SGD', () => {
  function recipe(impl: 'composite' | 'fused'): { steps: Step[]; n: Nets; teacherRuns: number } {
    const n = nets();
    const { student, teacher, regressor } = n;
    const kd = new KnowledgeDistillationPolicy(student, teacher, 4.0, DistillationLossWeights(0.7, 0.3, 0), { impl });
    const hint = new distiller.FitNetsPolicy(student, teacher, 'layer2', regressor);
    const at = new distiller.AttentionTransferPolicy(student, teacher, ['layer1', 'layer2'], { weight: 100 });
    const scheduler = new CompressionScheduler<distiller.Model>(student);
    scheduler.addPolicy(kd, { epochs: [1, 2] }); // first: it scales the loss it receives by the student weight
    scheduler.addPolicy(hint, { startingEpoch: 0, endingEpoch: 2 }); // the hint stage...
    scheduler.addPolicy(at, { startingEpoch: 0, endingEpoch: 3 });
    const counter = countForwards(teacher);
    const steps = train(scheduler, student, (x) => kd.forward(x), [...student.parameters(), ...hint.parameters()], 3);
    counter.remove();
    return { steps, n, teacherRuns: counter.count };
  }

  it('composite KD loss: every step’s CE, KD, FitNets, AT and overall loss and the final student and regressor weights are bit-identical', () => {
    const { steps, n, teacherRuns } = recipe('composite');
    expect(teacherRuns).toBe(9); // epoch 0: run by the FitNets policy (KD inactive); then by kd.forward; never twice
    expect(steps.map((s) => Object.keys(s))).toEqual(fx.recipe.steps.map((s) => Object.keys(s)));
    expectSteps(steps, fx.recipe.steps);
    expectState(n.student, fx.recipe.student);
    expectState(n.regressor, fx.recipe.regressor as StateJson);
  });

  it('fused KD loss: the same run within float rounding', () => {
    const { steps, n } = recipe('fused');
    steps.forEach((s, i) => {
      for (const [k, e] of Object.entries(fx.recipe.steps[i])) expect(Math.abs(s[k] - e), `step ${i} ${k}`).toBeLessThanOrEqual(1e-5 * Math.abs(e) + 1e-7);
    });
    for (const [k, v] of Object.entries(fx.recipe.student)) expectTensor(n.student.stateDict()[k], v, { rtol: 1e-4, atol: 1e-6 });
  });
});

// ---- behaviour --------------------------------------------------------------------------------------------------------

describe('feature policies', () => {
  const x = X.narrow(0, 0, 8);
  const meta = { startingEpoch: 0, endingEpoch: 1, frequency: 1 };

  it('a step whose student did not run is an error, and so is a second loss for one forward', () => {
    const n = nets();
    const p = new distiller.AttentionTransferPolicy(n.student, n.teacher, 'layer1');
    p.onEpochBegin(n.student, {}, meta);
    const loss = torch.tensor(1.0);
    const e = thrown(() => p.beforeBackwardPass(n.student, 0, 0, 1, loss, {}));
    expect(e).toBeInstanceOf(TorchError);
    expect(e.message).toMatch(/AttentionTransferPolicy: the student's features \('layer1'\) were not captured in this step. Run policy.forward\(x\)/);
    n.student.call(x);
    expect(p.beforeBackwardPass(n.student, 0, 0, 1, loss, {})).toBeInstanceOf(torch.PolicyLoss);
    expect(() => p.beforeBackwardPass(n.student, 0, 0, 1, loss, {})).toThrow(TorchError);
    // forward() directly (not through call()) runs no hooks, so it is caught too.
    n.student.forward(x);
    expect(() => p.beforeBackwardPass(n.student, 0, 0, 1, loss, {})).toThrow(TorchError);
    p.remove();
  });

  it('is inactive outside its epochs: returns null, captures nothing, never runs the teacher', () => {
    const n = nets();
    const p = new distiller.FeatureLossPolicy(n.student, n.teacher, [['embed', 'flatten']]);
    const scheduler = new CompressionScheduler<distiller.Model>(n.student);
    scheduler.addPolicy(p, { epochs: [1] });
    const runs = countForwards(n.teacher);
    scheduler.onEpochBegin(0);
    const out = p.forward(x);
    const loss = F.crossEntropy(out, Y.narrow(0, 0, 8));
    expect(scheduler.beforeBackwardPass(0, 0, 1, loss)).toBe(loss);
    expect(p.studentFeatures.has('embed')).toBe(false);
    scheduler.onEpochEnd(0);
    scheduler.onEpochBegin(1);
    p.forward(x);
    const pl = scheduler.beforeBackwardPass(1, 0, 1, loss, { returnLossComponents: true });
    expect(pl.lossComponents.map((c) => c.name)).toEqual(['Feature MSE Loss']);
    expect(runs.count).toBe(1);
    scheduler.onEpochEnd(1);
    expect(p.active).toBe(false);
    p.remove();
  });

  it('puts the teacher in eval mode and freezes it; the teacher’s features carry no graph', () => {
    const n = nets();
    n.teacher.train();
    const p = new distiller.FitNetsPolicy(n.student, n.teacher, 'layer2', n.regressor);
    expect(n.teacher.training).toBe(false);
    expect(n.teacher.parameters().every((q) => !q.requiresGrad)).toBe(true);
    expect(p.parameters()).toEqual(n.regressor.parameters());
    p.onEpochBegin(n.student, {}, meta);
    n.student.call(x);
    n.teacher.call(x); // outside noGrad: the capture detaches
    expect(p.teacherFeatures.get('layer2').requiresGrad).toBe(false);
    expect(p.studentFeatures.get('layer2').requiresGrad).toBe(true);
    p.remove();
    const q = new distiller.FeatureLossPolicy(n.student, n.teacher, 'layer1', { freezeTeacher: false });
    expect(q.teacher).toBe(n.teacher);
    q.remove();
  });

  it('resumes: the scheduler’s state dict carries the active flag; remove() ends the policy', () => {
    const n = nets();
    const make = (): [distiller.RelationalKDPolicy, CompressionScheduler<distiller.Model>] => {
      const p = new distiller.RelationalKDPolicy(n.student, n.teacher, ['embed', 'pool']);
      const s = new CompressionScheduler<distiller.Model>(n.student);
      s.addPolicy(p, { startingEpoch: 0, endingEpoch: 2 });
      return [p, s];
    };
    const [a, sa] = make();
    sa.onEpochBegin(0);
    const [b, sb] = make();
    sb.loadStateDict(JSON.parse(JSON.stringify(sa.stateDict())));
    expect(b.active).toBe(true);
    n.student.call(x);
    const pl = b.beforeBackwardPass(n.student, 0, 0, 1, torch.tensor(0.0), {}) as torch.PolicyLoss;
    expect(pl.lossComponents.map((c) => c.name)).toEqual(['RKD Distance Loss', 'RKD Angle Loss']);
    expect(() => b.loadStateDict({} as never)).toThrow(TypeError);
    a.remove();
    b.remove();
    expect(() => b.beforeBackwardPass(n.student, 0, 0, 1, torch.tensor(0.0), {})).toThrow(/remove\(\) took its hooks off/);
    expect([...n.student.modules(), ...n.teacher.modules()].some((m) => m._hasHooks())).toBe(false);
  });

  it('their errors, word for word', () => {
    const S = (): nn.Sequential => new nn.Sequential(new nn.Linear(6, 4), new nn.ReLU(), new nn.Linear(4, 3));
    const s = S();
    const t = S();
    const crit = (a: Tensor, b: Tensor): Tensor => a.sub(b).pow(2).mean();
    // Called with wrong arguments on purpose: the constructors untyped.
    const P = distiller as unknown as Record<string, new (...args: unknown[]) => { loadStateDict(state: unknown): void }>;
    const cases: [() => unknown, string][] = [
      [() => new P.FeatureDistillationPolicy(s, t, [['0', '0']], crit, { weight: 'x' }), 'TypeError: FeatureDistillationPolicy: expected a number for weight but received the string "x"'],
      [() => new P.FeatureDistillationPolicy(s, t, 5, crit), 'TypeError: FeatureDistillationPolicy: expected a module name or an array of pairs for pairs but received the number 5'],
      [() => new P.FeatureDistillationPolicy(s, t, [['0', '0', '2']], crit), 'TypeError: FeatureDistillationPolicy: pairs[0] must be a module name or [studentName, teacherName], but is an array'],
      [() => new P.FeatureDistillationPolicy(s, t, [['0', '0']], 3), 'TypeError: FeatureDistillationPolicy: expected a function (student, teacher, pair) => Tensor for criterion but received the number 3'],
      [() => new P.FeatureDistillationPolicy(s, t, [['0', '0']], null, null), 'TypeError: FeatureDistillationPolicy: expected an options object but received null'],
      [() => new P.FeatureDistillationPolicy(s, t, [['0', '0']], crit, { pairWeights: 1 }), 'TypeError: FeatureDistillationPolicy: expected an array of numbers for pairWeights but received the number 1'],
      [() => new P.FeatureDistillationPolicy(s, t, [['0', '0']], crit, { pairWeights: ['a'] }), 'TypeError: FeatureDistillationPolicy: expected a number for pairWeights[0] but received the string "a"'],
      [() => new P.FeatureDistillationPolicy(s, t, [['0', '0']], crit, { name: 3 }), 'TypeError: FeatureDistillationPolicy: expected a string for name but received the number 3'],
      [() => new P.FitNetsPolicy(s, t, '0', null, 'x'), 'TypeError: FitNetsPolicy: expected an options object but received the string "x"'],
      [() => new P.FitNetsPolicy(s, t, '0', null, { reduction: 'none' }), 'RangeError: FitNetsPolicy: reduction must be \'mean\' or \'sum\', got the string "none"'],
      [() => new P.FitNetsPolicy(s, t, 7, null), 'TypeError: FitNetsPolicy: expected a module name or [studentName, teacherName] but received the number 7'],
      [() => new P.AttentionTransferPolicy(s, t, ['0'], 'x'), 'TypeError: AttentionTransferPolicy: expected an options object but received the string "x"'],
      [() => new P.RelationalKDPolicy(s, t, ['0', '0'], { distanceWeight: 'a' }), 'TypeError: RelationalKDPolicy: expected a number for distanceWeight but received the string "a"'],
      [() => new P.RelationalKDPolicy(s, t, ['0', '0'], { angleWeight: -1 }), 'RangeError: RelationalKDPolicy: angleWeight must be a finite number >= 0 but is -1'],
      [() => new P.RelationalKDPolicy(s, t, ['0', '0'], { distanceWeight: 0, angleWeight: 0 }), 'RangeError: RelationalKDPolicy: distanceWeight and angleWeight are both 0, so there is nothing to distil'],
      [() => new P.RelationalKDPolicy(s, t, 3), 'TypeError: RelationalKDPolicy: expected a module name or [studentName, teacherName] but received the number 3'],
      [() => new P.CosineFeaturePolicy(s, t, [['0', '0']], 'x'), 'TypeError: CosineFeaturePolicy: expected an options object but received the string "x"'],
      [() => new P.CosineFeaturePolicy(s, t, [['0', '0']], { reduction: 'max' }), 'RangeError: CosineFeaturePolicy: reduction must be \'mean\' or \'sum\', got the string "max"'],
      [() => new P.FeatureLossPolicy(s, t, [['0', '0']], 'x'), 'TypeError: FeatureLossPolicy: expected an options object but received the string "x"'],
      [() => new P.FeatureLossPolicy(s, t, [['0', '0']], { loss: 'huber' }), 'RangeError: FeatureLossPolicy: loss must be \'mse\' or \'l1\', got the string "huber"'],
      [() => new P.FeatureLossPolicy(s, t, [['0', '0']], { reduction: 'none' }), 'RangeError: FeatureLossPolicy: reduction must be \'mean\' or \'sum\', got the string "none"'],
      [() => new P.FeatureLossPolicy(s, t, [['0', '0']]).loadStateDict(null), 'TypeError: FeatureLossPolicy.loadStateDict expects {active: boolean}'],
      [() => new P.FeatureDistillationPolicy(s, t, [[1, '0']], crit), 'TypeError: FeatureDistillationPolicy: pairs[0] must be a module name or [studentName, teacherName], but is an array'],
      [() => new P.FeatureDistillationPolicy(s, t, [], crit), 'RangeError: FeatureDistillationPolicy: pairs must name at least one pair of modules'],
      [() => new P.FeatureDistillationPolicy(s, t, ['0', 7], crit), 'TypeError: FeatureDistillationPolicy: pairs[1] must be a module name or [studentName, teacherName], but is the number 7'],
    ];
    for (const [fn, expected] of cases) expect(thrownMessage(fn)).toBe(expected);
  });

  it('bad arguments are TypeErrors and RangeErrors naming what is wrong, and leave no hooks behind', () => {
    const { student, teacher, regressor } = nets();
    const msg = thrownMessage;
    expect(msg(() => new distiller.FitNetsPolicy(student, teacher, ['layer2', 'layer9'], regressor))).toMatch(/^RangeError: .*Teacher has no submodule 'layer9'/);
    expect(msg(() => new distiller.AttentionTransferPolicy(student, teacher, ['layer1', 'nope']))).toMatch(/^RangeError: .*Student has no submodule 'nope'/);
    expect(msg(() => new distiller.AttentionTransferPolicy(student, teacher, [], {}))).toMatch(/^RangeError: .*at least one pair/);
    expect(msg(() => new distiller.AttentionTransferPolicy(student, teacher, 'layer1', { weight: -1 }))).toMatch(/^RangeError: AttentionTransferPolicy: weight must be a finite number >= 0 but is -1/);
    expect(msg(() => new distiller.AttentionTransferPolicy(student, teacher, 'layer1', { pairWeights: [1, 2] }))).toMatch(/^RangeError: .*2 entries for 1 pairs/);
    expect(msg(() => new distiller.AttentionTransferPolicy(student, teacher, 'layer1', { pairWeights: [NaN] }))).toMatch(/^RangeError/);
    expect(msg(() => new distiller.AttentionTransferPolicy(student, teacher, 'layer1', { mode: 'x' as never }))).toMatch(/^RangeError: .*mode/);
    expect(msg(() => new distiller.RelationalKDPolicy(student, teacher, 'layer2', { distanceWeight: 0, angleWeight: 0 }))).toMatch(/^RangeError: .*nothing to distil/);
    expect(msg(() => new distiller.RelationalKDPolicy(student, teacher, 'layer2', { angleWeight: '2' as never }))).toMatch(/^TypeError/);
    expect(msg(() => new distiller.FitNetsPolicy(student, teacher, 'layer2', {} as never))).toMatch(/^TypeError: .*regressor/);
    expect(msg(() => new distiller.FitNetsPolicy(student, teacher, 'layer2', regressor, { reduction: 'none' as never }))).toMatch(/^RangeError/);
    expect(msg(() => new distiller.FitNetsPolicy(student, teacher, 7 as never))).toMatch(/^TypeError/);
    expect(msg(() => new distiller.CosineFeaturePolicy(student, teacher, [['embed']] as never))).toMatch(/^TypeError: .*pairs\[0\]/);
    expect(msg(() => new distiller.FeatureLossPolicy(student, teacher, 'embed', { loss: 'kl' as never }))).toMatch(/^RangeError/);
    expect(msg(() => new distiller.FeatureLossPolicy(student, teacher, 'embed', null as never))).toMatch(/^TypeError: .*options object/);
    expect(msg(() => new distiller.FeatureDistillationPolicy(student, teacher, 'embed', null))).toMatch(/^TypeError: .*criterion/);
    expect(msg(() => new distiller.FeatureDistillationPolicy(student, (() => 0) as never, 'embed', (s) => s))).toMatch(/^TypeError: .*teacher must be an nn.Module/);
    expect(msg(() => new distiller.FeatureDistillationPolicy('s' as never, teacher, 'embed', (s) => s))).toMatch(/^TypeError: .*student must be an nn.Module/);
    expect([...student.modules(), ...teacher.modules()].some((m) => m._hasHooks())).toBe(false);

    // Shape mismatches found when the features arrive: clear errors naming the shapes.
    const meta = { startingEpoch: 0, endingEpoch: 1, frequency: 1 };
    const fit = new distiller.FitNetsPolicy(student, teacher, 'layer2');
    fit.onEpochBegin(student, {}, meta);
    student.call(x);
    expect(msg(() => fit.beforeBackwardPass(student, 0, 0, 1, torch.tensor(0.0), {}))).toMatch(/^RangeError: fitnetsLoss: the student feature has shape \[8, 8, 4, 4\] but the teacher's hint \[8, 16, 4, 4\]/);
    fit.remove();
    const at = new distiller.AttentionTransferPolicy(student, teacher, [['layer1', 'layer2']]);
    at.onEpochBegin(student, {}, meta);
    student.call(x);
    expect(msg(() => at.beforeBackwardPass(student, 0, 0, 1, torch.tensor(0.0), {}))).toMatch(/^RangeError: AttentionTransferPolicy \(pair 0: layer1 \/ layer2\): .*student \[8, 4, 8, 8\], teacher \[8, 16, 4, 4\]/);
    at.remove();
    const odd = new distiller.FeatureDistillationPolicy(student, teacher, [['embed', 'flatten']], () => 1 as never);
    odd.onEpochBegin(student, {}, meta);
    student.call(x);
    expect(msg(() => odd.beforeBackwardPass(student, 0, 0, 1, torch.tensor(0.0), {}))).toMatch(/^TypeError: .*criterion returned the number 1/);
    odd.remove();
  });
});

describe('live parity', () => {
  it.skipIf(pythonWithTorch() === null)('the committed feature_kd fixture is what the current PyTorch produces', () => {
    expect(liveFixture<FeatureKdFixture>('gen_feature_kd.py')).toEqual(fx);
  });
});
