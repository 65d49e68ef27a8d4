/**
 * KnowledgeDistillationPolicy: Distiller's policy (Hinton et al., "Distilling the Knowledge in a Neural Network",
 * 2015), ported hook for hook, with the gaps Distiller left filled in.
 *
 * Distiller's behaviour, kept: `forward()` must replace the call to the student; when active it runs the teacher
 * (without autograd when its weight is 0), then the student, caches both logits (the student's clone stays in the
 * autograd graph), and returns the student's output. `onEpochBegin`/`onEpochEnd` switch it on and off, so it runs
 * exactly in the epochs the scheduler gives it. `beforeBackwardPass` returns
 * `overall = w.student·loss + w.distill·KL·T²` with the unscaled KL as the 'Distill Loss' component.
 *
 * Beyond Distiller: teacher weight > 0 trains the teacher against the labels alongside the student ("scheme A" of
 * Mishra & Marr; Distiller raised NotImplementedError) — the labels arrive through the scheduler's
 * beforeBackwardPass kwargs; the teacher is put in eval mode and frozen by default (Distiller ran it in train mode,
 * updating its BatchNorm statistics; `{distillerTeacherMode: true}` restores that); caches are cleared once used, so
 * a step that bypassed `forward()` is an error instead of silently reusing old logits; any class dim and (N, L, C)
 * logits; and the forward of two native models plus the KD loss run natively (native/kd/).
 */
import { native } from '../binding';
import { describe } from '../dtype';
import { TorchError } from '../errors';
import * as F from '../functional';
import { Module } from '../nn/module';
import { Tensor, handleOf, wrap } from '../tensor';
import { kdLoss, topkKdLoss, type KdLossOptions } from './kd-loss';
import { DistillationLossWeights } from './loss-weights';
import { HookKwargs, LossComponent, PolicyLoss, PolicyMeta, PolicyState, ScheduledTrainingPolicy, ZerosMaskDict } from './policy';
import { TeacherCache, type TeacherTopK } from './teacher-cache';

const N = native();

/** A model the policy can run: a torchkd Module, or any function of the inputs returning logits. */
export type Model = Module | ((...inputs: Tensor[]) => Tensor);

/** Options beyond Distiller's four positional arguments. */
export interface KnowledgeDistillationOptions {
  /** Run the teacher in train mode and leave its parameters trainable, exactly as Distiller did (default false). */
  distillerTeacherMode?: boolean;
  /** Class dimension of the logits (default 1; -1 for (N, L, C) logits). */
  classDim?: number;
  /** KD loss implementation (default 'auto' = fused). */
  impl?: KdLossOptions['impl'];
  /** Loss of the teacher against the labels when the teacher weight is > 0 (default cross entropy). */
  teacherCriterion?: (logits: Tensor, labels: Tensor) => Tensor;
}

/** The trailing options of {@link KnowledgeDistillationPolicy.forward}. */
export interface KdForwardOptions {
  /**
   * The dataset indices of the batch's samples (1-D int64), e.g. the third member of an {@link IndexedDataset}'s
   * batch: with a {@link TeacherCache} as the teacher, the teacher logits are these rows of the cache. Ignored with a
   * live teacher.
   */
  indices?: Tensor;
}

function runModel(model: Model, inputs: Tensor[]): Tensor {
  const out: unknown = model instanceof Module ? (model as Module<Tensor[], unknown>).call(...inputs) : model(...inputs);
  if (!(out instanceof Tensor)) throw new TypeError(`the model must return a Tensor (its logits) but returned ${describe(out)}`);
  return out;
}

/**
 * Knowledge distillation as a scheduled training policy.
 *
 * @example
 * const kd = new distiller.KnowledgeDistillationPolicy(student, teacher, 4.0, distiller.DistillationLossWeights(0.7, 0.3, 0));
 * scheduler.addPolicy(kd, { startingEpoch: 0, endingEpoch: epochs });
 */
export class KnowledgeDistillationPolicy extends ScheduledTrainingPolicy<Model> {
  readonly student: Model;
  /** The teacher model, or the cache of its logits (then the teacher is never run). */
  readonly teacher: Model | TeacherCache;
  readonly temperature: number;
  readonly lossWts: DistillationLossWeights;
  readonly options: Readonly<KnowledgeDistillationOptions>;
  /** True inside the epochs the scheduler gives this policy. */
  active = false;
  /** The logits cached by the last `forward()` (cleared once `beforeBackwardPass` used them). */
  lastStudentLogits: Tensor | null = null;
  lastTeacherLogits: Tensor | null = null;
  /** With a top-k {@link TeacherCache}: the batch's cached top-k values and indices (cleared like the logits). */
  lastTeacherTopK: TeacherTopK | null = null;

