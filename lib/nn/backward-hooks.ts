/**
 * Internal: Full backward hooks of one module call (PyTorch's torch.utils.hooks.BackwardHook): the tensor inputs and
 * outputs pass through native identities (native/hooks.cc) whose backward hands the gradients to the hooks. The
 * output side runs first (gradient w.r.t. the outputs, where pre-hooks may replace them); the input side then calls
 * each hook with (gradInput, gradOutput), and what a hook returns replaces gradInput.
 */
import { native } from '../binding';
import { TorchError } from '../errors';
import { Tensor, wrap } from '../tensor';
import type { BackwardHook, BackwardPreHook, Module } from './module';

const N = native();

type GradList = (Tensor | null)[];

function tensorPositions(values: unknown[]): number[] {
  const idx: number[] = [];
  values.forEach((v, i) => {
    if (v instanceof Tensor) idx.push(i);
  });
  return idx;
}

function handlesOf(grads: GradList, what: string): (number | null)[] {
  return grads.map((g) => {
    if (g === null || g === undefined) return null;
    if (!(g instanceof Tensor)) throw new TypeError(`${what}: expected Tensors or null`);
    return g.h;
  });
}

export class BackwardHooks {
  private gradOutputs: GradList | null = null;
  private nInputs = 0;
  private inputIdx: number[] | null = null;
  private nOutputs = 0;
  private outputIdx: number[] | null = null;

  constructor(
    private readonly module: Module,
    private readonly hooks: Map<number, BackwardHook> | null,
    private readonly preHooks: Map<number, BackwardPreHook> | null,
  ) {}

  /** Wraps the tensor inputs (when any requires grad); returns the arguments forward should see. */
  setupInputs(args: unknown[]): unknown[] {
    this.nInputs = args.length;
    const idx = tensorPositions(args);
    if (!idx.some((i) => (args[i] as Tensor).requiresGrad)) return args;
    const outs = N.backwardHookIdentity(
      idx.map((i) => (args[i] as Tensor).h),
      this.callback('input'),
      true,
    );
    const res = [...args];
    idx.forEach((i, k) => {
      res[i] = wrap(outs[k]);
    });
    this.inputIdx = idx;
    return res;
  }

  /** Wraps the tensor outputs (a tensor, or the tensors of an array). */
  setupOutputs(out: unknown): unknown {
    const isList = Array.isArray(out);
    const list = isList ? (out as unknown[]) : [out];
    this.nOutputs = list.length;
    const idx = tensorPositions(list);
    if (!idx.some((i) => (list[i] as Tensor).requiresGrad)) return out;
    // An output that does not reach the loss gets no gradient (null, as PyTorch's hooks see None), not zeros.
    const outs = N.backwardHookIdentity(
      idx.map((i) => (list[i] as Tensor).h),
      this.callback('output'),
      false,
    );
    const res = [...list];
    idx.forEach((i, k) => {
      res[i] = wrap(outs[k]);
    });
    this.outputIdx = idx;
    return isList ? res : res[0];
  }

  // The native node holds its callback strongly; made here, the callback's scope holds only `this` (a closure made
  // in setupInputs would share that method's scope and keep the call's tensors, and so the graph, alive).
  private callback(side: 'input' | 'output'): (grads: (number | null)[]) => (number | null)[] | undefined {
    return side === 'input' ? (grads) => this.onInputGrads(grads) : (grads) => this.onOutputGrads(grads);
  }

  private pack(idx: number[], grads: (number | null)[], n: number): GradList {
    const out: GradList = new Array(n).fill(null);
    idx.forEach((i, k) => {
      const h = grads[k];
      out[i] = h === null ? null : wrap(h);
    });
    return out;
  }

  private onOutputGrads(grads: (number | null)[]): (number | null)[] | undefined {
    const idx = this.outputIdx as number[];
    let gradOutputs = this.pack(idx, grads, this.nOutputs);
    let replaced = false;
    for (const hook of [...(this.preHooks?.values() ?? [])]) {
      const r = hook(this.module, gradOutputs);
      if (r === undefined) continue;
      if (!Array.isArray(r) || r.length !== gradOutputs.length) {
        throw new TorchError(`Backward pre hook returned an invalid number of grad_output, got ${Array.isArray(r) ? r.length : 'a non-array'}, but expected ${gradOutputs.length}`);
      }
      gradOutputs = r;
      replaced = true;
    }
    this.gradOutputs = gradOutputs;
    if (this.inputIdx === null) {
      // No input requires grad: the hooks run now, with no gradient for any input.
      const gradInputs: GradList = new Array(this.nInputs).fill(null);
      for (const hook of [...(this.hooks?.values() ?? [])]) {
        const r = hook(this.module, gradInputs, gradOutputs);
        if (r !== undefined && !(Array.isArray(r) && r.every((g) => g === null || g === undefined))) {
          throw new TorchError('Backward hook for Modules where no input requires gradient should always return None or None for all gradients.');
        }
      }
      this.gradOutputs = null;
    }
    return replaced ? handlesOf(idx.map((i) => gradOutputs[i]), 'backward pre-hook') : undefined;
  }

  private onInputGrads(grads: (number | null)[]): (number | null)[] | undefined {
    // No output gradient seen: the gradient reached the inputs without passing through the outputs.
    if (this.gradOutputs === null) return undefined;
    const idx = this.inputIdx as number[];
    let res = this.pack(idx, grads, this.nInputs);
    let replaced = false;
    for (const hook of [...(this.hooks?.values() ?? [])]) {
      const out = hook(this.module, res, this.gradOutputs);
      if (out === undefined) continue;
      if (!Array.isArray(out) || out.length !== res.length) {
        throw new TorchError(`Backward hook returned an invalid number of grad_input, got ${Array.isArray(out) ? out.length : 'a non-array'}, but expected ${res.length}`);
      }
      res = out;
      replaced = true;
    }
    this.gradOutputs = null;
    return replaced ? handlesOf(idx.map((i) => res[i]), 'backward hook') : undefined;
  }
}
