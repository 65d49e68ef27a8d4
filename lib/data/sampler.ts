/**
 * Samplers: the order in which a {@link DataLoader} visits a dataset, one epoch at a time, drawing random numbers
 * exactly as `torch.utils.data`'s samplers do, so that after the same `manualSeed` the order is Python's.
 */
import { arange, randperm, tensor } from '../creation';
import { describe } from '../dtype';
import { N, Tensor, wrap } from '../tensor';

/**
 * Gives a DataLoader one epoch's order of dataset indices at a time.
 *
 * @example
 * const sampler = new SubsetRandomSampler([4, 8, 15, 16, 23, 42]);
 * const order = sampler.order();  // the six indices, shuffled
 */
export interface Sampler {
  /** Number of indices per epoch. */
  readonly length: number;
  /**
   * One epoch's indices as a 1-D int64 tensor. Random samplers draw from the default generator here, at the point
   * where PyTorch's sampler `__iter__` does (the DataLoader calls it when the first batch is requested).
   */
  order(): Tensor;
}

function lengthOf(source: { length: number } | number, what: string): number {
  const n = typeof source === 'number' ? source : source?.length;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new TypeError(`${what}: expected a dataset or a non-negative integer length but received ${describe(source)}`);
  }
  return n;
}

/** Yields an order tensor's indices as numbers. */
function* numbers(order: Tensor): IterableIterator<number> {
  for (const v of order.data() as BigInt64Array) yield Number(v);
}

/**
 * Visits 0, 1, …, n−1 in order (PyTorch's `SequentialSampler`); draws no random numbers.
 *
 * @example
 * const s = new SequentialSampler(5);
 * [...s];  // [0, 1, 2, 3, 4]
 */
export class SequentialSampler implements Sampler {
  readonly length: number;
  constructor(source: { length: number } | number) {
    this.length = lengthOf(source, 'SequentialSampler');
  }
  order(): Tensor {
    return arange(this.length);
  }
  [Symbol.iterator](): IterableIterator<number> {
    return numbers(this.order());
  }
}

/**
 * A random permutation of 0..n−1 each epoch, as PyTorch's `RandomSampler` without a generator: it draws a seed
 * with `torch.empty((), dtype=torch.int64).random_()` from the default generator, seeds a fresh generator with it
 * and takes `torch.randperm(n, generator=g)`.
 *
 * @example
 * torch.manualSeed(7);
 * const order = new RandomSampler(60000).order();  // Python's order after torch.manual_seed(7)
 */
export class RandomSampler implements Sampler {
  readonly length: number;
  constructor(source: { length: number } | number) {
    this.length = lengthOf(source, 'RandomSampler');
  }
  order(): Tensor {
    const seed = N.randomInt64();
    return wrap(N.randpermSeeded(this.length, seed));
  }
  [Symbol.iterator](): IterableIterator<number> {
    return numbers(this.order());
  }
}

/**
 * The given indices in a random order each epoch, as PyTorch's `SubsetRandomSampler` without a generator
 * (`indices[torch.randperm(len(indices))]`, drawn from the default generator). Used for a validation split.
 *
 * @example
 * const { train, validation } = splitTrainValidation(dataset, 0.1, 42);
 * const loader = new DataLoader(dataset, { batchSize: 256, sampler: new SubsetRandomSampler(train) });
 */
export class SubsetRandomSampler implements Sampler {
  /** The indices sampled from (1-D int64). */
  readonly indices: Tensor;

  constructor(indices: number[] | Tensor) {
    if (indices instanceof Tensor) {
      if (indices.ndim !== 1 || indices.dtype !== 'int64') {
        throw new TypeError(`SubsetRandomSampler: expected a 1-D int64 tensor of indices but received a ${indices.ndim}-d ${indices.dtype} tensor`);
      }
      this.indices = indices;
    } else if (Array.isArray(indices)) {
      indices.forEach((v, k) => {
        if (!Number.isInteger(v) || v < 0) throw new RangeError(`SubsetRandomSampler: index ${k} is ${describe(v)}; expected a non-negative integer`);
      });
      this.indices = tensor(Float64Array.from(indices), { dtype: 'int64' });
    } else {
      throw new TypeError(`SubsetRandomSampler: expected an array of indices or an int64 tensor but received ${describe(indices)}`);
    }
  }
  get length(): number {
    return this.indices.size(0);
  }
  order(): Tensor {
    const perm = randperm(this.length);
    const out = this.indices.indexSelect(0, perm);
    perm.dispose();
    return out;
  }
  [Symbol.iterator](): IterableIterator<number> {
    return numbers(this.order());
  }
}
