/**
 * The knowledge-distillation loss of Hinton et al. as Distiller computes it, without the T² factor:
 * `KL(softmax(t/T) ‖ softmax(s/T))` with PyTorch's kl_div 'batchmean' (the sum over every element divided by
 * size(0)), differentiable in the student logits only.
 *
 * Two implementations with one contract (native/kd/): `'composite'` runs log_softmax / softmax / kl_div exactly as
 * Distiller wrote them; `'fused'` (the default) is one native pass per row that computes the loss and its gradient
 * (softmax(s/T) − softmax(t/T)) / (N·T) together, with no N×C temporaries besides that gradient, on CPU (vectorised,
 * threaded) and CUDA.
 */
import { describe } from '../dtype';
import { N, Tensor, handleOf, int, wrap } from '../tensor';

/** Options of {@link kdLoss}. */
export interface KdLossOptions {
  /** The class dimension (default 1, as Distiller; -1 for (N, L, C) logits). */
  dim?: number;
  /** `'auto'` (fused), `'fused'` or `'composite'` (Distiller's formula through PyTorch ops). */
  impl?: 'auto' | 'fused' | 'composite';
}

const IMPL = { auto: 0, fused: 1, composite: 2 } as const;

/**
 * The unscaled batch-mean KD loss between student and teacher logits at a temperature.
 *
 * @example
 * const kl = distiller.kdLoss(studentLogits, teacherLogits, 4.0);
 * kl.mul(4.0 ** 2).backward();  // Distiller scales by T² outside the loss
 */
export function kdLoss(student: Tensor, teacher: Tensor, temperature = 1.0, options: KdLossOptions = {}): Tensor {
  if (typeof temperature !== 'number') throw new TypeError(`Expected a number for temperature but received ${describe(temperature)}`);
  if (!(Number.isFinite(temperature) && temperature > 0)) throw new RangeError(`temperature must be finite and > 0, got ${temperature}`);
  const impl = options.impl ?? 'auto';
  if (!Object.hasOwn(IMPL, impl)) throw new RangeError(`impl must be 'auto', 'fused' or 'composite', got ${describe(impl)}`);
  return wrap(N.kdLoss(handleOf(student, 'student logits'), handleOf(teacher, 'teacher logits'), temperature, int(options.dim ?? 1, 'dim'), IMPL[impl]));
}

/**
 * The KD loss from a teacher's top-k logits per row (what a top-k teacher-logit cache stores), unscaled, batch-mean.
 *
 * With s the student logits (all C classes), v the teacher's k largest logits and i their class indices:
 * `p̂ = softmax(v/T)` over the k entries (the teacher renormalised over its top-k classes), `log q = log_softmax(s/T)`
 * over all C classes gathered at i, and the loss is `Σ p̂ (log p̂ − log q) / size(0)` — in PyTorch,
 * `F.kl_div(F.log_softmax(s / T, dim).gather(dim, i), F.softmax(v / T, dim), reduction='batchmean')`. The gradient
 * in s is `(softmax(s/T) − scatter(p̂ at i)) / (size(0)·T)`: it pushes the student's whole distribution, the tail
 * included, towards the renormalised top-k targets (no tail mass is assumed for the teacher). With k = C it is
 * {@link kdLoss}. This is the "Top-K" sparse KD of the literature (the truncated, renormalised teacher distribution
 * that Anshumann et al., "Sparse Logit Sampling: Accelerating Knowledge Distillation in LLMs", ACL 2025, analyse as
 * the common way of caching teacher logits), here with the student normalised over all classes.
 *
 * `'fused'` (the default on the CPU) computes the loss and its gradient in one native pass per row, on the CPU or on
 * CUDA (one thread block per row); `'composite'` runs the PyTorch ops above, and is the default on CUDA and other
 * devices.
 *
 * @example
 * const { values, indices } = teacherLogits.topk(5, 1);
 * const kl = distiller.topkKdLoss(studentLogits, values, indices, 4.0);
 */
export function topkKdLoss(student: Tensor, teacherValues: Tensor, teacherIndices: Tensor, temperature = 1.0, options: KdLossOptions = {}): Tensor {
  if (typeof temperature !== 'number') throw new TypeError(`Expected a number for temperature but received ${describe(temperature)}`);
  if (!(Number.isFinite(temperature) && temperature > 0)) throw new RangeError(`temperature must be finite and > 0, got ${temperature}`);
  const impl = options.impl ?? 'auto';
  if (!(impl in IMPL)) throw new RangeError(`impl must be 'auto', 'fused' or 'composite', got ${describe(impl)}`);
  return wrap(
    N.topkKdLoss(
      handleOf(student, 'student logits'),
      handleOf(teacherValues, 'teacher values'),
      handleOf(teacherIndices, 'teacher indices'),
      temperature,
      int(options.dim ?? 1, 'dim'),
      IMPL[impl],
    ),
  );
}
