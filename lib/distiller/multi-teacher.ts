/**
 * Multi-teacher knowledge distillation: one student, several frozen teachers with weights, in the
 * {@link KnowledgeDistillationPolicy}'s place and with its loss shape: `overall = w.student·loss + w.distill·KL·T²`.
 *
 * The KL term combines the teachers in one of two named ways:
 * - `'averageSoftTargets'` (default): the KL to the weighted average of the teachers' soft targets, the ensemble
 *   distillation of Hinton et al. (2015, §2: the arithmetic mean of the ensemble's predictions as the soft target) with
 *   weights: `kl_div(log_softmax(s/T), Σ_k ŵ_k·softmax(t_k/T), 'batchmean')` (the composite PyTorch ops).
 * - `'sumKl'`: the weighted sum of the per-teacher KD losses, `Σ_k ŵ_k·KL(softmax(t_k/T) ‖ softmax(s/T))`, each one
 *   pass of the fused {@link kdLoss} (or its composite form with `impl: 'composite'`).
 * The weights are normalised, `ŵ_k = w_k / Σw`, so both forms are on the scale of a single teacher's KL.
 */
import { noGrad } from '../autograd';
import { describe } from '../dtype';
import { TorchError } from '../errors';
import * as F from '../functional';
import { Module } from '../nn/module';
import { Tensor } from '../tensor';
import { kdLoss, type KdLossOptions } from './kd-loss';
import type { Model } from './knowledge-distillation';
import { DistillationLossWeights } from './loss-weights';
import { HookKwargs, LossComponent, PolicyLoss, PolicyMeta, PolicyState, ScheduledTrainingPolicy, ZerosMaskDict } from './policy';

/** How the teachers are combined (see the module comment). */
export type MultiTeacherMode = 'averageSoftTargets' | 'sumKl';

/** Options of {@link MultiTeacherDistillationPolicy}. */
export interface MultiTeacherOptions {
  /** Relative weights of the teachers (default equal); finite, >= 0, not all 0. Normalised to sum to 1. */
  teacherWeights?: readonly number[];
  /** `'averageSoftTargets'` (default) or `'sumKl'`. */
  mode?: MultiTeacherMode;
  /** Class dimension of the logits (default 1; -1 for (N, L, C) logits). 'batchmean' divides by size(0). */
  classDim?: number;
  /** KD loss implementation of the `'sumKl'` form (default 'auto' = fused). */
  impl?: KdLossOptions['impl'];
  /** Put Module teachers in eval mode and freeze their parameters (default true). */
  freezeTeachers?: boolean;
}

function run(model: Model, inputs: Tensor[], what: string): Tensor {
  const out: unknown = model instanceof Module ? (model as Module<Tensor[], unknown>).call(...inputs) : model(...inputs);
  if (!(out instanceof Tensor)) throw new TypeError(`MultiTeacherDistillationPolicy: the ${what} must return a Tensor (its logits) but returned ${describe(out)}`);
  return out;
}

const MODES: readonly MultiTeacherMode[] = ['averageSoftTargets', 'sumKl'];

/**
 * Knowledge distillation from several teachers as a scheduled training policy: `forward()` runs every teacher
 * (without autograd) and the student, `beforeBackwardPass` returns
 * `PolicyLoss(w.student·loss + w.distill·KL·T², [Distill Loss, …])`. The 'Distill Loss' component is the combined,
 * unscaled KL; the `'sumKl'` form also reports each teacher's KL as 'Distill Loss (teacher k)'. Teachers are not
 * trained (the teacher weight of `lossWeights` must be 0); each runs once per step.
 *
 * @example
 * const mkd = new distiller.MultiTeacherDistillationPolicy(student, [resnet, vit], 4.0, DistillationLossWeights(0.7, 0.3), { teacherWeights: [2, 1], mode: 'sumKl' });
 * scheduler.addPolicy(mkd, { startingEpoch: 0, endingEpoch: epochs });
 */
