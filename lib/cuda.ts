/**
 * torch.cuda: devices, memory statistics, seeding, streams and events, plus thread settings.
 */
import { describe } from './dtype';
import { OutOfMemoryError, TorchError, refuseAsync } from './errors';
import { N, Tensor, cudaAvailable, int, wrap } from './tensor';

/** CUDA memory statistics of one device, in bytes (from libtorch's caching allocator). */
export interface CudaMemoryStats {
  /** Bytes held by live tensors (`torch.cuda.memory_allocated`). */
  allocated: number;
  /** Bytes the caching allocator holds from the driver (`torch.cuda.memory_reserved`). */
  reserved: number;
  /** Peak of `allocated` since start or the last {@link cuda.resetPeakMemoryStats}. */
  peakAllocated: number;
  /** Peak of `reserved`. */
  peakReserved: number;
  /** Allocations that succeeded only after the cache was flushed. */
  numAllocRetries: number;
  /** Allocations that failed with out-of-memory. */
  numOoms: number;
}

/** The properties `torch.cuda.get_device_properties` shows, camelCased. */
export interface CudaDeviceProperties {
  name: string;
  /** Compute capability, e.g. 9 and 0 for sm_90. */
  major: number;
  minor: number;
  /** Device memory in bytes. */
  totalMemory: number;
  multiProcessorCount: number;
  maxThreadsPerMultiProcessor: number;
  warpSize: number;
  /** L2 cache in bytes. */
  l2CacheSize: number;
  /** Shared memory a block can opt into, in bytes. */
  sharedMemoryPerBlockOptin: number;
  regsPerMultiprocessor: number;
  isIntegrated: boolean;
}

const NO_STATS: CudaMemoryStats = { allocated: 0, reserved: 0, peakAllocated: 0, peakReserved: 0, numAllocRetries: 0, numOoms: 0 };

function dev(device: number | string | undefined): number | undefined {
  if (device === undefined) return undefined;
  if (typeof device === 'string') {
    const m = /^cuda(?::(\d+))?$/.exec(device);
    if (!m) throw new RangeError(`Expected a CUDA device ('cuda' or 'cuda:N') or an index but received '${device}'`);
    return m[1] === undefined ? undefined : Number(m[1]);
  }
  return int(device, 'device');
}

function seed(s: number | bigint): number | bigint {
  if (typeof s === 'number') int(s, 'seed');
  else if (typeof s !== 'bigint') throw new TypeError(`manualSeed expects an integer but received ${describe(s)}`);
  return s;
}

/**
 * A CUDA stream (`torch.cuda.Stream`): a queue of GPU work. Work is queued on the current stream of its device, which
 * is the default stream unless {@link cuda.stream} or {@link cuda.setStream} made another current. New streams come
 * from libtorch's per-device pool, as in PyTorch.
 *
 * @example
 * const side = new torch.cuda.Stream();
 * torch.cuda.stream(side, () => { loss = torch.kdLoss(s, t, 4) });
 * torch.cuda.currentStream().waitStream(side);
 */
export class Stream {
  /** libtorch's packed stream id. */
  readonly streamId: bigint;
  /** The device index. */
  readonly deviceIndex: number;
  /** Scheduling priority: 0 normal, negative high. */
  readonly priority: number;

  /**
   * A stream from the pool of `device` (default: the current device). `priority` is 0 (normal) or negative: lower is
   * more urgent, clamped to the levels the device has, as in PyTorch.
   */
  constructor(options: { device?: number | string; priority?: number } = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError(`torch.cuda.Stream: expected an options object but received ${describe(options)}`);
    const raw = (options as { [RAW]?: [bigint, number, number] })[RAW];
    if (raw) {
      [this.streamId, this.deviceIndex, this.priority] = raw;
    } else {
      const priority = options.priority === undefined ? 0 : int(options.priority, 'priority');
      if (priority > 0) throw new RangeError(`torch.cuda.Stream: priority must be 0 (normal) or negative (higher), got ${priority}`);
      need('Stream');
      [this.streamId, this.deviceIndex, this.priority] = N.cudaStream(2, dev(options.device), priority);
    }
    Object.freeze(this);
  }

