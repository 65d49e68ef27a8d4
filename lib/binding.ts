/**
 * The native binding, typed. Tensors and modules cross as integer handles; every function here is thin and
 * libtorch failures arrive as {@link TorchError}.
 * @internal
 */
import { TorchError, specialise } from './errors';
import { loadBinding } from './loader';

type H = number;
type Opt<T> = T | undefined | null;
type Named = [string, H][];

export interface NativeBinding {
  release(h: H | H[]): void;
  track(owner: object, handles: H | H[]): void;
  /** tidy scopes: tensors made inside one are not reported to V8 until they outlive it (native/addon.h). */
  enterScope(): void;
  exitScope(): void;
  account(handles: H | H[]): void;
  setErrorClass(cls: unknown, sentinel: object): void;
  takeError(): Error;
  /** externalBytes: the native bytes accounted to V8 as external memory (reported or about to be). */
  memory(): { liveTensors: number; bytes: Record<string, number>; modules: number; externalBytes: number };
  versionInfo(): { libtorch: string; cudaBuild: boolean; cxx11abi: boolean };
  mathErf(x: number): number;
  /** Which allocator serves CPU tensors: torchkd's (native/cpu_allocator.cc) unless TORCHKD_CPU_ALLOCATOR=0. */
  cpuAllocator(): 'torchkd' | 'libtorch';
  /** The kept freed large blocks of torchkd's CPU allocator (zeros without them); `true` first gives them all back. */
  cpuCache(release?: boolean): { keptBytes: number; limitBytes: number };
  /** SIGINT/SIGTERM trap for synchronous loops (native/signals.cc). */
  trapSignals(on: boolean): void;
  pendingSignal(): number;
  // creation
  fromTypedArray(data: ArrayBufferView, dtype: number, shape: number[], device: number, requiresGrad: boolean): H;
  full(shape: number[], value: number | boolean, dtype: number, device: number, requiresGrad: boolean): H;
  empty(shape: number[], dtype: number, device: number, requiresGrad: boolean): H;
  random(kind: number, shape: number[], dtype: number, device: number, requiresGrad: boolean): H;
  randint(low: number, high: number, shape: number[], dtype: number, device: number): H;
  randperm(n: number, dtype: number, device: number): H;
  arange(start: number, end: number, step: number, dtype: number, device: number, requiresGrad: boolean): H;
  linspace(start: number, end: number, steps: number, dtype: number, device: number, requiresGrad: boolean): H;
  eye(n: number, m: number, dtype: number, device: number, requiresGrad: boolean): H;
  like(kind: number, t: H, fill: Opt<number>, dtype: number): H;
  manualSeed(seed: number | bigint): void;
  initialSeed(): number;
  randomInt64(): bigint;
  getRngState(): H;
  setRngState(state: H): void;
  randpermSeeded(n: number, seed: bigint | number): H;
  // properties
  shape(t: H): number[];
  stride(t: H): number[];
  dtype(t: H): number;
  device(t: H): number;
  ndim(t: H): number;
  numel(t: H): number;
  dataPtr(t: H): number;
  size(t: H, dim: number): number;
  isContiguous(t: H, memoryFormat?: number): boolean;
  data(t: H): Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;
  dataView(t: H): Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;
  item(t: H): number | boolean;
  rawBytes(t: H): Buffer;
  fromBytes(bytes: Buffer, dtype: number, storageElements: number, offset: number, shape: number[], strides: number[]): H;
  asStrided(storage: H, offset: number, shape: number[], strides: number[]): H;
  to(t: H, dtype: number, device: number | undefined, copy: boolean, nonBlocking: boolean, memoryFormat?: number): H;
  isPinned(t: H): boolean;
  pinMemory(t: H): H;
  // autograd
  backwardHookIdentity(handles: H[], fn: (grads: (H | null)[]) => (H | null)[] | undefined, materializeGrads: boolean): H[];
  backward(t: H, grad: H, retainGraph: boolean, createGraph: boolean): void;
  grad(t: H): H | null;
  setGrad(t: H, g: H): void;
  requiresGrad(t: H): boolean;
  setRequiresGrad(t: H, v: boolean): void;
  isLeaf(t: H): boolean;
  gradFn(t: H): string | null;
  retainGrad(t: H): void;
  setGradEnabled(v: boolean): boolean;
  isGradEnabled(): boolean;
  autogradGrad(outputs: H[], inputs: H[], gradOutputs: Opt<H[]>, retainGraph: Opt<boolean>, createGraph: boolean, allowUnused: boolean): (H | null)[];
  /** [enabled, dtype code, cache enabled] of autocast for device type 0 (CPU) or 1 (CUDA). */
  autocastState(type: number): [boolean, number, boolean];
  autocastEnter(type: number, enabled: boolean, dtype: number, cacheEnabled: boolean): [boolean, number, boolean];
  autocastExit(type: number, enabled: boolean, dtype: number, cacheEnabled: boolean): void;
  ampUnscale(grads: H[], foundInf: H, invScale: H): void;
  ampUpdateScale(scale: H, growthTracker: H, foundInf: H, growthFactor: number, backoffFactor: number, growthInterval: number): void;
  // modules
  createModule(kind: string, options: object): H;
  createSequential(names: string[], modules: H[]): H;
  releaseModule(m: H): void;
  moduleForward(m: H, inputs: H[]): H;
  moduleParameters(m: H, recurse: boolean): Named;
  moduleBuffers(m: H, recurse: boolean): Named;
  moduleTrain(m: H, mode: boolean): void;
  moduleTraining(m: H): boolean;
  moduleState(m: H): [string, H, boolean][];
  setData(t: H, src: H): void;
  jitLoad(path: string, device: number): H;
  jitSave(m: H, path: string, tmpPath: string): void;
  // optim
  sgdStep(params: H[], bufs: H[], lr: number, momentum: number, dampening: number, wd: number, nesterov: boolean, maximize: boolean): H[];
  adamStep(params: H[], expAvgs: H[], expAvgSqs: H[], maxSqs: H[] | null, steps: H[], lr: number, beta1: number, beta2: number, eps: number, wd: number, amsgrad: boolean, maximize: boolean, decoupled: boolean): void;
  zeroGrad(params: H[], setToNone: boolean): void;
  clipGradNorm(grads: H[], maxNorm: number, normType: number, errorIfNonfinite: boolean, foreach: boolean): H;
  clipGradValue(grads: H[], clipValue: number, foreach: boolean): void;
  // distillation
  kdLoss(student: H, teacher: H, temperature: number, dim: number, impl: number): H;
  kdCudaLastKernel(): string | null;
  kdCpuSimd(): 'avx512' | 'avx2' | 'portable';
  kdForward(teacher: H | (() => H), student: H | (() => H), inputs: H[], teacherWithGrad: boolean): [H, H, H];
  topkKdLoss(student: H, values: H, indices: H, temperature: number, dim: number, impl: number): H;
  // devices and threads
  cudaIsAvailable(): boolean;
  cudaDeviceCount(): number;
  cudaSynchronize(device?: number): void;
  cudaBuild(): boolean;
  cudaMemoryStats(device?: number): import('./cuda').CudaMemoryStats;
  cudaResetPeak(device?: number): void;
  cudaEmptyCache(): void;
  cudaMemGetInfo(device?: number): [number, number];
  cudaCurrentDevice(): number;
  cudaSetDevice(device: number): void;
  cudaDeviceProperties(device?: number): import('./cuda').CudaDeviceProperties;
  cudaManualSeed(seed: number | bigint, all: boolean): void;
  cudaSeedOp(op: number, ...rest: unknown[]): unknown;
  cudaStream(kind: number, device?: number, priority?: number): [bigint, number, number];
  cudaStreamOp(op: number, id: bigint, device: number, ...rest: unknown[]): boolean | undefined;
  /** libtorch's global switches by name (see lib/backends.ts); with a value, sets it first. */
  backendFlag(name: string, value?: boolean | string, warnOnly?: boolean): boolean | string | number | null | [boolean, boolean];
  cudaEventNew(owner: object, enableTiming: boolean, blocking: boolean): void;
  cudaEventOp(op: number, event: object, ...rest: unknown[]): boolean | number | undefined;
  tensorRecordStream(t: H, id: bigint, device: number): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  getNumInteropThreads(): number;
  parallelInfo(): string;
}

