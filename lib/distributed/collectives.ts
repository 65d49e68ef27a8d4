/**
 * torch.distributed's collectives and point-to-point ops. Each issues the same c10d call as Python's, with ranks
 * given as global ranks (or, with `groupSrc`/`groupDst`, as ranks in the group), so a job may mix Node and Python
 * ranks. Every rank of a group must call the group's collectives in the same order.
 *
 * Point-to-point ops are in point-to-point.ts.
 *
 * Synchronous by default: the call returns when the op is done on this rank (the thread blocks, as in Python).
 * With `{asyncOp: true}` it returns a {@link Work} at once; `await work.wait()` waits off the JS thread. The tensors
 * must not be changed (or disposed) until then.
 */
import { describe } from '../dtype';
import { TorchError } from '../errors';
import { Tensor } from '../tensor';
import { positionalOrOptions } from '../tensor/checks';
import { dist, type NativeWork } from './native';
import { type GroupArg, type ProcessGroup, getGlobalRank, getGroupRank, resolveGroup, warnNotInGroup } from './process-group';

/**
 * How a reduction combines the ranks' values (Python's `ReduceOp`). AVG divides the sum by the group size; like
 * PyTorch's Gloo backend it needs a floating-point tensor (an integer tensor is a TorchError).
 *
 * @example
 * dist.allReduce(t, dist.ReduceOp.MAX);
 */
export const ReduceOp = Object.freeze({
  SUM: 'SUM',
  AVG: 'AVG',
  PRODUCT: 'PRODUCT',
  MIN: 'MIN',
  MAX: 'MAX',
  BAND: 'BAND',
  BOR: 'BOR',
  BXOR: 'BXOR',
} as const);
/** One of the {@link ReduceOp} values. */
export type ReduceOp = (typeof ReduceOp)[keyof typeof ReduceOp];

const OP_CODES: Record<string, number> = { SUM: 0, AVG: 1, PRODUCT: 2, MIN: 3, MAX: 4, BAND: 5, BOR: 6, BXOR: 7 };

function opCode(fn: string, op: unknown): number {
  const code = typeof op === 'string' ? OP_CODES[op] : undefined;
  if (code === undefined) throw new RangeError(`${fn}: unknown ReduceOp ${describe(op)} (expected one of ${Object.keys(OP_CODES).join(', ')})`);
  return code;
}

/**
 * An op started with `{asyncOp: true}` (Python's `Work`). `wait()` resolves when the op is done on this rank (true)
 * and rejects with its error (a {@link TorchError}, e.g. code 'DIST_BACKEND_ERROR' when a peer died).
 *
 * @example
 * const work = dist.allReduce(grad, { asyncOp: true });
 * await work.wait();
 */
export class Work {
  /** @internal */
  readonly _w: NativeWork;
  /** @internal Maps the sender's group rank to its global rank (recv from any source). */
  readonly _group: ProcessGroup | null;
  /** @internal The global rank an irecv with a source receives from. */
  readonly _source: number | null;
  private _promise: Promise<boolean> | null = null;

  /** @internal */
  constructor(w: NativeWork, group: ProcessGroup | null = null, source: number | null = null) {
    this._w = w;
    this._group = group;
    this._source = source;
  }

  /** Waits, off the JS thread, until the op is done on this rank. Calling it again returns the same promise. */
  wait(): Promise<boolean> {
    this._promise ??= dist().distWorkWait(this._w);
    return this._promise;
  }

  /** Whether the op is done (successfully or not). Does not wait. */
  isCompleted(): boolean {
    return dist().distWorkOp(this._w, 0) as boolean;
  }

  /** Whether the op is done and succeeded. Does not wait. */
  isSuccess(): boolean {
    return dist().distWorkOp(this._w, 1) as boolean;
  }

  /** The global rank a completed `irecv` received from (the one it named, or the sender it took the tensor from). */
  sourceRank(): number {
    if (this._source !== null) return this._source;
    const r = dist().distWorkOp(this._w, 2) as number;
    return this._group ? getGlobalRank(this._group, r) : r;
  }
}

/** The options every collective takes. */
export interface CollectiveOptions {
  /** The group to run on (default: the default group). */
  group?: GroupArg;
  /** Return a {@link Work} at once instead of waiting (default false). */
  asyncOp?: boolean;
}

