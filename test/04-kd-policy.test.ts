/**
 * KnowledgeDistillationPolicy end to end through the CompressionScheduler, in Distiller's training-loop order.
 */
import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { CompressionScheduler, DistillationLossWeights, KnowledgeDistillationPolicy, LossComponent, PolicyLoss, Tensor, TorchError, distiller, nn, optim } from '../lib/index';
import { expectError, expectTensor, fixture, fromJson, type TensorJson } from './helpers';

interface RunFixture {
  X: TensorJson;
  Y: TensorJson;
  teacher: Record<string, TensorJson>;
  student: Record<string, TensorJson>;
  T: number;
  wd: number;
  ws: number;
  log: { epoch: number; objective: number; distill?: number; overall: number }[];
  student_end: Record<string, TensorJson>;
}
interface TeacherRunFixture {
  teacher: Record<string, TensorJson>;
  student: Record<string, TensorJson>;
  T: number;
  wd: number;
  ws: number;
  wt: number;
  log: { objective: number; distill: number; teacher: number; overall: number }[];
  first_grads: { student: Record<string, TensorJson>; teacher: Record<string, TensorJson> };
  student_end: Record<string, TensorJson>;
  teacher_end: Record<string, TensorJson>;
}
const { run, run_teacher: runTeacher } = fixture<{ run: RunFixture; run_teacher: TeacherRunFixture }>('kd');

function load(m: nn.Module, sd: Record<string, TensorJson>): void {
  m.loadStateDict(Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, fromJson(v)])));
}

/** Distiller's compress_classifier train() loop, over 3 minibatches of 8. */
function trainEpochs(
  scheduler: CompressionScheduler<distiller.Model>,
  policy: KnowledgeDistillationPolicy,
  student: nn.Module,
  opt: optim.Optimizer,
  epochs: number,
  record: (epoch: number, pl: PolicyLoss) => void = () => {},
): void {
  const X = fromJson(run.X);
  const Y = fromJson(run.Y);
  for (let epoch = 0; epoch < epochs; epoch++) {
    scheduler.onEpochBegin(epoch, opt);
    student.train();
    for (let b = 0; b < 3; b++) {
      const x = X.narrow(0, b * 8, 8);
      const y = Y.narrow(0, b * 8, 8);
      scheduler.onMinibatchBegin(epoch, b, 3, opt);
      const out = policy.forward(x);
      const loss = torch.F.crossEntropy(out, y);
      const pl = scheduler.beforeBackwardPass(epoch, b, 3, loss, { optimizer: opt, returnLossComponents: true, labels: y });
      record(epoch, pl);
      opt.zeroGrad();
      pl.overallLoss.backward();
      scheduler.beforeParameterOptimization(epoch, b, 3, opt);
      opt.step();
      scheduler.onMinibatchEnd(epoch, b, 3, opt);
    }
    scheduler.onEpochEnd(epoch, opt);
  }
}

function setup(impl: 'composite' | 'fused'): { student: nn.Sequential; teacher: nn.Sequential; policy: KnowledgeDistillationPolicy; scheduler: CompressionScheduler<distiller.Model>; opt: optim.SGD } {
  const teacher = new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Linear(16, 4));
  const student = new nn.Sequential(new nn.Linear(6, 4));
  load(teacher, run.teacher);
  load(student, run.student);
  const policy = new KnowledgeDistillationPolicy(student, teacher, run.T, DistillationLossWeights(run.wd, run.ws, 0), { impl });
  const scheduler = new CompressionScheduler<distiller.Model>(student);
  scheduler.addPolicy(policy, { epochs: [1, 2] });
  const opt = new optim.SGD(student.parameters(), { lr: 0.1, momentum: 0.9 });
  return { student, teacher, policy, scheduler, opt };
}

