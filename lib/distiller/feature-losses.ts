/**
 * Feature (intermediate-representation) distillation losses, each written with the same PyTorch ops, in the same
 * order, as the paper's reference code and torchdistill (torchdistill/losses/mid_level.py), so the values and the
 * gradients are PyTorch's to the bit on the CPU.
 *
 * The student feature comes first and carries the gradient; the teacher feature is a constant of the loss (RKD
 * computes the teacher's side without autograd, as torchdistill does).
 */
import { noGrad } from '../autograd';
import { eye, ones } from '../creation';
import { describe } from '../dtype';
import * as F from '../functional';
import { vectorNorm } from '../generated/linalg';
import { Module } from '../nn/module';
import { Tensor } from '../tensor';

/** How a loss reduces over its elements: PyTorch's `reduction` ('mean' or 'sum'). */
export type FeatureReduction = 'mean' | 'sum';

/** Attention-transfer variant: the authors' code (`'code'`, the default) or the paper's equations (`'paper'`). */
export type AttentionMode = 'code' | 'paper';

function tensorArg(v: unknown, what: string, fn: string, minDim = 1): Tensor {
  if (!(v instanceof Tensor)) throw new TypeError(`${fn}: expected a Tensor for ${what} but received ${describe(v)}`);
  if (v.dim() < minDim) throw new RangeError(`${fn}: the ${what} needs at least ${minDim} dimensions (batch first), got shape [${v.shape.join(', ')}]`);
  return v;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function shapes(s: Tensor, t: Tensor): string {
  return `student [${s.shape.join(', ')}], teacher [${t.shape.join(', ')}]`;
}

function reductionArg(r: unknown, fn: string): FeatureReduction {
  if (r !== 'mean' && r !== 'sum') throw new RangeError(`${fn}: reduction must be 'mean' or 'sum', got ${describe(r)}`);
  return r;
}

function optionsArg<T extends object>(o: T | undefined, fn: string): T {
  if (o === undefined) return {} as T;
  if (o === null || typeof o !== 'object') throw new TypeError(`${fn}: expected an options object but received ${describe(o)}`);
  return o;
}

/** Options of {@link fitnetsLoss}. */
export interface FitNetsLossOptions {
  /** Maps the student's feature to the teacher's shape (the paper's regressor r); null or absent: none. */
  regressor?: Module | ((feature: Tensor) => Tensor) | null;
  /** `'mean'` (default, nn.MSELoss's) or `'sum'` (torchdistill's FitNets sample configuration). */
  reduction?: FeatureReduction;
}

/**
 * The FitNets hint loss (Romero et al., "FitNets: Hints for Thin Deep Nets", ICLR 2015): the squared error between
 * the regressed student feature and the teacher's hint, `mse_loss(r(student), teacher, reduction)` — torchdistill's
 * FitNets configuration (`SimpleLossWrapper` over `nn.MSELoss` on the output of a `ConvReg` regressor). The paper's
 * `½‖u_h − r(v_g)‖²` is `reduction: 'sum'` with a weight of 0.5. The regressed shape must equal the teacher's.
 *
 * @example
 * const reg = new nn.Conv2d(8, 16, 1);
 * const loss = distiller.fitnetsLoss(studentFeat, teacherFeat, { regressor: reg });
 */
export function fitnetsLoss(student: Tensor, teacher: Tensor, options?: FitNetsLossOptions): Tensor {
  const fn = 'fitnetsLoss';
  const o = optionsArg(options, fn);
  tensorArg(student, 'student feature', fn);
  tensorArg(teacher, 'teacher feature', fn);
  const reduction = reductionArg(o.reduction ?? 'mean', fn);
  const r = o.regressor ?? null;
  let regressed = student;
  if (r instanceof Module) regressed = (r as Module<[Tensor], unknown>).call(student) as Tensor;
  else if (typeof r === 'function') regressed = r(student);
  else if (r !== null) throw new TypeError(`${fn}: expected an nn.Module, a function or null for regressor but received ${describe(r)}`);
  if (!(regressed instanceof Tensor)) throw new TypeError(`${fn}: the regressor returned ${describe(regressed)}, not a Tensor`);
  if (!sameShape(regressed.shape, teacher.shape)) {
    throw new RangeError(
      `${fn}: the ${r === null ? 'student feature' : 'regressed student feature'} has shape [${regressed.shape.join(', ')}] but the teacher's hint ` +
        `[${teacher.shape.join(', ')}]${r === null ? '; give a regressor that maps one to the other' : ''}`,
    );
  }
  return F.mseLoss(regressed, teacher, { reduction });
}

/**
 * The spatial attention map of a feature map (N, C, …) for attention transfer (Zagoruyko & Komodakis, "Paying More
 * Attention to Attention", ICLR 2017): `normalize(f.pow(2).mean(1).flatten(1))` in the authors' code
 * (utils.py `at`, torchdistill `ATLoss.attention_transfer`), `normalize(f.pow(2).sum(1).flatten(1))` in the paper's
 * form (`ATLoss.attention_transfer_paper`): one L2-normalised row of H·W values per sample.
 *
 * @example
 * const a = distiller.attentionMap(features);            // (N, H·W), rows of unit norm
 * const p = distiller.attentionMap(features, { mode: 'paper' });
 */
export function attentionMap(feature: Tensor, options?: { mode?: AttentionMode }): Tensor {
  const fn = 'attentionMap';
  const o = optionsArg(options, fn);
  const f = tensorArg(feature, 'feature map', fn, 3);
  const mode = modeArg(o.mode ?? 'code', fn);
  return F.normalize(mode === 'code' ? f.pow(2).mean(1).flatten(1) : f.pow(2).sum(1).flatten(1));
}

function modeArg(m: unknown, fn: string): AttentionMode {
  if (m !== 'code' && m !== 'paper') throw new RangeError(`${fn}: mode must be 'code' or 'paper', got ${describe(m)}`);
  return m;
}

/** @internal One AT pair as torchdistill's ATLoss computes it, before its division by the batch in 'paper' mode. */
export function attentionPairLoss(student: Tensor, teacher: Tensor, mode: AttentionMode, fn: string): Tensor {
  tensorArg(student, 'student feature map', fn, 3);
  tensorArg(teacher, 'teacher feature map', fn, 3);
  if (student.size(0) !== teacher.size(0) || !sameShape(student.shape.slice(2), teacher.shape.slice(2))) {
    throw new RangeError(`${fn}: attention maps need the same batch size and spatial size (channels may differ), got ${shapes(student, teacher)}`);
  }
  const s = attentionMap(student, { mode });
  const t = attentionMap(teacher, { mode });
  // 'code': the mean squared difference of the maps; 'paper': the sum over the batch of their L2 distances.
  return mode === 'code' ? s.sub(t).pow(2).mean() : vectorNorm(s.sub(t), 2, 1).sum();
}

/**
 * The attention-transfer loss of one pair of feature maps (same batch and spatial size; channels may differ), as
 * torchdistill's `ATLoss` computes it: `'code'` (default), the authors' implementation (utils.py `at_loss`):
 * `(at(s) − at(t)).pow(2).mean()`; `'paper'`, Eq. (2): `‖at(s) − at(t)‖₂` per sample, summed and divided by the batch
 * size. The paper's β/2 (β = 1000 in the authors' runs) is the policy's weight.
 *
 * @example
 * const loss = distiller.attentionTransferLoss(studentLayer3, teacherLayer3).mul(1000);
 */
export function attentionTransferLoss(student: Tensor, teacher: Tensor, options?: { mode?: AttentionMode }): Tensor {
  const fn = 'attentionTransferLoss';
  const mode = modeArg(optionsArg(options, fn).mode ?? 'code', fn);
  const loss = attentionPairLoss(student, teacher, mode, fn);
  return mode === 'paper' ? loss.div(student.size(0)) : loss;
}

/** torchdistill's `RKDLoss.pdist`: Euclidean distances between the rows of `e`, 0 on the diagonal. */
function pdist(e: Tensor, eps: number): Tensor {
  const eSquare = e.pow(2).sum(1);
  const prod = e.matmul(e.t());
  const res = eSquare.unsqueeze(1).add(eSquare.unsqueeze(0)).sub(prod.mul(2)).clamp(eps).sqrt();
  // (torchdistill: res.clone() then res[range(n), range(n)] = 0: the same values and gradient)
  return res.maskedFill(eye(e.size(0), { dtype: 'bool', device: e.device }), 0);
}

function rkdArgs(student: Tensor, teacher: Tensor, options: RkdLossOptions | undefined, fn: string): [Tensor, Tensor, FeatureReduction] {
  const o = optionsArg(options, fn);
  tensorArg(student, 'student feature', fn, 2);
  tensorArg(teacher, 'teacher feature', fn, 2);
  if (student.size(0) !== teacher.size(0)) throw new RangeError(`${fn}: student and teacher features need the same batch size, got ${shapes(student, teacher)}`);
  if (student.size(0) < 2) throw new RangeError(`${fn}: relations need at least 2 samples in the batch, got ${student.size(0)}`);
  return [student.flatten(1), teacher.flatten(1), reductionArg(o.reduction ?? 'mean', fn)];
}

/** Options of {@link rkdDistanceLoss} and {@link rkdAngleLoss}. */
export interface RkdLossOptions {
  /** Of the smooth L1 loss: `'mean'` (default) or `'sum'`. */
  reduction?: FeatureReduction;
}

/**
 * The distance-wise relational KD loss (Park et al., "Relational Knowledge Distillation", CVPR 2019), as
 * torchdistill's `RKDLoss.compute_rkd_distance_loss`: the pairwise Euclidean distances of the flattened features,
 * each matrix divided by the mean of its positive entries (the teacher's without autograd), compared with
 * `smooth_l1_loss(d_s, d_t, reduction)`. Feature sizes may differ; the batch (≥ 2) must not.
 *
 * @example
 * const loss = distiller.rkdDistanceLoss(studentEmbedding, teacherEmbedding);
 */
export function rkdDistanceLoss(student: Tensor, teacher: Tensor, options?: RkdLossOptions): Tensor {
  const [s, t, reduction] = rkdArgs(student, teacher, options, 'rkdDistanceLoss');
  const tD = noGrad(() => {
    const d = pdist(t, 1e-12);
    return d.div(d.maskedSelect(d.gt(0)).mean());
  });
  let d = pdist(s, 1e-12);
  d = d.div(d.maskedSelect(d.gt(0)).mean());
  return F.smoothL1Loss(d, tD, { reduction });
}

/**
 * The angle-wise relational KD loss (Park et al., CVPR 2019), as torchdistill's `RKDLoss.compute_rkd_angle_loss`:
 * for every triplet (i, j, k) the cosine of the angle at j, `⟨normalize(e_i − e_j), normalize(e_k − e_j)⟩` (a bmm of
 * the normalised difference vectors; the teacher's without autograd), compared with
 * `smooth_l1_loss(a_s, a_t, reduction)` over all N³ entries. Feature sizes may differ; the batch (≥ 2) must not.
 *
 * @example
 * const loss = distiller.rkdAngleLoss(studentEmbedding, teacherEmbedding).mul(2);
 */
export function rkdAngleLoss(student: Tensor, teacher: Tensor, options?: RkdLossOptions): Tensor {
  const [s, t, reduction] = rkdArgs(student, teacher, options, 'rkdAngleLoss');
  const angles = (e: Tensor): Tensor => {
    const normD = F.normalize(e.unsqueeze(0).sub(e.unsqueeze(1)), { p: 2, dim: 2 });
    return normD.bmm(normD.transpose(1, 2)).view(-1);
  };
  const tAngle = noGrad(() => angles(t));
  return F.smoothL1Loss(angles(s), tAngle, { reduction });
}

/**
 * Cosine distillation of hidden representations, as in PyTorch's knowledge-distillation tutorial
 * (`nn.CosineEmbeddingLoss()(student_hidden, teacher_hidden, target=torch.ones(N))`, torchdistill: a
 * `SimpleLossWrapper` over `nn.CosineEmbeddingLoss`): `1 − cos(s_i, t_i)` per sample over the flattened features
 * (ATen's cosine_embedding_loss, eps 1e-12 in the norms), reduced by `'mean'` (default) or `'sum'`. The flattened
 * sizes must be equal (the tutorial pools the teacher's to match).
 *
 * @example
 * const loss = distiller.cosineFeatureLoss(studentHidden, teacherHidden);
 */
export function cosineFeatureLoss(student: Tensor, teacher: Tensor, options?: { reduction?: FeatureReduction }): Tensor {
  const fn = 'cosineFeatureLoss';
  const reduction = reductionArg(optionsArg(options, fn).reduction ?? 'mean', fn);
  const s = tensorArg(student, 'student feature', fn, 2).flatten(1);
  const t = tensorArg(teacher, 'teacher feature', fn, 2).flatten(1);
  if (!sameShape(s.shape, t.shape)) throw new RangeError(`${fn}: the flattened features must have the same shape, got ${shapes(s, t)}`);
  return F.cosineEmbeddingLoss(s, t, ones(s.size(0), { dtype: s.dtype, device: s.device }), { reduction });
}

/** Options of {@link featureLoss}. */
export interface FeatureLossOptions {
  /** `'mse'` (default, nn.MSELoss) or `'l1'` (nn.L1Loss). */
  loss?: 'mse' | 'l1';
  /** `'mean'` (default) or `'sum'`. */
  reduction?: FeatureReduction;
}

/**
 * A plain feature-matching loss between same-shaped features: `mse_loss` (default) or `l1_loss` with PyTorch's
 * reduction — torchdistill's `SimpleLossWrapper` over `nn.MSELoss` / `nn.L1Loss` on two hooked outputs.
 *
 * @example
 * const loss = distiller.featureLoss(studentFeat, teacherFeat, { loss: 'l1' });
 */
export function featureLoss(student: Tensor, teacher: Tensor, options?: FeatureLossOptions): Tensor {
  const fn = 'featureLoss';
  const o = optionsArg(options, fn);
  tensorArg(student, 'student feature', fn);
  tensorArg(teacher, 'teacher feature', fn);
  const kind = o.loss ?? 'mse';
  if (kind !== 'mse' && kind !== 'l1') throw new RangeError(`${fn}: loss must be 'mse' or 'l1', got ${describe(kind)}`);
  const reduction = reductionArg(o.reduction ?? 'mean', fn);
  if (!sameShape(student.shape, teacher.shape)) throw new RangeError(`${fn}: the features must have the same shape, got ${shapes(student, teacher)}`);
  return kind === 'mse' ? F.mseLoss(student, teacher, { reduction }) : F.l1Loss(student, teacher, { reduction });
}
