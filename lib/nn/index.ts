/**
 * torch.nn: Module, Parameter, the built-in layers, and nn.functional.
 */
export { Module, Parameter } from './module';
export type { StateDict, IncompatibleKeys } from './module';
export * from './layers';
import * as functional from '../functional';
import * as utils from './utils';
/** torch.nn.utils: `clipGradNorm_`, `clipGradValue_`. */
export { utils };
export type { ClipGradNormOptions } from './utils';
export { functional };
