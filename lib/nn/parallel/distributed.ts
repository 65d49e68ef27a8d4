/**
 * nn.parallel.DistributedDataParallel over libtorch's c10d::Reducer, the engine inside Python's DDP. The
 * constructor and forward issue the same collectives in the same order as Python's (parameter check, initial
 * broadcast, bucket rebuild), so a Node rank and a Python DDP rank can train one model together.
 */
import { isGradEnabled } from '../../autograd';
import { type Device, describe } from '../../dtype';
import { TorchError } from '../../errors';
import { dist, type NativeReducer } from '../../distributed/native';
import { type ProcessGroup, resolveGroup } from '../../distributed/process-group';
import { Tensor, wrapList } from '../../tensor';
import { type ForwardArgs, type ForwardResult, Module } from '../module';

/** Python's `dist._DEFAULT_FIRST_BUCKET_BYTES`: the first bucket (the last gradients to be ready) is kept small. */
const DEFAULT_FIRST_BUCKET_BYTES = 1024 * 1024;
/** Python's default `bucket_cap_mb`. */
const DEFAULT_BUCKET_CAP_MB = 25;
/** Python's `broadcast_bucket_size`: parameters and buffers are broadcast in flat chunks of up to 250 MiB. */
const BROADCAST_BUCKET_BYTES = 250 * 1024 * 1024;
/** Python passes sys.maxsize ("one bucket") as the first iteration's limit; any size beyond every model's will do. */
const ONE_BUCKET = Number.MAX_SAFE_INTEGER;

/** Options of {@link DistributedDataParallel} (Python's keyword arguments, camelCased). */
export interface DistributedDataParallelOptions {
  /**
   * CUDA device of a single-device module (Python's device_ids=[i]): forward moves tensor inputs there. Leave unset for
   * CPU modules.
   */
  deviceIds?: number[] | null;
  /** Broadcast rank 0's buffers to every rank at the start of each forward (default true). */
  broadcastBuffers?: boolean;
  /** The group to average gradients over (default: the default group). */
  processGroup?: ProcessGroup | null;
  /** Bucket size in MiB (default 25; the first bucket is then 1 MiB). */
  bucketCapMb?: number | null;
  /**
   * Detect, after each forward, parameters the output does not depend on and mark them ready (default false). Needed
   * when some parameters get no gradient in an iteration.
   */
  findUnusedParameters?: boolean;
  /** Let gradients be views into the buckets, saving a copy (default false). */
  gradientAsBucketView?: boolean;
  /** The set of used parameters and the graph are the same every iteration (default false). */
  staticGraph?: boolean;
  /** Broadcast rank 0's parameters (and buffers) at construction (default true). */
  initSync?: boolean;
}

const OPTION_NAMES = ['deviceIds', 'broadcastBuffers', 'processGroup', 'bucketCapMb', 'findUnusedParameters', 'gradientAsBucketView', 'staticGraph', 'initSync'];

function boolOption(o: Record<string, unknown>, name: string, dflt: boolean): boolean {
  const v = o[name];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new TypeError(`DistributedDataParallel: expected a boolean for ${name} but received ${describe(v)}`);
  return v;
}

/** The tensors in a forward's output (a tensor, or arrays and plain objects holding tensors), in order. */
function findTensors(out: unknown, acc: Tensor[] = [], seen = new Set<unknown>()): Tensor[] {
  if (out instanceof Tensor) acc.push(out);
  else if (out !== null && typeof out === 'object' && !seen.has(out)) {
    seen.add(out);
    if (Array.isArray(out)) for (const v of out) findTensors(v, acc, seen);
    else if (out instanceof Map) for (const v of out.values()) findTensors(v, acc, seen);
    else if (Object.getPrototypeOf(out) === Object.prototype) for (const v of Object.values(out)) findTensors(v, acc, seen);
  }
  return acc;
}

