/**
 * Every op of scripts/codegen/ops/*.js that the other parity fixtures leave out, against PyTorch: unary math, fmod,
 * fmax/fmin, lerp, tensor-bound clamp, isclose, nan-reductions, scans, tile/roll/diagonal and friends, scatter,
 * products, einsum, cdist, norms, every F activation (also in place), every loss and reduction, convolution,
 * pooling, normalisation (with running statistics), seeded dropout, embedding, padding, pixel shuffle and
 * interpolate; the torch.* and method forms the other suites leave out, linalg.qr, and the Tensor conversions and
 * properties (int/bool/typeAs, cpu, tolist, isFloatingPoint, elementSize, dim, getDevice, isCuda, isPinned). Values and input gradients equal to the bit; ops that update a tensor in place return it as an extra
 * output. No case needs a tolerance. Then the calls PyTorch rejects, which torchkd must reject too. Where torchkd
 * differs from PyTorch the case is registered as an expected failure naming the spec entry (a spec bug, not worked
 * around here).
 * Fixtures: scripts/fixtures/gen_ops_spec.py → test/fixtures/ops_spec.json (case format: test/02-parity-cases.ts).
 */
import { describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { type Tensor, TorchError } from '../lib/index';
import { type CaseFn, type CasesFixture, parityCases } from './02-parity-cases';
import { fixture, fromJson, liveFixture, pythonWithTorch } from './helpers';

interface OpsSpecFixture extends CasesFixture {
  errors: Record<string, { args: string[]; error: string }>;
}

const fx = fixture<OpsSpecFixture>('ops_spec');
const F = torch.F;
const { linalg } = torch;

/** torch.manual_seed(seed) just before the op, as the generator does. */
const seeded =
  (seed: number, fn: CaseFn): CaseFn =>
  (...xs) => {
    torch.manualSeed(seed);
    return fn(...xs);
  };

/** F.batch_norm in training on copies of the running statistics, which are returned after the update. */
function bnTrain(x: Tensor, m: Tensor, v: Tensor, w: Tensor | null, b: Tensor | null, opts: { momentum?: number; eps?: number } = {}): Tensor[] {
  const rm = m.detach().clone();
  const rv = v.detach().clone();
  const out = F.batchNorm(x, rm, rv, w, b, { training: true, ...opts });
  return [out, rm, rv];
}

/** F.instance_norm with running statistics (updated in place with the batch mean of the instance statistics). */
function inormStats(x: Tensor, m: Tensor, v: Tensor, momentum: number): Tensor[] {
  const rm = m.detach().clone();
  const rv = v.detach().clone();
  const out = F.instanceNorm(x, rm, rv, { momentum });
  return [out, rm, rv];
}

/** F.embedding with maxNorm renormalises the rows it looks up in place: the weight afterwards is compared too. */
function embMaxNorm(i: Tensor, w: Tensor, normType = 2): Tensor[] {
  const out = F.embedding(i, w, { maxNorm: 1, normType });
  return [out, w.detach().clone()];
}

const cases: Record<string, CaseFn> = {
  // ---- unary math (pointwise.js): the method and torch.* forms, integer inputs promoted to float ----------------
  exp2: (x) => x.exp2(),
  exp2_int: (i) => torch.exp2(i),
  log10: (p) => torch.log10(p),
  log10_int: (i) => i.log10(),
  frac: (x) => x.mul(3).frac(),
  frac_special: (s) => s.detach().frac(),
  tan: (u) => u.tan(),
  asin: (u) => torch.asin(u),
  asin_out_of_domain: (x) => x.detach().mul(3).asin(),
  acos: (u) => u.acos(),
  atan: (x) => torch.atan(x.mul(4)),
  sinh: (x) => x.sinh(),
  cosh: (x) => torch.cosh(x),
  erfc: (x) => x.erfc(),
  erfinv: (u) => torch.erfinv(u),
  erfinv_edges: (s) => s.detach().clamp(-1, 1).erfinv(),
  lgamma: (g) => g.lgamma(),
  lgamma_negative: (x) => torch.lgamma(x.mul(2.5)),
  digamma: (g) => torch.digamma(g),
  float64_unary: (x) => torch.stack([x.exp2(), x.sinh(), x.cosh(), x.atan(), x.erfc(), x.frac()]),
  // nan_to_num: defaults (0 and the largest/lowest finite values), explicit values, positional nan
  nan_to_num: (s) => s.nanToNum(),
  nan_to_num_values: (s) => torch.nanToNum(s, { nan: 1.5, posinf: 100, neginf: -100 }),
  nan_to_num_nan_only: (s) => s.nanToNum(-7),
  nan_to_num_float64: (x) => x.div(0).nanToNum({ posinf: 3 }),
  // round: half to even, optionally to decimals (negative: tens)
  round: (h) => h.round(),
  round_decimals: (h) => torch.round(h, { decimals: 2 }),
  round_negative_decimals: (h) => h.round({ decimals: -1 }),
  round_int: (i) => i.round(),

  // ---- binary pointwise: broadcasting, number operands, integers ------------------------------------------------
  fmod_scalar: (x) => x.fmod(0.7),
  fmod_tensor: (x, p) => torch.fmod(x.mul(3), p),
  fmod_broadcast: (x, r) => x.fmod(r),
  fmod_int: (i, j) => i.fmod(j),
  fmod_int_scalar: (i) => torch.fmod(i, -4),
  // fmax/fmin ignore a NaN on one side
  fmax: (w, x) => w.fmax(x),
  fmin: (w, x) => torch.fmin(w, x),
  fmax_broadcast_nan: (w, r) => torch.fmax(r, w),
  fmin_int: (i, j) => i.fmin(j),
  lerp_scalar: (x, y) => x.lerp(y, 0.3),
  lerp_tensor: (x, y, w) => torch.lerp(x, y, w),
  lerp_broadcast: (x, r, c) => x.lerp(r, c),
  lerp_float64: (x, y) => x.lerp(y, 1.5),
  // clamp with tensor bounds (broadcast), either bound alone; clip and clampMin/Max with numbers
  clamp_tensor_bounds: (x, c, r) => x.clamp(c, r),
  clamp_tensor_min: (x, r) => torch.clamp(x, { min: r }),
  clamp_tensor_max: (x, c) => x.clamp({ max: c }),
  clamp_int_tensor_bounds: (i, j) => i.clamp(j.neg(), j),
  clip: (x) => x.clip(-0.5, 0.3),
  clip_max: (x) => torch.clip(x, { max: 0 }),
  clip_int: (i) => i.clip(-2, 3),
  clamp_min: (x) => x.clampMin(0.1),
  clamp_max: (x) => torch.clampMax(x, -0.2),
  clamp_min_int: (i) => i.clampMin(0),
  // logical XOR: zero is false, any dtype, broadcasting
  logical_xor: (x, y) => x.gt(0).logicalXor(y.gt(0)),
  logical_xor_float: (x, y) => torch.logicalXor(x.detach(), y.detach().clamp({ min: 0 })),
  logical_xor_int_broadcast: (i, r) => i.logicalXor(r.gt(0)),
  // isclose / allclose: |a − b| ≤ atol + rtol·|b|, NaN equal only with equalNan
  isclose: (x) => x.isclose(x.detach().add(torch.linspace(-2e-5, 2e-5, 12).reshape(3, 4))),
  isclose_tolerances: (x, y) => torch.isclose(x, y, { rtol: 0.5, atol: 0.3 }),
  isclose_equal_nan: (s) => torch.stack([s.isclose(s), s.isclose(s, { equalNan: true })]),
  isclose_int: (i, j) => i.isclose(j, 0, 1),
  allclose: (x, y) =>
    torch.tensor([x.allclose(x.detach().add(1e-9)), x.allclose(y), torch.allclose(x, y, 10, 10), x.allclose(x.mul(1 + 1e-3), 1e-3, 0)]),
  allclose_nan: (s) => torch.tensor([s.allclose(s), s.allclose(s, { equalNan: true })]),

  // ---- reductions and scans (reduction.js): dims, negative dims, keepdim, dtype --------------------------------
  nansum: (w) => w.nansum(),
  nansum_dim: (w) => torch.nansum(w, 1),
  nansum_dims_keepdim: (w) => w.nansum([0, 1], { keepdim: true }),
  nansum_neg_dim_float64: (w) => w.nansum(-2, { dtype: 'float64' }),
  nansum_int: (i) => i.nansum(0),
  nanmean: (w) => w.nanmean(),
  nanmean_dim_keepdim: (w) => torch.nanmean(w, 0, true),
  nanmean_dims_float64: (w) => w.nanmean([1, 0], { dtype: 'float64' }),
  nanmean_no_nan: (c) => c.nanmean(-1),
  cumprod: (x) => x.cumprod(1),
  cumprod_dim0: (c) => torch.cumprod(c, 0),
  cumprod_with_zeros: (z) => z.cumprod(-1),
  cumprod_float64: (x) => x.cumprod(1, { dtype: 'float64' }),
  cumprod_int: (i) => i.cumprod(1),
  softmin: (x) => F.softmin(x, 1),
  softmin_neg_dim: (c) => F.softmin(c, -1),
  softmin_float64: (x) => F.softmin(x, 0, { dtype: 'float64' }),

  // ---- shape (shape.js) ----------------------------------------------------------------------------------------
  tile: (x) => x.tile(2),
  tile_more_dims: (x) => torch.tile(x, [2, 1, 3]),
  tile_fewer_dims: (c) => c.tile(2, 1),
  tile_int: (i) => i.tile([1, 2]),
  roll: (x) => x.roll(1, 1),
  roll_dims: (c) => torch.roll(c, [1, -2], [0, 2]),
  roll_flat: (x) => x.roll(5),
  roll_neg_dim: (c) => c.roll(-1, -2),
  unflatten: (c) => c.unflatten(-1, [2, 2]),
  unflatten_infer: (c) => torch.unflatten(c, 1, [-1, 1]),
  swapaxes: (c) => c.swapaxes(0, -1),
  swapaxes_fn: (x) => torch.swapaxes(x, 1, 0),
  diagonal: (s) => s.diagonal(),
  diagonal_offset: (c) => torch.diagonal(c, 1, 1, 2),
  diagonal_negative: (x) => x.diagonal(-1),
  diagonal_neg_dims: (c) => c.diagonal(0, -1, 0),
  diag_vector: (v) => v.diag(),
  diag_vector_offset: (v) => torch.diag(v, 1),
  diag_matrix: (s) => s.diag(),
  diag_matrix_neg: (x) => torch.diag(x, -1),
  diag_int: (i) => i.diag(1),
  hstack: (x, y) => torch.hstack([x, y]),
  hstack_1d: (a, b) => torch.hstack([a, b]),
  vstack: (x, r) => torch.vstack([x, r]),
  vstack_1d: (a, b) => torch.vstack([a, b]),
  broadcast_tensors: (c, r, x) => torch.broadcastTensors(c, r, x),
  broadcast_tensors_int: (i, c) => torch.broadcastTensors([c, i.select(0, 0)]),

  // ---- indexing: scatter (overwrite, with reduce, add, reduce ops), masked select, nonzero ----------------------
  scatter: (x, i, s) => x.scatter(0, i, s),
  scatter_scalar: (x, i) => torch.scatter(x, 0, i, 2.5),
  scatter_dim1: (x, i, s) => x.scatter(1, i, s),
  scatter_neg_dim: (x, i, s) => x.scatter(-1, i, s),
  // scatter with reduce has no derivative in PyTorch: constants
  scatter_reduce_add: (x, i, s) => x.detach().scatter(0, i, s.detach(), { reduce: 'add' }),
  scatter_reduce_multiply: (x, i, s) => torch.scatter(x.detach(), 0, i, s.detach(), { reduce: 'multiply' }),
  scatter_scalar_reduce: (x, i) => x.detach().scatter(0, i, 3.0, { reduce: 'multiply' }),
  scatter_int: (x, i, s) => x.scatter(0, i, s),
  scatter_add: (x, i, s) => x.scatterAdd(0, i, s),
  scatter_add_dim1: (x, i, s) => torch.scatterAdd(x, 1, i, s),
  scatter_reduce_sum: (x, i, s) => x.scatterReduce(0, i, s, 'sum'),
  scatter_reduce_prod: (x, i, s) => x.scatterReduce(0, i, s, 'prod'),
  scatter_reduce_mean: (x, i, s) => torch.scatterReduce(x, 0, i, s, 'mean'),
  scatter_reduce_amax: (x, i, s) => x.scatterReduce(0, i, s, 'amax'),
  scatter_reduce_amin_exclude_self: (x, i, s) => x.scatterReduce(0, i, s, 'amin', { includeSelf: false }),
  scatter_reduce_mean_exclude_self: (x, i, s) => x.scatterReduce(0, i, s, 'mean', { includeSelf: false }),
  scatter_reduce_int: (x, i, s) => x.scatterReduce(0, i, s, 'amax'),
  masked_select: (x) => x.maskedSelect(x.gt(0)),
  masked_select_broadcast: (x, r) => torch.maskedSelect(x, r.gt(0)),
  masked_select_int: (i) => i.maskedSelect(i.lt(0)),
  nonzero: (i) => i.nonzero(),
  nonzero_bool: (c) => torch.nonzero(c.gt(0.5)),

  // ---- products (matrix.js) ------------------------------------------------------------------------------------
  mv: (x, v) => x.mv(v),
  mv_fn: (s, v) => torch.mv(s, v),
  outer: (a, b) => a.outer(b),
  outer_int: (i) => torch.outer(i.select(0, 0), i.select(0, 1)),
  addmm: (x, a, b) => x.addmm(a, b),
  addmm_beta_alpha: (x, a, b) => torch.addmm(x, a, b, { beta: 0.5, alpha: 2 }),
  addmm_broadcast: (r, a, b) => r.addmm(a, b, { alpha: -1 }),
  // beta = 0 ignores the input, NaN and inf included
  addmm_beta0: (x, a, b) => torch.addmm(x.detach().div(0), a, b, { beta: 0 }),
  einsum_bmm: (a, b) => torch.einsum('bij,bjk->bik', a, b),
  einsum_diag: (s) => torch.einsum('ii->i', s),
  einsum_trace: (s) => torch.einsum('ii', s),
  einsum_sum: (x) => torch.einsum('ij->', x),
  einsum_outer: (a, b) => torch.einsum('i,j->ij', a, b),
  einsum_rowdot: (x, y) => torch.einsum('ij,ij->i', x, y),
  einsum_ellipsis: (c) => torch.einsum('...ij->...ji', c),
  einsum_list: (c, x) => torch.einsum('bij,ij->bi', [c, x]),
  einsum_three: (a, m, b) => torch.einsum('i,ij,j->', a, m, b),
  // cdist: every compute mode (the matrix-product path above 25 rows), p = 0, 1, 2, 3, inf, batch broadcasting
  cdist: (a, b) => torch.cdist(a, b),
  cdist_use_mm: (a, b) => torch.cdist(a, b, { computeMode: 'use_mm_for_euclid_dist' }),
  cdist_donot_use_mm: (a, b) => torch.cdist(a, b, 2, 'donot_use_mm_for_euclid_dist'),
  cdist_big_if_necessary: (a, b) => torch.cdist(a, b),
  cdist_big_donot_use_mm: (a, b) => torch.cdist(a, b, { computeMode: 'donot_use_mm_for_euclid_dist' }),
  cdist_p1: (a, b) => torch.cdist(a, b, { p: 1 }),
  cdist_p0: (a, b) => torch.cdist(a, b, 0),
  cdist_p3: (a, b) => torch.cdist(a, b, 3),
  cdist_pinf: (a, b) => torch.cdist(a, b, Infinity),
  cdist_broadcast: (a, b) => torch.cdist(a, b.narrow(0, 0, 4)),

  // ---- norms: torch.norm ('fro', 'nuc', numbers), torch.linalg.vectorNorm / matrixNorm / norm -------------------
  norm: (x) => x.norm(),
  norm_fro_dims: (c) => torch.norm(c, 'fro', [0, 2]),
  norm_fro_dim_keepdim: (x) => x.norm('fro', 1, { keepdim: true }),
  norm_nuc: (x) => x.norm('nuc'),
  norm_nuc_batched: (c) => torch.norm(c, 'nuc', [1, 2]),
  norm_p1_dim: (x) => x.norm(1, 1),
  norm_p3_keepdim: (c) => torch.norm(c, 3, -1, true),
  norm_inf: (x) => x.norm(Infinity),
  norm_neg_inf_dim: (x) => x.norm(-Infinity, 0),
  norm_p0: (x) => x.norm(0),
  norm_half: (c) => c.norm(0.5, [0, 1]),
  norm_float64: (x) => x.norm(2, { dtype: 'float64' }),
  vector_norm: (c) => linalg.vectorNorm(c),
  vector_norm_ord3_dims_keepdim: (c) => linalg.vectorNorm(c, 3, [0, 2], { keepdim: true }),
  vector_norm_inf: (x) => linalg.vectorNorm(x, Infinity, -1),
  vector_norm_neg_inf: (x) => linalg.vectorNorm(x, -Infinity),
  vector_norm_ord0: (x) => linalg.vectorNorm(x, 0, 1),
  vector_norm_float64: (x) => linalg.vectorNorm(x, 1.5, { dtype: 'float64' }),
  matrix_norm: (c) => linalg.matrixNorm(c),
  matrix_norm_nuc: (c) => linalg.matrixNorm(c, 'nuc'),
  matrix_norm_ord1: (x) => linalg.matrixNorm(x, 1),
  matrix_norm_ord_neg1: (c) => linalg.matrixNorm(c, -1, { keepdim: true }),
  matrix_norm_inf: (x) => linalg.matrixNorm(x, Infinity),
  matrix_norm_ord2: (x) => linalg.matrixNorm(x, 2),
  matrix_norm_ord_neg2: (s) => linalg.matrixNorm(s, -2),
  matrix_norm_dims: (c) => linalg.matrixNorm(c, 'fro', [0, 2]),
  matrix_norm_float64: (x) => linalg.matrixNorm(x, { dtype: 'float64' }),
  linalg_norm: (c) => linalg.norm(c),
  linalg_norm_fro: (x) => linalg.norm(x, 'fro'),
  linalg_norm_nuc_dims: (c) => linalg.norm(c, 'nuc', [1, 2]),
  linalg_norm_vector_ord: (r) => linalg.norm(r, 3),
  linalg_norm_matrix_ord2: (x) => linalg.norm(x, 2),
  linalg_norm_matrix_inf: (x) => linalg.norm(x, Infinity),
  linalg_norm_dim: (x) => linalg.norm(x, { dim: 1, keepdim: true }),
  linalg_norm_ord_dim: (c) => linalg.norm(c, 1, -1),
  cosine_similarity: (x, y) => F.cosineSimilarity(x, y),
  cosine_similarity_broadcast: (c, r) => torch.cosineSimilarity(c, r, -1),
  cosine_similarity_dim0_eps: (x, y) => F.cosineSimilarity(x, y.mul(1e-5), 0, { eps: 1e-3 }),
  cosine_similarity_zero: (x) => F.cosineSimilarity(x, torch.zeros(3, 4)),
  pairwise_distance: (x, y) => F.pairwiseDistance(x, y),
  pairwise_distance_p1_keepdim: (x, y) => torch.pairwiseDistance(x, y, 1, { keepdim: true }),
  pairwise_distance_broadcast_eps: (c, r) => F.pairwiseDistance(c, r, 3, 0.1),
  pairwise_distance_inf: (x, y) => F.pairwiseDistance(x, y, Infinity),

  // ---- activations (activation.js); `inplace: true` on a clone, so the gradient flows to the input --------------
  relu6: (a) => F.relu6(a),
  relu6_inplace: (a) => F.relu6(a.clone(), { inplace: true }),
  elu: (a) => F.elu(a),
  elu_alpha: (a) => F.elu(a, 0.5),
  elu_inplace: (a) => F.elu(a.clone(), { alpha: 2, inplace: true }),
  selu: (a) => F.selu(a),
  selu_inplace: (a) => F.selu(a.clone(), true),
  celu: (a) => F.celu(a),
  celu_alpha: (a) => F.celu(a, { alpha: 0.7 }),
  celu_inplace: (a) => F.celu(a.clone(), 1.5, true),
  silu: (a) => F.silu(a),
  silu_inplace: (a) => F.silu(a.clone(), { inplace: true }),
  mish: (a) => F.mish(a),
  mish_inplace: (a) => F.mish(a.clone(), { inplace: true }),
  hardswish: (a) => F.hardswish(a),
  hardswish_inplace: (a) => F.hardswish(a.clone(), true),
  hardsigmoid: (a) => F.hardsigmoid(a),
  hardsigmoid_inplace: (a) => F.hardsigmoid(a.clone(), { inplace: true }),
  hardtanh: (a) => F.hardtanh(a),
  hardtanh_range: (a) => F.hardtanh(a, -2, 3),
  hardtanh_inplace: (a) => F.hardtanh(a.clone(), { maxVal: 0.5, inplace: true }),
  threshold: (a) => F.threshold(a, 0.5, -3),
  threshold_inplace: (a) => F.threshold(a.clone(), -1, 0, true),
  logsigmoid: (a) => F.logsigmoid(a),
  softplus: (a) => F.softplus(a),
  softplus_beta_threshold: (a) => F.softplus(a, 2, 3),
  softplus_threshold_only: (a) => F.softplus(a, { threshold: 1 }),
  softsign: (a) => F.softsign(a),
  tanhshrink: (a) => F.tanhshrink(a),
  glu: (c) => F.glu(c),
  glu_dim0: (c) => F.glu(c, 0),
  glu_dim1: (a) => F.glu(a, { dim: 1 }),
  prelu: (x, w) => F.prelu(x, w),
  prelu_single: (x, w) => F.prelu(x, w),
  activations_float64: (x) =>
    torch.stack([
      F.relu6(x.mul(4)), F.elu(x), F.selu(x), F.celu(x), F.silu(x), F.mish(x), F.hardswish(x.mul(4)), F.hardsigmoid(x.mul(4)),
      F.logsigmoid(x), F.softplus(x), F.softsign(x), F.tanhshrink(x),
    ]),

  // ---- losses (loss.js), each reduction; label-like targets are constants -------------------------------------
  // mse/l1 with a per-element weight: 'mean' divides by the weights' sum
  mse_loss_weight: (x, y, w) => F.mseLoss(x, y, { weight: w }),
  mse_loss_weight_sum: (x, y, w) => F.mseLoss(x, y, { reduction: 'sum', weight: w }),
  mse_loss_weight_none: (x, y, w) => F.mseLoss(x, y, { reduction: 'none', weight: w }),
  mse_loss_broadcast: (x, r) => F.mseLoss(x, r),
  l1_loss_weight: (x, y, w) => F.l1Loss(x, y, { weight: w }),
  l1_loss_weight_sum: (x, y, w) => F.l1Loss(x, y, { reduction: 'sum', weight: w }),
  l1_loss_weight_none: (x, y, w) => F.l1Loss(x, y, { reduction: 'none', weight: w }),
  l1_loss_broadcast: (x, c) => F.l1Loss(x, c, { reduction: 'sum' }),
  // smooth L1: beta = 0 is the L1 loss
  smooth_l1_loss: (x, y) => F.smoothL1Loss(x, y),
  smooth_l1_loss_sum_beta: (x, y) => F.smoothL1Loss(x, y, { reduction: 'sum', beta: 0.5 }),
  smooth_l1_loss_none: (x, y) => F.smoothL1Loss(x, y, { reduction: 'none' }),
  smooth_l1_loss_beta0: (x, y) => F.smoothL1Loss(x, y, { beta: 0 }),
  smooth_l1_loss_beta0_none: (x, y) => F.smoothL1Loss(x, y, { reduction: 'none', beta: 0 }),
  smooth_l1_loss_broadcast: (x, r) => F.smoothL1Loss(x, r, { beta: 2 }),
  // huber: with a weight, 'mean' is the plain mean of the weighted losses
  huber_loss: (x, y) => F.huberLoss(x, y),
  huber_loss_delta_sum: (x, y) => F.huberLoss(x, y, { reduction: 'sum', delta: 0.4 }),
  huber_loss_none: (x, y) => F.huberLoss(x, y, { reduction: 'none', delta: 2 }),
  huber_loss_weight: (x, y, w) => F.huberLoss(x, y, { delta: 0.5, weight: w }),
  huber_loss_weight_sum: (x, y, w) => F.huberLoss(x, y, { reduction: 'sum', weight: w }),
  huber_loss_weight_none: (x, y, w) => F.huberLoss(x, y, { reduction: 'none', weight: w }),
  // binary cross entropy: the weight broadcasts to the target's shape
  binary_cross_entropy: (p, t) => F.binaryCrossEntropy(p, t),
  binary_cross_entropy_sum: (p, t) => F.binaryCrossEntropy(p, t, { reduction: 'sum' }),
  binary_cross_entropy_none: (p, t) => F.binaryCrossEntropy(p, t.detach(), { reduction: 'none' }),
  binary_cross_entropy_weight: (p, t, w) => F.binaryCrossEntropy(p, t.detach(), w.detach()),
  binary_cross_entropy_weight_broadcast: (p, t, w) => F.binaryCrossEntropy(p, t.detach(), { weight: w.detach(), reduction: 'sum' }),
  binary_cross_entropy_hard_targets: (p) => F.binaryCrossEntropy(p, p.detach().gt(0.5).to('float32'), { reduction: 'none' }),
  cosine_embedding_loss: (a, b, t) => F.cosineEmbeddingLoss(a, b, t.detach()),
  cosine_embedding_loss_margin_sum: (a, b, t) => F.cosineEmbeddingLoss(a, b, t.detach(), 0.2, { reduction: 'sum' }),
  cosine_embedding_loss_none: (a, b, t) => F.cosineEmbeddingLoss(a, b, t.detach(), { margin: -0.3, reduction: 'none' }),
  margin_ranking_loss: (a, b, t) => F.marginRankingLoss(a, b, t.detach()),
  margin_ranking_loss_margin_sum: (a, b, t) => F.marginRankingLoss(a, b, t.detach(), 0.5, { reduction: 'sum' }),
  margin_ranking_loss_none: (a, b, t) => F.marginRankingLoss(a, b, t.detach(), { margin: 0.1, reduction: 'none' }),
  // triplet margin: swap uses the positive-negative distance when smaller; p = 1
  triplet_margin_loss: (a, p, n) => F.tripletMarginLoss(a, p, n),
  triplet_margin_loss_swap: (a, p, n) => F.tripletMarginLoss(a, p, n, { swap: true }),
  triplet_margin_loss_p1_sum: (a, p, n) => F.tripletMarginLoss(a, p, n, 2, 1, { reduction: 'sum' }),
  triplet_margin_loss_none_eps: (a, p, n) => F.tripletMarginLoss(a, p, n, { margin: 0.5, eps: 0.1, swap: true, reduction: 'none' }),
  hinge_embedding_loss: (x, t) => F.hingeEmbeddingLoss(x, t.detach()),
  hinge_embedding_loss_margin_sum: (x, t) => F.hingeEmbeddingLoss(x, t.detach(), 0.5, { reduction: 'sum' }),
  hinge_embedding_loss_none: (x, t) => F.hingeEmbeddingLoss(x, t.detach(), { reduction: 'none' }),
  soft_margin_loss: (x, t) => F.softMarginLoss(x, t.detach()),
  soft_margin_loss_sum: (x, t) => F.softMarginLoss(x, t.detach(), { reduction: 'sum' }),
  soft_margin_loss_none: (x, t) => F.softMarginLoss(x, t.detach(), { reduction: 'none' }),
  poisson_nll_loss: (x, c) => F.poissonNllLoss(x, c.detach()),
  poisson_nll_loss_full_sum: (x, c) => F.poissonNllLoss(x, c.detach(), true, true, { reduction: 'sum' }),
  poisson_nll_loss_not_log: (p, c) => F.poissonNllLoss(p, c.detach(), { logInput: false }),
  poisson_nll_loss_not_log_none_eps: (p, c) => F.poissonNllLoss(p.sub(0.5), c.detach(), false, { eps: 0.01, reduction: 'none' }),

  // ---- convolution (nn.js): stride/padding/dilation/groups, 'same' and 'valid', unbatched -------------------------
  conv1d: (x, w, b) => F.conv1d(x, w, b),
  conv1d_stride_padding_dilation: (x, w) => F.conv1d(x, w, null, 2, 1, 2),
  conv1d_groups: (x, w) => F.conv1d(x, w, { groups: 3, padding: 2 }),
  conv1d_same: (x, w, b) => F.conv1d(x, w, b, { padding: 'same', dilation: 2 }),
  conv1d_unbatched: (x, w) => F.conv1d(x.select(0, 0), w),
  conv2d_same: (x, w, b) => F.conv2d(x, w, b, { padding: 'same' }),
  conv2d_same_dilation: (x, w) => F.conv2d(x, w, null, 1, 'same', [2, 1]),
  conv2d_valid: (x, w, b) => F.conv2d(x, w, b, { padding: 'valid' }),
  conv2d_asymmetric: (x, w, b) => F.conv2d(x, w, b, [2, 1], [1, 0]),
  conv3d: (x, w, b) => F.conv3d(x, w, b),
  conv3d_stride_padding: (x, w) => F.conv3d(x, w, { stride: 2, padding: [1, 0, 1] }),
  conv3d_same: (x, w, b) => F.conv3d(x, w, b, { padding: 'same' }),
  conv_transpose1d: (x, w, b) => F.convTranspose1d(x, w, b),
  conv_transpose1d_stride_output_padding: (x, w, b) => F.convTranspose1d(x, w, b, 2, 1, 1),
  conv_transpose1d_dilation: (x, w) => F.convTranspose1d(x, w, { dilation: 2, padding: 1 }),
  conv_transpose1d_groups: (x, w) => F.convTranspose1d(x, w, null, 1, 0, 0, 3),
  conv_transpose2d: (x, w, b) => F.convTranspose2d(x, w, b),
  conv_transpose2d_stride_padding: (x, w, b) => F.convTranspose2d(x, w, b, [2, 1], [1, 0], [1, 0]),
  conv_transpose2d_dilation: (x, w) => F.convTranspose2d(x, w, { stride: 2, dilation: 2, outputPadding: 1 }),

  // ---- pooling: stride defaults to the kernel, padding, dilation, ceil mode, indices, divisor override ---------
  max_pool1d: (x) => F.maxPool1d(x, 3),
  max_pool1d_stride_padding_dilation: (x) => F.maxPool1d(x, 3, 2, 1, 2),
  max_pool1d_ceil: (x) => F.maxPool1d(x, 3, { stride: 2, ceilMode: true }),
  max_pool1d_with_indices: (x) => F.maxPool1dWithIndices(x, 2),
  max_pool2d_with_indices: (x) => F.maxPool2dWithIndices(x, [3, 2], [2, 1], 1),
  max_pool2d_with_indices_ceil: (x) => F.maxPool2dWithIndices(x, 2, { ceilMode: true }),
  max_pool3d: (x) => F.maxPool3d(x, 2),
  max_pool3d_stride_padding: (x) => F.maxPool3d(x, [2, 3, 2], [1, 2, 1], [1, 1, 0]),
  max_pool3d_with_indices: (x) => F.maxPool3dWithIndices(x, 2, 1, { dilation: [1, 2, 1] }),
  avg_pool1d: (x) => F.avgPool1d(x, 3),
  avg_pool1d_padding_no_count: (x) => F.avgPool1d(x, 3, 2, 1, { countIncludePad: false }),
  avg_pool1d_ceil: (x) => F.avgPool1d(x, 4, 3, { ceilMode: true }),
  avg_pool3d: (x) => F.avgPool3d(x, 2),
  avg_pool3d_padding: (x) => F.avgPool3d(x, [2, 3, 2], 1, [1, 1, 0], { countIncludePad: false }),
  avg_pool3d_divisor: (x) => F.avgPool3d(x, 2, { ceilMode: true, divisorOverride: 3 }),
  adaptive_avg_pool1d: (x) => F.adaptiveAvgPool1d(x, 4),
  adaptive_avg_pool2d: (x) => F.adaptiveAvgPool2d(x, [4, 3]),
  adaptive_avg_pool2d_int: (x) => F.adaptiveAvgPool2d(x, 2),
  adaptive_avg_pool3d: (x) => F.adaptiveAvgPool3d(x, [3, 2, 3]),
  adaptive_max_pool1d: (x) => F.adaptiveMaxPool1d(x, 3),
  adaptive_max_pool1d_with_indices: (x) => F.adaptiveMaxPool1dWithIndices(x, 4),
  adaptive_max_pool2d: (x) => F.adaptiveMaxPool2d(x, [4, 3]),
  adaptive_max_pool2d_with_indices: (x) => F.adaptiveMaxPool2dWithIndices(x, 3),
  adaptive_max_pool3d: (x) => F.adaptiveMaxPool3d(x, 2),
  adaptive_max_pool3d_with_indices: (x) => F.adaptiveMaxPool3dWithIndices(x, { outputSize: [3, 2, 3] }),

  // ---- normalisation: training updates the running statistics in place (compared as extra outputs) -------------
  batch_norm_train: (x, m, v, w, b) => bnTrain(x, m, v, w, b),
  batch_norm_train_momentum_eps: (x, m, v) => bnTrain(x, m, v, null, null, { momentum: 0.3, eps: 1e-3 }),
  batch_norm_train_2d: (x, m, v, w, b) => bnTrain(x, m, v, w, b),
  batch_norm_train_no_stats: (x, w, b) => F.batchNorm(x, null, null, w, b, true),
  batch_norm_eval: (x, m, v, w, b) => F.batchNorm(x, m.detach(), v.detach(), w, b),
  instance_norm: (x) => F.instanceNorm(x),
  instance_norm_affine: (x, w, b) => F.instanceNorm(x, { weight: w, bias: b, eps: 1e-3 }),
  instance_norm_running_stats: (x, m, v) => inormStats(x, m, v, 0.2),
  instance_norm_use_running_stats: (x, m, v, w, b) => F.instanceNorm(x, m.detach(), v.detach(), w, b, false),
  layer_norm: (x, w, b) => F.layerNorm(x, [4], w, b),
  layer_norm_two_dims: (x) => F.layerNorm(x, [3, 4], { eps: 1e-3 }),
  layer_norm_weight_only: (x, w) => F.layerNorm(x, 4, w),
  group_norm: (x, w, b) => F.groupNorm(x, 3, w, b),
  group_norm_no_affine_eps: (x) => F.groupNorm(x, 2, { eps: 1e-2 }),
  group_norm_one_group: (x) => F.groupNorm(x, 1),
  rms_norm: (x, w) => F.rmsNorm(x, [4], w),
  rms_norm_two_dims_eps: (x) => F.rmsNorm(x, [3, 4], { eps: 1e-3 }),
  rms_norm_float64: (x) => F.rmsNorm(x, 4),
  normalize: (x) => F.normalize(x),
  normalize_p1_neg_dim: (c) => F.normalize(c, 1, -1),
  normalize_dim0_eps: (x) => F.normalize(x.mul(1e-3), 3, 0, 0.01),
  normalize_zero_row: (x) => F.normalize(x.mul(torch.tensor([[1], [0], [1]], { dtype: 'float32' })), { dim: 1 }),

  // ---- dropout, seeded: the same masks as Python after manual_seed; unbatched and in-place forms --------------
  dropout1d: seeded(3, (x) => F.dropout1d(x, 0.5)),
  dropout1d_unbatched: seeded(4, (x) => F.dropout1d(x, 0.4)),
  dropout1d_inplace: seeded(5, (x) => F.dropout1d(x.clone(), 0.5, true, true)),
  dropout1d_unbatched_inplace: seeded(5, (x) => F.dropout1d(x.clone(), 0.5, { inplace: true })),
  dropout1d_eval: seeded(3, (x) => F.dropout1d(x, 0.5, { training: false })),
  dropout2d: seeded(6, (x) => F.dropout2d(x, 0.5)),
  dropout2d_inplace: seeded(7, (x) => F.dropout2d(x.clone(), 0.3, { inplace: true })),
  dropout3d: seeded(8, (x) => F.dropout3d(x)),
  dropout3d_unbatched: seeded(9, (x) => F.dropout3d(x, 0.6)),
  dropout3d_inplace: seeded(10, (x) => F.dropout3d(x.clone(), 0.5, true, true)),
  dropout_inplace: seeded(11, (x) => F.dropout(x.clone(), 0.4, { inplace: true })),
  alpha_dropout: seeded(12, (x) => F.alphaDropout(x, 0.3, true)),
  alpha_dropout_eval: seeded(12, (x) => F.alphaDropout(x, 0.3)),
  alpha_dropout_inplace: seeded(13, (x) => F.alphaDropout(x.clone(), 0.5, true, true)),
  feature_alpha_dropout: seeded(14, (x) => F.featureAlphaDropout(x, 0.5, true)),
  feature_alpha_dropout_eval: seeded(14, (x) => F.featureAlphaDropout(x, 0.5)),
  feature_alpha_dropout_inplace: seeded(15, (x) => F.featureAlphaDropout(x.clone(), 0.4, { training: true, inplace: true })),

  // ---- embedding: paddingIdx (negative counts from the end) gets no gradient; maxNorm renormalises in place ----
  embedding: (i, w) => F.embedding(i, w),
  embedding_padding_idx: (i, w) => F.embedding(i, w, 2),
  embedding_negative_padding_idx: (i, w) => F.embedding(i, w, { paddingIdx: -1 }),
  embedding_max_norm: (i, w) => embMaxNorm(i, w),
  embedding_max_norm_p1: (i, w) => embMaxNorm(i, w, 1),
  embedding_scale_grad_by_freq: (i, w) => F.embedding(i, w, { scaleGradByFreq: true }),
  embedding_1d: (i, w) => F.embedding(i.select(0, 1), w, 4),

  // ---- padding: all four modes, 1-3 spatial dims, negative (cropping) constant pads, integer input ------------
  pad_constant: (x) => F.pad(x, [1, 2]),
  pad_constant_value: (x) => F.pad(x, [1, 1, 2, 0], { value: 0.5 }),
  pad_constant_negative: (x) => F.pad(x, [-1, 2, 0, -2], 'constant', -1),
  pad_constant_int: (i) => F.pad(i, [1, 0, 0, 1], { value: 7 }),
  pad_reflect: (x) => F.pad(x, [2, 1], 'reflect'),
  pad_reflect_2d: (x) => F.pad(x, [1, 2, 1, 0], { mode: 'reflect' }),
  pad_replicate: (x) => F.pad(x, [3, 0], 'replicate'),
  pad_replicate_2d: (x) => F.pad(x, [2, 2, 1, 1], 'replicate'),
  pad_replicate_3d: (x) => F.pad(x, [1, 1, 0, 2, 1, 0], 'replicate'),
  pad_circular: (x) => F.pad(x, [2, 2], 'circular'),
  pad_circular_2d: (x) => F.pad(x, [1, 0, 0, 2], 'circular'),
  pad_circular_3d: (x) => F.pad(x, [1, 1, 1, 0, 0, 1], { mode: 'circular' }),
  pixel_shuffle: (x) => F.pixelShuffle(x, 2),
  pixel_shuffle_unbatched: (x) => F.pixelShuffle(x.select(0, 0), 2),

  // ---- interpolate: every mode, size and scaleFactor forms, alignCorners, recomputeScaleFactor, antialias ------
  interpolate_nearest_1d: (x) => F.interpolate(x, 15),
  interpolate_nearest_scale: (x) => F.interpolate(x, { scaleFactor: 2 }),
  interpolate_nearest_size: (x) => F.interpolate(x, { size: [4, 7] }),
  interpolate_nearest_3d: (x) => F.interpolate(x, [3, 6, 2]),
  interpolate_nearest_uint8: (x) => F.interpolate(x, { scaleFactor: [1.5, 0.8] }),
  interpolate_nearest_exact: (x) => F.interpolate(x, { size: [4, 3], mode: 'nearest-exact' }),
  interpolate_nearest_exact_1d_scale: (x) => F.interpolate(x, null, 0.7, 'nearest-exact'),
  interpolate_linear: (x) => F.interpolate(x, { scaleFactor: 1.5, mode: 'linear' }),
  interpolate_linear_align_corners: (x) => F.interpolate(x, 7, { mode: 'linear', alignCorners: true }),
  interpolate_bilinear: (x) => F.interpolate(x, [9, 8], { mode: 'bilinear' }),
  interpolate_bilinear_align_corners: (x) => F.interpolate(x, [9, 8], null, 'bilinear', true),
  interpolate_bilinear_scale: (x) => F.interpolate(x, { scaleFactor: [1.5, 0.6], mode: 'bilinear', alignCorners: false }),
  interpolate_bilinear_recompute: (x) => F.interpolate(x, { scaleFactor: 1.7, mode: 'bilinear', recomputeScaleFactor: true }),
  interpolate_bilinear_antialias: (x) => F.interpolate(x, [3, 3], { mode: 'bilinear', antialias: true }),
  interpolate_bicubic: (x) => F.interpolate(x, { scaleFactor: [1.5, 2], mode: 'bicubic' }),
  interpolate_bicubic_align_corners: (x) => F.interpolate(x, 7, { mode: 'bicubic', alignCorners: true }),
  interpolate_bicubic_antialias: (x) => F.interpolate(x, { scaleFactor: 0.5, mode: 'bicubic', antialias: true }),
  interpolate_trilinear: (x) => F.interpolate(x, { scaleFactor: 1.5, mode: 'trilinear' }),
  interpolate_trilinear_align_corners: (x) => F.interpolate(x, [5, 3, 6], { mode: 'trilinear', alignCorners: true }),
  interpolate_area: (x) => F.interpolate(x, [3, 2], { mode: 'area' }),
  interpolate_area_scale: (x) => F.interpolate(x, { scaleFactor: 0.6, mode: 'area' }),
  interpolate_area_1d: (x) => F.interpolate(x, 4, { mode: 'area' }),
  interpolate_nearest_recompute: (x) => F.interpolate(x, { scaleFactor: 1.3, recomputeScaleFactor: true }),
  // ---- the remaining element-wise ops of pointwise.js ----------------------------------------------------------
  expm1: (x) => x.expm1(),
  log2: (p) => torch.log2(p),
  log1p: (p) => p.sub(0.9).log1p(),
  rsqrt: (p) => p.rsqrt(),
  square: (x) => torch.square(x),
  square_int: (i) => i.square(),
  reciprocal: (p) => p.reciprocal(),
  reciprocal_int: (i) => torch.reciprocal(i),
  floor_ceil_trunc: (x) => torch.stack([x.mul(3).floor(), torch.ceil(x.mul(3)), x.mul(3).trunc()]),
  floor_int: (i) => i.floor(),
  sin_cos: (x) => torch.stack([x.sin(), torch.cos(x)]),
  erf: (x) => torch.erf(x),
  isnan_isinf_isfinite: (s) => torch.stack([s.isnan(), torch.isinf(s), s.isfinite()]),
  isfinite_int: (i) => i.isfinite(),
  logical_not: (s) => s.logicalNot(),
  logical_not_int: (i) => torch.logicalNot(i),
  // remainder has the divisor's sign; floor_divide rounds down (no derivative in PyTorch: constants)
  remainder_scalar: (x) => x.remainder(0.7),
  remainder_tensor: (x, p) => torch.remainder(x.mul(3), p.neg()),
  remainder_int: (i, j) => i.remainder(j.neg()),
  floor_divide: (x, p) => x.detach().mul(3).floorDivide(p.detach()),
  floor_divide_int_scalar: (i) => torch.floorDivide(i, 3),
  maximum_nan: (w, x) => w.maximum(x),
  minimum_broadcast: (x, r) => torch.minimum(x, r),
  atan2: (x, c) => x.atan2(c),
  logical_and_or: (x, i) => torch.stack([x.logicalAnd(i), torch.logicalOr(x.detach().gt(0.5), i)]),

  // ---- the remaining reductions: prod (zeros in the gradient), amax/amin (ties share the gradient), any/all ----
  prod: (x) => x.prod(),
  prod_dim_keepdim: (x) => torch.prod(x, 1, true),
  prod_neg_dim_float64: (c) => c.prod(-2, { dtype: 'float64' }),
  prod_with_zeros: (z) => z.prod(1),
  prod_int: (i) => i.prod(0),
  amax: (c) => c.amax(),
  amax_dims_keepdim: (c) => torch.amax(c, [0, 2], true),
  amax_ties: (t) => t.amax(1),
  amin_ties_all: (t) => torch.amin(t),
  amin_neg_dim: (c) => c.amin(-1),
  amax_int: (i) => i.amax(0),
  any_all: (x, i) => torch.stack([x.gt(2).any(), x.all(), i.any(), torch.all(i)]),
  any_all_dim: (i) => torch.stack([i.any(1), torch.all(i, 1)]),
  any_all_dim_keepdim: (s) => torch.stack([s.any(0, { keepdim: true }), s.all(-1, true)]),
  // Python's any/all take keepdim without a dim (all dims kept as size 1) and a list of dims
  any_keepdim_all_dims: (x) => x.any({ keepdim: true }),
  all_dims_list: (c) => c.gt(-2).all([0, 2] as never),
  cumsum: (x) => x.cumsum(1),
  cumsum_neg_dim_float64: (c) => torch.cumsum(c, -3, { dtype: 'float64' }),
  cumsum_int: (i) => i.cumsum(0),

  // ---- the remaining shape ops ---------------------------------------------------------------------------------
  expand_as: (c, x) => c.expandAs(x),
  view_as: (c, x) => c.narrow(0, 0, 1).viewAs(x),
  reshape_as: (x, c) => torch.cat([x, x]).reshapeAs(c),
  repeat: (x) => x.repeat(2, 1),
  repeat_more_dims: (r) => r.repeat([2, 1, 3]),
  flip: (c) => c.flip(0, 2),
  flip_list: (x) => torch.flip(x, [-1]),
  movedim: (c) => c.movedim(0, -1),
  movedim_lists: (c) => torch.movedim(c, [0, 1], [2, 0]),
  // slice is Python's x[start:end:step] along a dim
  slice: (x) => x.slice(1, 1, 3),
  slice_step_negative_start: (c) => c.slice(2, -3, null, 2),
  slice_end_past_size: (x) => x.slice(0, 1, 10),
  // index is Python's x[idx] with an int64 index (negative counts from the end) or a bool mask
  index: (x, i) => x.index(i),
  index_bool_mask: (x) => x.index(x.select(1, 0).gt(0)),
  tril: (x) => x.tril(),
  tril_negative_batched: (c) => torch.tril(c, -1),
  triu: (x) => torch.triu(x, 1),
  triu_int: (i) => i.triu(-1),
  concat: (x, y) => torch.concat([x, y], -1),
  unbind: (c) => c.unbind(1),
  unbind_fn: (x) => torch.unbind(x),
  squeeze_dims: (o) => o.squeeze([0, 2]),
  where_method: (x, y) => x.where(x.gt(y), y),
  where_method_scalar: (x) => x.where(x.gt(0), -1.5),
  // two numbers: float32 for fractional ones, int64 for whole ones (JS cannot write Python's 1.0)
  where_both_scalars: (x) => torch.where(x.gt(0), 1.5, -0.5),
  where_both_int_scalars: (x) => torch.where(x.gt(0), 1, -1),
  // a 0-dim tensor fill value gets a gradient
  masked_fill_tensor_value: (x, y) => x.maskedFill(x.gt(0), y.select(0, 0).select(0, 0)),

  // ---- the remaining products and layers ----------------------------------------------------------------------
  dot: (a, b) => a.dot(b),
  dot_fn_int: (i) => torch.dot(i.select(0, 0), i.select(0, 1)),
  bilinear: (a, b, w, c) => F.bilinear(a, b, w, c),
  bilinear_no_bias: (a, b, w) => F.bilinear(a, b, w),
  conv2d_groups_dilation: (x, w) => F.conv2d(x, w.narrow(0, 0, 2).narrow(1, 0, 1), null, 1, [2, 1], [1, 2], 2),
  conv_transpose3d: (x, w, b) => F.convTranspose3d(x, w, b),
  conv_transpose3d_stride: (x, w) => F.convTranspose3d(x, w, null, [2, 1, 2], 1, [1, 0, 0]),
  conv_transpose3d_groups: (x, w, b) => F.convTranspose3d(x, w, b.expand(2), { groups: 2, dilation: 2 }),
  max_pool2d: (x) => F.maxPool2d(x, 2),
  max_pool2d_stride_padding_dilation: (x) => F.maxPool2d(x, [2, 3], 1, [1, 1], [2, 1]),
  avg_pool2d: (x) => F.avgPool2d(x, 2),
  avg_pool2d_padding_ceil: (x) => F.avgPool2d(x, 3, 2, 1, true, false),
  avg_pool2d_divisor: (x) => F.avgPool2d(x, [2, 3], { divisorOverride: 4 }),
  f_sigmoid_tanh: (x) => torch.stack([F.sigmoid(x), F.tanh(x)]),

  // ---- in-place methods (inplace.js) on a clone, so gradients flow to the inputs ------------------------------
  add_: (x, y) => x.clone().add_(y, { alpha: 2 }),
  add__int: (i) => i.clone().add_(3),
  sub_: (x, r) => x.clone().sub_(r),
  mul_: (x, c) => x.clone().mul_(c),
  mul__scalar: (x) => x.clone().mul_(-1.5),
  div_: (x, p) => x.clone().div_(p),
  div__floor: (x, p) => x.clone().div_(p, { roundingMode: 'floor' }),
  div__int_trunc: (i, j) => i.clone().div_(j, { roundingMode: 'trunc' }),
  pow_: (p, y) => p.clone().pow_(y),
  pow__scalar: (x) => x.clone().pow_(3),
  addcmul_: (x, y, r) => x.clone().addcmul_(y, r, { value: 0.5 }),
  addcdiv_: (x, y, p) => x.clone().addcdiv_(y, p, { value: -2 }),
  lerp_: (x, y, w) => x.clone().lerp_(y, w),
  lerp__scalar: (x, y) => x.clone().lerp_(y, 0.25),
  clamp_: (x) => x.clone().clamp_(-0.5, 0.5),
  clamp__min_only: (x) => x.clone().clamp_({ min: 0.2 }),
  clamp_min_: (x) => x.clone().clampMin_(-0.1),
  clamp_max_: (x) => x.clone().clampMax_(0.1),
  fill_: (x) => x.clone().fill_(1.5),
  fill__tensor: (x, y) => x.clone().fill_(y.select(0, 1).select(0, 2)),
  copy_: (x, r) => x.clone().copy_(r),
  copy__float64: (x, d) => x.clone().copy_(d),
  copy__int: (x, i) => x.clone().copy_(i),
  zero_: (x) => x.clone().zero_(),
  masked_fill_: (x) => x.clone().maskedFill_(x.gt(0), -1.0),
  masked_fill__tensor: (x, y) => x.clone().maskedFill_(x.lt(0), y.select(0, 0).select(0, 0)),
  // random fills from the default generator, seeded as in Python
  uniform_: seeded(21, () => torch.zeros(3, 4).uniform_(-1, 2)),
  normal_: seeded(22, () => torch.zeros(3, 4, { dtype: 'float64' }).normal_(1, 0.5)),
  bernoulli_: seeded(23, () => torch.zeros(3, 4).bernoulli_(0.3)),
  exponential_: seeded(24, () => torch.zeros(3, 4).exponential_(2)),
  scatter_: (x, i, s) => x.clone().scatter_(0, i, s),
  scatter__scalar: (x, i) => x.clone().scatter_(1, i, -4.0),
  scatter_add_: (x, i, s) => x.clone().scatterAdd_(0, i, s),
  index_fill_: (x, i) => x.clone().indexFill_(0, i, -2.0),
  index_fill__tensor: (x, i, y) => x.clone().indexFill_(1, i, y.select(0, 0).select(0, 0)),
  index_add_: (x, i, s) => x.clone().indexAdd_(0, i, s, { alpha: 2 }),
  unary_inplace: (x) =>
    torch.stack([
      x.clone().neg_(), x.clone().exp_(), x.clone().abs_(), x.clone().sign_(), x.mul(3).floor_(), x.mul(3).ceil_(),
      x.mul(3).round_(), x.mul(3).trunc_(), x.clone().sigmoid_(), x.clone().tanh_(), x.clone().relu_(), x.clone().square_(),
      x.clone().sin_(), x.clone().cos_(),
    ]),
  unary_inplace_positive: (p) => torch.stack([p.clone().log_(), p.clone().sqrt_(), p.clone().rsqrt_(), p.clone().reciprocal_()]),
  erfinv_: (u) => u.clone().erfinv_(),
  t_: (x) => x.clone().t_(),
  squeeze_: (o) => o.clone().squeeze_(),
  squeeze__dim: (o) => o.clone().squeeze_(-1),
  unsqueeze_: (x) => x.clone().unsqueeze_(1),
  detach_: (x) => x.clone().detach_(),

  // ---- tensor bounds for clip / clamp_min / clamp_max ---------------------------------------------------------
  clip_tensor_bounds: (x, c, r) => x.clip(c, r),
  clamp_min_tensor: (x, r) => torch.clampMin(x, r),
  clamp_max_tensor: (x, c) => x.clampMax(c),

  // ---- the torch.* forms of methods and the method forms of torch.* functions the cases above leave out --------
  torch_unary_forms: (u) =>
    torch.stack([
      torch.acos(u), torch.sin(u), torch.sinh(u), torch.tan(u), torch.erfc(u), torch.expm1(u), torch.log1p(u),
      torch.floor(u.mul(3)), torch.frac(u.mul(3)), torch.trunc(u.mul(3)),
    ]),
  torch_rsqrt: (p) => torch.rsqrt(p),
  torch_atan2: (x, y) => torch.atan2(x, y),
  torch_maximum: (x, r) => torch.maximum(x, r),
  torch_logical_and: (x, y) => torch.logicalAnd(x.gt(0), y),
  torch_isnan_isfinite: (s) => torch.stack([torch.isnan(s), torch.isfinite(s)]),
  torch_any: (x) => torch.stack([torch.any(x.gt(1)), torch.any(x.gt(5))]),
  torch_any_dim: (x) => torch.any(x.gt(0.5), 1),
  torch_argsort: (x) => torch.argsort(x, 1),
  torch_argsort_descending: (t) => torch.argsort(t, { dim: 1, descending: true, stable: true }),
  torch_bmm: (a, b) => torch.bmm(a, b),
  torch_clone_detach: (x) => [torch.clone(x), torch.detach(x)],
  torch_equal: (x, y) => torch.tensor([torch.equal(x, x.clone()), torch.equal(x, y), torch.equal(x, x.narrow(0, 0, 2))]),
  torch_gather: (x, i) => torch.gather(x, 0, i),
  torch_narrow_permute_transpose: (c) => [torch.narrow(c, 2, 1, 2), torch.permute(c, [2, 0, 1]), torch.transpose(c, 0, 1)],
  method_forms: (x, y) => torch.stack([x.cos(), x.erf(), x.minimum(y)]),
  method_log2_digamma: (g) => torch.stack([g.log2(), g.digamma()]),
  method_mm: (a, b) => a.mm(b),
  method_isinf_logical_or: (s) => torch.stack([s.isinf(), s.isnan().logicalOr(s.gt(1))]),

  // ---- linalg.qr: reduced (wide, tall, batched), complete (square), 'r' (no Q, not differentiable) --------------
  linalg_qr: (x) => linalg.qr(x),
  linalg_qr_tall: (x) => linalg.qr(x.t()),
  linalg_qr_batched: (c) => linalg.qr(c.transpose(1, 2)),
  linalg_qr_complete: (s) => linalg.qr(s, { mode: 'complete' }),
  linalg_qr_r: (c) => linalg.qr(c.detach(), 'r'),

  // ---- Tensor conversions and properties -------------------------------------------------------------------------
  int_bool_type_as: (x, i, d) => [x.mul(3).int(), x.bool(), i.typeAs(x), x.typeAs(d)],
  cpu: (x) => x.cpu(),
  tolist: (c) => torch.tensor(c.tolist(), { dtype: 'float32' }),
  properties: (x, i, d) =>
    torch.tensor(
      [x, i, d, x.bool(), x.mul(3).int(), x.select(0, 0).select(0, 0)].map((t) => [
        Number(t.isFloatingPoint()), t.elementSize(), t.dim(), t.getDevice(), Number(t.isCuda), Number(t.isPinned()),
      ]),
    ),
};

describe('ops of the spec match PyTorch (values and gradients)', () => {
  parityCases(fx, cases);
});

// ---- calls PyTorch rejects ----------------------------------------------------------------------------------------

const errorCases: Record<string, (...inputs: Tensor[]) => unknown> = {
  // activations
  hardtanh_min_above_max: (a) => F.hardtanh(a, 2, 1),
  glu_scalar: () => F.glu(torch.tensor(1.0)),
  glu_odd: (x) => F.glu(x, 1),
  prelu_wrong_channels: (x) => F.prelu(x, torch.ones(4)),
  // losses
  triplet_margin_zero: (a, p, n) => F.tripletMarginLoss(a, p, n, { margin: 0 }),
  margin_ranking_dims: (a, b, t) => F.marginRankingLoss(a, b, t),
  bce_target_size: (p, t) => F.binaryCrossEntropy(p, t),
  bce_out_of_range: (x, t) => F.binaryCrossEntropy(x.mul(5), t),
  mse_weight_size: (x, y, w) => F.mseLoss(x, y, { weight: w }),
  l1_weight_size: (x, y, w) => F.l1Loss(x, y, { weight: w }),
  huber_weight_size: (x, y, w) => F.huberLoss(x, y, { weight: w }),
  mse_no_broadcast: (x, v) => F.mseLoss(x, v),
  // embedding
  embedding_padding_idx_high: (i, w) => F.embedding(i, w, 10),
  embedding_padding_idx_low: (i, w) => F.embedding(i, w, -11),
  embedding_index_out_of_range: (w) => F.embedding(torch.tensor([0, 10]), w),
  embedding_float_indices: (x, w) => F.embedding(x, w),
  // normalisation
  batch_norm_one_value_per_channel: (m, v) => F.batchNorm(torch.ones(1, 3), m, v, { training: true }),
  batch_norm_wrong_stats: (x) => F.batchNorm(x, torch.zeros(4), torch.ones(4)),
  instance_norm_one_spatial: () => F.instanceNorm(torch.ones(2, 3, 1)),
  group_norm_indivisible: (x) => F.groupNorm(x, 4),
  group_norm_1d: (r) => F.groupNorm(r, 1),
  layer_norm_shape: (c) => F.layerNorm(c, [3]),
  rms_norm_shape: (c) => F.rmsNorm(c, [2, 4]),
  // dropout
  dropout1d_4d: (x) => F.dropout1d(x),
  dropout1d_p: (x) => F.dropout1d(x, 1.5),
  dropout2d_p: (x) => F.dropout2d(x, -0.5),
  dropout3d_p: (x) => F.dropout3d(x, 2),
  alpha_dropout_p: (x) => F.alphaDropout(x, 1.5, true),
  feature_alpha_dropout_p: (x) => F.featureAlphaDropout(x, -1, true),
  // convolution and pooling
  conv2d_same_stride: (x, w) => F.conv2d(x, w, { stride: 2, padding: 'same' }),
  conv2d_channels: (x, w) => F.conv2d(x, w.unsqueeze(-1)),
  conv1d_groups_indivisible: (x, w) => F.conv1d(x, w, { groups: 2 }),
  conv_transpose1d_output_padding: (x, w) => F.convTranspose1d(x, w, { outputPadding: 1 }),
  max_pool1d_padding_too_big: (x) => F.maxPool1d(x, 2, { padding: 2 }),
  max_pool2d_kernel_too_big: (x) => F.maxPool2d(x, 7),
  avg_pool3d_divisor_zero: (x) => F.avgPool3d(x, 2, { divisorOverride: 0 }),
  adaptive_avg_pool2d_3d_input_size: (x) => F.adaptiveAvgPool2d(x, [1, 2, 3]),
  // padding, pixel shuffle, interpolate
  pad_reflect_too_big: (x) => F.pad(x, [10, 0], 'reflect'),
  pad_odd_length: (x) => F.pad(x, [1, 2, 3]),
  pad_circular_too_big: (x) => F.pad(x, [11, 0], 'circular'),
  pixel_shuffle_indivisible: (x) => F.pixelShuffle(x, 2),
  interpolate_size_and_scale: (x) => F.interpolate(x, { size: 4, scaleFactor: 2 }),
  interpolate_neither: (x) => F.interpolate(x),
  interpolate_align_corners_nearest: (x) => F.interpolate(x, 4, { alignCorners: true }),
  interpolate_recompute_with_size: (x) => F.interpolate(x, 4, { mode: 'bilinear', recomputeScaleFactor: true }),
  interpolate_antialias_nearest: (x) => F.interpolate(x, 4, { antialias: true }),
  interpolate_bilinear_3d_input: (x) => F.interpolate(x, 4, { mode: 'bilinear' }),
  interpolate_linear_4d_input: (x) => F.interpolate(x, 4, { mode: 'linear' }),
  interpolate_size_list_too_short: (x) => F.interpolate(x, [4]),
  interpolate_scale_list_too_short: (x) => F.interpolate(x, { scaleFactor: [2] }),
  interpolate_size_list_too_long: (x) => F.interpolate(x, [4, 4, 4]),
  interpolate_2d_input: (x) => F.interpolate(x, 4),
  // norms and distances
  norm_fro_three_dims: (c) => torch.norm(c, 'fro', [0, 1, 2]),
  norm_nuc_one_dim: (x) => torch.norm(x, 'nuc', 1),
  matrix_norm_1d: (r) => linalg.matrixNorm(r),
  matrix_norm_ord3: (x) => linalg.matrixNorm(x, 3),
  linalg_norm_ord_three_dims: (c) => linalg.norm(c, 2),
  vector_norm_int: (i) => linalg.vectorNorm(i),
  cdist_dims: (a, b) => torch.cdist(a, b),
  cdist_negative_p: (a, b) => torch.cdist(a, b, -1),
  cosine_similarity_shapes: (x, c) => F.cosineSimilarity(x, c.narrow(1, 0, 2)),
  // products
  einsum_bad_equation: (x) => torch.einsum('ij,jk->ik', x),
  einsum_shape_mismatch: (x, y) => torch.einsum('ij,jk->ik', x, y),
  mv_shapes: (x, v) => x.mv(v),
  outer_2d: (x, v) => torch.outer(x, v),
  addmm_shapes: (x, a) => x.addmm(a, a),
  // indexing
  scatter_index_out_of_range: (x, s) => x.scatter(0, torch.tensor([[3, 0, 0, 0]]), s),
  scatter_float_index: (x, s) => x.scatter(0, s, s),
  scatter_add_rank: (x, s) => x.scatterAdd(0, torch.tensor([0, 1]), s),
  scatter_reduce_dtype: (x, i, s) => x.scatterReduce(0, i, s, 'sum'),
  masked_select_float_mask: (x) => x.maskedSelect(x),
  // pointwise and reductions
  lerp_int: (i, j) => i.lerp(j, 0.5),
  lerp_shapes: (x, v) => x.lerp(v, 0.5),
  fmod_shapes: (x, v) => x.fmod(v),
  fmax_shapes: (x, v) => x.fmax(v),
  clamp_tensor_shapes: (x, v) => x.clamp(v),
  logical_xor_shapes: (x, v) => x.logicalXor(v),
  isclose_dtypes: (x, y) => x.isclose(y),
  isclose_negative_rtol: (x) => x.isclose(x, { rtol: -1 }),
  nanmean_int: (i) => i.nanmean(),
  cumprod_dim: (x) => x.cumprod(2),
  softmin_dim: (x) => F.softmin(x, 2),
  // shape
  roll_mismatch: (x) => x.roll([1, 2], 0),
  unflatten_sizes: (c) => c.unflatten(1, [2, 2]),
  swapaxes_dim: (x) => x.swapaxes(0, 2),
  diagonal_same_dims: (c) => c.diagonal(0, 1, 1),
  diag_3d: (c) => c.diag(),
  hstack_empty: () => torch.hstack([]),
  vstack_mismatch: (x, v) => torch.vstack([x, v]),
  broadcast_tensors_mismatch: (x, v) => torch.broadcastTensors(x, v),
  tile_negative: (x) => x.tile(-1),
  // the remaining spec ops and the in-place methods
  prod_keepdim_without_dim: (x) => x.prod({ keepdim: true } as never), // not a signature of prod (a type error too)
  round_int_decimals: (i) => i.round({ decimals: 2 }),
  group_norm_negative_groups: (x) => F.groupNorm(x, -2),
  pixel_shuffle_zero: (x) => F.pixelShuffle(x, 0),
  interpolate_zero_size: (x) => F.interpolate(x, 0),
  interpolate_nan_scale: (x) => F.interpolate(x, { scaleFactor: NaN }),
  slice_zero_step: (x) => x.slice(0, null, null, 0),
  index_out_of_range: (x) => x.index(torch.tensor([3])),
  index_float: (x) => x.index(torch.tensor([0.5])),
  dot_shapes: (a, b) => a.dot(b),
  bilinear_shapes: (a, w) => F.bilinear(a, a, w),
  copy__shapes: (x, v) => x.clone().copy_(v),
  index_add__shapes: (x, i) => x.clone().indexAdd_(0, i, torch.ones(3, 4)),
  expand_as_shapes: (x, v) => x.expandAs(v),
  view_as_numel: (x, c) => x.viewAs(c),
  movedim_repeated: (c) => c.movedim([0, 1], [2, 2]),
  flip_repeated: (c) => c.flip(0, 0),
  repeat_fewer_dims: (x) => x.repeat(2),
  amax_repeated_dim: (x) => x.amax([0, 0]),
  cumsum_dim: (x) => x.cumsum(-3),
  remainder_int_zero: (i) => i.remainder(0),
  floor_divide_int_zero: (i) => i.floorDivide(torch.zerosLike(i)),
  squeeze__dim_out_of_range: (x) => x.clone().squeeze_(2),
  unsqueeze__dim_out_of_range: (x) => x.clone().unsqueeze_(3),
  t__3d: (c) => c.clone().t_(),
  div__int_true_division: (i, j) => i.clone().div_(j),
  uniform__int: (i) => i.clone().uniform_(),
  bernoulli__p: (x) => x.clone().bernoulli_(1.5),
  exponential__lambda: (x) => x.clone().exponential_(-1),
  normal__std: (x) => x.clone().normal_(0, -1),
};

/** Calls that torchkd accepts although PyTorch rejects them: bugs of the spec (see the report). */
// Calls torchkd accepts where PyTorch raises (none known): name -> reason, registered as expected failures.
const acceptedButPyTorchRejects: Record<string, string> = {};

function errorOf(fn: () => unknown): Error | null {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  return null;
}

describe('calls PyTorch rejects are rejected, as TypeError / RangeError / TorchError without a C++ backtrace', () => {
  it('covers exactly the fixture error cases', () => {
    expect(Object.keys(errorCases).sort()).toEqual(Object.keys(fx.errors).sort());
  });
  for (const [name, fn] of Object.entries(errorCases)) {
    const spec = fx.errors[name];
    if (spec === undefined) continue;
    const run = (): void => {
      const inputs = spec.args.map((a) => fromJson(fx.inputs[a]));
      const e = errorOf(() => fn(...inputs));
      expect(e, 'torchkd accepted it').not.toBeNull();
      const ok = e instanceof TorchError || e instanceof TypeError || e instanceof RangeError;
      expect(ok, `${e?.constructor.name}: ${e?.message}`).toBe(true);
      expect(e!.message.length).toBeGreaterThan(10);
      expect(e!.message).not.toMatch(/Exception raised from|frame #/);
    };
    const reason = acceptedButPyTorchRejects[name];
    const title = `${name} is rejected (PyTorch: ${spec.error})`;
    if (reason) it.fails(`${title} [spec bug: ${reason}]`, run);
    else it(title, run);
  }
});

describe('in-place updates as in PyTorch', () => {
  it('batchNorm in training leaves the input alone and updates only the running statistics', () => {
    const x = torch.randn(4, 3);
    const before = x.clone();
    const rm = torch.zeros(3);
    const rv = torch.ones(3);
    F.batchNorm(x, rm, rv, { training: true });
    expect(x.equal(before)).toBe(true);
    expect(rm.equal(torch.zeros(3))).toBe(false);
    expect(rv.equal(torch.ones(3))).toBe(false);
  });

  it('the inplace activations overwrite the tensor they were given and return its values', () => {
    const x = torch.linspace(-8, 8, 12).reshape(3, 4);
    const inplaceable: ((t: Tensor, o?: { inplace?: boolean }) => Tensor)[] = [F.relu6, F.elu, F.selu, F.celu, F.silu, F.mish, F.hardswish, F.hardsigmoid, F.hardtanh];
    for (const f of inplaceable) {
      const y = x.clone();
      const out = f(y, { inplace: true });
      expect(y.equal(out)).toBe(true);
      expect(y.equal(x)).toBe(false);
      expect(x.clone().equal(f(x.clone()))).toBe(false);
    }
    const y = x.clone();
    expect(F.threshold(y, 0, 1, true).equal(y)).toBe(true);
    expect(y.equal(x)).toBe(false);
  });

  it('embedding leaves the weight alone without maxNorm; with it, only the rows looked up are renormalised', () => {
    const w = torch.randn(5, 2).mul(10);
    const before = w.clone();
    F.embedding(torch.tensor([0, 1, 4]), w);
    expect(w.equal(before)).toBe(true);
    F.embedding(torch.tensor([0, 1]), w, { maxNorm: 1 });
    expect(w.narrow(0, 0, 2).equal(before.narrow(0, 0, 2))).toBe(false);
    expect(w.narrow(0, 2, 3).equal(before.narrow(0, 2, 3))).toBe(true);
  });
});

describe('live parity', () => {
  it.skipIf(pythonWithTorch() === null)('the committed ops_spec fixture is what the current PyTorch produces', () => {
    expect(liveFixture<OpsSpecFixture>('gen_ops_spec.py')).toEqual(fx);
  });
});