  constructor(
    studentModel: Model,
    teacherModel: Model | TeacherCache,
    temperature = 1.0,
    lossWeights: DistillationLossWeights = DistillationLossWeights(0.5, 0.5, 0),
    options: KnowledgeDistillationOptions = {},
  ) {
    super();
    if (!(studentModel instanceof Module) && typeof studentModel !== 'function') throw new TypeError(`the student must be a Module or a function, got ${describe(studentModel)}`);
    if (!(teacherModel instanceof Module) && typeof teacherModel !== 'function' && !(teacherModel instanceof TeacherCache)) {
      throw new TypeError(`the teacher must be a Module, a function or a TeacherCache, got ${describe(teacherModel)}`);
    }
    if (typeof temperature !== 'number') throw new TypeError(`Expected a number for temperature but received ${describe(temperature)}`);
    if (!(Number.isFinite(temperature) && temperature > 0)) throw new RangeError(`temperature must be finite and > 0, got ${temperature}`);
    if (!(lossWeights instanceof DistillationLossWeights)) throw new TypeError(`lossWeights must be a DistillationLossWeights, got ${describe(lossWeights)}`);
    this.student = studentModel;
    this.teacher = teacherModel;
    this.temperature = temperature;
    this.lossWts = lossWeights;
    this.options = Object.freeze({ ...options });
    if (teacherModel instanceof TeacherCache && lossWeights.teacher !== 0) {
      throw new RangeError(`a TeacherCache holds fixed logits and cannot be trained: the teacher weight must be 0, got ${lossWeights.teacher}`);
    }
    this.prepareTeacher();
  }

  /** Eval mode and frozen parameters for a teacher that is not being trained (unless Distiller's mode is asked). */
  private prepareTeacher(): void {
    if (!(this.teacher instanceof Module) || this.options.distillerTeacherMode) return;
    if (this.lossWts.teacher === 0) {
      this.teacher.eval();
      for (const p of this.teacher.parameters()) p.requiresGrad = false;
    } else {
      this.teacher.train();
    }
  }

  /**
   * Runs the models and caches the logits; call it instead of the student. Returns the student's output.
   * When both models are native (built-in layers, Sequentials of them, TorchScript) this is one native call.
   */
  forward(...inputs: Tensor[]): Tensor;
  /** With a {@link TeacherCache}: `forward(x, { indices })`, the batch's dataset indices selecting the cached rows. */
  forward(...inputsAndOptions: [...Tensor[], KdForwardOptions]): Tensor;
  forward(...args: (Tensor | KdForwardOptions)[]): Tensor {
    const last = args[args.length - 1];
    const hasOptions = args.length > 0 && !(last instanceof Tensor) && last !== null && typeof last === 'object';
    const inputs = (hasOptions ? args.slice(0, -1) : args) as Tensor[];
    if (!this.active) return runModel(this.student, inputs);
    if (this.teacher instanceof TeacherCache) return this.forwardCached(this.teacher, inputs, hasOptions ? (last as KdForwardOptions) : {});
    const adapter = (m: Model): number | (() => number) => {
      const h = m instanceof Module ? m.nativeHandle() : null;
      return h !== null ? h : () => runModel(m, inputs).h;
    };
    const [s, t, sClone] = N.kdForward(adapter(this.teacher), adapter(this.student), inputs.map((x, i) => handleOf(x, `input ${i}`)), this.lossWts.teacher > 0);
    this.lastTeacherLogits?.dispose();
    this.lastStudentLogits?.dispose();
    this.lastTeacherLogits = wrap(t);
    this.lastStudentLogits = wrap(sClone);
    return wrap(s);
  }

