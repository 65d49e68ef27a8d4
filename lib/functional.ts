/**
 * torch.nn.functional (also `torch.F`): activations, losses and layer primitives, with PyTorch's argument order.
 * Any Python keyword argument may be given in a trailing options object, also those Python takes positionally.
 * Generated from the op specification (scripts/codegen/ops/) into lib/generated/functional.ts.
 *
 * @example
 * const loss = F.crossEntropy(logits, labels, { labelSmoothing: 0.1 });
 * const y = F.conv2d(x, w, b, { padding: 1 });
 */
export * from './generated/functional';
export type { Reduction } from './tensor';
