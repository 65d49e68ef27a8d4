/**
 * torch.optim.lrScheduler: StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LambdaLR, and Distiller's
 * MultiStepMultiGammaLR. Each follows PyTorch's (recursive, chainable) update rule operation for operation, so the
 * learning rate of every epoch equals Python's (`lr * gamma` products are exact IEEE operations on both sides).
 *
 * @example
 * const sched = new torch.optim.lrScheduler.StepLR(opt, 30, 0.1);
 * for (let epoch = 0; epoch < 90; epoch++) { train(); sched.step(); }
 */
import { describe } from '../dtype';
import { positionalOrOptions } from '../tensor/checks';
import { Optimizer } from './optimizer';

/** Base class: sets `initialLr` on each group, and performs the initial step as PyTorch does. */
/** A learning-rate scheduler's state dict, in PyTorch's keys (everything but the optimizer). */
export interface SchedulerStateDict {
  last_epoch: number;
  _step_count: number;
  base_lrs: number[];
  _last_lr: number[];
}

export abstract class LRScheduler {
  /** The learning rates the schedule starts from (each group's initialLr). */
  readonly baseLrs: number[];
  /** Index of the last epoch (-1 before the first step). */
  lastEpoch: number;
  protected stepCount = 0;
  protected isInitial = false;
  private lastLr: number[] = [];

  protected constructor(
    readonly optimizer: Optimizer,
    lastEpoch = -1,
  ) {
    if (!(optimizer instanceof Optimizer)) throw new TypeError(`${describe(optimizer)} is not an Optimizer`);
    if (lastEpoch === -1) {
      for (const g of optimizer.paramGroups) if (g.initialLr === undefined) g.initialLr = g.lr;
    } else {
      optimizer.paramGroups.forEach((g, i) => {
        if (g.initialLr === undefined) throw new RangeError(`param 'initial_lr' is not specified in param_groups[${i}] when resuming scheduler with last_epoch >= 0`);
      });
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  /** Call once from the subclass constructor, after its fields are set (PyTorch's _initial_step). */
  protected initialStep(): void {
    this.stepCount = 0;
    this.isInitial = true;
    try {
      this.step();
    } finally {
      this.isInitial = false;
    }
  }

  /** The learning rates for the current lastEpoch (PyTorch's get_lr). */
  protected abstract getLr(): number[];

  /** Advances one epoch and writes the new learning rates into the optimizer. */
  step(): void {
    this.stepCount++;
    this.lastEpoch++;
    const values = this.getLr();
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = values[i];
    });
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The learning rates set by the last step. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** State for checkpoints (everything but the optimizer), as PyTorch's state_dict. */
  stateDict(): SchedulerStateDict {
    return { last_epoch: this.lastEpoch, _step_count: this.stepCount, base_lrs: [...this.baseLrs], _last_lr: [...this.lastLr] };
  }

  loadStateDict(sd: SchedulerStateDict | Record<string, unknown>): void {
    if (typeof sd?.last_epoch !== 'number') throw new TypeError('loadStateDict expects a scheduler state dict');
    this.lastEpoch = sd.last_epoch;
    if (typeof sd._step_count === 'number') this.stepCount = sd._step_count;
    if (Array.isArray(sd._last_lr)) this.lastLr = [...(sd._last_lr as number[])];
    if (Array.isArray(sd.base_lrs)) (sd.base_lrs as number[]).forEach((v, i) => (this.baseLrs[i] = v));
  }

  protected currentLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }
}

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`Expected an integer for ${what} but received ${describe(v)}`);
  if (v <= 0) throw new RangeError(`${what} must be positive, got ${v}`);
  return v;
}

function number(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`Expected a finite number for ${what} but received ${describe(v)}`);
  return v;
}

/** Multiplies the learning rate by gamma every stepSize epochs. */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;
  constructor(optimizer: Optimizer, stepSize: number, gamma?: number, lastEpoch?: number);
  constructor(optimizer: Optimizer, stepSize: number, options: { gamma?: number; lastEpoch?: number });
  constructor(optimizer: Optimizer, options: { stepSize: number; gamma?: number; lastEpoch?: number });
  constructor(optimizer: Optimizer, ...rest: unknown[]) {
    const a = positionalOrOptions('StepLR', rest, ['stepSize', 'gamma', 'lastEpoch'], { required: ['stepSize'] });
    super(optimizer, (a.lastEpoch ?? -1) as number);
    this.stepSize = positiveInt(a.stepSize, 'stepSize');
    this.gamma = number(a.gamma ?? 0.1, 'gamma');
    this.initialStep();
  }
  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.currentLrs();
    return this.optimizer.paramGroups.map((g) => g.lr * this.gamma);
  }
}

/** Multiplies the learning rate by gamma at each milestone epoch. */
export class MultiStepLR extends LRScheduler {
  private readonly counts = new Map<number, number>();
  readonly milestones: number[];
  readonly gamma: number;
  constructor(optimizer: Optimizer, milestones: number[], gamma?: number, lastEpoch?: number);
  constructor(optimizer: Optimizer, milestones: number[], options: { gamma?: number; lastEpoch?: number });
  constructor(optimizer: Optimizer, options: { milestones: number[]; gamma?: number; lastEpoch?: number });
  constructor(optimizer: Optimizer, ...rest: unknown[]) {
    const a = positionalOrOptions('MultiStepLR', rest, ['milestones', 'gamma', 'lastEpoch'], { required: ['milestones'] });
    super(optimizer, (a.lastEpoch ?? -1) as number);
    const milestones = a.milestones;
    if (!Array.isArray(milestones)) throw new TypeError(`Expected an array of milestones but received ${describe(milestones)}`);
    this.milestones = milestones as number[];
    for (const m of this.milestones) this.counts.set(m, (this.counts.get(m) ?? 0) + 1);
    this.gamma = number(a.gamma ?? 0.1, 'gamma');
    this.initialStep();
  }
  protected getLr(): number[] {
    const c = this.counts.get(this.lastEpoch);
    if (c === undefined) return this.currentLrs();
    return this.optimizer.paramGroups.map((g) => g.lr * this.gamma ** c);
  }
}