/** Options of a synchronous collective. */
export type SyncOptions<T = object> = T & CollectiveOptions & { asyncOp?: false };
/** Options of an asynchronous collective. */
export type AsyncOptions<T = object> = T & CollectiveOptions & { asyncOp: true };

// ---- argument helpers -------------------------------------------------------------------------------------------

/** @internal */
export function tensorArg(fn: string, name: string, v: unknown): Tensor {
  if (!(v instanceof Tensor)) throw new TypeError(`${fn}: expected a Tensor for ${name} but received ${describe(v)}`);
  return v;
}

function tensorListArg(fn: string, name: string, v: unknown): Tensor[] {
  if (!Array.isArray(v)) throw new TypeError(`${fn}: expected an array of Tensors for ${name} but received ${describe(v)}`);
  v.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new TypeError(`${fn}: expected an array of Tensors for ${name} but element ${i} is ${describe(t)}`);
  });
  return v as Tensor[];
}

function sameDtype(fn: string, tensors: Tensor[]): void {
  const first = tensors[0]?.dtype;
  for (const t of tensors) {
    if (t.dtype !== first) throw new TorchError(`${fn}: Invalid usage of tensors with different dtypes: found ${first} and ${t.dtype}`, 'VALUE_ERROR');
  }
}

/**
 * The whole-group tensor holds worldSize parts: `big` has worldSize × `small`'s first dimension (or one more leading
 * dimension of worldSize) and the same trailing shape. Checked here because Gloo reports it as a failed CHECK.
 */
function checkSizes(fn: string, bigName: string, big: Tensor, smallName: string, small: Tensor, worldSize: number): void {
  const b = big.shape;
  const s = small.shape;
  const concat = b.length === s.length && b.length > 0 && b[0] === worldSize * s[0] && b.slice(1).every((v, i) => v === s[i + 1]);
  const stacked = b.length === s.length + 1 && b[0] === worldSize && b.slice(1).every((v, i) => v === s[i]);
  if (!concat && !stacked) {
    throw new TorchError(
      `${fn}: ${bigName} must hold worldSize (${worldSize}) × ${smallName}: shape [${worldSize * (s[0] ?? 1)}, ${s.slice(1).join(', ')}] or [${worldSize}, ${s.join(', ')}], but ${bigName} has [${b.join(', ')}] and ${smallName} [${s.join(', ')}]`.replace(/, \]/g, ']'),
      'VALUE_ERROR',
    );
  }
}

function asyncArg(fn: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new TypeError(`${fn}: expected a boolean for asyncOp but received ${describe(v)}`);
  return v;
}

/**
 * A rank in `group`: from a global rank (`global`) or a group rank (`local`), not both (Python's
 * _canonicalize_group_rank).
 */
/** @internal */
export function groupRankOf(fn: string, g: ProcessGroup, global: unknown, local: unknown, globalName: string, localName: string): number {
  if (local !== undefined && local !== null) {
    if (global !== undefined && global !== null) throw new TorchError(`${fn}: Can't specify both ${localName} and ${globalName}`, 'VALUE_ERROR');
    if (!Number.isInteger(local)) throw new TypeError(`${fn}: expected an integer for ${localName} but received ${describe(local)}`);
    if ((local as number) < 0 || (local as number) >= g._ranks.length) throw new RangeError(`${fn}: ${localName} ${local} is out of range for a group of ${g._ranks.length}`);
    return local as number;
  }
  if (global === undefined || global === null) throw new TorchError(`${fn}: Must specify ${globalName} or ${localName}`, 'VALUE_ERROR');
  if (!Number.isInteger(global)) throw new TypeError(`${fn}: expected an integer for ${globalName} but received ${describe(global)}`);
  return getGroupRank(g, global as number);
}

function finish(r: NativeWork | undefined, async: boolean, g: ProcessGroup): Work | undefined {
  return async ? new Work(r as NativeWork, g) : undefined;
}

/** @internal */
export function group(fn: string, o: Record<string, unknown>): ProcessGroup | null {
  const g = resolveGroup(o.group, fn);
  if (g === null) warnNotInGroup(fn);
  return g;
}

// ---- collectives ------------------------------------------------------------------------------------------------