  // The student runs as in forward(); the teacher's logits are the cache's rows for the batch's indices (read as
  // float32, on the student's device).
  private forwardCached(cache: TeacherCache, inputs: Tensor[], options: KdForwardOptions): Tensor {
    const indices = options.indices;
    if (!(indices instanceof Tensor)) {
      throw new TypeError(
        'KnowledgeDistillationPolicy: with a TeacherCache, pass the batch\'s dataset indices: policy.forward(x, { indices }) ' +
          `(wrap the dataset in torch.data.IndexedDataset to have the loader yield them); got ${describe(indices)}`,
      );
    }
    const s = runModel(this.student, inputs);
    if (s.ndim < 1 || s.size(0) !== indices.numel()) {
      throw new RangeError(`KnowledgeDistillationPolicy: ${indices.numel()} indices for a batch of ${s.ndim ? s.size(0) : 0} student outputs`);
    }
    const d = this.options.classDim ?? 1;
    const classes = s.ndim > 0 ? s.size(d < 0 ? d + s.ndim : d) : 0;
    if (classes !== cache.numClasses) {
      throw new RangeError(`KnowledgeDistillationPolicy: the student has ${classes} classes (dim ${d}), the teacher cache ${cache.numClasses}`);
    }
    this.clearCaches();
    const onDevice = (t: Tensor): Tensor => {
      if (t.device === s.device) return t;
      const moved = t.to(s.device);
      t.dispose();
      return moved;
    };
    if (cache.topK === null) {
      this.lastTeacherLogits = onDevice(cache.logits(indices));
    } else {
      const top = cache.topk(indices);
      this.lastTeacherTopK = { values: onDevice(top.values), indices: onDevice(top.indices) };
    }
    this.lastStudentLogits = s.clone();
    return s;
  }

  /** Distillation starts with the epoch. */
  override onEpochBegin(model: Model, zerosMaskDict: ZerosMaskDict, meta: PolicyMeta, kwargs?: HookKwargs): void {
    this.active = true;
    this.prepareTeacher();
  }

  /** ...and stops at its end. */
  override onEpochEnd(model: Model, zerosMaskDict: ZerosMaskDict, meta: PolicyMeta, kwargs?: HookKwargs): void {
    this.active = false;
    this.clearCaches();
  }

  /** Replaces the loss with the distillation objective (see the class comment). */
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
    const t = this.lastTeacherLogits;
    const top = this.lastTeacherTopK;
    if (s === null || (t === null && top === null)) {
      throw new TorchError(
        'KnowledgeDistillationPolicy: student and/or teacher logits were not cached for this step. Call policy.forward(input) ' +
          'in your training loop instead of calling the model directly (once per step: the cache is cleared after use).',
        'VALUE_ERROR',
      );
    }
    this.lastStudentLogits = null;
    this.lastTeacherLogits = null;
    this.lastTeacherTopK = null;
    const T = this.temperature;
    const w = this.lossWts;
    const dim = this.options.classDim ?? 1;
    if (top !== null && (dim < 0 ? dim + s.ndim : dim) !== s.ndim - 1) {
      throw new RangeError(`a top-k TeacherCache holds the top-k over the logits' last dim, but classDim is ${dim} for ${s.ndim}-d logits`);
    }
    // Distiller's formula, in its operation order: student·loss + distill·(KL·T²).
    const kl = top !== null ? topkKdLoss(s, top.values, top.indices, T, { dim, impl: this.options.impl }) : kdLoss(s, t as Tensor, T, { dim, impl: this.options.impl });
    let overall = loss.mul(w.student).add(kl.mul(T ** 2).mul(w.distill));
    const components = [new LossComponent('Distill Loss', kl)];
    if (w.teacher > 0) {
      const labels = kwargs?.labels;
      if (!(labels instanceof Tensor)) {
        throw new TypeError('a teacher weight > 0 trains the teacher against the labels: pass them as scheduler.beforeBackwardPass(..., { labels })');
      }
      const teacherLoss = (this.options.teacherCriterion ?? ((l: Tensor, y: Tensor) => F.crossEntropy(l, y)))(t as Tensor, labels);
      overall = overall.add(teacherLoss.mul(w.teacher));
      components.push(new LossComponent('Teacher Loss', teacherLoss));
    }
    s.dispose();
    if (w.teacher === 0) t?.dispose();
    top?.values.dispose();
    top?.indices.dispose();
    return new PolicyLoss(overall, components);
  }

  private clearCaches(): void {
    this.lastStudentLogits?.dispose();
    this.lastTeacherLogits?.dispose();
    this.lastStudentLogits = null;
    this.lastTeacherLogits = null;
    this.lastTeacherTopK?.values.dispose();
    this.lastTeacherTopK?.indices.dispose();
    this.lastTeacherTopK = null;
  }

  /** Resumable state: whether distillation is active (the caches are per step and never saved). */
  override stateDict(): PolicyState {
    return { active: this.active };
  }

  override loadStateDict(state: PolicyState): void {
    if (typeof state?.active !== 'boolean') throw new TypeError('KnowledgeDistillationPolicy.loadStateDict expects {active: boolean}');
    this.active = state.active;
  }
}
