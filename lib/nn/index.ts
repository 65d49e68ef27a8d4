/**
 * torch.nn: Module, Parameter, the built-in layers, and nn.functional.
 */
export { Module, Parameter } from './module';
export type { StateDict, IncompatibleKeys } from './module';
export * from './layers';
import * as functional from '../functional';
export { functional };