/**
 * Reduces `tensor` across the group in place: every rank ends with the combination (default SUM) of all ranks'
 * values (Python's `all_reduce`).
 *
 * @example
 * dist.allReduce(t);                              // sum
 * dist.allReduce(t, dist.ReduceOp.AVG);
 * const w = dist.allReduce(t, { asyncOp: true }); await w.wait();
 */
export function allReduce(tensor: Tensor, options: AsyncOptions<{ op?: ReduceOp }>): Work;
export function allReduce(tensor: Tensor, op: ReduceOp, options: AsyncOptions): Work;
export function allReduce(tensor: Tensor, options?: SyncOptions<{ op?: ReduceOp }>): void;
export function allReduce(tensor: Tensor, op: ReduceOp, options?: SyncOptions): void;
export function allReduce(tensor: Tensor, ...rest: unknown[]): Work | void {
  const fn = 'allReduce';
  const o = positionalOrOptions(fn, rest, ['op', 'group', 'asyncOp']);
  const t = tensorArg(fn, 'tensor', tensor);
  const op = opCode(fn, o.op ?? 'SUM');
  const async = asyncArg(fn, o.asyncOp);
  const g = group(fn, o);
  if (g === null) return;
  return finish(dist().distAllReduce(g._h, t.h, op, async), async, g);
}

/**
 * Copies `tensor` from rank `src` (a global rank; or `groupSrc`, a rank in the group) into every rank's `tensor`
 * (Python's `broadcast`).
 *
 * @example
 * dist.broadcast(weights, 0);
 */
export function broadcast(tensor: Tensor, src: number | null, options: AsyncOptions<{ groupSrc?: number }>): Work;
export function broadcast(tensor: Tensor, options: AsyncOptions<{ src?: number; groupSrc?: number }>): Work;
export function broadcast(tensor: Tensor, src?: number | null, options?: SyncOptions<{ groupSrc?: number }>): void;
export function broadcast(tensor: Tensor, options: SyncOptions<{ src?: number; groupSrc?: number }>): void;
export function broadcast(tensor: Tensor, ...rest: unknown[]): Work | void {
  const fn = 'broadcast';
  const o = positionalOrOptions(fn, rest, ['src', 'group', 'asyncOp'], { keywordOnly: ['groupSrc'] });
  const t = tensorArg(fn, 'tensor', tensor);
  const async = asyncArg(fn, o.asyncOp);
  const g = group(fn, o);
  if (g === null) return;
  const src = groupRankOf(fn, g, o.src, o.groupSrc, 'src', 'groupSrc');
  return finish(dist().distBroadcast(g._h, t.h, src, async), async, g);
}

/**
 * Gathers every rank's `tensor` into `tensorList` on every rank (`tensorList[r]` is rank r's), Python's
 * `all_gather`. The tensors must have the same dtype and size on every rank.
 *
 * @example
 * const parts = [torch.zeros(3), torch.zeros(3)];
 * dist.allGather(parts, mine);
 */
export function allGather(tensorList: Tensor[], tensor: Tensor, options: AsyncOptions): Work;
export function allGather(tensorList: Tensor[], tensor: Tensor, options?: SyncOptions): void;
export function allGather(tensorList: Tensor[], tensor: Tensor, ...rest: unknown[]): Work | void {
  const fn = 'allGather';
  const o = positionalOrOptions(fn, rest, ['group', 'asyncOp']);
  const list = tensorListArg(fn, 'tensorList', tensorList);
  const t = tensorArg(fn, 'tensor', tensor);
  sameDtype(fn, [...list, t]);
  const async = asyncArg(fn, o.asyncOp);
  const g = group(fn, o);
  if (g === null) return;
  return finish(dist().distAllGather(g._h, list.map((x) => x.h), t.h, async), async, g);
}

/**
 * Gathers every rank's `inputTensor` into `outputTensor`, concatenated along the first dimension in rank order (or
 * stacked, when `outputTensor` has one more dimension): Python's `all_gather_into_tensor`.
 *
 * @example
 * const out = torch.empty([worldSize * 4]);
 * dist.allGatherIntoTensor(out, mine);
 */
