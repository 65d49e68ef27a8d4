/**
 * Internal: The layer implementations behind the public classes of lib/generated/modules.ts (which parse the
 * constructor arguments and hand them here).
 */
export { NativeLayer } from './base';
export {
  LinearImpl,
  Conv2dImpl,
  BatchNormNativeImpl,
  MaxPool2dImpl,
  AvgPool2dImpl,
  AdaptiveAvgPool2dImpl,
  FlattenImpl,
  DropoutNativeImpl,
  NativeActivationImpl,
} from './native';
export { ConvNdImpl, ConvTransposeNdImpl, BilinearImpl } from './conv';
export { BatchNormImpl, InstanceNormImpl, LayerNormImpl, GroupNormImpl, RMSNormImpl } from './norm';
export { EmbeddingImpl, PoolImpl, UpsampleImpl, UnflattenImpl, PadImpl, ActivationImpl, DropoutImpl, PReLUImpl, Identity } from './misc';
export { LossImpl, Loss3Impl } from './loss';
