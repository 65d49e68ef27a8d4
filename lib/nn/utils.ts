/**
 * torch.nn.utils: gradient clipping (`clip_grad_norm_`, `clip_grad_value_`), as in PyTorch: the same grouping by
 * device and dtype, the same foreach kernels by default, the same arithmetic, so clipped gradients match to the bit.
 */
import { describe } from '../dtype';
import { N, Tensor, wrap } from '../tensor';

function gradsOf(parameters: unknown, fn: string): Tensor[] {
  const list = parameters instanceof Tensor ? [parameters] : parameters;
  if (list === null || typeof list !== 'object' || typeof (list as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new TypeError(`${fn}: expected a Tensor or an iterable of Tensors but received ${describe(parameters)}`);
  }
  const grads: Tensor[] = [];
  for (const p of list as Iterable<unknown>) {
    if (!(p instanceof Tensor)) {
      for (const g of grads) g.dispose();
      throw new TypeError(`${fn}: expected Tensors but one parameter is ${describe(p)}`);
    }
    const g = p.grad;
    if (g !== null) grads.push(g);
  }
  return grads;
}

function foreachOption(options: { foreach?: boolean | null }, fn: string): boolean {
  const f = options?.foreach ?? true; // null/undefined: PyTorch's default, the foreach kernels on CPU and CUDA
  if (typeof f !== 'boolean') throw new TypeError(`${fn}: expected a boolean for foreach but received ${describe(f)}`);
  return f;
}

/** Options of {@link clipGradNorm_}. */
export interface ClipGradNormOptions {
  /** The p of the p-norm: a number, `Infinity` or `'inf'`. Default 2. */
  normType?: number | 'inf';
  /** Throw a TorchError when the total norm is NaN or infinite (instead of scaling by it). Default false. */
  errorIfNonfinite?: boolean;
  /** Use the foreach kernels (PyTorch's default on CPU and CUDA); false runs one op per tensor. */
  foreach?: boolean | null;
}

/**
 * Scales the parameters' gradients in place so that their total norm is at most `maxNorm`; returns the total norm
 * before clipping (`torch.nn.utils.clip_grad_norm_`). With a GradScaler, call `scaler.unscale_(optimizer)` first.
 *
 * @example
 * torch.nn.utils.clipGradNorm_(model.parameters(), 1.0);
 */
export function clipGradNorm_(parameters: Tensor | Iterable<Tensor>, maxNorm: number, options: ClipGradNormOptions = {}): Tensor {
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm)) throw new TypeError(`clipGradNorm_: expected a number for maxNorm but received ${describe(maxNorm)}`);
  const normType = options?.normType === 'inf' ? Infinity : (options?.normType ?? 2);
  if (typeof normType !== 'number' || Number.isNaN(normType)) throw new TypeError(`clipGradNorm_: expected a number or 'inf' for normType but received ${describe(options.normType)}`);
  const errorIfNonfinite = options?.errorIfNonfinite ?? false;
  if (typeof errorIfNonfinite !== 'boolean') throw new TypeError(`clipGradNorm_: expected a boolean for errorIfNonfinite but received ${describe(errorIfNonfinite)}`);
  const foreach = foreachOption(options, 'clipGradNorm_');
  const grads = gradsOf(parameters, 'clipGradNorm_');
  try {
    return wrap(N.clipGradNorm(grads.map((g) => g.h), maxNorm, normType, errorIfNonfinite, foreach));
  } finally {
    for (const g of grads) g.dispose();
  }
}

/**
 * Clamps the parameters' gradients into [-clipValue, clipValue] in place (`torch.nn.utils.clip_grad_value_`).
 */
export function clipGradValue_(parameters: Tensor | Iterable<Tensor>, clipValue: number, options: { foreach?: boolean | null } = {}): void {
  if (typeof clipValue !== 'number' || Number.isNaN(clipValue)) throw new TypeError(`clipGradValue_: expected a number for clipValue but received ${describe(clipValue)}`);
  const foreach = foreachOption(options, 'clipGradValue_');
  const grads = gradsOf(parameters, 'clipGradValue_');
  try {
    N.clipGradValue(grads.map((g) => g.h), clipValue, foreach);
  } finally {
    for (const g of grads) g.dispose();
  }
}
