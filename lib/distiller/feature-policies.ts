/**
 * Feature-distillation policies: scheduled training policies that add losses between named intermediate features of
 * the student and of a frozen teacher to the loss the scheduler chains, as {@link KnowledgeDistillationPolicy} adds
 * the logit term. One {@link LossComponent} per term (unweighted, for logging); the overall loss is
 * `loss + Σ weight·term`, in the order the terms are listed. Epochs come from the scheduler (`addPolicy`), so a FitNets
 * hint stage followed by KD is two `addPolicy` calls.
 *
 * Features are taken by forward hooks ({@link FeatureCapture}) on the named submodules; the models are not changed.
 * The training loop stays the one of logit KD: run `policy.forward(x)`, a KD policy's `forward(x)`, or just
 * `student.call(x)`; when the teacher has not run on this step's inputs yet, the policy runs it (without autograd)
 * on the inputs the student saw, so the teacher runs at most once per step however many feature policies read it.
 * Features are cleared once a step's loss is computed: a step whose student did not run is an error, never a loss
 * on old features. Put a KD policy first in the scheduler: it scales the loss it receives by its student weight.
 */
import { noGrad } from '../autograd';
import { describe } from '../dtype';
import { TorchError } from '../errors';
import { Module } from '../nn/module';
import { Tensor } from '../tensor';
import { type AttentionMode, type FeatureReduction, attentionPairLoss, cosineFeatureLoss, featureLoss, fitnetsLoss, rkdAngleLoss, rkdDistanceLoss } from './feature-losses';
import { FeatureCapture } from './features';
import type { Model } from './knowledge-distillation';
import { HookKwargs, LossComponent, PolicyLoss, PolicyMeta, PolicyState, ScheduledTrainingPolicy, ZerosMaskDict } from './policy';

/** A student/teacher pair of module names: one name for both, or `[studentName, teacherName]`. */
export type FeaturePair = string | readonly [student: string, teacher: string];

/** A loss between one student feature and the teacher feature paired with it (`pair` indexes the pairs). */
export type FeatureCriterion = (student: Tensor, teacher: Tensor, pair: number) => Tensor;

/** One weighted term of a feature policy's loss. */
export interface FeatureTerm {
  /** The name of its {@link LossComponent}. */
  name: string;
  /** Its weight in the overall loss (0: reported, not added). */
  weight: number;
  /** The unweighted value. */
  value: Tensor;
}

/** Options common to the feature policies. */
export interface FeatureDistillationOptions {
  /** Weight of the policy's term in the overall loss (default 1). Finite and >= 0. */
  weight?: number;
  /** Factors of the pairs inside the term (torchdistill's per-pair `weight`; default 1 each). Finite and >= 0. */
  pairWeights?: readonly number[];
  /** Name of the loss component (default 'Feature Loss'; each policy class has its own). */
  name?: string;
  /** Put the teacher in eval mode and freeze its parameters (default true). */
  freezeTeacher?: boolean;
}

function weightArg(v: unknown, what: string, who: string): number {
  if (typeof v !== 'number') throw new TypeError(`${who}: expected a number for ${what} but received ${describe(v)}`);
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`${who}: ${what} must be a finite number >= 0 but is ${v}`);
  return v;
}