describe('a distillation run matches Distiller’s policy computed by PyTorch', () => {
  it('composite loss: every step’s losses and the final weights are bit-identical', () => {
    const { student, policy, scheduler, opt } = setup('composite');
    const log: { epoch: number; overall: number; distill?: number }[] = [];
    trainEpochs(scheduler, policy, student, opt, 4, (epoch, pl) => {
      const d = pl.lossComponents.find((c) => c.name === 'Distill Loss');
      log.push({ epoch, overall: pl.overallLoss.item() as number, ...(d ? { distill: d.value.item() as number } : {}) });
    });
    expect(log.map((l) => l.overall)).toEqual(run.log.map((l) => l.overall));
    expect(log.map((l) => l.distill)).toEqual(run.log.map((l) => l.distill));
    for (const [k, v] of Object.entries(run.student_end)) expectTensor(student.stateDict()[k], v);
  });

  it('fused loss: the same run within float rounding', () => {
    const { student, policy, scheduler, opt } = setup('fused');
    const overall: number[] = [];
    trainEpochs(scheduler, policy, student, opt, 4, (_, pl) => overall.push(pl.overallLoss.item() as number));
    overall.forEach((v, i) => expect(Math.abs(v - run.log[i].overall)).toBeLessThan(1e-5 * Math.abs(run.log[i].overall)));
    for (const [k, v] of Object.entries(run.student_end)) expectTensor(student.stateDict()[k], v, { rtol: 1e-5, atol: 1e-6 });
  });
});

describe('a teacher weight > 0 trains the teacher against the labels, as the Python composite does', () => {
  function teacherRun(impl: 'composite' | 'fused', tol: { rtol: number; atol: number }): void {
    const X = fromJson(run.X);
    const Y = fromJson(run.Y);
    const teacher = new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Linear(16, 4));
    const student = new nn.Sequential(new nn.Linear(6, 4));
    load(teacher, runTeacher.teacher);
    load(student, runTeacher.student);
    const r = runTeacher;
    const policy = new KnowledgeDistillationPolicy(student, teacher, r.T, DistillationLossWeights(r.wd, r.ws, r.wt), { impl });
    const scheduler = new CompressionScheduler<distiller.Model>(student);
    scheduler.addPolicy(policy, { startingEpoch: 0, endingEpoch: 3 });
    const opt = new optim.SGD([...student.parameters(), ...teacher.parameters()], { lr: 0.1, momentum: 0.9 });
    const log: { objective: number; distill: number; teacher: number; overall: number }[] = [];
    for (let epoch = 0; epoch < 3; epoch++) {
      scheduler.onEpochBegin(epoch, opt);
      student.train();
      expect(teacher.training).toBe(true);
      for (let b = 0; b < 3; b++) {
        const x = X.narrow(0, b * 8, 8);
        const y = Y.narrow(0, b * 8, 8);
        const out = policy.forward(x);
        const loss = torch.F.crossEntropy(out, y);
        const pl = scheduler.beforeBackwardPass(epoch, b, 3, loss, { optimizer: opt, returnLossComponents: true, labels: y });
        const component = (name: string): number => pl.lossComponents.find((c) => c.name === name)!.value.item() as number;
        log.push({ objective: loss.item() as number, distill: component('Distill Loss'), teacher: component('Teacher Loss'), overall: pl.overallLoss.item() as number });
        opt.zeroGrad();
        pl.overallLoss.backward();
        if (epoch === 0 && b === 0) {
          for (const [k, p] of student.namedParameters()) expectTensor(p.grad!, r.first_grads.student[k], tol);
          for (const [k, p] of teacher.namedParameters()) expectTensor(p.grad!, r.first_grads.teacher[k], tol);
        }
        opt.step();
      }
      scheduler.onEpochEnd(epoch, opt);
    }
    if (tol.rtol === 0) {
      expect(log).toEqual(r.log);
    } else {
      log.forEach((l, i) => {
        for (const key of ['objective', 'distill', 'teacher', 'overall'] as const) {
          expect(Math.abs(l[key] - r.log[i][key]), `step ${i} ${key}`).toBeLessThanOrEqual(tol.atol + tol.rtol * Math.abs(r.log[i][key]));
        }
      });
    }
    for (const [k, v] of Object.entries(r.student_end)) expectTensor(student.stateDict()[k], v, tol);
    for (const [k, v] of Object.entries(r.teacher_end)) expectTensor(teacher.stateDict()[k], v, tol);
  }

  it('composite loss: every step’s student, distillation, teacher and overall losses, the first step’s gradients of both models and both final weights are bit-identical', () => {
    teacherRun('composite', { rtol: 0, atol: 0 });
  });

  it('fused loss: the same run within float rounding', () => {
    teacherRun('fused', { rtol: 1e-5, atol: 1e-6 });
  });
});

