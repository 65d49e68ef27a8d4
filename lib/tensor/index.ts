/**
 * The Tensor class and its lifetime helpers. Layout:
 *   base.ts      TensorBase: properties, values out, conversion, autograd entry points, printing hooks
 *   ../generated/tensor.ts  the op methods (generated from scripts/codegen/ops/), on the Tensor class
 *   args.ts      argument checks of the generated ops;  checks.ts  those of the hand-written API
 *   lifetime.ts  GC groups, tidy, keep, memory;  print.ts  PyTorch's printer;  native.ts  the binding
 */
export { Tensor } from '../generated/tensor';
export { TensorBase, ValuesIndices } from './base';
/** @internal */
export { wrap, wrapList, wrapPair, handleOf, cudaAvailable } from './base';
export { N, R, ok } from './native';
export type { BoolTensor, Scalar, TensorOrScalar, Reduction, ShapeArgs, NestedArray, TensorCopyOptions, TensorToOptions } from './base';
export { tidy, keep, memory } from './lifetime';
export type { TidyResult } from './lifetime';
/** @internal */
export type { Opts } from './args';
/** @internal */
export { int, intPair, num, shapeOf, positionalOrOptions } from './checks';
