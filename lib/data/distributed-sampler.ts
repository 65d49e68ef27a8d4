/**
 * DistributedSampler: each rank of a data-parallel job gets its own share of a dataset, in the order PyTorch's
 * `torch.utils.data.distributed.DistributedSampler` gives for the same arguments (same seed, epoch, replicas).
 */
import { tensor } from '../creation';
import { describe } from '../dtype';
import { getRank, getWorldSize } from '../distributed/process-group';
import { N, Tensor, wrap } from '../tensor';
import { positionalOrOptions } from '../tensor/checks';
import type { Sampler } from './sampler';

/** Options of {@link DistributedSampler} (Python's keyword arguments, camelCased). */
export interface DistributedSamplerOptions {
  /** The number of ranks sharing the data (default: the default process group's size). */
  numReplicas?: number;
  /** This rank (default: the rank in the default process group). */
  rank?: number;
  /** Shuffle each epoch with a generator seeded seed + epoch (default true). */
  shuffle?: boolean;
  /** The shuffle's seed; must be the same on every rank (default 0). */
  seed?: number;
  /**
   * Drop the tail so that every rank gets the same number of samples (default false: the order is padded with its
   * own first indices instead).
   */
  dropLast?: boolean;
}

function lengthOf(source: unknown): number {
  const n = typeof source === 'number' ? source : (source as { length?: unknown } | null)?.length;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new TypeError(`DistributedSampler: expected a dataset or a non-negative integer length but received ${describe(source)}`);
  }
  return n;
}

/**
 * The indices of one rank's share of a dataset, one epoch at a time: a permutation drawn from a fresh generator
 * seeded `seed + epoch` (the same on every rank, and no draw from the default generator), padded to a multiple of
 * `numReplicas` (or cut, with `dropLast`), then every `numReplicas`-th index starting at `rank`. Call
 * {@link setEpoch} before each epoch for a new order. Plugs into a {@link DataLoader} as its `sampler`.
 *
 * @example
 * const sampler = new DistributedSampler(trainSet, { seed: 42 });  // rank and replicas from torch.distributed
 * const loader = new DataLoader(trainSet, { batchSize: 64, sampler });
 * for (let epoch = 0; epoch < epochs; epoch++) { sampler.setEpoch(epoch); for (const [x, y] of loader) step(x, y); }
 */
export class DistributedSampler implements Sampler {
  /** The number of ranks sharing the data. */
  readonly numReplicas: number;
  /** This rank. */
  readonly rank: number;
  /** Whether each epoch is shuffled. */
  readonly shuffle: boolean;
  /** The shuffle's base seed. */
  readonly seed: number;
  /** Whether the tail is dropped rather than padded. */
  readonly dropLast: boolean;
  /** The epoch {@link setEpoch} set (0 at first). */
  epoch = 0;
  /** Samples per rank and epoch. */
  readonly numSamples: number;
  /** numSamples × numReplicas: the padded (or cut) length of the whole order. */
  readonly totalSize: number;
  private readonly datasetLength: number;

  constructor(dataset: { length: number } | number, options?: DistributedSamplerOptions);
  constructor(dataset: { length: number } | number, numReplicas?: number | null, rank?: number | null, shuffle?: boolean, seed?: number, dropLast?: boolean);
  constructor(dataset: { length: number } | number, ...rest: unknown[]) {
    const fn = 'DistributedSampler';
    const o = positionalOrOptions(fn, rest, ['numReplicas', 'rank', 'shuffle', 'seed', 'dropLast']);
    this.datasetLength = lengthOf(dataset);
    const numReplicas = o.numReplicas ?? getWorldSize();
    const rank = o.rank ?? getRank();
    if (!Number.isInteger(numReplicas) || (numReplicas as number) <= 0) throw new RangeError(`${fn}: numReplicas should be a positive integer, but got ${describe(numReplicas)}`);
    if (!Number.isInteger(rank)) throw new TypeError(`${fn}: expected an integer for rank but received ${describe(rank)}`);
    if ((rank as number) >= (numReplicas as number) || (rank as number) < 0) {
      throw new RangeError(`${fn}: Invalid rank ${rank}, rank should be in the interval [0, ${(numReplicas as number) - 1}]`);
    }
    const { shuffle = true, seed = 0, dropLast = false } = o as { shuffle?: unknown; seed?: unknown; dropLast?: unknown };
    if (typeof shuffle !== 'boolean') throw new TypeError(`${fn}: expected a boolean for shuffle but received ${describe(shuffle)}`);
    if (typeof dropLast !== 'boolean') throw new TypeError(`${fn}: expected a boolean for dropLast but received ${describe(dropLast)}`);
    if (!Number.isSafeInteger(seed)) throw new TypeError(`${fn}: expected an integer for seed but received ${describe(seed)}`);
    this.numReplicas = numReplicas as number;
    this.rank = rank as number;
    this.shuffle = shuffle;
    this.seed = seed as number;
    this.dropLast = dropLast;
    const n = this.datasetLength;
    // (+ 0 turns Math.ceil's -0, for a dataset smaller than numReplicas, into Python's 0.)
    this.numSamples = (dropLast && n % this.numReplicas !== 0 ? Math.ceil((n - this.numReplicas) / this.numReplicas) : Math.ceil(n / this.numReplicas)) + 0;
    this.totalSize = this.numSamples * this.numReplicas;
  }

  /** Samples per rank and epoch (Python's `len(sampler)`). */
  get length(): number {
    return this.numSamples;
  }

  /** Sets the epoch: with shuffling, each epoch's order is drawn with seed + epoch (the same on every rank). */
  setEpoch(epoch: number): void {
    if (!Number.isSafeInteger(epoch)) throw new TypeError(`DistributedSampler.setEpoch: expected an integer but received ${describe(epoch)}`);
    this.epoch = epoch;
  }

  /** This rank's indices for the current epoch, as a 1-D int64 tensor. */
  order(): Tensor {
    const n = this.datasetLength;
    let all: number[];
    if (this.shuffle) {
      const perm = wrap(N.randpermSeeded(n, BigInt(this.seed + this.epoch)));
      all = Array.from(perm.data() as BigInt64Array, Number);
      perm.dispose();
    } else {
      all = Array.from({ length: n }, (_, i) => i);
    }
    if (!this.dropLast) {
      const padding = this.totalSize - all.length;
      if (padding <= all.length) all = all.concat(all.slice(0, padding));
      else all = all.concat(Array.from({ length: padding }, (_, i) => all[i % all.length]));
    } else {
      all = all.slice(0, this.totalSize);
    }
    const mine: number[] = [];
    for (let i = this.rank; i < this.totalSize; i += this.numReplicas) mine.push(all[i]);
    return tensor(Float64Array.from(mine), { dtype: 'int64' });
  }

  [Symbol.iterator](): IterableIterator<number> {
    const t = this.order();
    const values = Array.from(t.data() as BigInt64Array, Number);
    t.dispose();
    return values[Symbol.iterator]();
  }
}
