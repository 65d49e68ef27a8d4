/**
 * The training/validation split of Distiller's `--validation-split` (`--vs`).
 */
import { describe } from '../dtype';
import { N, Tensor, wrap } from '../tensor';

/** The two index sets of {@link splitTrainValidation}, as 1-D int64 tensors. */
export interface TrainValidationSplit {
  /** The indices kept for training (N − floor(fraction·N) of them). */
  train: Tensor;
  /** The indices held out for validation (floor(fraction·N) of them). */
  validation: Tensor;
}

/**
 * Splits a dataset's indices into a training and a validation set, as Distiller's `get_data_loaders`: shuffle all
 * indices, hold out the first `floor(fraction·N)` for validation, train on the rest. The shuffle is
 * `torch.randperm(N, generator=torch.Generator().manual_seed(seed))`, so the split depends on `seed` only (it does
 * not touch the default generator). Distiller shuffled with `np.random.shuffle`, so the indices differ from a
 * Distiller run; the sizes and semantics are the same. Feed each set to a {@link SubsetRandomSampler}.
 *
 * @example
 * const { train, validation } = splitTrainValidation(trainSet, 0.1, 1);
 * validation.size(0);  // 6000 of Fashion-MNIST's 60000
 */
export function splitTrainValidation(dataset: { length: number } | number, fraction: number, seed: number | bigint = 0): TrainValidationSplit {
  const n = typeof dataset === 'number' ? dataset : dataset?.length;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
    throw new TypeError(`splitTrainValidation: expected a dataset or a length but received ${describe(dataset)}`);
  }
  if (typeof fraction !== 'number' || !(fraction >= 0 && fraction < 1)) {
    throw new RangeError(`splitTrainValidation: the validation fraction must be in [0, 1) but is ${describe(fraction)}`);
  }
  if (typeof seed === 'number' ? !Number.isInteger(seed) : typeof seed !== 'bigint') {
    throw new TypeError(`splitTrainValidation: expected an integer seed but received ${describe(seed)}`);
  }
  const nValid = Math.floor(fraction * n);
  const perm = wrap(N.randpermSeeded(n, seed));
  const validation = perm.narrow(0, 0, nValid).clone();
  const train = perm.narrow(0, nValid, n - nValid).clone();
  perm.dispose();
  return { train, validation };
}
