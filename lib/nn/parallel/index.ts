/** torch.nn.parallel: {@link DistributedDataParallel} over libtorch's c10d Reducer. */
export { DistributedDataParallel } from './distributed';
export type { DistributedDataParallelOptions } from './distributed';
