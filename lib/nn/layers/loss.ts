/**
 * Loss modules: the functional losses with their options fixed at construction. CrossEntropyLoss, NLLLoss, BCELoss and
 * BCEWithLogitsLoss register `weight` (and `pos_weight`) as buffers, as PyTorch does, so they move with `.to()` and
 * appear in the state dict.
 */
import * as F from '../../generated/functional';
import type { Tensor } from '../../tensor';
import { Module } from '../module';

type LossArgs = { [k: string]: number | boolean | string | Tensor | null };

function weightsOf(m: Module, a: LossArgs): void {
  if ('weight' in a) m.registerBuffer('weight', (a.weight as Tensor | null) ?? null);
  if ('posWeight' in a) m.registerBuffer('pos_weight', (a.posWeight as Tensor | null) ?? null);
}

/** A loss of (input, target). */
export class LossImpl extends Module<[Tensor, Tensor], Tensor> {
  /** 'none' | 'mean' | 'sum' (KLDivLoss also 'batchmean'). */
  readonly reduction: string;
  /** The other constructor options, by PyTorch's names (camelCased). */
  readonly options: Readonly<LossArgs>;
  constructor(args: object, kind: string) {
    super();
    this._kind = kind;
    const a = args as LossArgs;
    this.reduction = a.reduction as string;
    const { weight, posWeight, ...rest } = a;
    void weight;
    void posWeight;
    this.options = Object.freeze(rest);
    weightsOf(this, a);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    const o = this.options as Record<string, never>;
    const w = (this._buffers.get('weight') ?? null) as Tensor | null;
    switch (this._kind) {
      case 'L1Loss':
        return F.l1Loss(input, target, { reduction: o.reduction });
      case 'MSELoss':
        return F.mseLoss(input, target, { reduction: o.reduction });
      case 'CrossEntropyLoss':
        return F.crossEntropy(input, target, w, { ignoreIndex: o.ignoreIndex, reduction: o.reduction, labelSmoothing: o.labelSmoothing });
      case 'NLLLoss':
        return F.nllLoss(input, target, w, { ignoreIndex: o.ignoreIndex, reduction: o.reduction });
      case 'KLDivLoss':
        return F.klDiv(input, target, { reduction: o.reduction, logTarget: o.logTarget });
      case 'BCELoss':
        return F.binaryCrossEntropy(input, target, w, { reduction: o.reduction });
      case 'BCEWithLogitsLoss':
        return F.binaryCrossEntropyWithLogits(input, target, w, { reduction: o.reduction, posWeight: (this._buffers.get('pos_weight') ?? null) as Tensor | null });
      case 'SmoothL1Loss':
        return F.smoothL1Loss(input, target, { reduction: o.reduction, beta: o.beta });
      case 'HuberLoss':
        return F.huberLoss(input, target, { reduction: o.reduction, delta: o.delta });
      case 'HingeEmbeddingLoss':
        return F.hingeEmbeddingLoss(input, target, o.margin, { reduction: o.reduction });
      case 'SoftMarginLoss':
        return F.softMarginLoss(input, target, { reduction: o.reduction });
      case 'PoissonNLLLoss':
        return F.poissonNllLoss(input, target, o.logInput, o.full, { eps: o.eps, reduction: o.reduction });
      default:
        throw new TypeError(`${this._kind}: no forward`);
    }
  }
}

/** A loss of three tensors: CosineEmbeddingLoss and MarginRankingLoss (x1, x2, target), TripletMarginLoss (anchor, positive, negative). */
export class Loss3Impl extends Module<[Tensor, Tensor, Tensor], Tensor> {
  readonly reduction: string;
  readonly options: Readonly<LossArgs>;
  constructor(args: object, kind: string) {
    super();
    this._kind = kind;
    const a = args as LossArgs;
    this.reduction = a.reduction as string;
    this.options = Object.freeze({ ...a });
  }
  override forward(a: Tensor, b: Tensor, c: Tensor): Tensor {
    const o = this.options as Record<string, never>;
    switch (this._kind) {
      case 'CosineEmbeddingLoss':
        return F.cosineEmbeddingLoss(a, b, c, o.margin, { reduction: o.reduction });
      case 'MarginRankingLoss':
        return F.marginRankingLoss(a, b, c, o.margin, { reduction: o.reduction });
      default:
        return F.tripletMarginLoss(a, b, c, o.margin, o.p, o.eps, o.swap, { reduction: o.reduction });
    }
  }
}
