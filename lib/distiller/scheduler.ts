/**
 * The compression scheduler: calls each policy's hooks in the epochs it was scheduled for, chaining the losses
 * policies return before the backward pass.
 *
 * Port of Distiller's `distiller/scheduler.py` (`CompressionScheduler`), without the pruning masks (torchkd does no
 * pruning; `zerosMaskDict` is kept as an empty placeholder so policy hooks port line by line).
 */
import type { Device } from '../dtype';
import { describe } from '../dtype';
import { Tensor, int } from '../tensor';
import {
  HookKwargs,
  JsonValue,
  LossComponent,
  PolicyLoss,
  PolicyMeta,
  PolicyState,
  ScheduledTrainingPolicy,
  ZerosMaskDict,
} from './policy';

/**
 * When a policy runs: a list of epochs, or a range `startingEpoch, startingEpoch + frequency, …` that excludes
 * `endingEpoch` (Distiller's `add_policy(policy, epochs=None, starting_epoch=None, ending_epoch=None, frequency=1)`).
 * Exactly one form. Unlike Distiller, a list must be strictly increasing (its metadata assumes so).
 *
 * @example
 * scheduler.addPolicy(policy, { epochs: [0, 1, 2] });
 * scheduler.addPolicy(policy, { startingEpoch: 0, endingEpoch: 10, frequency: 2 }); // 0, 2, 4, 6, 8
 */
export type PolicySchedule =
  | { epochs: Iterable<number>; startingEpoch?: undefined; endingEpoch?: undefined; frequency?: undefined }
  | { startingEpoch: number; endingEpoch: number; frequency?: number; epochs?: undefined };

/**
 * Options of {@link CompressionScheduler} (Distiller's `zeros_mask_dict=None, device=cuda` keyword arguments).
 *
 * @example
 * new CompressionScheduler(model, { device: 'cuda:0' });
 * new CompressionScheduler(model, { zerosMaskDict: {} });
 */
export interface CompressionSchedulerOptions {
  /** Passed to every hook (Distiller's pruning masks). Default: an empty frozen object. */
  zerosMaskDict?: ZerosMaskDict;
  /** Recorded for ported code that reads `scheduler.device`; the scheduler itself does not use it. Default 'cpu'. */
  device?: Device;
}

/**
 * Options of {@link CompressionScheduler.beforeBackwardPass} (Distiller's `optimizer=None,
 * return_loss_components=False`); any other key reaches the policies as a kwarg, which Distiller did not support.
 *
 * @example
 * const { overallLoss, lossComponents } =
 *   scheduler.beforeBackwardPass(epoch, i, steps, loss, { returnLossComponents: true, labels: target });
 */
export interface BeforeBackwardPassOptions {
  /** Passed to each policy's `beforeBackwardPass` (Distiller accepted it but did not pass it on). */
  optimizer?: unknown;
  /** Return a {@link PolicyLoss} with every policy's components instead of the loss tensor. Default false. */
  returnLossComponents?: boolean;
  /** The minibatch's targets, for policies that need them (e.g. KD with a teacher weight). */
  labels?: Tensor;
  [kwarg: string]: unknown;
}

/**
 * One `addPolicy` call as {@link CompressionScheduler.stateDict} records it; `policy` indexes `policies` (torchkd only).
 *
 * @example
 * const entry: ScheduleEntry = { policy: 0, startingEpoch: 0, endingEpoch: 90, frequency: 1 };
 * const list: ScheduleEntry = { policy: 1, epochs: [3, 4] };
 */
export type ScheduleEntry =
  | { policy: number; epochs: number[] }
  | { policy: number; startingEpoch: number; endingEpoch: number; frequency: number };

/**
 * What {@link CompressionScheduler.stateDict} returns: a JSON-serialisable plain object (Distiller's held only
 * `masks_dict`).
 *
 * @example
 * fs.writeFileSync('sched.json', JSON.stringify(scheduler.stateDict()));
 * scheduler.loadStateDict(JSON.parse(fs.readFileSync('sched.json', 'utf8')));
 */
export interface CompressionSchedulerState {
  format: 'torchkd.CompressionScheduler';
  version: 1;
  /** The distinct policies in the order they were first added: class name and saved state (null if none). */
  policies: { type: string; state: PolicyState | null }[];
  /** Every `addPolicy` call, in order. */
  schedule: ScheduleEntry[];
}