/** False once the tensor was freed (any use is then a TorchError with code DISPOSED). */
function usable(t: Tensor): boolean {
  try {
    t.sum();
    return true;
  } catch (e) {
    if ((e as TorchError).code === 'DISPOSED') return false;
    throw e;
  }
}

describe('KnowledgeDistillationPolicy', () => {
  const x = torch.randn(5, 6);
  const y = torch.tensor([0, 1, 2, 3, 0]);

  it('is active exactly in the scheduled epochs, and does not run the teacher when inactive', () => {
    const student = new nn.Linear(6, 4);
    let teacherCalls = 0;
    const teacherNet = new nn.Linear(6, 4);
    const teacher = (input: Tensor): Tensor => {
      teacherCalls++;
      return teacherNet.forward(input);
    };
    const policy = new KnowledgeDistillationPolicy(student, teacher, 2.0);
    const scheduler = new CompressionScheduler<distiller.Model>(student);
    scheduler.addPolicy(policy, { startingEpoch: 1, endingEpoch: 3 });
    const seen: [number, boolean, number][] = [];
    for (let epoch = 0; epoch < 4; epoch++) {
      scheduler.onEpochBegin(epoch);
      const before = teacherCalls;
      const out = policy.forward(x);
      const pl = scheduler.beforeBackwardPass(epoch, 0, 1, torch.F.crossEntropy(out, y), { returnLossComponents: true });
      seen.push([epoch, policy.active, teacherCalls - before]);
      expect(pl.lossComponents.length).toBe(policy.active ? 1 : 0);
      scheduler.onEpochEnd(epoch);
    }
    expect(seen).toEqual([[0, false, 0], [1, true, 1], [2, true, 1], [3, false, 0]]);
    expect(policy.active).toBe(false);
  });

  it('a step that bypassed forward() is an error telling the user to call policy.forward()', () => {
    const student = new nn.Linear(6, 4);
    const policy = new KnowledgeDistillationPolicy(student, new nn.Linear(6, 4), 1.0);
    policy.onEpochBegin(student, {}, { startingEpoch: 0, endingEpoch: 1, frequency: 1 });
    const loss = torch.F.crossEntropy(student.forward(x), y);
    expect(() => policy.beforeBackwardPass(student, 0, 0, 1, loss, {})).toThrow(/Call policy.forward\(input\)/);
    // A cache is used once: a second beforeBackwardPass for the same forward is detected too.
    policy.forward(x);
    policy.beforeBackwardPass(student, 0, 0, 1, loss, {});
    expect(() => policy.beforeBackwardPass(student, 0, 0, 1, loss, {})).toThrow(TorchError);
  });

  it('the distillation gradient reaches the student (student weight 0: grads come from the KD term alone)', () => {
    const student = new nn.Linear(6, 4);
    const policy = new KnowledgeDistillationPolicy(student, new nn.Linear(6, 4), 2.0, DistillationLossWeights(1, 0, 0));
    policy.onEpochBegin(student, {}, { startingEpoch: 0, endingEpoch: 1, frequency: 1 });
    const out = policy.forward(x);
    const pl = policy.beforeBackwardPass(student, 0, 0, 1, torch.F.crossEntropy(out, y), {}) as PolicyLoss;
    pl.overallLoss.backward();
    const g = student.weight.grad as Tensor;
    expect(g.abs().sum().item()).toBeGreaterThan(0);
  });

  it('scales the KL by T² and returns the unscaled KL as the Distill Loss component; the input loss is not mutated', () => {
    const student = new nn.Linear(6, 4);
    const teacher = new nn.Linear(6, 4);
    const T = 3;
    const policy = new KnowledgeDistillationPolicy(student, teacher, T, DistillationLossWeights(0.6, 0.4, 0), { impl: 'composite' });
    policy.onEpochBegin(student, {}, { startingEpoch: 0, endingEpoch: 1, frequency: 1 });
    const out = policy.forward(x);
    const loss = torch.F.crossEntropy(out, y);
    const lossValue = loss.item() as number;
    const pl = policy.beforeBackwardPass(student, 0, 0, 1, loss, {}) as PolicyLoss;
    const kl = kdLoss(out.detach(), torch.noGrad(() => teacher.forward(x)), T, { impl: 'composite' }).item() as number;
    expect(pl.lossComponents).toHaveLength(1);
    expect(pl.lossComponents[0]).toBeInstanceOf(LossComponent);
    expect(pl.lossComponents[0].name).toBe('Distill Loss');
    expect(pl.lossComponents[0].value.item()).toBeCloseTo(kl, 6);
    expect(pl.overallLoss.item()).toBeCloseTo(0.4 * lossValue + 0.6 * kl * T * T, 5);
    expect(loss.item()).toBe(lossValue);
  });

  it('puts the teacher in eval mode and freezes it by default; distillerTeacherMode keeps Distiller’s train mode', () => {
    const teacher = new nn.Sequential(new nn.Linear(6, 8), new nn.BatchNorm1d(8), new nn.Linear(8, 4));
    const policy = new KnowledgeDistillationPolicy(new nn.Linear(6, 4), teacher, 1.0);
    expect(teacher.training).toBe(false);
    expect(teacher.parameters().every((p) => !p.requiresGrad)).toBe(true);
    policy.onEpochBegin(policy.student, {}, { startingEpoch: 0, endingEpoch: 1, frequency: 1 });
    const bn = teacher.at(1) as nn.BatchNorm1d;
    const before = (bn.runningMean as Tensor).clone();
    policy.forward(x);
    expect((bn.runningMean as Tensor).equal(before)).toBe(true);

    const teacher2 = new nn.Sequential(new nn.Linear(6, 8), new nn.BatchNorm1d(8), new nn.Linear(8, 4));
    const p2 = new KnowledgeDistillationPolicy(new nn.Linear(6, 4), teacher2, 1.0, undefined, { distillerTeacherMode: true });
    p2.onEpochBegin(p2.student, {}, { startingEpoch: 0, endingEpoch: 1, frequency: 1 });
    const bn2 = teacher2.at(1) as nn.BatchNorm1d;
    const before2 = (bn2.runningMean as Tensor).clone();
    p2.forward(x);
    expect(teacher2.training).toBe(true);
    expect((bn2.runningMean as Tensor).equal(before2)).toBe(false);
  });

  it('teacher weight > 0 trains the teacher against the labels (scheme A); labels come through the scheduler', () => {
    const student = new nn.Linear(6, 4);
    const teacher = new nn.Linear(6, 4);
    const policy = new KnowledgeDistillationPolicy(student, teacher, 2.0, DistillationLossWeights(0.5, 0.3, 0.2));
    expect(teacher.training).toBe(true);
    expect(teacher.weight.requiresGrad).toBe(true);
    const scheduler = new CompressionScheduler<distiller.Model>(student);
    scheduler.addPolicy(policy, { epochs: [0] });
    scheduler.onEpochBegin(0);
    const out = policy.forward(x);
    const pl = scheduler.beforeBackwardPass(0, 0, 1, torch.F.crossEntropy(out, y), { returnLossComponents: true, labels: y });
    expect(pl.lossComponents.map((c) => c.name)).toEqual(['Distill Loss', 'Teacher Loss']);
    pl.overallLoss.backward();
    expect((teacher.weight.grad as Tensor).abs().sum().item()).toBeGreaterThan(0);
    expect((student.weight.grad as Tensor).abs().sum().item()).toBeGreaterThan(0);
    // Without labels the policy explains what is missing.
    policy.forward(x);
    expect(() => scheduler.beforeBackwardPass(0, 1, 2, torch.F.crossEntropy(out.detach(), y))).toThrow(/pass them as scheduler.beforeBackwardPass/);
  });

  it('accepts JS callables for both models and (N, L, C) logits with classDim -1', () => {
    const lin = new nn.Linear(6, 9);
    const tlin = new nn.Linear(6, 9);
    const seq = torch.randn(2, 5, 6);
    const policy = new KnowledgeDistillationPolicy((i) => lin.forward(i), (i) => tlin.forward(i), 2.0, undefined, { classDim: -1 });
    policy.onEpochBegin(lin, {}, { startingEpoch: 0, endingEpoch: 1, frequency: 1 });
    const out = policy.forward(seq);
    expect(out.shape).toEqual([2, 5, 9]);
    const pl = policy.beforeBackwardPass(lin, 0, 0, 1, out.sum().mul(0), {}) as PolicyLoss;
    const kl = pl.lossComponents[0].value;
    const ref = kdLoss(out.detach(), torch.noGrad(() => tlin.forward(seq)), 2.0, { dim: -1, impl: 'composite' });
    expect(kl.item()).toBeCloseTo(ref.item() as number, 5);
  });

  it('validates temperature and weights', () => {
    const m = new nn.Linear(2, 2);
    expect(() => new KnowledgeDistillationPolicy(m, m, 0)).toThrow(RangeError);
    expect(() => new KnowledgeDistillationPolicy(m, m, NaN)).toThrow(RangeError);
    expect(() => new KnowledgeDistillationPolicy(m, m, 1, { distill: 1 } as never)).toThrow(TypeError);
    expect(() => new KnowledgeDistillationPolicy('model' as never, m)).toThrow(TypeError);
  });

  it('names what is wrong with each argument', () => {
    const m = new nn.Linear(2, 2);
    expectError(() => new KnowledgeDistillationPolicy('model' as never, m), TypeError, 'the student must be a Module or a function, got the string "model"');
    expectError(() => new KnowledgeDistillationPolicy(m, null as never), TypeError, 'the teacher must be a Module, a function or a TeacherCache, got null');
    expectError(() => new KnowledgeDistillationPolicy(m, m, '2' as never), TypeError, 'Expected a number for temperature but received the string "2"');
    for (const T of [0, -2, Infinity, NaN]) {
      expectError(() => new KnowledgeDistillationPolicy(m, m, T), RangeError, `temperature must be finite and > 0, got ${T}`);
    }
    expectError(() => new KnowledgeDistillationPolicy(m, m, 1, [0.5, 0.5, 0] as never), TypeError, 'lossWeights must be a DistillationLossWeights, got an array');
  });

  it('a model returning something other than a tensor is a TypeError, and inputs must be tensors', () => {
    const policy = new KnowledgeDistillationPolicy(() => 5 as never, (i) => i, 1.0);
    expectError(() => policy.forward(x), TypeError, 'the model must return a Tensor (its logits) but returned the number 5');
    const active = new KnowledgeDistillationPolicy(new nn.Linear(6, 4), new nn.Linear(6, 4), 1.0);
    active.onEpochBegin(active.student, {}, { startingEpoch: 0, endingEpoch: 1, frequency: 1 });
    expectError(() => active.forward(x, 'labels' as never), TypeError, 'Expected a Tensor for input 1 but received the string "labels"');
  });

  it('returns null from beforeBackwardPass while inactive, even after a forward()', () => {
    const student = new nn.Linear(6, 4);
    const policy = new KnowledgeDistillationPolicy(student, new nn.Linear(6, 4), 2.0);
    const out = policy.forward(x);
    expect(policy.lastStudentLogits).toBeNull();
    expect(policy.beforeBackwardPass(student, 0, 0, 1, torch.F.crossEntropy(out, y), {})).toBeNull();
  });

  it('the missing-cache error tells the whole story', () => {
    const student = new nn.Linear(6, 4);
    const policy = new KnowledgeDistillationPolicy(student, new nn.Linear(6, 4), 1.0);
    policy.onEpochBegin(student, {}, { startingEpoch: 0, endingEpoch: 1, frequency: 1 });
    expectError(() => policy.beforeBackwardPass(student, 0, 0, 1, torch.F.crossEntropy(student.forward(x), y), {}), TorchError,
      'KnowledgeDistillationPolicy: student and/or teacher logits were not cached for this step. Call policy.forward(input) ' +
      'in your training loop instead of calling the model directly (once per step: the cache is cleared after use).');
  });

  it('onEpochEnd drops the caches of a forward() whose step never came, so the next epoch cannot use them', () => {
    const student = new nn.Linear(6, 4);
    const policy = new KnowledgeDistillationPolicy(student, new nn.Linear(6, 4), 1.0);
    const meta = { startingEpoch: 0, endingEpoch: 2, frequency: 1 };
    policy.onEpochBegin(student, {}, meta);
    policy.forward(x);
    const cached = [policy.lastStudentLogits!, policy.lastTeacherLogits!];
    policy.onEpochEnd(student, {}, meta);
    expect([policy.lastStudentLogits, policy.lastTeacherLogits]).toEqual([null, null]);
    expect(cached.map(usable)).toEqual([false, false]);
    policy.onEpochBegin(student, {}, meta);
    expect(() => policy.beforeBackwardPass(student, 1, 0, 1, torch.F.crossEntropy(student.forward(x), y), {})).toThrow(/were not cached for this step/);
  });

  it('runs the teacher without autograd exactly when its weight is 0', () => {
    for (const [wt, grad] of [[0, false], [0.2, true]] as const) {
      const teacher = new nn.Linear(6, 4);
      const policy = new KnowledgeDistillationPolicy(new nn.Linear(6, 4), teacher, 1.0, DistillationLossWeights(0.5, 0.5, wt), { distillerTeacherMode: true });
      expect(teacher.weight.requiresGrad).toBe(true);
      policy.onEpochBegin(policy.student, {}, { startingEpoch: 0, endingEpoch: 1, frequency: 1 });
      policy.forward(x);
      expect(policy.lastTeacherLogits!.requiresGrad).toBe(grad);
      expect(policy.lastStudentLogits!.requiresGrad).toBe(true);
    }
  });

  it('a teacher weight > 0 puts an eval-mode teacher back in train mode, at construction and at each epoch begin', () => {
    const teacher = new nn.Linear(6, 4);
    teacher.eval();
    const policy = new KnowledgeDistillationPolicy(new nn.Linear(6, 4), teacher, 1.0, DistillationLossWeights(0.5, 0.3, 0.2));
    expect(teacher.training).toBe(true);
    teacher.eval();
    policy.onEpochBegin(policy.student, {}, { startingEpoch: 0, endingEpoch: 1, frequency: 1 });
    expect(teacher.training).toBe(true);
    expect(teacher.weight.requiresGrad).toBe(true);
  });

  it('frees the cached logits once used; teacher logits given to a teacher criterion stay usable', () => {
    const student = new nn.Linear(6, 4);
    const p0 = new KnowledgeDistillationPolicy(student, new nn.Linear(6, 4), 2.0);
    p0.onEpochBegin(student, {}, { startingEpoch: 0, endingEpoch: 1, frequency: 1 });
    const out = p0.forward(x);
    const cached = [p0.lastStudentLogits!, p0.lastTeacherLogits!];
    p0.beforeBackwardPass(student, 0, 0, 1, torch.F.crossEntropy(out, y), {});
    expect(cached.map(usable)).toEqual([false, false]);

    let seen: Tensor | null = null;
    const p1 = new KnowledgeDistillationPolicy(student, new nn.Linear(6, 4), 2.0, DistillationLossWeights(0.5, 0.3, 0.2), {
      teacherCriterion: (logits, labels) => {
        seen = logits;
        return torch.F.crossEntropy(logits, labels);
      },
    });
    p1.onEpochBegin(student, {}, { startingEpoch: 0, endingEpoch: 1, frequency: 1 });
    const out1 = p1.forward(x);
    const teacherLogits = p1.lastTeacherLogits!;
    const studentLogits = p1.lastStudentLogits!;
    const pl = p1.beforeBackwardPass(student, 0, 0, 1, torch.F.crossEntropy(out1, y), {}, undefined, { labels: y }) as PolicyLoss;
    expect(seen).toBe(teacherLogits);
    expect([usable(studentLogits), usable(teacherLogits)]).toEqual([false, true]);
    expect(pl.lossComponents[1].value.item()).toBeCloseTo(torch.F.crossEntropy(teacherLogits.detach(), y).item() as number, 6);
  });

  it('loadStateDict takes {active: boolean} only', () => {
    const policy = new KnowledgeDistillationPolicy(new nn.Linear(2, 2), new nn.Linear(2, 2));
    const msg = 'KnowledgeDistillationPolicy.loadStateDict expects {active: boolean}';
    for (const bad of [null, undefined, {}, { active: 1 }, { active: 'true' }]) expectError(() => policy.loadStateDict(bad as never), TypeError, msg);
    policy.loadStateDict({ active: true });
    expect(policy.active).toBe(true);
    expect(policy.stateDict()).toEqual({ active: true });
  });

  it('resumes: the scheduler state dict carries the policy’s active flag', () => {
    const { policy, scheduler } = setup('fused');
    scheduler.onEpochBegin(1);
    const state = JSON.parse(JSON.stringify(scheduler.stateDict()));
    const b = setup('fused');
    b.scheduler.loadStateDict(state);
    expect(b.policy.active).toBe(true);
    expect(policy.active).toBe(true);
  });
});