export function allGatherIntoTensor(outputTensor: Tensor, inputTensor: Tensor, options: AsyncOptions): Work;
export function allGatherIntoTensor(outputTensor: Tensor, inputTensor: Tensor, options?: SyncOptions): void;
export function allGatherIntoTensor(outputTensor: Tensor, inputTensor: Tensor, ...rest: unknown[]): Work | void {
  const fn = 'allGatherIntoTensor';
  const o = positionalOrOptions(fn, rest, ['group', 'asyncOp']);
  const out = tensorArg(fn, 'outputTensor', outputTensor);
  const inp = tensorArg(fn, 'inputTensor', inputTensor);
  sameDtype(fn, [out, inp]);
  const async = asyncArg(fn, o.asyncOp);
  const g = group(fn, o);
  if (g === null) return;
  checkSizes(fn, 'outputTensor', out, 'inputTensor', inp, g.size());
  return finish(dist().distAllGatherIntoTensor(g._h, out.h, inp.h, async), async, g);
}

/**
 * Reduces `input` across the ranks and scatters the result: rank r gets the r-th equal part along the first
 * dimension in `output` (Python's `reduce_scatter_tensor`).
 *
 * @example
 * const mine = torch.empty([4]);
 * dist.reduceScatterTensor(mine, everything);  // everything: worldSize * 4 values
 */
export function reduceScatterTensor(output: Tensor, input: Tensor, options: AsyncOptions<{ op?: ReduceOp }>): Work;
export function reduceScatterTensor(output: Tensor, input: Tensor, op: ReduceOp, options: AsyncOptions): Work;
export function reduceScatterTensor(output: Tensor, input: Tensor, options?: SyncOptions<{ op?: ReduceOp }>): void;
export function reduceScatterTensor(output: Tensor, input: Tensor, op: ReduceOp, options?: SyncOptions): void;
export function reduceScatterTensor(output: Tensor, input: Tensor, ...rest: unknown[]): Work | void {
  const fn = 'reduceScatterTensor';
  const o = positionalOrOptions(fn, rest, ['op', 'group', 'asyncOp']);
  const out = tensorArg(fn, 'output', output);
  const inp = tensorArg(fn, 'input', input);
  sameDtype(fn, [out, inp]);
  const op = opCode(fn, o.op ?? 'SUM');
  const async = asyncArg(fn, o.asyncOp);
  const g = group(fn, o);
  if (g === null) return;
  checkSizes(fn, 'input', inp, 'output', out, g.size());
  return finish(dist().distReduceScatterTensor(g._h, out.h, inp.h, op, async), async, g);
}

/**
 * Reduces `tensor` across the ranks into rank `dst`'s `tensor` (Python's `reduce`); the other ranks' tensors are
 * left as the backend leaves them.
 *
 * @example
 * dist.reduce(loss, 0);
 */
export function reduce(tensor: Tensor, dst: number | null, options: AsyncOptions<{ op?: ReduceOp; groupDst?: number }>): Work;
export function reduce(tensor: Tensor, options: AsyncOptions<{ dst?: number; op?: ReduceOp; groupDst?: number }>): Work;
export function reduce(tensor: Tensor, dst?: number | null, options?: SyncOptions<{ op?: ReduceOp; groupDst?: number }>): void;
export function reduce(tensor: Tensor, dst: number | null, op: ReduceOp, options?: SyncOptions<{ groupDst?: number }>): void;
export function reduce(tensor: Tensor, options: SyncOptions<{ dst?: number; op?: ReduceOp; groupDst?: number }>): void;
export function reduce(tensor: Tensor, ...rest: unknown[]): Work | void {
  const fn = 'reduce';
  const o = positionalOrOptions(fn, rest, ['dst', 'op', 'group', 'asyncOp'], { keywordOnly: ['groupDst'] });
  const t = tensorArg(fn, 'tensor', tensor);
  const op = opCode(fn, o.op ?? 'SUM');
  const async = asyncArg(fn, o.asyncOp);
  const g = group(fn, o);
  if (g === null) return;
  const dst = groupRankOf(fn, g, o.dst, o.groupDst, 'dst', 'groupDst');
  return finish(dist().distReduce(g._h, t.h, dst, op, async), async, g);
}

/**
 * Gathers every rank's `tensor` into `gatherList` on rank `dst` (default 0), Python's `gather`: the destination
 * passes the list (one tensor per rank), the others pass none.
 *
 * @example
 * dist.gather(mine, rank === 0 ? parts : null, 0);
 */
