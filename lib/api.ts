/**
 * The public surface of torchkd (re-exported by index.ts, which adds the default export).
 *
 * @example
 * import * as torch from 'torchkd';
 * const x = torch.randn(4, 10);
 * const y = torch.nn.functional.softmax(x, 1);
 */
export { Tensor, ValuesIndices, tidy, keep, memory } from './tensor';
export type { BoolTensor, Scalar, Reduction, TensorOrScalar, NestedArray, ShapeArgs, TensorCopyOptions, TensorToOptions } from './tensor';
export type { DType, Device, MemoryFormat } from './dtype';
export {
  isFloatingPoint, float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, bool, float, double, half, long, int, short,
  contiguousFormat, channelsLast, channelsLast3d, preserveFormat,
} from './dtype';
export { TorchError, OutOfMemoryError } from './errors';
export type { TorchErrorCode } from './errors';
export * from './creation';
export * from './ops';
import * as linalg from './generated/linalg';
/** torch.linalg: vectorNorm, matrixNorm, norm. */
export { linalg };
export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from './autograd';
export { autocast, isAutocastEnabled, getAutocastDtype } from './amp';
export type { AutocastDeviceType, AutocastOptions, GradScalerOptions, GradScalerState, ScaleInput } from './amp';
import { GradScaler, autocast as ampAutocast, isAutocastAvailable } from './amp';
/** torch.amp: `autocast` regions and the `GradScaler` for float16 training. */
export const amp = { autocast: ampAutocast, GradScaler, isAutocastAvailable };
/** Types under `torch.amp`: `let s: torch.amp.GradScaler`. */
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace amp {
  type GradScaler = import('./amp').GradScaler;
}
export { cuda, Stream as CudaStream, Event as CudaEvent, setNumThreads, getNumThreads, getNumInteropThreads } from './cuda';
export type { CudaMemoryStats, CudaDeviceProperties } from './cuda';
export { version } from './version';
export { setFloat32MatmulPrecision, getFloat32MatmulPrecision, useDeterministicAlgorithms, areDeterministicAlgorithmsEnabled, isDeterministicAlgorithmsWarnOnlyEnabled } from './backends';
export type { Float32MatmulPrecision } from './backends';
import { cudaBackend, cudnn } from './backends';
/** torch.backends: `cudnn.{enabled, benchmark, deterministic, allowTf32, isAvailable, version}`, `cuda.matmul.allowTf32`. */
export const backends = { cudnn, cuda: cudaBackend };

import * as functional from './functional';
import { grad } from './autograd';
/** torch.nn.functional, also reachable as `torch.F`. */
export { functional as F };
/** torch.autograd. */
export const autograd = { grad };
import * as nn from './nn';
/** torch.nn: Module, layers and functional. */
export { nn };
import * as optim from './optim';
/** torch.optim: SGD, Adam, AdamW, lrScheduler. */
export { optim };
export { save, load, saveToBuffer, loadFromBuffer } from './serialization';
export type { LoadOptions, MapLocation, Saveable } from './serialization';
import * as jit from './jit';
/** torch.jit: TorchScript load/save. */
export { jit };
import * as models from './models';
/** The model zoo (Distiller's names). */
export { models };
import * as distiller from './distiller';
/** Distiller's knowledge-distillation framework, ported (also exported by name below). */
export { distiller };
export {
  PolicyLoss,
  LossComponent,
  ScheduledTrainingPolicy,
  CompressionScheduler,
  DistillationLossWeights,
  KnowledgeDistillationPolicy,
  MultiTeacherDistillationPolicy,
  FeatureCapture,
  FitNetsPolicy,
  AttentionTransferPolicy,
  RelationalKDPolicy,
  addDistillationArgs,
  kdLoss,
} from './distiller';
import * as data from './data';
/** Datasets and loaders: IDX files, Fashion-MNIST, DataLoader, samplers. */
export { data };
import * as distributed from './distributed';
/** torch.distributed: process groups, collectives and stores over libtorch's c10d (Gloo; NCCL in CUDA builds). */
export { distributed };
/** torch.utils: `utils.data` is {@link data} (PyTorch's torch.utils.data). */
export const utils = { data };
