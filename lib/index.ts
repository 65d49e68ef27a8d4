/**
 * torchkd — PyTorch-style tensors, training and knowledge distillation for Node.js, over libtorch.
 *
 * @example
 * import * as torch from 'torchkd';
 * const x = torch.randn(4, 10);
 * const y = torch.nn.functional.softmax(x, 1);
 */
export { Tensor, ValuesIndices, tidy, keep, memory } from './tensor';
export type { TensorOrScalar, NestedArray, ShapeArgs, ReduceOptions, StdVarOptions } from './tensor';
export type { DType, Device } from './dtype';
export { isFloatingPoint } from './dtype';
export { TorchError } from './errors';
export type { TorchErrorCode } from './errors';
export * from './creation';
export * from './ops';
export { var_ as var } from './ops';
export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from './autograd';
export { cuda, setNumThreads, getNumThreads, getNumInteropThreads } from './cuda';
export type { CudaMemoryStats } from './cuda';
export { version } from './version';

import * as functional from './functional';
import { grad } from './autograd';
/** torch.nn.functional, also reachable as `torch.F`. */
export { functional as F };
/** torch.autograd. */
export const autograd = { grad };
import * as nn from './nn';
/** torch.nn: Module, layers and functional. */
export { nn };
