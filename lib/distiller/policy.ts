/**
 * Scheduled training policies: the base class the {@link CompressionScheduler} drives, and the two small loss
 * records a policy hands back from `beforeBackwardPass`.
 *
 * Port of Distiller's `distiller/policy.py` (`ScheduledTrainingPolicy`, `PolicyLoss`, `LossComponent`). Hook names are
 * camelCased, positional order is Distiller's, and Python's `**kwargs` become a trailing options object.
 */
import { describe } from '../dtype';
import { Tensor } from '../tensor';

/**
 * A JSON value: what policy and scheduler state dicts are made of (Distiller pickled tensors; torchkd keeps state
 * JSON so checkpoints stay readable).
 *
 * @example
 * const v: JsonValue = { active: true, history: [1, 2] };
 * JSON.stringify(v);
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * The state a policy saves for an exact resume (see {@link ScheduledTrainingPolicy.stateDict}); torchkd only.
 *
 * @example
 * override stateDict(): PolicyState { return { active: this.active }; }
 * override loadStateDict(s: PolicyState) { this.active = s.active === true; }
 */
export type PolicyState = { [key: string]: JsonValue };

/**
 * The per-parameter pruning masks Distiller passes to every hook. torchkd has no pruning, so the scheduler passes
 * an empty, frozen object unless the user supplies one; it is kept so hook signatures port line by line.
 *
 * @example
 * const scheduler = new CompressionScheduler(model);
 * scheduler.zerosMaskDict; // {}
 */
export type ZerosMaskDict = Readonly<Record<string, unknown>>;

/**
 * Extra keyword arguments of a hook (Python's `**kwargs`). `beforeBackwardPass` receives `labels` here when the
 * training loop passes them to the scheduler (Distiller's scheduler had no way to pass them on).
 *
 * @example
 * scheduler.beforeBackwardPass(epoch, i, steps, loss, { labels: target });
 * // policy.beforeBackwardPass(model, epoch, i, steps, loss, masks, optimizer, { labels: target })
 */
export interface HookKwargs {
  /** The minibatch's targets, when the training loop passes them (torchkd only; Distiller had no way to). */
  labels?: Tensor;
  [key: string]: unknown;
}

/**
 * A policy's schedule, as the scheduler records it (Distiller's `sched_metadata[policy]` dict). The scheduler passes
 * the same object to each hook that takes `meta`, setting `currentEpoch` first (and `optimizer` in `onEpochEnd`);
 * policies may store their own keys on it, as Distiller's pruning policies did.
 *
 * @example
 * scheduler.addPolicy(policy, { epochs: [1, 2, 3] });
 * scheduler.schedMetadata.get(policy); // { startingEpoch: 1, endingEpoch: 4, frequency: null }
 */
export interface PolicyMeta {
  /** First active epoch. */
  startingEpoch: number;
  /** One past the last epoch of the schedule (exclusive). */
  endingEpoch: number;
  /** Epoch stride of a range schedule; null for a list of epochs. */
  frequency: number | null;
  /** The epoch of the hook being called (set by the scheduler before each call). */
  currentEpoch?: number;
  /** The optimizer given to the scheduler's `onEpochEnd` (set there, as Distiller did). */
  optimizer?: unknown;
  [key: string]: unknown;
}

/** Makes `this` immutable when it is exactly `cls` (subclasses may still add fields, then freeze themselves). */
function freezeIfExact(self: object, cls: abstract new (...args: never[]) => unknown): void {
  if (self.constructor === cls) Object.freeze(self);
}

/**
 * One named term of a policy's loss, for logging (Distiller's `LossComponent` namedtuple). Immutable; destructures
 * as `[name, value]` like the namedtuple.
 *
 * @example
 * const c = new LossComponent('Distill Loss', kl);
 * const [name, value] = c;
 */
export class LossComponent {
  /** The component's label, e.g. `'Distill Loss'`. */
  readonly name: string;
  /** Its value (a scalar tensor, normally). */
  readonly value: Tensor;

  constructor(name: string, value: Tensor) {
    if (typeof name !== 'string') throw new TypeError(`LossComponent: expected a string for name but received ${describe(name)}`);
    if (!(value instanceof Tensor)) throw new TypeError(`LossComponent: expected a Tensor for value but received ${describe(value)}`);
    this.name = name;
    this.value = value;
    freezeIfExact(this, LossComponent);
  }

  /** `[name, value]`, as unpacking the namedtuple gives. */
  *[Symbol.iterator](): IterableIterator<string | Tensor> {
    yield this.name;
    yield this.value;
  }
}

/**
 * What a policy's `beforeBackwardPass` may return (Distiller's `PolicyLoss` namedtuple): the loss that replaces the
 * incoming one, and the components the policy added to it (not the incoming loss). Immutable; a single component is
 * accepted and wrapped in a (frozen) list, as Distiller's scheduler did. Destructures as `[overallLoss, components]`.
 *
 * @example
 * return new PolicyLoss(loss.add(penalty), [new LossComponent('Penalty', penalty)]);
 * const [overall, components] = scheduler.beforeBackwardPass(0, 0, 1, loss, { returnLossComponents: true });
 */