describe('createKdPolicyFromArgs', () => {
  it('builds the teacher, loads --kd-resume weights and schedules from --kd-start-epoch to the last epoch', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-kdargs-'));
    const donor = torch.models.create('mlp_small_mnist');
    const file = path.join(dir, 'teacher.pt');
    torch.save({ state_dict: Object.fromEntries(Object.entries(donor.stateDict()).map(([k, v]) => [`module.${k}`, v])), arch: 'mlp_small_mnist' }, file);
    const student = torch.models.create('mlp_small_mnist');
    const scheduler = new CompressionScheduler<distiller.Model>(student);
    const args = { kd_teacher: 'mlp_small_mnist', kd_resume: file, kd_temp: 4, kd_distill_wt: 0.7, kd_student_wt: 0.3, kd_teacher_wt: 0, kd_start_epoch: 2 };
    const made = distiller.createKdPolicyFromArgs(args, student, { createModel: torch.models.create, scheduler, epochs: 5 });
    expect(made).not.toBeNull();
    const { policy, teacher } = made as { policy: KnowledgeDistillationPolicy; teacher: nn.Module };
    expect(policy.temperature).toBe(4);
    expect([...policy.lossWts]).toEqual([0.7, 0.3, 0]);
    expect(scheduler.schedMetadata.get(policy)).toMatchObject({ startingEpoch: 2, endingEpoch: 5, frequency: 1 });
    expect(teacher.stateDict()['fc1.weight'].equal(donor.stateDict()['fc1.weight'])).toBe(true);
    expect(distiller.createKdPolicyFromArgs({ ...args, kd_teacher: null }, student, { createModel: torch.models.create, scheduler, epochs: 5 })).toBeNull();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

const kdLoss = torch.kdLoss;