  /** `'cuda:N'`. */
  get device(): string {
    return `cuda:${this.deviceIndex}`;
  }
  /** Blocks until all work queued on this stream is done. */
  synchronize(): void {
    N.cudaStreamOp(1, this.streamId, this.deviceIndex);
  }
  /** Whether all work queued on this stream is done. */
  query(): boolean {
    return N.cudaStreamOp(2, this.streamId, this.deviceIndex) as boolean;
  }
  /** Makes later work on this stream wait for the work queued on `other` so far (the host does not wait). */
  waitStream(other: Stream): void {
    if (!(other instanceof Stream)) throw new TypeError(`waitStream: expected a torch.cuda.Stream but received ${describe(other)}`);
    N.cudaStreamOp(3, this.streamId, this.deviceIndex, other.streamId, other.deviceIndex);
  }
  /** Makes later work on this stream wait for `event` (nothing to wait for if it was never recorded). */
  waitEvent(event: Event): void {
    if (!(event instanceof Event)) throw new TypeError(`waitEvent: expected a torch.cuda.Event but received ${describe(event)}`);
    N.cudaStreamOp(4, this.streamId, this.deviceIndex, event);
  }
  /** Records `event` (a new one by default) on this stream and returns it. */
  recordEvent(event: Event = new Event()): Event {
    event.record(this);
    return event;
  }
  /** Whether two objects name the same stream. */
  equals(other: unknown): boolean {
    return other instanceof Stream && other.streamId === this.streamId && other.deviceIndex === this.deviceIndex;
  }
  toString(): string {
    return `<torch.cuda.Stream device=cuda:${this.deviceIndex} id=${this.streamId}>`;
  }
}

const RAW = Symbol('raw stream');

function streamOf(raw: [bigint, number, number]): Stream {
  return new Stream({ [RAW]: raw } as { device?: number });
}

/**
 * A CUDA event (`torch.cuda.Event`): a marker in a stream, to wait for or to time GPU work. Its CUDA resources are
 * freed when the object is garbage collected.
 *
 * @example
 * const start = new torch.cuda.Event({ enableTiming: true }), end = new torch.cuda.Event({ enableTiming: true });
 * start.record(); work(); end.record(); end.synchronize();
 * console.log(start.elapsedTime(end), 'ms');
 */
export class Event {
  /** Whether {@link Event.elapsedTime} works with this event. */
  readonly enableTiming: boolean;
  /** Whether {@link Event.synchronize} blocks the thread instead of spinning. */
  readonly blocking: boolean;

  constructor(options: { enableTiming?: boolean; blocking?: boolean } = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError(`torch.cuda.Event: expected an options object but received ${describe(options)}`);
    const { enableTiming = false, blocking = false } = options;
    if (typeof enableTiming !== 'boolean') throw new TypeError(`torch.cuda.Event: expected a boolean for enableTiming but received ${describe(enableTiming)}`);
    if (typeof blocking !== 'boolean') throw new TypeError(`torch.cuda.Event: expected a boolean for blocking but received ${describe(blocking)}`);
    need('Event');
    this.enableTiming = enableTiming;
    this.blocking = blocking;
    N.cudaEventNew(this, enableTiming, blocking);
  }

  /** Records this event on `stream` (default: the current stream of the current device). */
  record(stream: Stream = cuda.currentStream()): void {
    if (!(stream instanceof Stream)) throw new TypeError(`Event.record: expected a torch.cuda.Stream but received ${describe(stream)}`);
    N.cudaEventOp(0, this, stream.streamId, stream.deviceIndex);
  }
  /** Makes later work on `stream` (default: the current one) wait for this event. */
  wait(stream: Stream = cuda.currentStream()): void {
    if (!(stream instanceof Stream)) throw new TypeError(`Event.wait: expected a torch.cuda.Stream but received ${describe(stream)}`);
    stream.waitEvent(this);
  }
  /** Blocks until the work before this event's record is done. */
  synchronize(): void {
    N.cudaEventOp(1, this);
  }
  /** Whether the work before this event's record is done (true if never recorded). */
  query(): boolean {
    return N.cudaEventOp(2, this) as boolean;
  }
  /** Milliseconds between this event and `end`; both recorded, both with `enableTiming`. */
  elapsedTime(end: Event): number {
    if (!(end instanceof Event)) throw new TypeError(`Event.elapsedTime: expected a torch.cuda.Event but received ${describe(end)}`);
    return N.cudaEventOp(3, this, end) as number;
  }
}

/**
 * `torch.cuda`. Device arguments are an index or `'cuda:N'` and default to the current device. As in PyTorch, the
 * memory queries answer 0 where no CUDA device is usable, and seeding is then a no-op; the rest throw a
 * {@link TorchError} with code `'CUDA_UNAVAILABLE'` or a `TypeError` in a binary built without CUDA.
 */