/** Multiplies the learning rate by gamma every epoch. */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;
  constructor(optimizer: Optimizer, gamma: number, lastEpoch?: number);
  constructor(optimizer: Optimizer, gamma: number, options: { lastEpoch?: number });
  constructor(optimizer: Optimizer, options: { gamma: number; lastEpoch?: number });
  constructor(optimizer: Optimizer, ...rest: unknown[]) {
    const a = positionalOrOptions('ExponentialLR', rest, ['gamma', 'lastEpoch'], { required: ['gamma'] });
    super(optimizer, (a.lastEpoch ?? -1) as number);
    this.gamma = number(a.gamma, 'gamma');
    this.initialStep();
  }
  protected getLr(): number[] {
    if (this.isInitial) return this.currentLrs();
    return this.optimizer.paramGroups.map((g) => g.lr * this.gamma);
  }
}

/** Cosine annealing from the base learning rate to etaMin over tMax epochs (PyTorch's recursive form). */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;
  constructor(optimizer: Optimizer, tMax: number, etaMin?: number, lastEpoch?: number);
  constructor(optimizer: Optimizer, tMax: number, options: { etaMin?: number; lastEpoch?: number });
  constructor(optimizer: Optimizer, options: { tMax: number; etaMin?: number; lastEpoch?: number });
  constructor(optimizer: Optimizer, ...rest: unknown[]) {
    const a = positionalOrOptions('CosineAnnealingLR', rest, ['tMax', 'etaMin', 'lastEpoch'], { required: ['tMax'] });
    super(optimizer, (a.lastEpoch ?? -1) as number);
    this.tMax = positiveInt(a.tMax, 'tMax');
    this.etaMin = number(a.etaMin ?? 0, 'etaMin');
    this.initialStep();
  }
  protected getLr(): number[] {
    const { lastEpoch: e, tMax: T, etaMin } = this;
    const groups = this.optimizer.paramGroups;
    if (this.isInitial) return this.currentLrs();
    if (this.stepCount === 1 && e > 0) {
      return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + Math.cos((e * Math.PI) / T))) / 2);
    }
    if ((((e - 1 - T) % (2 * T)) + 2 * T) % (2 * T) === 0) {
      return groups.map((g, i) => g.lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / T))) / 2);
    }
    return groups.map((g) => ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (g.lr - etaMin) + etaMin);
  }
}

/** The learning rate is the base rate times a function of the epoch. */
export class LambdaLR extends LRScheduler {
  private readonly lambdas: ((epoch: number) => number)[];
  constructor(optimizer: Optimizer, lrLambda: ((epoch: number) => number) | ((epoch: number) => number)[], lastEpoch = -1) {
    super(optimizer, lastEpoch);
    const n = optimizer.paramGroups.length;
    if (Array.isArray(lrLambda)) {
      if (lrLambda.length !== n) throw new RangeError(`Expected ${n} lr_lambdas, but got ${lrLambda.length}`);
      this.lambdas = [...lrLambda];
    } else if (typeof lrLambda === 'function') {
      this.lambdas = Array(n).fill(lrLambda);
    } else {
      throw new TypeError(`Expected a function (or one per group) for lrLambda but received ${describe(lrLambda)}`);
    }
    this.initialStep();
  }
  protected getLr(): number[] {
    return this.baseLrs.map((b, i) => b * this.lambdas[i](this.lastEpoch));
  }
}

/**
 * Distiller's MultiStepMultiGammaLR: at each milestone the rate is multiplied by that milestone's own gamma
 * (cumulatively), i.e. lr = base · Π gammas[0..k) where k milestones have passed.
 */
export class MultiStepMultiGammaLR extends LRScheduler {
  private readonly multiplicativeGammas: number[];
  constructor(optimizer: Optimizer, readonly milestones: number[], gammas: number[], lastEpoch = -1) {
    super(optimizer, lastEpoch);
    if (!Array.isArray(milestones) || !Array.isArray(gammas)) throw new TypeError('MultiStepMultiGammaLR expects arrays of milestones and gammas');
    const sorted = [...milestones].sort((a, b) => a - b);
    if (sorted.some((m, i) => m !== milestones[i])) throw new RangeError(`Milestones should be a list of increasing integers. Got [${milestones.join(', ')}]`);
    // Distiller indexes the cumulative gammas by milestones passed: fewer gammas than milestones is its IndexError.
    if (gammas.length < milestones.length) throw new RangeError(`MultiStepMultiGammaLR: expected a gamma for each of the ${milestones.length} milestones but got ${gammas.length}`);
    this.multiplicativeGammas = [1];
    gammas.forEach((g, i) => this.multiplicativeGammas.push(number(g, 'gamma') * this.multiplicativeGammas[i]));
    this.initialStep();
  }
  protected getLr(): number[] {
    let idx = 0;
    while (idx < this.milestones.length && this.milestones[idx] <= this.lastEpoch) idx++;
    return this.baseLrs.map((b) => b * this.multiplicativeGammas[idx]);
  }
}
