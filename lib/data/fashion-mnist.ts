/**
 * Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 70000 28×28 grey-scale images of clothing in 10 classes, a drop-in
 * replacement for MNIST. Read from the four IDX files, by default where Debian's `dataset-fashion-mnist` package
 * installs them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { Device } from '../dtype';
import { TorchError } from '../errors';
import type { Tensor } from '../tensor';
import { TensorDataset } from './dataset';
import { readIdx } from './idx';

/** Where Debian's `dataset-fashion-mnist` package puts the files. */
export const FASHION_MNIST_DEFAULT_ROOT = '/usr/share/datasets/fashion-mnist';

/** Options of {@link FashionMNIST}. */
export interface FashionMNISTOptions {
  /** The folder holding the IDX files (default {@link FASHION_MNIST_DEFAULT_ROOT}). */
  root?: string;
  /** The 60000 training images (default) or the 10000 test images. */
  train?: boolean;
  /** Subtracted after scaling pixels to [0, 1] (default 0.1307, Distiller's MNIST mean). */
  mean?: number;
  /** Divided by after subtracting the mean (default 0.3081, Distiller's MNIST std). */
  std?: number;
  /** Where the tensors live (default 'cpu'); on a GPU, batches are gathered there. */
  device?: Device;
}

const FILES = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
} as const;

/** The gzip file, else an uncompressed one of the same name, else null. */
function findFile(root: string, base: string): string | null {
  for (const name of [`${base}.gz`, base]) {
    const file = path.join(root, name);
    if (fs.existsSync(file)) return file;
  }
  return null;
}

function notFound(root: string, missing: string[]): never {
  throw new TorchError(
    `Fashion-MNIST not found in '${root}' (missing ${missing.map((m) => `${m}.gz`).join(', ')}). ` +
      `Install Debian's package with \`sudo apt-get install dataset-fashion-mnist\` (it fills ${FASHION_MNIST_DEFAULT_ROOT}), ` +
      'or point `--data DIR` (the `root` option) at a folder holding the four IDX files ' +
      '(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz).',
    'VALUE_ERROR',
  );
}

/**
 * The Fashion-MNIST training or test set as tensors: `images` float32 (N, 1, 28, 28), normalised as torchvision's
 * `ToTensor()` then `Normalize((mean,), (std,))` ((x/255 − mean)/std, in float32), and `labels` int64 (N).
 * Sample i is `[images[i], labels[i]]`; a {@link DataLoader} gathers batches with one index op per tensor.
 *
 * @example
 * const test = new FashionMNIST({ train: false });
 * const [image, label] = test.get(0);  // (1, 28, 28) float32, a 0-d int64 label
 */
export class FashionMNIST extends TensorDataset<[Tensor, Tensor]> {
  /** The class names, by label. */
  static readonly classes: readonly string[] = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
  /** The folder the files were read from. */
  readonly root: string;
  /** True for the training set. */
  readonly train: boolean;
  /** The mean subtracted from the [0, 1] pixels. */
  readonly mean: number;
  /** The standard deviation divided by. */
  readonly std: number;

  constructor(options: FashionMNISTOptions = {}) {
    const { root = FASHION_MNIST_DEFAULT_ROOT, train = true, mean = 0.1307, std = 0.3081, device = 'cpu' } = options;
    if (typeof root !== 'string') throw new TypeError('FashionMNIST: root must be a folder path');
    if (typeof mean !== 'number' || typeof std !== 'number' || !(std > 0)) {
      throw new RangeError(`FashionMNIST: mean must be a number and std a positive number (got ${mean}, ${std})`);
    }
    super(...FashionMNIST.load(root, train !== false, mean, std, device));
    this.root = root;
    this.train = train !== false;
    this.mean = mean;
    this.std = std;
  }

  /** The normalised images, float32 (N, 1, 28, 28). */
  get images(): Tensor {
    return this.tensors[0];
  }

  /** The labels 0–9, int64 (N). */
  get labels(): Tensor {
    return this.tensors[1];
  }

  private static load(root: string, train: boolean, mean: number, std: number, device: Device): [Tensor, Tensor] {
    const [imageBase, labelBase] = train ? FILES.train : FILES.test;
    const imageFile = findFile(root, imageBase);
    const labelFile = findFile(root, labelBase);
    if (imageFile === null || labelFile === null) notFound(root, [imageBase, labelBase].filter((b) => findFile(root, b) === null));
    const raw = readIdx(imageFile);
    const rawLabels = readIdx(labelFile);
    const [n, h, w] = raw.shape;
    if (raw.ndim !== 3 || raw.dtype !== 'uint8' || h !== 28 || w !== 28) {
      throw new TorchError(`FashionMNIST: '${imageFile}' holds a ${raw.dtype} [${raw.shape}] array, not uint8 [N, 28, 28] images`, 'VALUE_ERROR');
    }
    if (rawLabels.ndim !== 1 || rawLabels.size(0) !== n) {
      throw new TorchError(`FashionMNIST: '${labelFile}' holds [${rawLabels.shape}] labels for ${n} images`, 'VALUE_ERROR');
    }
    // ToTensor (x / 255 in float32) and Normalize, in place to keep peak memory at one float copy.
    const images = raw.to({ dtype: 'float32', device });
    raw.dispose();
    images.div_(255).sub_(mean).div_(std);
    const labels = rawLabels.to({ dtype: 'int64', device });
    rawLabels.dispose();
    const shaped = images.view(n, 1, 28, 28);
    images.dispose(); // the view keeps the storage alive
    return [shaped, labels];
  }
}
