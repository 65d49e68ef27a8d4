/**
 * Map-style datasets, as `torch.utils.data.Dataset`: a length and `get(i)`. Datasets held as tensors also answer
 * `getBatch(indices)`, which the {@link DataLoader} uses to gather a whole batch with one native index op per tensor.
 */
import { tensor } from '../creation';
import { describe } from '../dtype';
import { stack } from '../ops';
import { Tensor } from '../tensor';

/** One sample (or one batch): a tuple of tensors, e.g. `[image, label]`. */
export type Sample = Tensor[];

/**
 * A map-style dataset: `length` samples, each a tuple of tensors. Implement `getBatch` when a batch can be gathered
 * more cheaply than sample by sample (the {@link DataLoader} then calls it once per batch).
 *
 * @example
 * const ds: Dataset<[Tensor, Tensor]> = new TensorDataset(x, y);
 * const [xi, yi] = ds.get(0);
 */
export interface Dataset<T extends Sample = Sample> {
  /** Number of samples. */
  readonly length: number;
  /** Sample `index` (0 ≤ index < length). */
  get(index: number): T;
  /**
   * The samples at `indices` (a 1-D int64 CPU tensor), stacked along a new first dimension. The DataLoader disposes
   * `indices` after the call, so return new tensors, not `indices` itself.
   */
  getBatch?(indices: Tensor): T;
}

/** @internal Checks a sample index against a length (negative indices count from the end, as in Python). */
export function sampleIndex(index: unknown, length: number, what: string): number {
  if (typeof index !== 'number' || !Number.isInteger(index)) {
    throw new TypeError(`${what}: expected an integer index but received ${describe(index)}`);
  }
  const i = index < 0 ? index + length : index;
  if (i < 0 || i >= length) throw new RangeError(`${what}: index ${index} is out of range for ${length} samples`);
  return i;
}

/**
 * A dataset of tensors sharing their first dimension, as `torch.utils.data.TensorDataset`: sample i is
 * `[t0[i], t1[i], …]`. Batches are gathered with one `indexSelect` per tensor.
 *
 * @example
 * const ds = new TensorDataset(torch.randn(100, 3), torch.arange(100));
 * const [x, y] = ds.getBatch(torch.tensor([0, 5, 7]));  // x: (3, 3), y: (3)
 */
export class TensorDataset<T extends Sample = Sample> implements Dataset<T> {
  /** The tensors, in the order given. */
  readonly tensors: T;

  constructor(...tensors: T) {
    if (tensors.length === 0) throw new RangeError('TensorDataset: expected at least one tensor');
    tensors.forEach((t, k) => {
      if (!(t instanceof Tensor)) throw new TypeError(`TensorDataset: expected a Tensor for tensor ${k} but received ${describe(t)}`);
      if (t.ndim === 0) throw new RangeError(`TensorDataset: tensor ${k} is 0-d; every tensor needs a first (sample) dimension`);
    });
    const n = tensors[0].size(0);
    tensors.forEach((t, k) => {
      if (t.size(0) !== n) throw new RangeError(`TensorDataset: size mismatch between tensors (tensor 0 has ${n} samples, tensor ${k} has ${t.size(0)})`);
    });
    this.tensors = tensors;
  }

  /** Number of samples (the first dimension). */
  get length(): number {
    return this.tensors[0].size(0);
  }

  /** Sample `index` as views into the tensors. */
  get(index: number): T {
    const i = sampleIndex(index, this.length, 'TensorDataset.get()');
    return this.tensors.map((t) => t.select(0, i)) as T;
  }

  /** The samples at `indices` (1-D int64), one `indexSelect` per tensor (on the tensor's device). */
  getBatch(indices: Tensor): T {
    return this.tensors.map((t) => {
      const device = t.device;
      if (device === 'cpu' || indices.device === device) return t.indexSelect(0, indices);
      const moved = indices.to(device);
      const out = t.indexSelect(0, moved);
      moved.dispose();
      return out;
    }) as T;
  }
}

/**
 * A dataset whose samples carry their own index: sample i of `dataset` followed by `i` as a 0-d int64 tensor, so that
 * a {@link DataLoader} yields `[x, y, indices]` — what a PyTorch user writes as a Dataset whose `__getitem__` also
 * returns the index. A teacher-logit cache looks the batch's teacher logits up by these indices.
 *
 * @example
 * const loader = new DataLoader(new IndexedDataset(trainSet), { batchSize: 128, shuffle: true });
 * for (const [x, y, indices] of loader) policy.forward(x, { indices });
 */
export class IndexedDataset<T extends Sample = Sample> implements Dataset<[...T, Tensor]> {
  /** The dataset whose samples are indexed. */
  readonly dataset: Dataset<T>;

  constructor(dataset: Dataset<T>) {
    if (dataset === null || typeof dataset !== 'object' || typeof dataset.get !== 'function' || typeof dataset.length !== 'number') {
      throw new TypeError(`IndexedDataset: expected a dataset (with length and get()) but received ${describe(dataset)}`);
    }
    this.dataset = dataset;
  }

  /** Number of samples (the wrapped dataset's). */
  get length(): number {
    return this.dataset.length;
  }

  /** Sample `index` and the index itself (0-d int64; a negative index is given as the sample it names). */
  get(index: number): [...T, Tensor] {
    const i = sampleIndex(index, this.length, 'IndexedDataset.get()');
    return [...this.dataset.get(i), tensor(i, { dtype: 'int64' })];
  }

  /** The samples at `indices` (1-D int64) and a copy of `indices`. */
  getBatch(indices: Tensor): [...T, Tensor] {
    const inner = this.dataset;
    if (typeof inner.getBatch === 'function') return [...inner.getBatch(indices), indices.clone()];
    const samples = Array.from(indices.data() as BigInt64Array, (i) => inner.get(Number(i)));
    return [...samples[0].map((_, k) => stack(samples.map((s) => s[k]))), indices.clone()] as [...T, Tensor];
  }
}
