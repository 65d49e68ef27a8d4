/**
 * torch.distributed for torchkd: process groups over libtorch's c10d (Gloo for CPU tensors, NCCL in CUDA builds),
 * collectives and point-to-point ops, and the stores they meet on. Store layout, group names and collective order
 * are Python's, so Node and Python processes can be ranks of one job.
 *
 * @example
 * import * as torch from 'torchkd';
 * const dist = torch.distributed;
 * dist.initProcessGroup({ backend: 'gloo' });  // env://, as `torchkd run` or torchrun set it up
 * const t = torch.ones(3).mul(dist.getRank());
 * dist.allReduce(t);                            // every rank: the sum over ranks
 */
export {
  ProcessGroup,
  GroupMember,
  initProcessGroup,
  newGroup,
  destroyProcessGroup,
  isAvailable,
  isGlooAvailable,
  isNcclAvailable,
  isInitialized,
  getRank,
  getWorldSize,
  getBackend,
  getProcessGroupRanks,
  getGroupRank,
  getGlobalRank,
  getNodeLocalRank,
} from './process-group';
export type { Backend, NonGroupMember, GroupArg, InitProcessGroupOptions, NewGroupOptions } from './process-group';
export {
  ReduceOp,
  Work,
  allReduce,
  broadcast,
  allGather,
  allGatherIntoTensor,
  reduceScatterTensor,
  reduce,
  gather,
  scatter,
  allToAllSingle,
  barrier,
  monitoredBarrier,
} from './collectives';
export type { CollectiveOptions, SyncOptions, AsyncOptions } from './collectives';
export { send, recv, isend, irecv } from './point-to-point';
export type { P2POptions } from './point-to-point';
export { Store, TCPStore, FileStore, PrefixStore } from './store';
export type { TCPStoreOptions } from './store';
