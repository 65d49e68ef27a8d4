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
