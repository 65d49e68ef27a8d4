/**
 * MultiTeacherDistillationPolicy against PyTorch: one student, two teachers weighted 2:1 (one a Module, one a plain
 * function), both combinations — the KL to the weighted average of the teachers' soft targets, and the weighted sum of
 * the per-teacher KL terms — through the CompressionScheduler, every step's terms, the first step's gradients and the
 * final weights equal to the Python composite (scripts/fixtures/gen_feature_kd.py, `multi_teacher`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { CompressionScheduler, DistillationLossWeights, MultiTeacherDistillationPolicy, Tensor, TorchError, distiller, nn, optim } from '../lib/index';
import { expectTensor, fixture, fromJson, thrown, thrownMessage, type TensorJson } from './helpers';

type StateJson = Record<string, TensorJson>;
interface Step {
  ce: number;
  kls?: number[];
  distill: number;
  overall: number;
  grads?: StateJson;
}
interface ModeRun {
  steps: Step[];
  student_end: StateJson;
}
interface MultiTeacherFixture {
  X: TensorJson;
  Y: TensorJson;
  teacher_a: StateJson;
  teacher_b: StateJson;
  student: StateJson;
  T: number;
  wd: number;
  ws: number;
  weights: number[];
  averageSoftTargets: ModeRun;
  sumKl: ModeRun;
}

const fx = fixture<{ multi_teacher: MultiTeacherFixture }>('feature_kd').multi_teacher;

// One intra-op thread, as the generator (the last bits of some CPU reductions depend on the thread count).
const threads = torch.getNumThreads();
beforeAll(() => torch.setNumThreads(1));
afterAll(() => torch.setNumThreads(threads));

function load(m: nn.Module, sd: StateJson): nn.Module {
  m.loadStateDict(Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, fromJson(v)])));
  return m;
}

function models(): { student: nn.Sequential; teacherA: nn.Sequential; teacherB: nn.Sequential } {
  return {
    student: load(new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Linear(16, 4)), fx.student) as nn.Sequential,
    teacherA: load(new nn.Sequential(new nn.Linear(6, 32), new nn.ReLU(), new nn.Linear(32, 4)), fx.teacher_a) as nn.Sequential,
    teacherB: load(new nn.Sequential(new nn.Linear(6, 8), new nn.Tanh(), new nn.Linear(8, 4)), fx.teacher_b) as nn.Sequential,
  };
}

function run(mode: distiller.MultiTeacherMode, impl: 'composite' | 'fused'): { log: Step[]; student: nn.Sequential; firstGrads: Record<string, Tensor> } {
  const { student, teacherA, teacherB } = models();
  const X = fromJson(fx.X);
  const Y = fromJson(fx.Y);
  const teachers = [teacherA, (x: Tensor): Tensor => teacherB.call(x)];
  const policy = new MultiTeacherDistillationPolicy(student, teachers, fx.T, DistillationLossWeights(fx.wd, fx.ws, 0), { teacherWeights: fx.weights, mode, impl });
  const scheduler = new CompressionScheduler<distiller.Model>(student);
  scheduler.addPolicy(policy, { startingEpoch: 0, endingEpoch: 2 });
  const opt = new optim.SGD(student.parameters(), { lr: 0.1, momentum: 0.9 });
  const log: Step[] = [];
  let firstGrads: Record<string, Tensor> = {};
  for (let epoch = 0; epoch < 2; epoch++) {
    scheduler.onEpochBegin(epoch, opt);
    for (let b = 0; b < 3; b++) {
      const x = X.narrow(0, b * 8, 8);
      const y = Y.narrow(0, b * 8, 8);
      const out = policy.forward(x);
      const ce = torch.F.crossEntropy(out, y);
      const pl = scheduler.beforeBackwardPass(epoch, b, 3, ce, { optimizer: opt, returnLossComponents: true, labels: y });
      const value = (name: string): number => pl.lossComponents.find((c) => c.name === name)!.value.item();
      const step: Step = { ce: ce.item(), distill: value('Distill Loss'), overall: pl.overallLoss.item() };
      if (mode === 'sumKl') step.kls = [value('Distill Loss (teacher 0)'), value('Distill Loss (teacher 1)')];
      log.push(step);
      opt.zeroGrad();
      pl.overallLoss.backward();
      if (epoch === 0 && b === 0) firstGrads = Object.fromEntries([...student.namedParameters()].map(([k, p]) => [k, (p.grad as Tensor).clone()]));
      opt.step();
    }
    scheduler.onEpochEnd(epoch, opt);
  }
  return { log, student, firstGrads };
}

describe('two teachers match the Python composite step for step', () => {
  for (const mode of ['averageSoftTargets', 'sumKl'] as const) {
    it(`${mode}: every step’s CE, distillation${mode === 'sumKl' ? ' (and per-teacher KL)' : ''} and overall loss, the first gradients and the final weights are bit-identical`, () => {
      const { log, student, firstGrads } = run(mode, 'composite');
      const expected = fx[mode].steps;
      expect(log.map((l) => l.ce)).toEqual(expected.map((e) => e.ce));
      expect(log.map((l) => l.distill)).toEqual(expected.map((e) => e.distill));
      expect(log.map((l) => l.overall)).toEqual(expected.map((e) => e.overall));
      if (mode === 'sumKl') expect(log.map((l) => l.kls)).toEqual(expected.map((e) => e.kls));
      for (const [k, g] of Object.entries(expected[0].grads as StateJson)) expectTensor(firstGrads[k], g);
      for (const [k, v] of Object.entries(fx[mode].student_end)) expectTensor(student.stateDict()[k], v);
    });
  }

  it('sumKl with the fused KD loss (one fused pass per teacher): the same run within float rounding', () => {
    const { log, student } = run('sumKl', 'fused');
    log.forEach((l, i) => {
      const e = fx.sumKl.steps[i];
      for (const k of ['ce', 'distill', 'overall'] as const) expect(Math.abs(l[k] - e[k]), `step ${i} ${k}`).toBeLessThanOrEqual(1e-5 * Math.abs(e[k]) + 1e-7);
    });
    for (const [k, v] of Object.entries(fx.sumKl.student_end)) expectTensor(student.stateDict()[k], v, { rtol: 1e-5, atol: 1e-6 });
  });

  it('weights are normalised (2:1 is ŵ = [2/3, 1/3]); equal weights by default; teachers frozen in eval mode', () => {
    const { student, teacherA, teacherB } = models();
    teacherA.train();
    const p = new MultiTeacherDistillationPolicy(student, [teacherA, teacherB], 2.0, undefined, { teacherWeights: [2, 1] });
    expect(p.teacherWeights).toEqual([2 / 3, 1 / 3]);
    expect(new MultiTeacherDistillationPolicy(student, [teacherA, teacherB, teacherA]).teacherWeights).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(p.mode).toBe('averageSoftTargets');
    expect(teacherA.training).toBe(false);
    expect(teacherA.parameters().every((q) => !q.requiresGrad)).toBe(true);
  });
});

describe('MultiTeacherDistillationPolicy behaviour and bad arguments', () => {
  const meta = { startingEpoch: 0, endingEpoch: 1, frequency: 1 };
  const x = torch.randn(5, 6);

  it('inactive: forward runs only the student and beforeBackwardPass returns null; active without forward: an error', () => {
    const { student, teacherA } = models();
    let calls = 0;
    const counted = (i: Tensor): Tensor => {
      calls++;
      return teacherA.call(i);
    };
    const p = new MultiTeacherDistillationPolicy(student, [counted, teacherA]);
    p.forward(x);
    expect(calls).toBe(0);
    expect(p.beforeBackwardPass(student, 0, 0, 1, torch.tensor(1.0), {})).toBeNull();
    p.onEpochBegin(student, {}, meta);
    expect(() => p.beforeBackwardPass(student, 0, 0, 1, torch.tensor(1.0), {})).toThrow(/Call policy.forward\(input\)/);
    p.forward(x);
    expect(calls).toBe(1);
    p.beforeBackwardPass(student, 0, 0, 1, torch.tensor(1.0), {});
    expect(() => p.beforeBackwardPass(student, 0, 0, 1, torch.tensor(1.0), {})).toThrow(TorchError);
    expect(p.stateDict()).toEqual({ active: true });
    p.onEpochEnd(student, {}, meta);
    p.loadStateDict({ active: true });
    expect(p.active).toBe(true);
    expect(() => p.loadStateDict({} as never)).toThrow(TypeError);
  });

  it('bad arguments: clear TypeErrors and RangeErrors naming the argument', () => {
    const { student, teacherA } = models();
    const msg = thrownMessage;
    expect(msg(() => new MultiTeacherDistillationPolicy(student, [teacherA, 'resnet' as never]))).toMatch(/^TypeError: .*teachers\[1\] must be a Module or a function/);
    expect(msg(() => new MultiTeacherDistillationPolicy(student, teacherA as never))).toMatch(/^TypeError: .*array of teachers/);
    expect(msg(() => new MultiTeacherDistillationPolicy(student, []))).toMatch(/^RangeError: .*at least one teacher/);
    expect(msg(() => new MultiTeacherDistillationPolicy(42 as never, [teacherA]))).toMatch(/^TypeError: .*student/);
    expect(msg(() => new MultiTeacherDistillationPolicy(student, [teacherA, teacherA], 1, undefined, { teacherWeights: [1, -1] }))).toMatch(/^RangeError: .*teacherWeights\[1\] must be a finite number >= 0 but is -1/);
    expect(msg(() => new MultiTeacherDistillationPolicy(student, [teacherA, teacherA], 1, undefined, { teacherWeights: [0, 0] }))).toMatch(/^RangeError: .*all 0/);
    expect(msg(() => new MultiTeacherDistillationPolicy(student, [teacherA, teacherA], 1, undefined, { teacherWeights: [1] }))).toMatch(/^RangeError: .*1 entries for 2 teachers/);
    expect(msg(() => new MultiTeacherDistillationPolicy(student, [teacherA], 1, undefined, { teacherWeights: ['1'] as never }))).toMatch(/^TypeError/);
    expect(msg(() => new MultiTeacherDistillationPolicy(student, [teacherA], 1, undefined, { mode: 'vote' as never }))).toMatch(/^RangeError: .*mode/);
    expect(msg(() => new MultiTeacherDistillationPolicy(student, [teacherA], 1, undefined, { impl: 'gpu' as never }))).toMatch(/^RangeError: .*impl/);
    expect(msg(() => new MultiTeacherDistillationPolicy(student, [teacherA], 0))).toMatch(/^RangeError: .*temperature/);
    expect(msg(() => new MultiTeacherDistillationPolicy(student, [teacherA], 1, DistillationLossWeights(0.5, 0.3, 0.2)))).toMatch(/^RangeError: .*teacher weight/);
    expect(msg(() => new MultiTeacherDistillationPolicy(student, [teacherA], 1, { distill: 1 } as never))).toMatch(/^TypeError/);
    // Logits of different shapes, found at the first step.
    const wide = new nn.Linear(6, 7);
    const p = new MultiTeacherDistillationPolicy(student, [teacherA, wide]);
    p.onEpochBegin(student, {}, meta);
    p.forward(x);
    expect(msg(() => p.beforeBackwardPass(student, 0, 0, 1, torch.tensor(1.0), {}))).toMatch(/^RangeError: .*teacher 1's logits have shape \[5, 7\] but the student's \[5, 4\]/);
    const q = new MultiTeacherDistillationPolicy(student, [() => 3 as never]);
    q.onEpochBegin(student, {}, meta);
    expect(msg(() => q.forward(x))).toMatch(/^TypeError: .*teacher 0 must return a Tensor/);
  });

  it('its errors, word for word', () => {
    const student = new nn.Sequential(new nn.Linear(6, 4));
    const lin = new nn.Linear(6, 4);
    const cases: [() => unknown, string][] = [
      [() => new MultiTeacherDistillationPolicy(42 as never, [lin]), 'TypeError: MultiTeacherDistillationPolicy: the student must be a Module or a function, got the number 42'],
      [() => new MultiTeacherDistillationPolicy(student, lin as never), 'TypeError: MultiTeacherDistillationPolicy: expected an array of teachers (Modules or functions) but received an object (Linear)'],
      [() => new MultiTeacherDistillationPolicy(student, []), 'RangeError: MultiTeacherDistillationPolicy: at least one teacher is needed'],
      [() => new MultiTeacherDistillationPolicy(student, [lin, 'r' as never]), 'TypeError: MultiTeacherDistillationPolicy: teachers[1] must be a Module or a function, got the string "r"'],
      [() => new MultiTeacherDistillationPolicy(student, [lin], '2' as never), 'TypeError: MultiTeacherDistillationPolicy: expected a number for temperature but received the string "2"'],
      [() => new MultiTeacherDistillationPolicy(student, [lin], 0), 'RangeError: MultiTeacherDistillationPolicy: temperature must be finite and > 0, got 0'],
      [() => new MultiTeacherDistillationPolicy(student, [lin], 1, { distill: 1 } as never), 'TypeError: MultiTeacherDistillationPolicy: lossWeights must be a DistillationLossWeights, got an object (Object)'],
      [() => new MultiTeacherDistillationPolicy(student, [lin], 1, DistillationLossWeights(0.5, 0.3, 0.2)), 'RangeError: MultiTeacherDistillationPolicy: the teachers are not trained, so the teacher weight of lossWeights must be 0 (got 0.2)'],
      [() => new MultiTeacherDistillationPolicy(student, [lin], 1, undefined, null as never), 'TypeError: MultiTeacherDistillationPolicy: expected an options object but received null'],
      [() => new MultiTeacherDistillationPolicy(student, [lin], 1, undefined, 'sumKl' as never), 'TypeError: MultiTeacherDistillationPolicy: expected an options object but received the string "sumKl"'],
      [() => new MultiTeacherDistillationPolicy(student, [lin], 1, undefined, { mode: 'vote' as never }), 'RangeError: MultiTeacherDistillationPolicy: mode must be \'averageSoftTargets\' or \'sumKl\', got the string "vote"'],
      [() => new MultiTeacherDistillationPolicy(student, [lin], 1, undefined, { teacherWeights: 1 as never }), 'TypeError: MultiTeacherDistillationPolicy: expected an array of numbers for teacherWeights but received the number 1'],
      [() => new MultiTeacherDistillationPolicy(student, [lin, lin], 1, undefined, { teacherWeights: [1] }), 'RangeError: MultiTeacherDistillationPolicy: teacherWeights has 1 entries for 2 teachers'],
      [() => new MultiTeacherDistillationPolicy(student, [lin], 1, undefined, { teacherWeights: ['1'] as never }), 'TypeError: MultiTeacherDistillationPolicy: expected a number for teacherWeights[0] but received the string "1"'],
      [() => new MultiTeacherDistillationPolicy(student, [lin, lin], 1, undefined, { teacherWeights: [1, -1] }), 'RangeError: MultiTeacherDistillationPolicy: teacherWeights[1] must be a finite number >= 0 but is -1'],
      [() => new MultiTeacherDistillationPolicy(student, [lin, lin], 1, undefined, { teacherWeights: [0, 0] }), 'RangeError: MultiTeacherDistillationPolicy: teacherWeights are all 0; at least one teacher needs a positive weight'],
      [() => new MultiTeacherDistillationPolicy(student, [lin], 1, undefined, { impl: 'gpu' as never }), 'RangeError: MultiTeacherDistillationPolicy: impl must be \'auto\', \'fused\' or \'composite\', got the string "gpu"'],
      [() => new MultiTeacherDistillationPolicy(student, [lin]).loadStateDict(null as never), 'TypeError: MultiTeacherDistillationPolicy.loadStateDict expects {active: boolean}'],
      [() => new MultiTeacherDistillationPolicy(student, [lin]).loadStateDict({} as never), 'TypeError: MultiTeacherDistillationPolicy.loadStateDict expects {active: boolean}'],
      [() => new MultiTeacherDistillationPolicy((() => 3) as never, [lin]).forward(x), 'TypeError: MultiTeacherDistillationPolicy: the student must return a Tensor (its logits) but returned the number 3'],
    ];
    for (const [fn, expected] of cases) expect(thrownMessage(fn)).toBe(expected);
    // The student's output checked in an active step too; 'auto' is an impl.
    const active = new MultiTeacherDistillationPolicy((() => 3) as never, [lin]);
    active.onEpochBegin(student, {}, meta);
    expect(thrownMessage(() => active.forward(x))).toBe('TypeError: MultiTeacherDistillationPolicy: the student must return a Tensor (its logits) but returned the number 3');
    expect(new MultiTeacherDistillationPolicy(student, [lin], 1, undefined, { impl: 'auto' }).mode).toBe('averageSoftTargets');
    // Logits of another number of dimensions, and a step without forward.
    const oneD = new MultiTeacherDistillationPolicy(student, [() => torch.randn(5)]);
    oneD.onEpochBegin(student, {}, meta);
    oneD.forward(x);
    expect(thrownMessage(() => oneD.beforeBackwardPass(student, 0, 0, 1, torch.tensor(1.0), {}))).toBe('RangeError: MultiTeacherDistillationPolicy: teacher 0\'s logits have shape [5] but the student\'s [5, 4]');
    const idle = new MultiTeacherDistillationPolicy(student, [lin]);
    idle.onEpochBegin(student, {}, meta);
    expect(thrownMessage(() => idle.beforeBackwardPass(student, 0, 0, 1, torch.tensor(1.0), {}))).toBe('TorchError: MultiTeacherDistillationPolicy: student and/or teacher logits were not cached for this step. Call policy.forward(input) in your training loop instead of calling the model directly (once per step: the cache is cleared after use).');
  });

  it('onEpochEnd ends distillation; freezeTeachers: false leaves the teachers as they were', () => {
    const { student, teacherA } = models();
    const p = new MultiTeacherDistillationPolicy(student, [teacherA]);
    p.onEpochBegin(student, {}, meta);
    expect(p.active).toBe(true);
    p.onEpochEnd(student, {}, meta);
    expect(p.active).toBe(false);
    expect(p.beforeBackwardPass(student, 0, 0, 1, torch.tensor(1.0), {})).toBeNull();
    const free = models().teacherA;
    free.train();
    new MultiTeacherDistillationPolicy(student, [free], 1, undefined, { freezeTeachers: false });
    expect(free.training).toBe(true);
    expect(free.parameters().every((q) => q.requiresGrad)).toBe(true);
    expect(teacherA.training).toBe(false);
    expect(teacherA.parameters().some((q) => q.requiresGrad)).toBe(false);
  });
});