export class MultiTeacherDistillationPolicy extends ScheduledTrainingPolicy<Model> {
  readonly student: Model;
  readonly teachers: readonly Model[];
  readonly temperature: number;
  readonly lossWts: DistillationLossWeights;
  /** The normalised teacher weights ŵ_k = w_k / Σw. */
  readonly teacherWeights: readonly number[];
  readonly mode: MultiTeacherMode;
  readonly options: Readonly<MultiTeacherOptions>;
  /** True inside the epochs the scheduler gives this policy. */
  active = false;
  /** The logits cached by the last `forward()` (cleared once `beforeBackwardPass` used them). */
  lastStudentLogits: Tensor | null = null;
  lastTeacherLogits: Tensor[] | null = null;

  constructor(
    studentModel: Model,
    teacherModels: readonly Model[],
    temperature = 1.0,
    lossWeights: DistillationLossWeights = DistillationLossWeights(0.5, 0.5, 0),
    options: MultiTeacherOptions = {},
  ) {
    super();
    const who = 'MultiTeacherDistillationPolicy';
    if (!(studentModel instanceof Module) && typeof studentModel !== 'function') throw new TypeError(`${who}: the student must be a Module or a function, got ${describe(studentModel)}`);
    if (!Array.isArray(teacherModels)) throw new TypeError(`${who}: expected an array of teachers (Modules or functions) but received ${describe(teacherModels)}`);
    if (teacherModels.length === 0) throw new RangeError(`${who}: at least one teacher is needed`);
    teacherModels.forEach((t, i) => {
      if (!(t instanceof Module) && typeof t !== 'function') throw new TypeError(`${who}: teachers[${i}] must be a Module or a function, got ${describe(t)}`);
    });
    if (typeof temperature !== 'number') throw new TypeError(`${who}: expected a number for temperature but received ${describe(temperature)}`);
    if (!(Number.isFinite(temperature) && temperature > 0)) throw new RangeError(`${who}: temperature must be finite and > 0, got ${temperature}`);
    if (!(lossWeights instanceof DistillationLossWeights)) throw new TypeError(`${who}: lossWeights must be a DistillationLossWeights, got ${describe(lossWeights)}`);
    if (lossWeights.teacher !== 0) throw new RangeError(`${who}: the teachers are not trained, so the teacher weight of lossWeights must be 0 (got ${lossWeights.teacher})`);
    if (options === null || typeof options !== 'object') throw new TypeError(`${who}: expected an options object but received ${describe(options)}`);
    const mode = options.mode ?? 'averageSoftTargets';
    if (!MODES.includes(mode)) throw new RangeError(`${who}: mode must be 'averageSoftTargets' or 'sumKl', got ${describe(mode)}`);
    const raw = options.teacherWeights ?? teacherModels.map(() => 1);
    if (!Array.isArray(raw)) throw new TypeError(`${who}: expected an array of numbers for teacherWeights but received ${describe(raw)}`);
    if (raw.length !== teacherModels.length) throw new RangeError(`${who}: teacherWeights has ${raw.length} entries for ${teacherModels.length} teachers`);
    raw.forEach((w, i) => {
      if (typeof w !== 'number') throw new TypeError(`${who}: expected a number for teacherWeights[${i}] but received ${describe(w)}`);
      if (!Number.isFinite(w) || w < 0) throw new RangeError(`${who}: teacherWeights[${i}] must be a finite number >= 0 but is ${w}`);
    });
    let total = 0;
    for (const w of raw) total += w;
    if (!(total > 0)) throw new RangeError(`${who}: teacherWeights are all 0; at least one teacher needs a positive weight`);
    if (options.impl !== undefined && !['auto', 'fused', 'composite'].includes(options.impl)) {
      throw new RangeError(`${who}: impl must be 'auto', 'fused' or 'composite', got ${describe(options.impl)}`);
    }
    this.student = studentModel;
    this.teachers = Object.freeze([...teacherModels]);
    this.temperature = temperature;
    this.lossWts = lossWeights;
    this.teacherWeights = Object.freeze(raw.map((w) => w / total));
    this.mode = mode;
    this.options = Object.freeze({ ...options });
    this.prepareTeachers();
  }