export function gather(tensor: Tensor, gatherList: Tensor[] | null | undefined, dst: number | null | undefined, options: AsyncOptions<{ groupDst?: number }>): Work;
export function gather(tensor: Tensor, options: AsyncOptions<{ gatherList?: Tensor[] | null; dst?: number; groupDst?: number }>): Work;
export function gather(tensor: Tensor, gatherList?: Tensor[] | null, dst?: number | null, options?: SyncOptions<{ groupDst?: number }>): void;
export function gather(tensor: Tensor, options: SyncOptions<{ gatherList?: Tensor[] | null; dst?: number; groupDst?: number }>): void;
export function gather(tensor: Tensor, ...rest: unknown[]): Work | void {
  const fn = 'gather';
  const o = positionalOrOptions(fn, rest, ['gatherList', 'dst', 'group', 'asyncOp'], { keywordOnly: ['groupDst'] });
  const t = tensorArg(fn, 'tensor', tensor);
  const list = o.gatherList === undefined || o.gatherList === null ? [] : tensorListArg(fn, 'gatherList', o.gatherList);
  sameDtype(fn, [t, ...list]);
  const async = asyncArg(fn, o.asyncOp);
  const g = group(fn, o);
  if (g === null) return;
  // Python's default: dst 0 when neither is given.
  const dst = o.dst === undefined && o.groupDst === undefined ? groupRankOf(fn, g, 0, undefined, 'dst', 'groupDst') : groupRankOf(fn, g, o.dst, o.groupDst, 'dst', 'groupDst');
  const me = g.rank();
  if (dst === me && list.length === 0) throw new TorchError('Argument ``gather_list`` must be specified on destination rank.', 'VALUE_ERROR');
  if (dst !== me && list.length > 0) throw new TorchError('Argument ``gather_list`` must NOT be specified on non-destination ranks.', 'VALUE_ERROR');
  return finish(dist().distGather(g._h, t.h, dst === me ? list.map((x) => x.h) : null, dst, async), async, g);
}

/**
 * Scatters `scatterList` from rank `src` (default 0): rank r receives `scatterList[r]` into `tensor` (Python's
 * `scatter`). The source passes the list, the others pass none.
 *
 * @example
 * dist.scatter(mine, rank === 0 ? parts : null, 0);
 */
export function scatter(tensor: Tensor, scatterList: Tensor[] | null | undefined, src: number | null | undefined, options: AsyncOptions<{ groupSrc?: number }>): Work;
export function scatter(tensor: Tensor, options: AsyncOptions<{ scatterList?: Tensor[] | null; src?: number; groupSrc?: number }>): Work;
export function scatter(tensor: Tensor, scatterList?: Tensor[] | null, src?: number | null, options?: SyncOptions<{ groupSrc?: number }>): void;
export function scatter(tensor: Tensor, options: SyncOptions<{ scatterList?: Tensor[] | null; src?: number; groupSrc?: number }>): void;
export function scatter(tensor: Tensor, ...rest: unknown[]): Work | void {
  const fn = 'scatter';
  const o = positionalOrOptions(fn, rest, ['scatterList', 'src', 'group', 'asyncOp'], { keywordOnly: ['groupSrc'] });
  const t = tensorArg(fn, 'tensor', tensor);
  const list = o.scatterList === undefined || o.scatterList === null ? [] : tensorListArg(fn, 'scatterList', o.scatterList);
  sameDtype(fn, [t, ...list]);
  const async = asyncArg(fn, o.asyncOp);
  const g = group(fn, o);
  if (g === null) return;
  const src = o.src === undefined && o.groupSrc === undefined ? groupRankOf(fn, g, 0, undefined, 'src', 'groupSrc') : groupRankOf(fn, g, o.src, o.groupSrc, 'src', 'groupSrc');
  const me = g.rank();
  if (src === me && list.length === 0) throw new TorchError('Argument ``scatter_list`` must be specified on source rank.', 'VALUE_ERROR');
  if (src !== me && list.length > 0) throw new TorchError('Argument ``scatter_list`` must NOT be specified on non-source ranks.', 'VALUE_ERROR');
  return finish(dist().distScatter(g._h, t.h, src === me ? list.map((x) => x.h) : null, src, async), async, g);
}

