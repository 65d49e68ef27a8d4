/**
 * Adam and AdamW — PyTorch's single-tensor algorithm op for op (native/optim.cc), with PyTorch's state layout
 * (step as a float32 scalar tensor, exp_avg, exp_avg_sq, max_exp_avg_sq with amsgrad), created lazily on the first
 * step a parameter has a gradient, as in Python.
 */
import { describe } from '../dtype';
import { N, Tensor, keep, wrap } from '../tensor';
import { positionalOrOptions } from '../tensor/checks';
import { FLAGS, type FlagOptions, Optimizer, ParamGroup, ParamsArg, checkFlags, pyNumber } from './optimizer';

/** Adam/AdamW options (PyTorch's names, camelCase). */
export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
  maximize?: boolean;
}

function zerosLike(p: Tensor): Tensor {
  return wrap(N.like(0, p.h, undefined, -1));
}

/**
 * Adam (Kingma & Ba). Weight decay is L2 added to the gradient; see {@link AdamW} for the decoupled form.
 *
 * @example
 * const opt = new torch.optim.Adam(model.parameters(), { lr: 1e-3 });
 */
export class Adam extends Optimizer {
  /** @internal AdamW's decoupled weight decay. */
  protected static decoupled = false;
  constructor(params: ParamsArg, options?: AdamOptions);
  constructor(params: ParamsArg, lr: number, options?: Omit<AdamOptions, 'lr'>);
  constructor(params: ParamsArg, lr: number, betas: [number, number], eps?: number, weightDecay?: number, amsgrad?: boolean, options?: Pick<AdamOptions, 'maximize'> & FlagOptions);
  constructor(params: ParamsArg, ...rest: unknown[]) {
    // PyTorch's Adam(params, lr, betas, eps, weight_decay, amsgrad, *, foreach, maximize, capturable, differentiable, fused).
    const decoupled = (new.target as unknown as { decoupled: boolean }).decoupled;
    const name = decoupled ? 'optim.AdamW' : 'optim.Adam';
    const o = positionalOrOptions(name, rest, ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad'], { keywordOnly: ['maximize', ...FLAGS] }) as AdamOptions & FlagOptions;
    checkFlags(name, o);
    super(
      params,
      {
        lr: o.lr ?? 1e-3,
        betas: o.betas ?? [0.9, 0.999],
        eps: o.eps ?? 1e-8,
        weightDecay: o.weightDecay ?? (decoupled ? 1e-2 : 0),
        amsgrad: o.amsgrad ?? false,
        maximize: o.maximize ?? false,
        decoupledWeightDecay: decoupled,
      },
      { foreach: null, capturable: false, differentiable: false, fused: null },
    );
  }

  protected validateGroup(g: ParamGroup): void {
    Optimizer.checkNumber(g, 'lr');
    Optimizer.checkNumber(g, 'eps');
    Optimizer.checkNumber(g, 'weightDecay');
    const b = g.betas;
    if (!Array.isArray(b) || b.length !== 2 || b.some((x) => typeof x !== 'number')) throw new TypeError(`Expected betas to be a pair of numbers, got ${describe(b)}`);
    if (!(b[0] >= 0 && b[0] < 1)) throw new RangeError(`Invalid beta parameter at index 0: ${pyNumber(b[0])}`);
    if (!(b[1] >= 0 && b[1] < 1)) throw new RangeError(`Invalid beta parameter at index 1: ${pyNumber(b[1])}`);
    for (const k of ['amsgrad', 'maximize']) if (typeof g[k] !== 'boolean') throw new TypeError(`Expected a boolean for ${k}`);
  }

  step(): void {
    for (const g of this.paramGroups) {
      const params: Tensor[] = [];
      for (const p of g.params) {
        if (p.grad === null) continue;
        if (!this.state.has(p)) {
          const s: Record<string, Tensor | number> = {
            step: keep(wrap(N.full([], 0, 6, -1, false))),
            exp_avg: keep(zerosLike(p)),
            exp_avg_sq: keep(zerosLike(p)),
          };
          if (g.amsgrad) s.max_exp_avg_sq = keep(zerosLike(p));
          this.state.set(p, s);
        }
        params.push(p);
      }
      if (!params.length) continue;
      const st = params.map((p) => this.state.get(p) as Record<string, Tensor>);
      const [beta1, beta2] = g.betas as [number, number];
      N.adamStep(
        params.map((p) => p.h),
        st.map((s) => s.exp_avg.h),
        st.map((s) => s.exp_avg_sq.h),
        g.amsgrad ? st.map((s) => s.max_exp_avg_sq.h) : null,
        st.map((s) => s.step.h),
        g.lr,
        beta1,
        beta2,
        g.eps as number,
        g.weightDecay as number,
        g.amsgrad as boolean,
        g.maximize as boolean,
        g.decoupledWeightDecay as boolean,
      );
    }
  }
}

/**
 * AdamW (Loshchilov & Hutter): Adam with decoupled weight decay (default 1e-2), as PyTorch's AdamW.
 *
 * @example
 * const opt = new torch.optim.AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.01 });
 */
export class AdamW extends Adam {
  protected static override decoupled = true;
}
