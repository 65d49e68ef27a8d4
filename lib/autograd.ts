/**
 * Grad-mode switches (torch.no_grad / torch.enable_grad) and torch.autograd.grad.
 */
import { describe } from './dtype';
import { refuseAsync } from './errors';
import { N, Tensor, handleOf, wrap } from './tensor';

function runWithGrad<T>(enabled: boolean, fn: () => T): T {
  if (typeof fn !== 'function') throw new TypeError(`expected a function but received ${describe(fn)}`);
  const prev = N.setGradEnabled(enabled);
  try {
    return refuseAsync(fn(), 'noGrad()/enableGrad() only cover synchronous functions');
  } finally {
    N.setGradEnabled(prev);
  }
}

/**
 * Runs `fn` with autograd off (PyTorch's `with torch.no_grad():`). Synchronous functions only.
 *
 * @example
 * const preds = torch.noGrad(() => model.forward(x));
 */
export function noGrad<T>(fn: () => T): T {
  return runWithGrad(false, fn);
}

/** Runs `fn` with autograd on, e.g. inside a noGrad block (`torch.enable_grad()`). */
export function enableGrad<T>(fn: () => T): T {
  return runWithGrad(true, fn);
}

/** Whether autograd is currently recording. */
export function isGradEnabled(): boolean {
  return N.isGradEnabled();
}

/** Sets grad mode globally (`torch.set_grad_enabled(mode)`); returns the previous mode. */
export function setGradEnabled(mode: boolean): boolean {
  if (typeof mode !== 'boolean') throw new TypeError(`setGradEnabled expects a boolean but received ${describe(mode)}`);
  return N.setGradEnabled(mode);
}

/** Options of {@link grad}. */
export interface GradOptions {
  gradOutputs?: Tensor[];
  retainGraph?: boolean;
  createGraph?: boolean;
  allowUnused?: boolean;
}

/** Gradients of `outputs` w.r.t. `inputs` without touching `.grad` (torch.autograd.grad). */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], options: GradOptions = {}): (Tensor | null)[] {
  const outs = (Array.isArray(outputs) ? outputs : [outputs]).map((t, i) => handleOf(t, `outputs[${i}]`));
  const ins = (Array.isArray(inputs) ? inputs : [inputs]).map((t, i) => handleOf(t, `inputs[${i}]`));
  const go = options.gradOutputs?.map((t, i) => handleOf(t, `gradOutputs[${i}]`));
  return N.autogradGrad(outs, ins, go, options.retainGraph, options.createGraph ?? false, options.allowUnused ?? false).map((h) =>
    h === null ? null : wrap(h),
  );
}
