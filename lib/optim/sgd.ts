/**
 * SGD with momentum, dampening, Nesterov, weight decay and maximize — PyTorch's single-tensor algorithm, op for op
 * (native/optim.cc), so parameters after N steps match Python's to the bit on the same libtorch.
 */
import { N, Tensor, keep, wrap } from '../tensor';
import { positionalOrOptions } from '../tensor/checks';
import { FLAGS, type FlagOptions, Optimizer, ParamGroup, ParamsArg, checkFlags } from './optimizer';

/** SGD options (PyTorch's names, camelCase; PyTorch's defaults). */
export interface SGDOptions {
  lr?: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
  maximize?: boolean;
}

/** SGD's implementation switches: PyTorch's SGD has no `capturable`. */
type SGDFlags = Omit<FlagOptions, 'capturable'>;
const SGD_FLAGS = FLAGS.filter((k) => k !== 'capturable');

/**
 * Stochastic gradient descent.
 *
 * @example
 * const opt = new torch.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * opt.zeroGrad(); loss.backward(); opt.step();
 */
export class SGD extends Optimizer {
  constructor(params: ParamsArg, options?: SGDOptions);
  constructor(params: ParamsArg, lr: number, options?: Omit<SGDOptions, 'lr'>);
  constructor(params: ParamsArg, lr: number, momentum: number, dampening?: number, weightDecay?: number, nesterov?: boolean, options?: Pick<SGDOptions, 'maximize'> & SGDFlags);
  constructor(params: ParamsArg, ...rest: unknown[]) {
    // PyTorch's SGD(params, lr, momentum, dampening, weight_decay, nesterov, *, maximize, foreach, differentiable, fused).
    const o = positionalOrOptions('optim.SGD', rest, ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov'], { keywordOnly: ['maximize', ...SGD_FLAGS] }) as SGDOptions & SGDFlags;
    checkFlags('optim.SGD', o, SGD_FLAGS);
    super(
      params,
      {
        lr: o.lr ?? 1e-3,
        momentum: o.momentum ?? 0,
        dampening: o.dampening ?? 0,
        weightDecay: o.weightDecay ?? 0,
        nesterov: o.nesterov ?? false,
        maximize: o.maximize ?? false,
      },
      { foreach: null, differentiable: false, fused: null },
    );
  }

  protected validateGroup(g: ParamGroup): void {
    Optimizer.checkNumber(g, 'lr');
    Optimizer.checkNumber(g, 'momentum');
    Optimizer.checkNumber(g, 'dampening', -Infinity);
    Optimizer.checkNumber(g, 'weightDecay');
    for (const k of ['nesterov', 'maximize']) {
      if (typeof g[k] !== 'boolean') throw new TypeError(`Expected a boolean for ${k}`);
    }
    if (g.nesterov && ((g.momentum as number) <= 0 || g.dampening !== 0)) {
      throw new RangeError('Nesterov momentum requires a momentum and zero dampening');
    }
  }

  step(): void {
    for (const g of this.paramGroups) {
      const bufs = g.params.map((p) => {
        const b = this.state.get(p)?.momentum_buffer;
        return b instanceof Tensor ? b.h : -1;
      });
      const created = N.sgdStep(this.handles(g), bufs, g.lr, g.momentum as number, g.dampening as number, g.weightDecay as number, g.nesterov as boolean, g.maximize as boolean);
      created.forEach((h, i) => {
        if (h !== null) this.state.set(g.params[i], { momentum_buffer: keep(wrap(h)) });
      });
    }
  }
}
