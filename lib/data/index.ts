/**
 * torch.utils.data for torchkd: datasets, samplers, the DataLoader, the IDX reader and Fashion-MNIST.
 *
 * @example
 * const { DataLoader, FashionMNIST } = torch.data;
 * for (const [x, y] of new DataLoader(new FashionMNIST(), { batchSize: 64, shuffle: true })) train(x, y);
 */
export { IndexedDataset, TensorDataset } from './dataset';
export type { Dataset, Sample } from './dataset';
export { DataLoader } from './dataloader';
export type { DataLoaderOptions } from './dataloader';
export { RandomSampler, SequentialSampler, SubsetRandomSampler } from './sampler';
export type { Sampler } from './sampler';
export { DistributedSampler } from './distributed-sampler';
export type { DistributedSamplerOptions } from './distributed-sampler';
export { splitTrainValidation } from './split';
export type { TrainValidationSplit } from './split';
export { decodeIdx, parseIdxHeader, readIdx } from './idx';
export type { IdxHeader } from './idx';
export { FashionMNIST, FASHION_MNIST_DEFAULT_ROOT } from './fashion-mnist';
export type { FashionMNISTOptions } from './fashion-mnist';