let cached: NativeBinding | null = null;
let raw: Record<string, unknown> | null = null;

/**
 * What a native call returns when it failed; the error itself is then taken from the addon and thrown here. Native
 * code never throws into JS: with this addon's finalizers running inside V8's collector, a collection during Node's
 * rethrow of an exception thrown through N-API aborted the process (native/errors.cc, raise()).
 */
export const FAILED: object = Object.freeze({ failed: true });

/** Throws the error a failed native call left behind. */
export function throwPending(): never {
  throw specialise((rawNative().takeError as () => Error)());
}

/** Every native function, wrapped so that a failed call throws its error (TypeError, RangeError, TorchError...). */
function throwing(raw: Record<string, unknown>): NativeBinding {
  const takeError = raw.takeError as () => Error;
  const entries = Object.entries(raw).map(([name, value]): [string, unknown] => {
    if (typeof value !== 'function') return [name, value];
    const fn = value as (...args: unknown[]) => unknown;
    return [
      name,
      (...args: unknown[]): unknown => {
        const r = fn(...args);
        if (r === FAILED) throw specialise(takeError());
        return r;
      },
    ];
  });
  return Object.fromEntries(entries) as unknown as NativeBinding;
}

/** The binding as loaded: a failed call returns FAILED (check with throwPending). Loads it on first use. */
export function rawNative(): Record<string, unknown> {
  if (raw) return raw;
  const loaded = loadBinding() as Record<string, unknown>;
  (loaded.setErrorClass as NativeBinding['setErrorClass'])(TorchError, FAILED);
  // The addon's exports object holds ~500 functions added one by one, which V8 keeps as a dictionary: each
  // `R.op_…` load would be a hash lookup. Object.fromEntries builds the same object with fast properties, which the
  // optimising compiler folds to constants.
  raw = Object.fromEntries(Object.entries(loaded));
  return raw;
}

/** The loaded binding, each function throwing its error; loads it on first use. */
export function native(): NativeBinding {
  if (cached) return cached;
  cached = throwing(rawNative());
  return cached;
}