const EMPTY_MASKS: ZerosMaskDict = Object.freeze({});

interface Schedules<M> {
  byEpoch: Map<number, ScheduledTrainingPolicy<M>[]>;
  meta: Map<ScheduledTrainingPolicy<M>, PolicyMeta>;
  order: ScheduledTrainingPolicy<M>[];
  entries: ScheduleEntry[];
}

function emptySchedules<M>(): Schedules<M> {
  return { byEpoch: new Map(), meta: new Map(), order: [], entries: [] };
}

function epochInt(v: unknown, what: string): number {
  const n = int(v, what);
  if (n < 0) throw new RangeError(`Expected a non-negative integer for ${what} but received ${n}`);
  return n;
}

/** Validates a schedule and returns its epochs and metadata (Distiller asserted the same conditions). */
function resolveSchedule(schedule: unknown): { epochs: number[]; meta: PolicyMeta; entry: Omit<ScheduleEntry, 'policy'> } {
  if (schedule === null || typeof schedule !== 'object') {
    throw new TypeError(
      `addPolicy needs a schedule: {epochs: [...]} or {startingEpoch, endingEpoch, frequency?}, but received ${describe(schedule)}`,
    );
  }
  const s = schedule as Record<string, unknown>;
  const hasList = s.epochs !== undefined && s.epochs !== null;
  const rangeKeys = ['startingEpoch', 'endingEpoch', 'frequency'].filter((k) => s[k] !== undefined && s[k] !== null);
  if (hasList && rangeKeys.length > 0) {
    throw new TypeError(`addPolicy takes either epochs or a range (startingEpoch, endingEpoch, frequency), not both (got epochs and ${rangeKeys.join(', ')})`);
  }
  if (hasList) {
    const list = s.epochs;
    if (typeof list === 'string' || typeof (list as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new TypeError(`addPolicy: expected an array (or iterable) of epochs but received ${describe(list)}`);
    }
    const epochs = Array.from(list as Iterable<unknown>, (e, i) => epochInt(e, `epochs[${i}]`));
    if (epochs.length === 0) throw new RangeError('addPolicy: epochs must not be empty');
    for (let i = 1; i < epochs.length; i++) {
      if (epochs[i] <= epochs[i - 1]) {
        throw new RangeError(`addPolicy: epochs must be strictly increasing, but epochs[${i}] = ${epochs[i]} follows ${epochs[i - 1]}`);
      }
    }
    return {
      epochs,
      meta: { startingEpoch: epochs[0], endingEpoch: epochs[epochs.length - 1] + 1, frequency: null },
      entry: { epochs: [...epochs] },
    };
  }
  if (s.startingEpoch === undefined || s.startingEpoch === null || s.endingEpoch === undefined || s.endingEpoch === null) {
    throw new TypeError('addPolicy needs a schedule: {epochs: [...]} or {startingEpoch, endingEpoch, frequency?} (both ends of a range are required)');
  }
  const start = int(s.startingEpoch, 'startingEpoch');
  const end = int(s.endingEpoch, 'endingEpoch');
  const freq = s.frequency === undefined || s.frequency === null ? 1 : int(s.frequency, 'frequency');
  if (!(start >= 0 && start < end)) {
    throw new RangeError(`addPolicy: need 0 <= startingEpoch < endingEpoch, but startingEpoch = ${start} and endingEpoch = ${end}`);
  }
  if (!(freq > 0 && freq <= end - start)) {
    throw new RangeError(`addPolicy: need 0 < frequency <= endingEpoch - startingEpoch (${end - start}), but frequency = ${freq}`);
  }
  const epochs: number[] = [];
  for (let e = start; e < end; e += freq) epochs.push(e);
  return {
    epochs,
    meta: { startingEpoch: start, endingEpoch: end, frequency: freq },
    entry: { startingEpoch: start, endingEpoch: end, frequency: freq },
  };
}

/** A deep copy of `v` that is plain JSON, or a TypeError naming the first value that is not. */
function plainJson(v: unknown, where: string): JsonValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`${where} is ${v}, which JSON cannot represent`);
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => plainJson(x, `${where}[${i}]`));
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(`${where} is ${describe(v)}; policy state must be plain JSON (objects, arrays, strings, numbers, booleans, null)`);
    }
    const out: { [k: string]: JsonValue } = {};
    for (const [k, x] of Object.entries(v)) out[k] = plainJson(x, `${where}.${k}`);
    return out;
  }
  throw new TypeError(`${where} is ${describe(v)}; policy state must be plain JSON (objects, arrays, strings, numbers, booleans, null)`);
}