export const cuda = {
  /** The error a failed CUDA allocation throws (`torch.cuda.OutOfMemoryError`, a TorchError with code 'OUT_OF_MEMORY'). */
  OutOfMemoryError,
  /** True when this binary has CUDA and a device is usable. */
  isAvailable(): boolean {
    return cudaAvailable();
  },
  /** Number of visible CUDA devices (0 without CUDA). */
  deviceCount(): number {
    return N.cudaDeviceCount();
  },
  /** Whether this torchkd binary was compiled with CUDA kernels. */
  isBuiltWithCuda(): boolean {
    return N.cudaBuild();
  },
  /** The index of the current device, which plain `'cuda'` means. */
  currentDevice(): number {
    need('currentDevice');
    return N.cudaCurrentDevice();
  },
  /** Makes `device` the current one (a negative index is a no-op, as in PyTorch). */
  setDevice(device: number | string): void {
    const d = dev(device);
    if (d === undefined) throw new RangeError(`torch.cuda.setDevice: expected a device with an index ('cuda:N') or an index, but received '${device}'`);
    need('setDevice');
    if (d < 0) return;
    N.cudaSetDevice(d);
  },
  /** Waits for all kernels on a device (default: the current one) to finish. */
  synchronize(device?: number | string): void {
    need('synchronize');
    N.cudaSynchronize(dev(device));
  },
  /** The device's name, e.g. 'NVIDIA H100 80GB HBM3'. */
  getDeviceName(device?: number | string): string {
    return cuda.getDeviceProperties(device).name;
  },
  /** The compute capability as `[major, minor]`, e.g. `[9, 0]`. */
  getDeviceCapability(device?: number | string): [number, number] {
    const p = cuda.getDeviceProperties(device);
    return [p.major, p.minor];
  },
  /** Name, capability, memory and multiprocessor figures of a device. */
  getDeviceProperties(device?: number | string): CudaDeviceProperties {
    need('getDeviceProperties');
    return N.cudaDeviceProperties(dev(device));
  },
  /**
   * Whether bfloat16 works on the current device: natively from compute capability 8.0; with `includingEmulation`
   * (the default, as in PyTorch) also older GPUs, where libtorch emulates it.
   */
  isBf16Supported(includingEmulation = true): boolean {
    if (!cudaAvailable()) return false;
    return cuda.getDeviceCapability()[0] >= 8 || includingEmulation === true;
  },
  /** Allocated/reserved bytes, their peaks, retries and out-of-memory count (all 0 without a usable device). */
  memoryStats(device?: number | string): CudaMemoryStats {
    const d = dev(device);
    return cudaAvailable() ? N.cudaMemoryStats(d) : { ...NO_STATS };
  },
  /** Bytes held by live tensors on a device. */
  memoryAllocated(device?: number | string): number {
    return cuda.memoryStats(device).allocated;
  },
  /** Peak of {@link cuda.memoryAllocated} since start or the last reset. */
  maxMemoryAllocated(device?: number | string): number {
    return cuda.memoryStats(device).peakAllocated;
  },
  /** Bytes the caching allocator holds from the driver. */
  memoryReserved(device?: number | string): number {
    return cuda.memoryStats(device).reserved;
  },
  /** Peak of {@link cuda.memoryReserved}. */
  maxMemoryReserved(device?: number | string): number {
    return cuda.memoryStats(device).peakReserved;
  },
  /** Resets the peak statistics. */
  resetPeakMemoryStats(device?: number | string): void {
    const d = dev(device);
    if (cudaAvailable()) N.cudaResetPeak(d);
  },
  /** Returns cached, unused device memory to the driver (live tensors keep theirs). */
  emptyCache(): void {
    if (cudaAvailable()) N.cudaEmptyCache();
  },
  /** `[free, total]` device memory in bytes, as the driver reports it. */
  memGetInfo(device?: number | string): [number, number] {
    need('memGetInfo');
    return N.cudaMemGetInfo(dev(device));
  },
  /** Seeds the current device's random generator (`torch.manualSeed` seeds every device and the CPU). */
  manualSeed(s: number | bigint): void {
    N.cudaManualSeed(seed(s), false);
  },
  /** Seeds every device's random generator. */
  manualSeedAll(s: number | bigint): void {
    N.cudaManualSeed(seed(s), true);
  },
  /** Seeds the current device's generator from a nondeterministic source (a no-op without a usable device). */
  seed(): void {
    if (cudaAvailable()) N.cudaSeedOp(0);
  },
  /** Seeds every device's generator from a nondeterministic source (a no-op without a usable device). */
  seedAll(): void {
    if (cudaAvailable()) N.cudaSeedOp(1);
  },
  /** The current device's seed (a BigInt past 2^53, where a Number would round it). */
  initialSeed(): number | bigint {
    need('initialSeed');
    return N.cudaSeedOp(2) as number | bigint;
  },
  /** A device's generator state (default: the current device), a CPU uint8 tensor, as `torch.cuda.get_rng_state`. */
  getRngState(device?: number | string): Tensor {
    need('getRngState');
    return wrap(N.cudaSeedOp(3, dev(device)) as number);
  },
  /** Every device's generator state, in device order. */
  getRngStateAll(): Tensor[] {
    need('getRngStateAll');
    return Array.from({ length: N.cudaDeviceCount() }, (_, d) => wrap(N.cudaSeedOp(3, d) as number));
  },
  /** Restores a device's generator state from {@link cuda.getRngState} (default: the current device). */
  setRngState(state: Tensor, device?: number | string): void {
    if (!(state instanceof Tensor)) throw new TypeError(`torch.cuda.setRngState: expected a Tensor but received ${describe(state)}`);
    need('setRngState');
    N.cudaSeedOp(4, state.h, dev(device));
  },
  /** Restores every device's state from {@link cuda.getRngStateAll}. */
  setRngStateAll(states: Tensor[]): void {
    if (!Array.isArray(states)) throw new TypeError(`torch.cuda.setRngStateAll: expected an array of tensors but received ${describe(states)}`);
    need('setRngStateAll');
    states.forEach((st, d) => cuda.setRngState(st, d));
  },
  /** {@link Stream}. */
  Stream,
  /** {@link Event}. */
  Event,
  /** The stream work is queued on now, on a device (default: the current one). */
  currentStream(device?: number | string): Stream {
    need('currentStream');
    return streamOf(N.cudaStream(0, dev(device)));
  },
  /** The default (legacy, synchronising) stream of a device. */
  defaultStream(device?: number | string): Stream {
    need('defaultStream');
    return streamOf(N.cudaStream(1, dev(device)));
  },
  /**
   * Makes `stream` the current stream of its device, and that device the current one, as `torch.cuda.set_stream`.
   * Prefer {@link cuda.stream}, which restores both afterwards.
   */
  setStream(stream: Stream): void {
    if (!(stream instanceof Stream)) throw new TypeError(`torch.cuda.setStream: expected a torch.cuda.Stream but received ${describe(stream)}`);
    N.cudaStreamOp(0, stream.streamId, stream.deviceIndex);
  },
  /**
   * Runs `fn` with `stream` current (and its device current), then restores both, even when `fn` throws: PyTorch's
   * `with torch.cuda.stream(s):`. libtorch ops in `fn`, the fused KD loss included, are queued on `stream`. `fn` is
   * synchronous (an async function is refused with a TypeError: work it queued after its first `await` would not be
   * covered). A `null` stream runs `fn` with nothing changed, as `torch.cuda.stream(None)`.
   */
  stream<R>(stream: Stream | null, fn: () => R): R {
    if (stream !== null && !(stream instanceof Stream)) throw new TypeError(`torch.cuda.stream: expected a torch.cuda.Stream or null but received ${describe(stream)}`);
    if (typeof fn !== 'function') throw new TypeError(`torch.cuda.stream: expected a function but received ${describe(fn)}`);
    const message = 'torch.cuda.stream only covers synchronous functions (work an async function queues after its first await would run outside it)';
    if (stream === null) return refuseAsync(fn(), message); // `with torch.cuda.stream(None):` changes nothing
    const prevDevice = N.cudaCurrentDevice();
    const prevStream = N.cudaStream(0, stream.deviceIndex);
    try {
      N.cudaStreamOp(0, stream.streamId, stream.deviceIndex); // also makes its device current
      return refuseAsync(fn(), message);
    } finally {
      N.cudaStreamOp(0, prevStream[0], prevStream[1]);
      if (prevDevice !== stream.deviceIndex) N.cudaSetDevice(prevDevice);
    }
  },
};

