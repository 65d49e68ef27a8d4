/**
 * The model zoo, named as in Distiller (`--arch`): simplenet_mnist, simplenet_v2_mnist, mlp_mnist (a small
 * distillation student), resnet20/32/44/56_cifar and preact_resnet20/32/44/56/110_cifar.
 *
 * @example
 * const teacher = models.create('simplenet_mnist');
 */
import type { Module } from '../nn/module';
import type { Tensor } from '../tensor';
import { PreactResNetCifar, ResNetCifar } from './resnet-cifar';
import { mlp, simplenetMnist, simplenetV2Mnist } from './simplenet';

export { PreactResNetCifar, ResNetCifar } from './resnet-cifar';
export { mlp, simplenetMnist, simplenetV2Mnist } from './simplenet';

/** Options every architecture accepts. */
export interface ModelOptions {
  numClasses?: number;
}

const ZOO: Record<string, (o: ModelOptions) => Module<[Tensor], Tensor>> = {
  simplenet_mnist: (o) => simplenetMnist(o),
  simplenet_v2_mnist: (o) => simplenetV2Mnist(o),
  mlp_mnist: (o) => mlp({ hidden: [100], numClasses: o.numClasses }),
  mlp_small_mnist: (o) => mlp({ hidden: [32], numClasses: o.numClasses }),
  resnet20_cifar: (o) => new ResNetCifar([3, 3, 3], o.numClasses),
  resnet32_cifar: (o) => new ResNetCifar([5, 5, 5], o.numClasses),
  resnet44_cifar: (o) => new ResNetCifar([7, 7, 7], o.numClasses),
  resnet56_cifar: (o) => new ResNetCifar([9, 9, 9], o.numClasses),
  preact_resnet20_cifar: (o) => new PreactResNetCifar([3, 3, 3], o.numClasses),
  preact_resnet32_cifar: (o) => new PreactResNetCifar([5, 5, 5], o.numClasses),
  preact_resnet44_cifar: (o) => new PreactResNetCifar([7, 7, 7], o.numClasses),
  preact_resnet56_cifar: (o) => new PreactResNetCifar([9, 9, 9], o.numClasses),
  preact_resnet110_cifar: (o) => new PreactResNetCifar([18, 18, 18], o.numClasses),
};

/** The input each architecture is made for: Fashion-MNIST/MNIST (1×28×28) or CIFAR-10 (3×32×32). */
export function inputOf(arch: string): { dataset: 'mnist' | 'cifar10'; shape: [number, number, number] } {
  return arch.endsWith('_cifar') ? { dataset: 'cifar10', shape: [3, 32, 32] } : { dataset: 'mnist', shape: [1, 28, 28] };
}

/** The architecture names `create` accepts. */
export const ARCHITECTURES: readonly string[] = Object.freeze(Object.keys(ZOO));

/** Builds an architecture by its Distiller name (RangeError listing the choices for an unknown name). */
export function create(arch: string, options: ModelOptions = {}): Module<[Tensor], Tensor> {
  const make = ZOO[arch];
  if (!make) throw new RangeError(`unknown architecture '${arch}'; choose one of: ${ARCHITECTURES.join(', ')}`);
  return make(options);
}
