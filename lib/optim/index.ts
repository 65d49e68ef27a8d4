/**
 * torch.optim: SGD, Adam, AdamW and the learning-rate schedulers (torch.optim.lrScheduler).
 */
export { Optimizer } from './optimizer';
export type { ParamGroup, ParamsArg, OptimizerStateDict, ParamGroupValue, FlagOptions } from './optimizer';
export { SGD } from './sgd';
export type { SGDOptions } from './sgd';
export { Adam, AdamW } from './adam';
export type { AdamOptions } from './adam';
import * as lrScheduler from './lr-scheduler';
export { lrScheduler };
