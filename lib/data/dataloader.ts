/**
 * DataLoader: batches of a map-style dataset, in the order PyTorch's single-process `DataLoader` gives for the same
 * seed. Random-number draws, per epoch (per `for … of`), as `torch.utils.data.DataLoader` 2.x makes them:
 *   1. when the iterator is created, `_BaseDataLoaderIter.__init__` draws a base seed (meant for worker processes)
 *      with `torch.empty((), dtype=torch.int64).random_()` from the default generator, shuffled or not;
 *   2. when the first batch is requested, the sampler's `__iter__` runs: `RandomSampler` draws its seed the same
 *      way and permutes with a fresh generator; `SubsetRandomSampler` calls `torch.randperm` on the default one.
 */
import { stack } from '../ops';
import { describe } from '../dtype';
import { cuda } from '../cuda';
import { N, Tensor } from '../tensor';
import type { Dataset, Sample } from './dataset';
import { RandomSampler, Sampler, SequentialSampler } from './sampler';

/** Options of {@link DataLoader}, as PyTorch's (camelCased). */
export interface DataLoaderOptions {
  /** Samples per batch (default 1). */
  batchSize?: number;
  /** Reshuffle every epoch with a {@link RandomSampler} (default false). Exclusive with `sampler`. */
  shuffle?: boolean;
  /** Drop the last batch when it is incomplete (default false). */
  dropLast?: boolean;
  /** A custom order, e.g. a {@link SubsetRandomSampler} for a validation split. */
  sampler?: Sampler;
  /**
   * Put each batch's tensors in page-locked host memory, so that `to('cuda', { nonBlocking: true })` copies them
   * asynchronously (default false). Ignored, with a warning as in PyTorch, where no CUDA device is usable.
   */
  pinMemory?: boolean;
  /**
   * Worker processes loading batches (PyTorch's num_workers). torchkd gathers each batch with one native index op on
   * the calling thread, so only 0 is meaningful; a larger value is accepted with a warning and loads the same batches.
   */
  numWorkers?: number;
}

const LOADER_OPTIONS = new Set(['batchSize', 'shuffle', 'dropLast', 'sampler', 'pinMemory', 'numWorkers']);

/**
 * Iterates a dataset in batches: `for (const [x, y] of loader)`. Each batch is gathered with one native index op
 * per tensor when the dataset has `getBatch` (TensorDataset, FashionMNIST), otherwise sample by sample and stacked.
 *
 * @example
 * const loader = new DataLoader(new FashionMNIST({ train: true }), { batchSize: 64, shuffle: true });
 * for (const [images, labels] of loader) step(images, labels);
 */
export class DataLoader<T extends Sample = Sample> implements Iterable<T> {
  /** The dataset batches are drawn from. */
  readonly dataset: Dataset<T>;
  /** Samples per batch. */
  readonly batchSize: number;
  /** Whether an incomplete last batch is dropped. */
  readonly dropLast: boolean;
  /** The order of each epoch. */
  readonly sampler: Sampler;
  /** Whether batches come in pinned host memory (false where no CUDA device is usable). */
  readonly pinMemory: boolean;

  constructor(dataset: Dataset<T>, options: DataLoaderOptions = {}) {
    if (dataset === null || typeof dataset !== 'object' || typeof dataset.get !== 'function' || typeof dataset.length !== 'number') {
      throw new TypeError(`DataLoader: expected a dataset (with length and get()) but received ${describe(dataset)}`);
    }
    if (options === null || typeof options !== 'object') throw new TypeError(`DataLoader: expected an options object but received ${describe(options)}`);
    for (const k of Object.keys(options)) {
      if (!LOADER_OPTIONS.has(k)) throw new TypeError(`DataLoader: got an unexpected option '${k}' (it takes ${[...LOADER_OPTIONS].map((x) => `'${x}'`).join(', ')})`);
    }
    const { batchSize = 1, shuffle = false, dropLast = false, sampler, pinMemory = false, numWorkers = 0 } = options;
    if (!Number.isInteger(numWorkers) || numWorkers < 0) throw new RangeError(`DataLoader: numWorkers should be a non-negative integer, but got ${describe(numWorkers)}`);
    if (numWorkers > 0) process.emitWarning('DataLoader: numWorkers > 0 is ignored; torchkd gathers each batch natively on the calling thread', 'TorchkdWarning');
    if (!Number.isInteger(batchSize) || batchSize <= 0) {
      throw new RangeError(`DataLoader: batchSize should be a positive integer, but got ${describe(batchSize)}`);
    }
    if (typeof shuffle !== 'boolean') throw new TypeError(`DataLoader: expected a boolean for shuffle but received ${describe(shuffle)}`);
    if (typeof dropLast !== 'boolean') throw new TypeError(`DataLoader: expected a boolean for dropLast but received ${describe(dropLast)}`);
    if (typeof pinMemory !== 'boolean') throw new TypeError(`DataLoader: expected a boolean for pinMemory but received ${describe(pinMemory)}`);
    if (sampler !== undefined && shuffle) throw new RangeError('DataLoader: the sampler option is mutually exclusive with shuffle');
    if (sampler !== undefined && (sampler === null || typeof sampler.order !== 'function')) {
      throw new TypeError(`DataLoader: expected a Sampler (with order()) for sampler but received ${describe(sampler)}`);
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.dropLast = dropLast;
    this.sampler = sampler ?? (shuffle ? new RandomSampler(dataset) : new SequentialSampler(dataset));
    this.pinMemory = pinMemory && cuda.isAvailable();
    if (pinMemory && !this.pinMemory) {
      process.emitWarning("DataLoader: 'pinMemory' is true but no CUDA device is usable, so batches are not pinned", 'TorchkdWarning');
    }
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.sampler.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** One epoch of batches. Draws the base seed now and the sampler's numbers at the first batch, as PyTorch does. */
  [Symbol.iterator](): Iterator<T> {
    N.randomInt64(); // _BaseDataLoaderIter's base seed: unused here (no workers) but drawn, to keep Python's stream
    return this.batches();
  }

  private *batches(): Generator<T, void, undefined> {
    const order = this.sampler.order();
    try {
      const batches = this.length;
      const n = order.size(0);
      for (let b = 0; b < batches; b++) {
        const start = b * this.batchSize;
        const batch = this.gather(order, start, Math.min(this.batchSize, n - start));
        yield this.pinMemory ? pinned(batch) : batch;
      }
    } finally {
      order.dispose();
    }
  }

  private gather(order: Tensor, start: number, count: number): T {
    const idx = order.narrow(0, start, count);
    try {
      if (typeof this.dataset.getBatch === 'function') return this.dataset.getBatch(idx);
      const samples = Array.from(idx.data() as BigInt64Array, (i) => this.dataset.get(Number(i)));
      return samples[0].map((_, k) => stack(samples.map((s) => s[k]))) as T;
    } finally {
      idx.dispose();
    }
  }
}

// A batch with its tensors copied to pinned memory (other members, e.g. labels as numbers, as they are).
function pinned<T extends Sample>(batch: T): T {
  return batch.map((v) => (v instanceof Tensor ? v.pinMemory() : v)) as T;
}