export class PolicyLoss {
  /** The loss to back-propagate from now on. */
  readonly overallLoss: Tensor;
  /** The terms this policy (or, from the scheduler, all policies in order) added. */
  readonly lossComponents: readonly LossComponent[];
  /** `overallLoss`: the first element when destructured (`const [overall, components] = policyLoss`). */
  declare readonly 0: Tensor;
  /** `lossComponents`: the second element when destructured. */
  declare readonly 1: readonly LossComponent[];
  /** 2, as the namedtuple's length. */
  declare readonly length: 2;

  constructor(overallLoss: Tensor, lossComponents: LossComponent | readonly LossComponent[]) {
    if (!(overallLoss instanceof Tensor)) {
      throw new TypeError(`PolicyLoss: expected a Tensor for overallLoss but received ${describe(overallLoss)}`);
    }
    this.overallLoss = overallLoss;
    // Elements are checked by the scheduler (Distiller's verify_policy_loss), which names the offending policy.
    this.lossComponents = Object.freeze(Array.isArray(lossComponents) ? [...lossComponents] : [lossComponents as LossComponent]);
    // Indexable as the namedtuple (pl[0], pl[1]), without showing up as own enumerable fields.
    Object.defineProperty(this, 0, { value: this.overallLoss, enumerable: false });
    Object.defineProperty(this, 1, { value: this.lossComponents, enumerable: false });
    Object.defineProperty(this, 'length', { value: 2, enumerable: false });
    freezeIfExact(this, PolicyLoss);
  }

  /** `[overallLoss, lossComponents]`, as unpacking the namedtuple gives. */
  *[Symbol.iterator](): Iterator<Tensor | readonly LossComponent[]> {
    yield this.overallLoss;
    yield this.lossComponents;
  }
}

/**
 * Base class of everything a {@link CompressionScheduler} schedules (Distiller's `ScheduledTrainingPolicy`). Override
 * the hooks you need; each does nothing by default. The scheduler calls a policy's hooks only in the epochs it was
 * scheduled for, in the order policies were added.
 *
 * torchkd additions: `beforeBackwardPass` also receives the optimizer and the scheduler's extra kwargs (e.g.
 * `labels`), which Distiller's scheduler dropped; a policy with state to resume implements
 * {@link ScheduledTrainingPolicy.stateDict} / {@link ScheduledTrainingPolicy.loadStateDict}.
 *
 * @example
 * class Log extends ScheduledTrainingPolicy { override onEpochEnd() { console.log('epoch done'); } }
 * scheduler.addPolicy(new Log(), { startingEpoch: 0, endingEpoch: 5 });
 */
export class ScheduledTrainingPolicy<M = unknown> {
  /** Distiller's `classes` filter (kept for ported policies; the scheduler ignores it). */
  readonly classes: unknown;
  /** Distiller's `layers` filter (kept for ported policies; the scheduler ignores it). */
  readonly layers: unknown;

  constructor(classes: unknown = null, layers: unknown = null) {
    this.classes = classes;
    this.layers = layers;
  }

  /** A new epoch is about to begin. */
  onEpochBegin(model: M, zerosMaskDict: ZerosMaskDict, meta: PolicyMeta, kwargs?: HookKwargs): void {}

  /** The forward pass of a new minibatch is about to begin. */
  onMinibatchBegin(
    model: M,
    epoch: number,
    minibatchId: number,
    minibatchesPerEpoch: number,
    zerosMaskDict: ZerosMaskDict,
    meta: PolicyMeta,
    optimizer?: unknown,
  ): void {}

  /**
   * The forward pass is done and the backward pass is about to begin. Must not change `loss`; may return a
   * {@link PolicyLoss} whose overall loss replaces it, listing only the components this policy added. Returns null
   * by default.
   */
  beforeBackwardPass(
    model: M,
    epoch: number,
    minibatchId: number,
    minibatchesPerEpoch: number,
    loss: Tensor,
    zerosMaskDict: ZerosMaskDict,
    optimizer?: unknown,
    kwargs?: HookKwargs,
  ): PolicyLoss | null | undefined {
    return null;
  }

  /** The backward pass is done and the optimizer is about to update the weights. */
  beforeParameterOptimization(
    model: M,
    epoch: number,
    minibatchId: number,
    minibatchesPerEpoch: number,
    zerosMaskDict: ZerosMaskDict,
    meta: PolicyMeta,
    optimizer: unknown,
  ): void {}

  /** The minibatch's training step has ended. */
  onMinibatchEnd(
    model: M,
    epoch: number,
    minibatchId: number,
    minibatchesPerEpoch: number,
    zerosMaskDict: ZerosMaskDict,
    optimizer?: unknown,
  ): void {}

  /** The current epoch has ended. */
  onEpochEnd(model: M, zerosMaskDict: ZerosMaskDict, meta: PolicyMeta, kwargs?: HookKwargs): void {}

  /**
   * Optional (torchkd): the policy's resumable state as a JSON-serialisable object, saved by
   * `CompressionScheduler.stateDict()`. Distiller saved no policy state.
   */
  stateDict?(): PolicyState;

  /** Optional (torchkd): restores what {@link ScheduledTrainingPolicy.stateDict} returned. */
  loadStateDict?(state: PolicyState): void;
}