// The same error a 'cuda' device gets where none is usable (a TypeError in a binary built without CUDA).
function need(fn: string): void {
  if (!N.cudaBuild()) throw new TypeError(`torch.cuda.${fn}(): this torchkd binary was built without CUDA`);
  if (!cudaAvailable()) {
    throw new TorchError(`torch.cuda.${fn}(): no CUDA device is available (torch.cuda.isAvailable() is false)`, 'CUDA_UNAVAILABLE');
  }
}

/** Sets the number of intra-op threads libtorch uses (`torch.set_num_threads`). */
export function setNumThreads(n: number): void {
  N.setNumThreads(int(n, 'threads'));
}

/** The number of intra-op threads (`torch.get_num_threads`). */
export function getNumThreads(): number {
  return N.getNumThreads();
}

/** The number of inter-op threads. */
export function getNumInteropThreads(): number {
  return N.getNumInteropThreads();
}

type StreamClass = Stream;
type EventClass = Event;

/** Types under `torch.cuda`, as PyTorch users name them: `let s: torch.cuda.Stream`. */
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace cuda {
  type OutOfMemoryError = import('./errors').OutOfMemoryError;
  type Stream = StreamClass;
  type Event = EventClass;
  type MemoryStats = CudaMemoryStats;
  type DeviceProperties = CudaDeviceProperties;
}