/** The output with each tensor replaced by `swap(tensor)` (same structure). */
function mapTensors(out: unknown, swap: (t: Tensor) => Tensor): unknown {
  if (out instanceof Tensor) return swap(out);
  if (Array.isArray(out)) return out.map((v) => mapTensors(v, swap));
  if (out instanceof Map) return new Map([...out].map(([k, v]) => [k, mapTensors(v, swap)]));
  if (out !== null && typeof out === 'object' && Object.getPrototypeOf(out) === Object.prototype) {
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, mapTensors(v, swap)]));
  }
  return out;
}

/**
 * Data-parallel training across processes (Python's `torch.nn.parallel.DistributedDataParallel`): every rank holds a
 * replica of `module`, feeds it its own share of each batch, and during `backward()` the gradients are averaged
 * across the ranks bucket by bucket while the rest of the backward pass runs, so that after `optimizer.step()` every
 * replica holds the same weights. Construction broadcasts rank 0's parameters and buffers; each forward (in training)
 * broadcasts rank 0's buffers first.
 *
 * As in Python, the wrapped module is the submodule `module`: `ddp.stateDict()` names its entries `module.<name>`,
 * and `ddp.module.stateDict()` gives the plain names, the form to save and to load into an unwrapped model.
 *
 * @example
 * dist.initProcessGroup({ backend: 'gloo' });
 * const ddp = new nn.parallel.DistributedDataParallel(model);
 * const loss = F.crossEntropy(ddp.call(x), y); loss.backward(); optimizer.step();
 */
export class DistributedDataParallel<M extends Module = Module> extends Module {
  /** The wrapped module (each rank's replica). */
  readonly module: M;
  /** The group gradients are averaged over. */
  readonly processGroup: ProcessGroup;
  /** Whether gradients are averaged in the next backward (false inside {@link noSync}). */
  requireBackwardGradSync = true;
  /** @internal Whether buffers are broadcast before the next forward (Python's require_forward_param_sync). */
  _requireForwardParamSync = true;
  /** Whether rank 0's buffers are broadcast at the start of each forward. */
  readonly broadcastBuffers: boolean;
  /** Whether unused parameters are detected after each forward. */
  readonly findUnusedParameters: boolean;
  /** Whether the graph was declared static. */
  readonly staticGraph: boolean;
  /** Whether gradients are views into the buckets. */
  readonly gradientAsBucketView: boolean;
  /** The bucket size limit in bytes. */
  readonly bucketBytesCap: number;
  /** The CUDA device of a single-device module (from deviceIds), where forward moves its tensor inputs; null on CPU. */
  readonly device: Device | null;
  /** @internal */
  _reducer: NativeReducer;
  /** @internal The parameters the reducer averages, in its index order. */
  _params: Tensor[];
  /** @internal Static graph: whether the first iteration's delayed all-reduce was queued. */
  _staticGraphDelayAllReduceEnqueued = false;
  /** Whether the buckets were rebuilt in execution order (after the first iteration). */
  hasRebuiltBuckets = false;

  constructor(module: M, options: DistributedDataParallelOptions = {}) {
    super();
    const fn = 'DistributedDataParallel';
    if (!(module instanceof Module)) throw new TypeError(`${fn}: expected a Module but received ${describe(module)}`);
    if (options === null || typeof options !== 'object' || Array.isArray(options)) throw new TypeError(`${fn}: expected an options object but received ${describe(options)}`);
    const o = options as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!OPTION_NAMES.includes(k)) throw new TypeError(`${fn}: got an unexpected option '${k}' (it takes ${OPTION_NAMES.map((n) => `'${n}'`).join(', ')})`);
    const group = resolveGroup(o.processGroup, fn);
    if (group === null) throw new TorchError(`${fn}: this rank is not a member of processGroup`, 'VALUE_ERROR');
    this.processGroup = group;
    this.broadcastBuffers = boolOption(o, 'broadcastBuffers', true);
    this.findUnusedParameters = boolOption(o, 'findUnusedParameters', false);
    this.gradientAsBucketView = boolOption(o, 'gradientAsBucketView', false);
    this.staticGraph = boolOption(o, 'staticGraph', false);
    const initSync = boolOption(o, 'initSync', true);
    const capMb = o.bucketCapMb ?? null;
    if (capMb !== null && (typeof capMb !== 'number' || !(capMb > 0) || !Number.isFinite(capMb))) {
      throw new RangeError(`${fn}: bucketCapMb must be a positive number but received ${describe(capMb)}`);
    }
    const deviceIds = o.deviceIds ?? null;
    if (deviceIds !== null && (!Array.isArray(deviceIds) || deviceIds.length !== 1 || !Number.isInteger(deviceIds[0]))) {
      throw new TypeError(`${fn}: deviceIds must be null or one device index, as in Python (a single-device module), but received ${describe(deviceIds)}`);
    }
    this.module = module;

