/**
 * torch.nn: Module and Parameter, the layers and losses (constructed as in PyTorch, any argument also by name in a
 * trailing options object), the containers, nn.init, nn.utils and nn.functional.
 */
export { Module, Parameter, isParameter, RemovableHandle } from './module';
export type {
  StateDict,
  IncompatibleKeys,
  ForwardArgs,
  ForwardResult,
  ForwardPreHook,
  ForwardHook,
  BackwardHook,
  BackwardPreHook,
  HookOptions,
  ForwardHookOptions,
} from './module';
export type { ModuleTree } from './repr';
export * from '../generated/modules';
export { Identity } from './layers/misc';
export { Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict } from './containers';
import * as init from './init';
/** torch.nn.init: the parameter initialisers (in place, Python's arithmetic and random draws). */
export { init };
import * as functional from '../functional';
import * as utils from './utils';
/** torch.nn.utils: `clipGradNorm_`, `clipGradValue_`. */
export { utils };
export type { ClipGradNormOptions } from './utils';
export { functional };
import * as parallel from './parallel';
/** torch.nn.parallel: `DistributedDataParallel` (multi-process data parallelism over torch.distributed). */
export { parallel };
