/**
 * @internal The distributed half of the native binding (native/distributed/), typed. Stores and process groups
 * cross as integer handles into per-environment tables; works and reducers as opaque external objects.
 */
import { native } from '../binding';

type H = number;
/** An in-flight collective (native/distributed/collectives.cc). */
export type NativeWork = object & { readonly __work: unique symbol };
/** A c10d::Reducer (native/distributed/reducer.cc). */
export type NativeReducer = object & { readonly __reducer: unique symbol };

export interface DistBinding {
  /** undefined when libtorch has no c10d. */
  distCapabilities(): { gloo: boolean; nccl: boolean } | undefined;
  distTcpStore(host: string, port: number, worldSize: number, isMaster: boolean, timeoutMs: number, waitWorkers: boolean, multiTenant: boolean, useLibuv: boolean): H;
  distTcpStorePort(store: H): number;
  distFileStore(path: string, worldSize: number): H;
  distPrefixStore(prefix: string, store: H): H;
  distStoreOp(store: H, op: number, ...args: unknown[]): unknown;
  distNewGroup(store: H, rank: number, size: number, backend: string, timeoutMs: number, name: string, globalRanks: number[], desc: string): [H, H];
  distGroupInfo(group: H): [number, number, string];
  distDestroyGroup(group: H): void;
  distWorkWait(work: NativeWork): Promise<boolean>;
  distWorkOp(work: NativeWork, op: number): boolean | number | undefined;
  distAllReduce(g: H, t: H, op: number, async: boolean): NativeWork | undefined;
  distBroadcast(g: H, t: H, src: number, async: boolean): NativeWork | undefined;
  distAllGather(g: H, outputs: H[], input: H, async: boolean): NativeWork | undefined;
  distAllGatherIntoTensor(g: H, output: H, input: H, async: boolean): NativeWork | undefined;
  distReduceScatterTensor(g: H, output: H, input: H, op: number, async: boolean): NativeWork | undefined;
  distReduce(g: H, t: H, dst: number, op: number, async: boolean): NativeWork | undefined;
  distGather(g: H, t: H, gatherList: H[] | null, dst: number, async: boolean): NativeWork | undefined;
  distScatter(g: H, t: H, scatterList: H[] | null, src: number, async: boolean): NativeWork | undefined;
  distSend(g: H, t: H, dst: number, tag: number, async: boolean): NativeWork | undefined;
  distRecv(g: H, t: H, src: number, tag: number, async: boolean): NativeWork | number;
  distAllToAllSingle(g: H, output: H, input: H, outputSplits: number[], inputSplits: number[], async: boolean): NativeWork | undefined;
  distBarrier(g: H, async: boolean): NativeWork | undefined;
  distMonitoredBarrier(g: H, timeoutMs: number, waitAllRanks: boolean): void;
  ddpComputeBuckets(tensors: H[], sizeLimits: number[], expectSparse: boolean[]): [number[][], number[]];
  ddpVerifyParams(g: H, params: H[]): void;
  ddpBroadcastCoalesced(g: H, tensors: H[], bufferSize: number, src: number): void;
  ddpReducer(
    params: H[],
    buckets: number[][],
    g: H,
    expectSparse: boolean[],
    bucketBytesCap: number,
    findUnused: boolean,
    gradientAsBucketView: boolean,
    paramNames: string[],
    firstBucketBytesCap: number,
    skipAllReduceUnused: boolean,
  ): NativeReducer;
  ddpReducerOp(r: NativeReducer, op: number, ...args: unknown[]): unknown;
  ddpSink(r: NativeReducer, outputs: H[], delayAllReduce: boolean): H[];
}

let cached: DistBinding | null = null;

/** The binding's distributed functions, each throwing its error (TypeError, RangeError, TorchError). */
export function dist(): DistBinding {
  cached ??= native() as unknown as DistBinding;
  return cached;
}