function policyName(p: object): string {
  return p.constructor?.name || 'policy';
}

/**
 * Schedules training policies by epoch and calls their hooks from the training loop (Distiller's
 * `CompressionScheduler`). Hooks reach, in insertion order, only the policies scheduled for the given epoch.
 *
 * Where torchkd differs: schedules are validated with clear `TypeError`/`RangeError`s (Distiller asserted) and a list
 * of epochs must be strictly increasing; `beforeBackwardPass` passes the optimizer and extra kwargs (such as
 * `labels`) on to policies; `stateDict()` saves the schedules and policy state needed to resume exactly, where
 * Distiller saved only pruning masks.
 *
 * @example
 * const scheduler = new CompressionScheduler(model);
 * scheduler.addPolicy(kdPolicy, { startingEpoch: 0, endingEpoch: 90 });
 */
export class CompressionScheduler<M = unknown> {
  /** The model passed to every hook. */
  readonly model: M;
  /** The mask dictionary passed to every hook (an empty placeholder unless given). */
  readonly zerosMaskDict: ZerosMaskDict;
  /** Informational, as in Distiller. */
  readonly device: Device;
  private _s: Schedules<M> = emptySchedules();

  constructor(model: M, options: CompressionSchedulerOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`CompressionScheduler: expected an options object but received ${describe(options)}`);
    }
    this.model = model;
    this.zerosMaskDict = options.zerosMaskDict ?? EMPTY_MASKS;
    this.device = options.device ?? 'cpu';
  }

  /** Epoch → the policies active in it, in insertion order (Distiller's `scheduler.policies`). */
  get policies(): ReadonlyMap<number, readonly ScheduledTrainingPolicy<M>[]> {
    return this._s.byEpoch;
  }

  /** Policy → its schedule metadata, from its latest `addPolicy` (Distiller's `scheduler.sched_metadata`). */
  get schedMetadata(): ReadonlyMap<ScheduledTrainingPolicy<M>, PolicyMeta> {
    return this._s.meta;
  }

  /**
   * Schedules `policy` for a list of epochs or for the range `startingEpoch, startingEpoch + frequency, …` (which
   * excludes `endingEpoch`; `frequency` defaults to 1). A policy may be added more than once; its metadata is then
   * the latest schedule's, as in Distiller.
   */
  addPolicy(policy: ScheduledTrainingPolicy<M>, schedule: PolicySchedule): void {
    CompressionScheduler._add(this._s, policy, schedule);
  }

  private static _add<M>(s: Schedules<M>, policy: ScheduledTrainingPolicy<M>, schedule: unknown): void {
    if (!(policy instanceof ScheduledTrainingPolicy)) {
      throw new TypeError(`addPolicy: expected a ScheduledTrainingPolicy but received ${describe(policy)}`);
    }
    const { epochs, meta, entry } = resolveSchedule(schedule);
    let index = s.order.indexOf(policy);
    if (index < 0) index = s.order.push(policy) - 1;
    for (const e of epochs) {
      const list = s.byEpoch.get(e);
      if (list) list.push(policy);
      else s.byEpoch.set(e, [policy]);
    }
    s.meta.set(policy, meta);
    s.entries.push({ policy: index, ...entry } as ScheduleEntry);
  }

  private active(epoch: number): readonly ScheduledTrainingPolicy<M>[] {
    return this._s.byEpoch.get(int(epoch, 'epoch')) ?? [];
  }

  private metaFor(policy: ScheduledTrainingPolicy<M>, epoch: number): PolicyMeta {
    const meta = this._s.meta.get(policy) as PolicyMeta;
    meta.currentEpoch = epoch;
    return meta;
  }

  /** Calls `onEpochBegin(model, zerosMaskDict, meta, kwargs)` of the policies active in `epoch`. */
  onEpochBegin(epoch: number, optimizer?: unknown, kwargs: HookKwargs = {}): void {
    for (const p of this.active(epoch)) p.onEpochBegin(this.model, this.zerosMaskDict, this.metaFor(p, epoch), { ...kwargs });
  }

  /** Calls `onMinibatchBegin(model, epoch, minibatchId, minibatchesPerEpoch, zerosMaskDict, meta, optimizer)`. */
  onMinibatchBegin(epoch: number, minibatchId: number, minibatchesPerEpoch: number, optimizer?: unknown): void {
    for (const p of this.active(epoch)) {
      p.onMinibatchBegin(this.model, epoch, minibatchId, minibatchesPerEpoch, this.zerosMaskDict, this.metaFor(p, epoch), optimizer);
    }
  }

  /**
   * Lets each active policy replace the loss, in insertion order: each receives the current overall loss, and a
   * returned {@link PolicyLoss} replaces it and appends its components. `loss` itself is never modified. Returns the
   * final loss tensor, or with `returnLossComponents` a PolicyLoss holding it and all components in order.
   * Extra option keys (e.g. `labels`) reach the policies as kwargs.
   *
   * @example
   * const loss = scheduler.beforeBackwardPass(epoch, i, steps, criterion(output, target), { labels: target });
   * loss.backward();
   */
  beforeBackwardPass(epoch: number, minibatchId: number, minibatchesPerEpoch: number, loss: Tensor,
    options: BeforeBackwardPassOptions & { returnLossComponents: true }): PolicyLoss;
  beforeBackwardPass(epoch: number, minibatchId: number, minibatchesPerEpoch: number, loss: Tensor,
    options?: BeforeBackwardPassOptions & { returnLossComponents?: false }): Tensor;
  beforeBackwardPass(epoch: number, minibatchId: number, minibatchesPerEpoch: number, loss: Tensor,
    options?: BeforeBackwardPassOptions): Tensor | PolicyLoss;
  beforeBackwardPass(epoch: number, minibatchId: number, minibatchesPerEpoch: number, loss: Tensor,
    options: BeforeBackwardPassOptions = {}): Tensor | PolicyLoss {
    if (!(loss instanceof Tensor)) throw new TypeError(`beforeBackwardPass: expected a Tensor for loss but received ${describe(loss)}`);
    const { optimizer, returnLossComponents = false, ...kwargs } = options;
    let overall = loss;
    const components: LossComponent[] = [];
    for (const p of this.active(epoch)) {
      const result = p.beforeBackwardPass(this.model, epoch, minibatchId, minibatchesPerEpoch, overall, this.zerosMaskDict,
        optimizer, { ...kwargs });
      if (result === null || result === undefined) continue;
      components.push(...CompressionScheduler.verifyPolicyLoss(result, p));
      overall = result.overallLoss;
    }
    return returnLossComponents ? new PolicyLoss(overall, components) : overall;
  }

  /**
   * Checks what a policy's `beforeBackwardPass` returned and gives its components as a list (Distiller's
   * `verify_policy_loss`).
   */
  static verifyPolicyLoss(result: unknown, policy?: object): readonly LossComponent[] {
    const who = policy ? `${policyName(policy)}.beforeBackwardPass` : "A policy's beforeBackwardPass";
    if (!(result instanceof PolicyLoss)) {
      throw new TypeError(`${who} must return either null or a PolicyLoss, but it returned ${describe(result)}`);
    }
    if (!(result.overallLoss instanceof Tensor)) {
      throw new TypeError(`${who} returned a PolicyLoss whose overallLoss is ${describe(result.overallLoss)}, not a Tensor`);
    }
    const raw: unknown = result.lossComponents;
    const list: unknown[] = Array.isArray(raw) ? raw : [raw];
    list.forEach((c, i) => {
      if (!(c instanceof LossComponent)) {
        throw new TypeError(`${who} returned a PolicyLoss with a bad component: expected a LossComponent or a list of them, but component ${i} is ${describe(c)}`);
      }
    });
    return list as LossComponent[];
  }

  /** Calls `beforeParameterOptimization(model, epoch, minibatchId, minibatchesPerEpoch, zerosMaskDict, meta, optimizer)`. */
  beforeParameterOptimization(epoch: number, minibatchId: number, minibatchesPerEpoch: number, optimizer?: unknown): void {
    for (const p of this.active(epoch)) {
      p.beforeParameterOptimization(this.model, epoch, minibatchId, minibatchesPerEpoch, this.zerosMaskDict, this.metaFor(p, epoch), optimizer);
    }
  }

  /**
   * Calls `onMinibatchEnd(model, epoch, minibatchId, minibatchesPerEpoch, zerosMaskDict, optimizer)`. (Distiller also
   * re-applied pruning masks here; torchkd has none.)
   */
  onMinibatchEnd(epoch: number, minibatchId: number, minibatchesPerEpoch: number, optimizer?: unknown): void {
    for (const p of this.active(epoch)) {
      p.onMinibatchEnd(this.model, epoch, minibatchId, minibatchesPerEpoch, this.zerosMaskDict, optimizer);
    }
  }

  /** Calls `onEpochEnd(model, zerosMaskDict, meta, kwargs)`, with `meta.optimizer` set to `optimizer` as Distiller did. */
  onEpochEnd(epoch: number, optimizer?: unknown, kwargs: HookKwargs = {}): void {
    for (const p of this.active(epoch)) {
      const meta = this.metaFor(p, epoch);
      meta.optimizer = optimizer;
      p.onEpochEnd(this.model, this.zerosMaskDict, meta, { ...kwargs });
    }
  }

  /**
   * The scheduler's state as a JSON-serialisable plain object: every `addPolicy` call (policies by index) and the
   * state of each policy that implements `stateDict()` (e.g. whether KD is active mid-epoch). Distiller saved only
   * pruning masks, so a resumed run could not restore policy state.
   *
   * @example
   * const saved = JSON.stringify(scheduler.stateDict());
   * other.loadStateDict(JSON.parse(saved));
   */
  stateDict(): CompressionSchedulerState {
    return {
      format: 'torchkd.CompressionScheduler',
      version: 1,
      policies: this._s.order.map((p, i) => ({
        type: policyName(p),
        state: typeof p.stateDict === 'function' ? (plainJson(p.stateDict(), `policies[${i}].state`) as PolicyState) : null,
      })),
      schedule: this._s.entries.map((e) => plainJson(e, 'schedule') as ScheduleEntry),
    };
  }

  /**
   * Restores what {@link CompressionScheduler.stateDict} returned. The scheduler must already hold the same policies
   * (same classes, first added in the same order); their schedules are replaced by the saved ones and each saved
   * policy state goes to that policy's `loadStateDict()`. Nothing changes if the state does not fit.
   */
  loadStateDict(state: CompressionSchedulerState): void {
    if (state === null || typeof state !== 'object' || state.format !== 'torchkd.CompressionScheduler') {
      throw new TypeError(`loadStateDict: expected an object from CompressionScheduler.stateDict() but received ${describe(state)}`);
    }
    if (state.version !== 1) throw new RangeError(`loadStateDict: unsupported state version ${String(state.version)}`);
    if (!Array.isArray(state.policies) || !Array.isArray(state.schedule)) {
      throw new TypeError('loadStateDict: the state needs arrays "policies" and "schedule"');
    }
    const order = this._s.order;
    if (state.policies.length !== order.length) {
      throw new RangeError(`loadStateDict: the state has ${state.policies.length} policies but this scheduler has ${order.length}; add the same policies in the same order before loading`);
    }
    state.policies.forEach((saved, i) => {
      if (saved === null || typeof saved !== 'object') throw new TypeError(`loadStateDict: policies[${i}] is ${describe(saved)}`);
      if (saved.type !== policyName(order[i])) {
        throw new TypeError(`loadStateDict: policies[${i}] was a ${saved.type} but this scheduler's policy ${i} is a ${policyName(order[i])}`);
      }
      if (saved.state !== null && saved.state !== undefined && typeof order[i].loadStateDict !== 'function') {
        throw new TypeError(`loadStateDict: policies[${i}] (${saved.type}) has saved state but no loadStateDict() method`);
      }
    });
    const next = emptySchedules<M>();
    next.order.push(...order); // keeps policy indices even for a policy the saved schedule no longer uses
    state.schedule.forEach((entry, i) => {
      if (entry === null || typeof entry !== 'object') throw new TypeError(`loadStateDict: schedule[${i}] is ${describe(entry)}`);
      const { policy, ...schedule } = entry;
      if (!Number.isInteger(policy) || policy < 0 || policy >= order.length) {
        throw new RangeError(`loadStateDict: schedule[${i}] names policy ${String(policy)}, which this scheduler does not have`);
      }
      CompressionScheduler._add(next, order[policy], schedule);
    });
    this._s = next;
    state.policies.forEach((saved, i) => {
      if (saved.state !== null && saved.state !== undefined) order[i].loadStateDict?.(plainJson(saved.state, `policies[${i}].state`) as PolicyState);
    });
  }
}