    // Python's _build_params_for_reducer: parameters that require grad, module by module, each once.
    const named = [...module.namedParameters()];
    const allParams = named.map(([, p]) => p);
    const reduced = named.filter(([, p]) => p.requiresGrad);
    if (reduced.length === 0) {
      throw new TorchError("DistributedDataParallel is not needed when a module doesn't have any parameter that requires a gradient.", 'VALUE_ERROR');
    }
    const devices = new Set(reduced.map(([, p]) => p.device.replace(/:.*/, '')));
    if (devices.size > 1) throw new TorchError(`DistributedDataParallel's input module must be on the same type of devices, but input module parameters are located in ${[...devices].join(', ')} devices.`, 'VALUE_ERROR');
    if (deviceIds !== null && !reduced[0][1].device.startsWith('cuda')) {
      throw new TorchError(`DistributedDataParallel device_ids and output_device arguments only work with single-device/multiple-device GPU modules or CPU modules, but got device_ids ${JSON.stringify(deviceIds)} for a module on ${reduced[0][1].device}.`, 'VALUE_ERROR');
    }
    this._params = reduced.map(([, p]) => p);
    this.device = deviceIds === null ? null : (`cuda:${deviceIds[0] as number}` as const);

    const d = dist();
    // 1. Every rank has the same parameters (count, shapes, strides, dtypes): one allgather.
    d.ddpVerifyParams(group._h, allParams.map((p) => p.h));
    // 2. Rank 0's parameters and buffers to everyone.
    if (initSync) {
      const states = [...allParams, ...(this.broadcastBuffers ? module.buffers() : [])];
      if (states.length) d.ddpBroadcastCoalesced(group._h, states.map((t) => t.h), BROADCAST_BUCKET_BYTES, 0);
    }
    // 3. Buckets: one bucket for the first iteration (rebuilt in gradient-ready order after it), unless unused
    //    parameters are searched for; then 1 MiB first and bucketCapMb after, in reverse parameter order.
    const bucketBytesCap = Math.trunc((capMb ?? DEFAULT_BUCKET_CAP_MB) * 1024 * 1024);
    this.bucketBytesCap = bucketBytesCap;
    const firstBucketBytesCap = capMb === null ? DEFAULT_FIRST_BUCKET_BYTES : bucketBytesCap;
    let limits: number[];
    if (this.staticGraph || !this.findUnusedParameters) limits = [ONE_BUCKET];
    else if (firstBucketBytesCap < bucketBytesCap) limits = [firstBucketBytesCap, bucketBytesCap];
    else limits = [bucketBytesCap];
    const sparse = this._params.map(() => false);
    const [indices] = d.ddpComputeBuckets(this._params.map((p) => p.h), limits, sparse);
    this._reducer = d.ddpReducer(
      this._params.map((p) => p.h),
      [...indices].reverse(),
      group._h,
      sparse,
      bucketBytesCap,
      this.findUnusedParameters,
      this.gradientAsBucketView,
      reduced.map(([n]) => n),
      firstBucketBytesCap,
      false,
    );
    if (this.staticGraph) d.ddpReducerOp(this._reducer, 3);
  }

  /**
   * Runs the module on this rank's inputs, around it: the reducer is readied for the backward pass, the buckets
   * are rebuilt after the first iteration, and rank 0's buffers are broadcast (Python's DDP forward).
   */
  override forward(...inputs: ForwardArgs<M>): ForwardResult<M> {
    return this._forward(inputs as unknown[]) as ForwardResult<M>;
  }

  private _forward(inputs: unknown[]): unknown {
    const d = dist();
    const grad = isGradEnabled();
    if (grad && this.requireBackwardGradSync) d.ddpReducerOp(this._reducer, 0);
    if (grad && (d.ddpReducerOp(this._reducer, 1) as boolean)) this.hasRebuiltBuckets = true;
    if (this._requireForwardParamSync && this.broadcastBuffers) {
      const buffers = this.module.buffers();
      if (buffers.length) d.ddpBroadcastCoalesced(this.processGroup._h, buffers.map((t) => t.h), BROADCAST_BUCKET_BYTES, 0);
    }
    // As Python's DDP with device_ids: tensor inputs go to the module's device first.
    const dev = this.device;
    const args = dev === null ? inputs : inputs.map((x) => mapTensors(x, (t) => (t.device === dev ? t : t.to(dev))));
    const output = (this.module.call as (...a: unknown[]) => unknown)(...args);
    if (grad && this.requireBackwardGradSync) {
      this._requireForwardParamSync = true;
      const outs = this.findUnusedParameters && !this.staticGraph ? findTensors(output) : [];
      d.ddpReducerOp(this._reducer, 2, outs.map((t) => t.h));
    } else {
      this._requireForwardParamSync = false;
    }
    // Unused-parameter detection and a static graph's first iteration route the outputs through the sink, so that
    // outputs not used in the loss still reach the reducer (and the static graph queues its delayed all-reduce).
    const sink = (this.findUnusedParameters && !this.staticGraph) || (this.staticGraph && !this._staticGraphDelayAllReduceEnqueued);
    if (!sink) return output;
    const delay = this.staticGraph && !this._staticGraphDelayAllReduceEnqueued;
    if (delay) this._staticGraphDelayAllReduceEnqueued = true;
    const tensors = findTensors(output).filter((t) => t.requiresGrad && t.gradFn !== null);
    if (tensors.length === 0) return output;
    const passed = wrapList(d.ddpSink(this._reducer, tensors.map((t) => t.h), delay) as unknown as number[]);
    const swap = new Map(tensors.map((t, i) => [t, passed[i]]));
    return mapTensors(output, (t) => swap.get(t) ?? t);
  }

  /**
   * Runs `fn` without averaging gradients (Python's `no_sync()`): the backward passes of forwards run inside `fn`
   * accumulate gradients locally, and the first forward-backward after it averages the accumulated sum. `fn` may
   * return a Promise; synchronisation resumes when it settles.
   *
   * @example
   * ddp.noSync(() => { ddp.call(x1).sum().backward(); });
   * ddp.call(x2).sum().backward();  // averages the sum of both gradients
   */
  noSync<T>(fn: () => T): T {
    if (typeof fn !== 'function') throw new TypeError(`DistributedDataParallel.noSync: expected a function but received ${describe(fn)}`);
    const old = this.requireBackwardGradSync;
    this.requireBackwardGradSync = false;
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.requireBackwardGradSync = old;
      throw e;
    }
    if (result instanceof Promise) {
      return result.finally(() => {
        this.requireBackwardGradSync = old;
      }) as T;
    }
    this.requireBackwardGradSync = old;
    return result;
  }

  /** The parameter indices in each gradient bucket, in the order the buckets are reduced (for diagnostics). */
  bucketIndices(): number[][] {
    return dist().ddpReducerOp(this._reducer, 4, this._params.map((p) => p.h)) as number[][];
  }

  /** Releases the reducer (its gradient hooks are removed); the module stays usable on its own. */
  dispose(): void {
    dist().ddpReducerOp(this._reducer, 5);
  }

  override extraRepr(): string {
    return '';
  }
}