  private prepareTeachers(): void {
    if (this.options.freezeTeachers === false) return;
    for (const t of this.teachers) {
      if (!(t instanceof Module)) continue;
      t.eval();
      for (const p of t.parameters()) p.requiresGrad = false;
    }
  }

  /** Runs the teachers (without autograd) and the student, caching their logits; returns the student's output. */
  forward(...inputs: Tensor[]): Tensor {
    if (!this.active) return run(this.student, inputs, 'student');
    const teachers = noGrad(() => this.teachers.map((t, k) => run(t, inputs, `teacher ${k}`)));
    const student = run(this.student, inputs, 'student');
    this.lastTeacherLogits = teachers;
    this.lastStudentLogits = student;
    return student;
  }

  override onEpochBegin(model: Model, zerosMaskDict: ZerosMaskDict, meta: PolicyMeta, kwargs?: HookKwargs): void {
    this.active = true;
    this.prepareTeachers();
  }

  override onEpochEnd(model: Model, zerosMaskDict: ZerosMaskDict, meta: PolicyMeta, kwargs?: HookKwargs): void {
    this.active = false;
    this.lastStudentLogits = null;
    this.lastTeacherLogits = null;
  }

  /** `w.student·loss + w.distill·KL·T²` with the teachers combined by `mode` (see the class comment). */
  override beforeBackwardPass(
    model: Model,
    epoch: number,
    minibatchId: number,
    minibatchesPerEpoch: number,
    loss: Tensor,
    zerosMaskDict: ZerosMaskDict,
    optimizer?: unknown,
    kwargs?: HookKwargs,
  ): PolicyLoss | null {
    if (!this.active) return null;
    const s = this.lastStudentLogits;
    const ts = this.lastTeacherLogits;
    if (s === null || ts === null) {
      throw new TorchError(
        'MultiTeacherDistillationPolicy: student and/or teacher logits were not cached for this step. Call policy.forward(input) ' +
          'in your training loop instead of calling the model directly (once per step: the cache is cleared after use).',
        'VALUE_ERROR',
      );
    }
    this.lastStudentLogits = null;
    this.lastTeacherLogits = null;
    ts.forEach((t, k) => {
      if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
        throw new RangeError(`MultiTeacherDistillationPolicy: teacher ${k}'s logits have shape [${t.shape.join(', ')}] but the student's [${s.shape.join(', ')}]`);
      }
    });
    const T = this.temperature;
    const dim = this.options.classDim ?? 1;
    const w = this.teacherWeights;
    const components: LossComponent[] = [];
    let kl: Tensor;
    if (this.mode === 'sumKl') {
      const kls = ts.map((t) => kdLoss(s, t, T, { dim, impl: this.options.impl }));
      kl = kls[0].mul(w[0]);
      for (let k = 1; k < kls.length; k++) kl = kl.add(kls[k].mul(w[k]));
      components.push(new LossComponent('Distill Loss', kl), ...kls.map((v, k) => new LossComponent(`Distill Loss (teacher ${k})`, v)));
    } else {
      let target = F.softmax(ts[0].div(T), { dim }).mul(w[0]);
      for (let k = 1; k < ts.length; k++) target = target.add(F.softmax(ts[k].div(T), { dim }).mul(w[k]));
      kl = F.klDiv(F.logSoftmax(s.div(T), { dim }), target, { reduction: 'batchmean' });
      components.push(new LossComponent('Distill Loss', kl));
    }
    // The KD policy's formula, in its operation order: student·loss + distill·(KL·T²).
    const overall = loss.mul(this.lossWts.student).add(kl.mul(T ** 2).mul(this.lossWts.distill));
    return new PolicyLoss(overall, components);
  }

  override stateDict(): PolicyState {
    return { active: this.active };
  }

  override loadStateDict(state: PolicyState): void {
    if (typeof state?.active !== 'boolean') throw new TypeError('MultiTeacherDistillationPolicy.loadStateDict expects {active: boolean}');
    this.active = state.active;
  }
}