function pairsArg(pairs: unknown, who: string): [string, string][] {
  // One name is one pair; an array lists pairs (a name, or [studentName, teacherName]).
  const list = typeof pairs === 'string' ? [pairs] : pairs;
  if (!Array.isArray(list)) throw new TypeError(`${who}: expected a module name or an array of pairs for pairs but received ${describe(pairs)}`);
  if (list.length === 0) throw new RangeError(`${who}: pairs must name at least one pair of modules`);
  return list.map((p: unknown, i) => {
    if (typeof p === 'string') return [p, p];
    if (Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string') return [p[0], p[1]];
    throw new TypeError(`${who}: pairs[${i}] must be a module name or [studentName, teacherName], but is ${describe(p)}`);
  });
}

function optionsArg<T extends object>(o: T | undefined, who: string): T {
  if (o === undefined) return {} as T;
  if (o === null || typeof o !== 'object') throw new TypeError(`${who}: expected an options object but received ${describe(o)}`);
  return o;
}

function reductionArg(r: unknown, who: string): FeatureReduction {
  if (r !== 'mean' && r !== 'sum') throw new RangeError(`${who}: reduction must be 'mean' or 'sum', got ${describe(r)}`);
  return r;
}

/** One pair, for the policies that distil a single pair of features. */
function pairArg(pair: unknown, who: string): [string, string] {
  if (typeof pair === 'string') return [pair, pair];
  if (Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string' && typeof pair[1] === 'string') return [pair[0], pair[1]];
  throw new TypeError(`${who}: expected a module name or [studentName, teacherName] but received ${describe(pair)}`);
}

function sameInputs(a: readonly unknown[] | null, b: readonly unknown[]): boolean {
  return a !== null && a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The base of the feature policies, usable on its own with any loss: the pairs of named student and teacher
 * modules, a criterion per pair, and the term `Σ pairWeight_i · criterion(s_i, t_i, i)` added to the loss with the
 * policy's weight. Subclasses with other terms override {@link FeatureDistillationPolicy.lossTerms}.
 *
 * @example
 * const p = new distiller.FeatureDistillationPolicy(student, teacher, [['layer2', 'layer3']], (s, t) => F.smoothL1Loss(s, t), { name: 'Hint Loss' });
 * scheduler.addPolicy(p, { startingEpoch: 0, endingEpoch: 5 });
 */
export class FeatureDistillationPolicy extends ScheduledTrainingPolicy<Model> {
  readonly student: Module;
  readonly teacher: Module;
  /** The `[studentName, teacherName]` pairs, in order. */
  readonly pairs: readonly (readonly [string, string])[];
  /** The student's features, taken with their autograd graph. */
  readonly studentFeatures: FeatureCapture;
  /** The teacher's features, detached. */
  readonly teacherFeatures: FeatureCapture;
  /** The term's weight in the overall loss. */
  readonly weight: number;
  /** The factors of the pairs inside the term. */
  readonly pairWeights: readonly number[];
  /** The component name. */
  readonly name: string;
  /** The per-pair loss (null in subclasses that override lossTerms). */
  readonly criterion: FeatureCriterion | null;
  /** True inside the epochs the scheduler gives this policy. */
  active = false;
  private readonly freezeTeacher: boolean;

  constructor(
    student: Module,
    teacher: Module,
    pairs: FeaturePair | readonly FeaturePair[],
    criterion: FeatureCriterion | null,
    options: FeatureDistillationOptions = {},
  ) {
    super();
    const who = new.target.name;
    if (!(student instanceof Module)) throw new TypeError(`${who}: the student must be an nn.Module (its features are taken by name), got ${describe(student)}`);
    if (!(teacher instanceof Module)) throw new TypeError(`${who}: the teacher must be an nn.Module (its features are taken by name), got ${describe(teacher)}`);
    optionsArg(options, who);
    if (criterion !== null && typeof criterion !== 'function') throw new TypeError(`${who}: expected a function (student, teacher, pair) => Tensor for criterion but received ${describe(criterion)}`);
    if (criterion === null && this.lossTerms === FeatureDistillationPolicy.prototype.lossTerms) {
      throw new TypeError(`${who}: a criterion is needed (or a subclass overriding lossTerms)`);
    }
    const list = pairsArg(pairs, who);
    this.weight = weightArg(options.weight ?? 1, 'weight', who);
    const pw = options.pairWeights ?? list.map(() => 1);
    if (!Array.isArray(pw)) throw new TypeError(`${who}: expected an array of numbers for pairWeights but received ${describe(pw)}`);
    if (pw.length !== list.length) throw new RangeError(`${who}: pairWeights has ${pw.length} entries for ${list.length} pairs`);
    this.pairWeights = Object.freeze(pw.map((w, i) => weightArg(w, `pairWeights[${i}]`, who)));
    const name = options.name ?? 'Feature Loss';
    if (typeof name !== 'string') throw new TypeError(`${who}: expected a string for name but received ${describe(name)}`);
    this.name = name;
    this.student = student;
    this.teacher = teacher;
    this.pairs = Object.freeze(list.map((p) => Object.freeze(p) as readonly [string, string]));
    this.criterion = criterion;
    this.freezeTeacher = options.freezeTeacher ?? true;
    this.studentFeatures = new FeatureCapture(student, list.map(([s]) => s));
    try {
      this.teacherFeatures = new FeatureCapture(teacher, list.map(([, t]) => t), { detach: true });
    } catch (e) {
      this.studentFeatures.remove(); // no hooks left behind by a policy that was never made
      throw e;
    }
    this.setCapturing(false);
    this.prepareTeacher();
  }

  /** Eval mode and frozen parameters for the teacher (unless `freezeTeacher: false`). */
  private prepareTeacher(): void {
    if (!this.freezeTeacher) return;
    this.teacher.eval();
    for (const p of this.teacher.parameters()) p.requiresGrad = false;
  }

  private setCapturing(on: boolean): void {
    this.studentFeatures.enabled = on;
    this.teacherFeatures.enabled = on;
    this.studentFeatures.clear();
    this.teacherFeatures.clear();
  }

  /**
   * Runs the teacher (without autograd) and the student on the inputs when active, only the student otherwise, and
   * returns the student's output. Optional: the policy also works when the loop calls the student itself; with a KD
   * policy in the same scheduler, call the KD policy's forward (it runs both models and the hooks take the features).
   */
  forward(...inputs: Tensor[]): Tensor {
    if (this.active) noGrad(() => (this.teacher as Module<Tensor[], unknown>).call(...inputs));
    const out: unknown = (this.student as Module<Tensor[], unknown>).call(...inputs);
    if (!(out instanceof Tensor)) throw new TypeError(`${this.constructor.name}.forward: the student returned ${describe(out)}, not a Tensor; call the student itself instead`);
    return out;
  }

  /** Trainable parameters the policy adds (a FitNets regressor's); give them to the optimizer. None here. */
  parameters(): Tensor[] {
    return [];
  }

  /**
   * The policy's terms from this step's features (in pair order). The default: one term, the policy's name and
   * weight, `Σ pairWeight_i · criterion(s_i, t_i, i)` accumulated left to right.
   */
  protected lossTerms(student: readonly Tensor[], teacher: readonly Tensor[]): FeatureTerm[] {
    const criterion = this.criterion as FeatureCriterion;
    let acc: Tensor | null = null;
    student.forEach((s, i) => {
      const v = criterion(s, teacher[i], i);
      if (!(v instanceof Tensor)) throw new TypeError(`${this.constructor.name}: the criterion returned ${describe(v)} for pair ${i}, not a Tensor`);
      const term = v.mul(this.pairWeights[i]);
      acc = acc === null ? term : acc.add(term);
    });
    return [{ name: this.name, weight: this.weight, value: acc as unknown as Tensor }];
  }

  /** This step's features, pair by pair; runs the teacher if it has not run on the student's inputs. Clears them. */
  private takeFeatures(): [Tensor[], Tensor[]] {
    const sc = this.studentFeatures;
    const tc = this.teacherFeatures;
    if (sc.removed) throw new TorchError(`${this.constructor.name}: remove() took its hooks off; make a new policy to distil again`, 'VALUE_ERROR');
    const inputs = sc.inputs;
    if (inputs === null || !this.pairs.every(([s]) => sc.has(s))) {
      const missing = this.pairs.filter(([s]) => !sc.has(s)).map(([s]) => `'${s}'`);
      throw new TorchError(
        `${this.constructor.name}: the student's features (${missing.join(', ')}) were not captured in this step. Run policy.forward(x), a KD ` +
          "policy's forward(x) or the student itself through call() before scheduler.beforeBackwardPass (once per step: features are cleared after use)" +
          (inputs === null ? '' : '; the student ran but did not run those modules'),
        'VALUE_ERROR',
      );
    }
    try {
      if (!sameInputs(tc.inputs, inputs) || !this.pairs.every(([, t]) => tc.has(t))) {
        noGrad(() => (this.teacher as Module<unknown[], unknown>).call(...inputs));
      }
      return [this.pairs.map(([s]) => sc.get(s)), this.pairs.map(([, t]) => tc.get(t))];
    } finally {
      sc.clear();
      tc.clear();
    }
  }

  /** Distillation starts with the epoch (the captures are switched on). */
  override onEpochBegin(model: Model, zerosMaskDict: ZerosMaskDict, meta: PolicyMeta, kwargs?: HookKwargs): void {
    this.active = true;
    this.setCapturing(true);
    this.prepareTeacher();
  }

  /** ...and stops at its end. */
  override onEpochEnd(model: Model, zerosMaskDict: ZerosMaskDict, meta: PolicyMeta, kwargs?: HookKwargs): void {
    this.active = false;
    this.setCapturing(false);
  }

  /** Adds the policy's weighted terms to the loss: `loss + Σ weight·term`; one component per term. */
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
    const [s, t] = this.takeFeatures();
    const terms = this.lossTerms(s, t);
    let overall = loss;
    for (const term of terms) if (term.weight !== 0) overall = overall.add(term.value.mul(term.weight));
    return new PolicyLoss(overall, terms.map((term) => new LossComponent(term.name, term.value)));
  }

  /** Takes the policy's hooks off both models (idempotent). */
  remove(): void {
    this.studentFeatures.remove();
    this.teacherFeatures.remove();
  }

  /** Resumable state: whether distillation is active. */
  override stateDict(): PolicyState {
    return { active: this.active };
  }

  override loadStateDict(state: PolicyState): void {
    if (typeof state?.active !== 'boolean') throw new TypeError(`${this.constructor.name}.loadStateDict expects {active: boolean}`);
    this.active = state.active;
    this.setCapturing(state.active);
  }
}

/** Options of {@link FitNetsPolicy}. */
export interface FitNetsOptions {
  /** Weight of the hint term (default 1). */
  weight?: number;
  /** Of the squared error: `'mean'` (default) or `'sum'` (torchdistill's FitNets configuration). */
  reduction?: FeatureReduction;
  /** Name of the component (default 'FitNets Loss'). */
  name?: string;
  /** Put the teacher in eval mode and freeze it (default true). */
  freezeTeacher?: boolean;
}

/**
 * FitNets hint training (Romero et al., "FitNets: Hints for Thin Deep Nets", ICLR 2015): the student's guided layer,
 * through a trainable regressor, is pulled towards the teacher's hint layer with {@link fitnetsLoss}
 * (`mse_loss(regressor(s), t)`; torchdistill: `ConvReg` + `SimpleLossWrapper(nn.MSELoss)`). The regressor is the
 * policy's own module: give `policy.parameters()` (or `regressor.parameters()`) to the optimizer with the student's.
 * The paper's first stage is this policy alone for some epochs; its second, a KD policy scheduled after.
 *
 * @example
 * const hint = new distiller.FitNetsPolicy(student, teacher, ['layer2', 'layer3'], new nn.Conv2d(32, 64, 1));
 * const opt = new optim.SGD([...student.parameters(), ...hint.parameters()], { lr: 0.1 });
 */
export class FitNetsPolicy extends FeatureDistillationPolicy {
  /** Maps the student's guided feature to the teacher's hint (null: the shapes already match). */
  readonly regressor: Module | null;
  readonly reduction: FeatureReduction;

  constructor(student: Module, teacher: Module, hint: FeaturePair, regressor: Module | null = null, options: FitNetsOptions = {}) {
    const o = optionsArg(options, 'FitNetsPolicy');
    if (regressor !== null && !(regressor instanceof Module)) throw new TypeError(`FitNetsPolicy: expected an nn.Module or null for regressor but received ${describe(regressor)}`);
    const reduction = reductionArg(o.reduction ?? 'mean', 'FitNetsPolicy');
    super(student, teacher, [pairArg(hint, 'FitNetsPolicy')], null, { weight: o.weight, name: o.name ?? 'FitNets Loss', freezeTeacher: o.freezeTeacher });
    this.regressor = regressor;
    this.reduction = reduction;
  }

  /** The regressor's parameters, for the optimizer. */
  override parameters(): Tensor[] {
    return this.regressor === null ? [] : this.regressor.parameters();
  }

  protected override lossTerms(student: readonly Tensor[], teacher: readonly Tensor[]): FeatureTerm[] {
    return [{ name: this.name, weight: this.weight, value: fitnetsLoss(student[0], teacher[0], { regressor: this.regressor, reduction: this.reduction }) }];
  }
}

/** Options of {@link AttentionTransferPolicy}. */
export interface AttentionTransferOptions extends FeatureDistillationOptions {
  /** `'code'` (default: the authors' implementation) or `'paper'` (Eq. 2), as torchdistill's ATLoss. */
  mode?: AttentionMode;
}

/**
 * Attention transfer (Zagoruyko & Komodakis, "Paying More Attention to Attention", ICLR 2017), torchdistill's
 * `ATLoss` over several pairs of feature maps (same spatial size; channels may differ): the term is
 * `Σ_i pairWeight_i · at_loss(s_i, t_i)` ({@link attentionTransferLoss}'s per-pair value), divided once by the batch
 * size in `'paper'` mode, exactly as ATLoss.forward. The authors' β = 1000 is the weight (torchdistill's
 * configurations: 1000 × ATLoss).
 *
 * @example
 * const at = new distiller.AttentionTransferPolicy(student, teacher, ['layer1', 'layer2', 'layer3'], { weight: 1000 });
 */
export class AttentionTransferPolicy extends FeatureDistillationPolicy {
  readonly mode: AttentionMode;

  constructor(student: Module, teacher: Module, pairs: FeaturePair | readonly FeaturePair[], options: AttentionTransferOptions = {}) {
    const o = optionsArg(options, 'AttentionTransferPolicy');
    const mode = o.mode ?? 'code';
    if (mode !== 'code' && mode !== 'paper') throw new RangeError(`AttentionTransferPolicy: mode must be 'code' or 'paper', got ${describe(mode)}`);
    super(student, teacher, pairs, null, { ...o, name: o.name ?? 'AT Loss' });
    this.mode = mode;
  }

  protected override lossTerms(student: readonly Tensor[], teacher: readonly Tensor[]): FeatureTerm[] {
    let acc: Tensor | null = null;
    student.forEach((s, i) => {
      const term = attentionPairLoss(s, teacher[i], this.mode, `AttentionTransferPolicy (pair ${i}: ${this.pairs[i][0]} / ${this.pairs[i][1]})`).mul(this.pairWeights[i]);
      acc = acc === null ? term : acc.add(term);
    });
    const value = acc as unknown as Tensor;
    return [{ name: this.name, weight: this.weight, value: this.mode === 'paper' ? value.div(student[0].size(0)) : value }];
  }
}

/** Options of {@link RelationalKDPolicy}. */
export interface RelationalKDOptions {
  /** Weight of the distance-wise term (default 1, the paper's λ_D); 0 leaves it out. */
  distanceWeight?: number;
  /** Weight of the angle-wise term (default 2, the paper's λ_A); 0 leaves it out. */
  angleWeight?: number;
  /** Of the smooth L1 losses: `'mean'` (default) or `'sum'`. */
  reduction?: FeatureReduction;
  /** Put the teacher in eval mode and freeze it (default true). */
  freezeTeacher?: boolean;
}

/**
 * Relational knowledge distillation (Park et al., "Relational Knowledge Distillation", CVPR 2019), torchdistill's
 * `RKDLoss` on one pair of (flattened) features: two terms, 'RKD Distance Loss' ({@link rkdDistanceLoss}) and
 * 'RKD Angle Loss' ({@link rkdAngleLoss}), added as `loss + λ_D·distance + λ_A·angle` (a term with weight 0 is not
 * computed, as in RKDLoss). Feature sizes may differ between student and teacher.
 *
 * @example
 * const rkd = new distiller.RelationalKDPolicy(student, teacher, ['embed', 'pool'], { distanceWeight: 25, angleWeight: 50 });
 */
export class RelationalKDPolicy extends FeatureDistillationPolicy {
  readonly distanceWeight: number;
  readonly angleWeight: number;
  readonly reduction: FeatureReduction;

  constructor(student: Module, teacher: Module, pair: FeaturePair, options: RelationalKDOptions = {}) {
    const who = 'RelationalKDPolicy';
    const o = optionsArg(options, who);
    const distanceWeight = weightArg(o.distanceWeight ?? 1, 'distanceWeight', who);
    const angleWeight = weightArg(o.angleWeight ?? 2, 'angleWeight', who);
    if (distanceWeight === 0 && angleWeight === 0) throw new RangeError(`${who}: distanceWeight and angleWeight are both 0, so there is nothing to distil`);
    const reduction = reductionArg(o.reduction ?? 'mean', who);
    super(student, teacher, [pairArg(pair, who)], null, { name: 'RKD Loss', freezeTeacher: o.freezeTeacher });
    this.distanceWeight = distanceWeight;
    this.angleWeight = angleWeight;
    this.reduction = reduction;
  }

  protected override lossTerms(student: readonly Tensor[], teacher: readonly Tensor[]): FeatureTerm[] {
    const terms: FeatureTerm[] = [];
    const o = { reduction: this.reduction };
    if (this.distanceWeight !== 0) terms.push({ name: 'RKD Distance Loss', weight: this.distanceWeight, value: rkdDistanceLoss(student[0], teacher[0], o) });
    if (this.angleWeight !== 0) terms.push({ name: 'RKD Angle Loss', weight: this.angleWeight, value: rkdAngleLoss(student[0], teacher[0], o) });
    return terms;
  }
}

/** Options of {@link CosineFeaturePolicy}. */
export interface CosineFeatureOptions extends FeatureDistillationOptions {
  /** `'mean'` (default) or `'sum'` over the batch. */
  reduction?: FeatureReduction;
}

/**
 * Cosine distillation of hidden representations, as in PyTorch's knowledge-distillation tutorial ("cosine loss
 * minimization run"): {@link cosineFeatureLoss} (`CosineEmbeddingLoss` with target 1, i.e. `1 − cos` per sample) per
 * pair, summed with the pair weights; component 'Cosine Loss'. The tutorial's `hidden_rep_loss_weight` is the weight.
 *
 * @example
 * const cos = new distiller.CosineFeaturePolicy(student, teacher, [['embed', 'pool']], { weight: 0.25 });
 */
export class CosineFeaturePolicy extends FeatureDistillationPolicy {
  readonly reduction: FeatureReduction;

  constructor(student: Module, teacher: Module, pairs: FeaturePair | readonly FeaturePair[], options: CosineFeatureOptions = {}) {
    const o = optionsArg(options, 'CosineFeaturePolicy');
    const reduction = reductionArg(o.reduction ?? 'mean', 'CosineFeaturePolicy');
    super(student, teacher, pairs, (s, t) => cosineFeatureLoss(s, t, { reduction }), { ...o, name: o.name ?? 'Cosine Loss' });
    this.reduction = reduction;
  }
}

/** Options of {@link FeatureLossPolicy}. */
export interface FeatureLossPolicyOptions extends FeatureDistillationOptions {
  /** `'mse'` (default) or `'l1'`. */
  loss?: 'mse' | 'l1';
  /** `'mean'` (default) or `'sum'`. */
  reduction?: FeatureReduction;
}

/**
 * Plain feature matching between same-shaped features: {@link featureLoss} (`mse_loss` or `l1_loss`) per pair,
 * summed with the pair weights; component 'Feature MSE Loss' or 'Feature L1 Loss'.
 *
 * @example
 * const fm = new distiller.FeatureLossPolicy(student, teacher, ['layer4'], { loss: 'l1', weight: 0.5 });
 */
export class FeatureLossPolicy extends FeatureDistillationPolicy {
  readonly loss: 'mse' | 'l1';
  readonly reduction: FeatureReduction;

  constructor(student: Module, teacher: Module, pairs: FeaturePair | readonly FeaturePair[], options: FeatureLossPolicyOptions = {}) {
    const o = optionsArg(options, 'FeatureLossPolicy');
    const loss = o.loss ?? 'mse';
    if (loss !== 'mse' && loss !== 'l1') throw new RangeError(`FeatureLossPolicy: loss must be 'mse' or 'l1', got ${describe(loss)}`);
    const reduction = reductionArg(o.reduction ?? 'mean', 'FeatureLossPolicy');
    super(student, teacher, pairs, (s, t) => featureLoss(s, t, { loss, reduction }), { ...o, name: o.name ?? (loss === 'l1' ? 'Feature L1 Loss' : 'Feature MSE Loss') });
    this.loss = loss;
    this.reduction = reduction;
  }
}