function splitsArg(fn: string, name: string, v: unknown): number[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => !Number.isInteger(x) || x < 0)) throw new TypeError(`${fn}: expected an array of non-negative integers for ${name} but received ${describe(v)}`);
  return v as number[];
}

/**
 * Splits `input` along its first dimension, sends part r to rank r, and concatenates what every rank sent this
 * one into `output` (Python's `all_to_all_single`). Without split sizes the parts are equal.
 *
 * @example
 * dist.allToAllSingle(out, inp);
 * dist.allToAllSingle(out, inp, [1, 3], [2, 2]);
 */
export function allToAllSingle(output: Tensor, input: Tensor, outputSplitSizes: number[] | null | undefined, inputSplitSizes: number[] | null | undefined, options: AsyncOptions): Work;
export function allToAllSingle(output: Tensor, input: Tensor, options: AsyncOptions<{ outputSplitSizes?: number[] | null; inputSplitSizes?: number[] | null }>): Work;
export function allToAllSingle(output: Tensor, input: Tensor, outputSplitSizes?: number[] | null, inputSplitSizes?: number[] | null, options?: SyncOptions): void;
export function allToAllSingle(output: Tensor, input: Tensor, options: SyncOptions<{ outputSplitSizes?: number[] | null; inputSplitSizes?: number[] | null }>): void;
export function allToAllSingle(output: Tensor, input: Tensor, ...rest: unknown[]): Work | void {
  const fn = 'allToAllSingle';
  const o = positionalOrOptions(fn, rest, ['outputSplitSizes', 'inputSplitSizes', 'group', 'asyncOp']);
  const out = tensorArg(fn, 'output', output);
  const inp = tensorArg(fn, 'input', input);
  sameDtype(fn, [out, inp]);
  const outSplits = splitsArg(fn, 'outputSplitSizes', o.outputSplitSizes);
  const inSplits = splitsArg(fn, 'inputSplitSizes', o.inputSplitSizes);
  const async = asyncArg(fn, o.asyncOp);
  const g = group(fn, o);
  if (g === null) return;
  return finish(dist().distAllToAllSingle(g._h, out.h, inp.h, outSplits, inSplits, async), async, g);
}

/**
 * Waits until every rank of the group has reached the barrier (Python's `barrier`).
 *
 * @example
 * dist.barrier();
 */
export function barrier(options: AsyncOptions): Work;
export function barrier(options?: SyncOptions): void;
export function barrier(...rest: unknown[]): Work | void {
  const fn = 'barrier';
  const o = positionalOrOptions(fn, rest, ['group', 'asyncOp']);
  const async = asyncArg(fn, o.asyncOp);
  const g = group(fn, o);
  if (g === null) return;
  return finish(dist().distBarrier(g._h, async), async, g);
}

/**
 * A barrier that says who is missing (Python's `monitored_barrier`, Gloo only): every rank reports to rank 0 within
 * `timeout` ms (default: the group's timeout); when one does not, rank 0 throws a {@link TorchError} naming it (with
 * `waitAllRanks`, naming every rank that did not arrive), and the others throw when rank 0 does not answer. Blocks,
 * as in Python.
 *
 * @example
 * dist.monitoredBarrier({ timeout: 30_000 });  // rank 0: "Rank 3 failed to pass monitoredBarrier in 30000 ms"
 */
export function monitoredBarrier(options?: { group?: GroupArg; timeout?: number; waitAllRanks?: boolean }): void;
export function monitoredBarrier(...rest: unknown[]): void {
  const fn = 'monitoredBarrier';
  const o = positionalOrOptions(fn, rest, ['group', 'timeout', 'waitAllRanks']);
  const g = group(fn, o);
  if (g === null) return;
  if (g.backend !== 'gloo') throw new TorchError('monitoredBarrier is only implemented for the gloo backend.', 'VALUE_ERROR');
  const timeout = o.timeout ?? g.timeout;
  if (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout)) throw new RangeError(`${fn}: timeout must be a positive number of milliseconds but received ${describe(timeout)}`);
  const waitAll = o.waitAllRanks ?? false;
  if (typeof waitAll !== 'boolean') throw new TypeError(`${fn}: expected a boolean for waitAllRanks but received ${describe(waitAll)}`);
  dist().distMonitoredBarrier(g._h, timeout, waitAll);
}
