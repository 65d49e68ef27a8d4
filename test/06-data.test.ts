/**
 * Data: the IDX reader, Fashion-MNIST, samplers, the DataLoader's order (exactly PyTorch's for the same seed) and
 * the validation split, against test/fixtures/data.json (scripts/fixtures/gen_data.py).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { TorchError, type Tensor } from '../lib/index';
import {
  DataLoader,
  FASHION_MNIST_DEFAULT_ROOT,
  FashionMNIST,
  RandomSampler,
  SequentialSampler,
  SubsetRandomSampler,
  TensorDataset,
  decodeIdx,
  readIdx,
  splitTrainValidation,
  type Dataset,
} from '../lib/data/index';
import { expectTensor, fixture, idxBytes, setupOnce, type TensorJson } from './helpers';

interface Epoch {
  batches: number;
  first: number[][];
  last: number[];
  /** SHA-256 of the whole order (batch indices joined by ',', batches by ';'), as PyTorch's DataLoader drew it. */
  digest: string;
}
interface Summary {
  n: number;
  pixelSum: number;
  labelCounts: number[];
  firstLabels: number[];
  rows: { image: number; row: number; values: TensorJson }[];
}
interface DataFixture {
  mean: number;
  std: number;
  train: Summary;
  test: Summary;
  orders: { keepLast: Epoch[]; dropLast: Epoch[] };
  interleaved: [number[], number[], number[], number];
  partial: { first: number[][]; next: number[] };
  split: { seed: number; fraction: number; nValid: number; validHead: number[]; trainHead: number[]; subset: Epoch[]; subsetValid: Epoch[] };
}

const F = fixture<DataFixture>('data');
const hasFashionMNIST = fs.existsSync(path.join(FASHION_MNIST_DEFAULT_ROOT, 't10k-images-idx3-ubyte.gz'));

const ints = (t: Tensor): number[] => Array.from(t.data() as BigInt64Array, Number);

/** One epoch of a loader over arange(n): the index lists of every batch. */
function epoch(loader: Iterable<Tensor[]>): number[][] {
  const out: number[][] = [];
  for (const [x] of loader) out.push(ints(x));
  return out;
}

function expectEpoch(actual: number[][], expected: Epoch): void {
  expect(actual.length).toBe(expected.batches);
  expect(actual.slice(0, 3)).toEqual(expected.first);
  expect(actual[actual.length - 1]).toEqual(expected.last);
  // Every batch in between: any swap or repeat anywhere in the epoch changes the digest.
  expect(createHash('sha256').update(actual.map((b) => b.join(',')).join(';')).digest('hex')).toBe(expected.digest);
}

describe('IDX reader', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-idx-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const pixels = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => (i * 37) % 256);
  const write = (name: string, bytes: Uint8Array): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  };

  it('round-trips a gzip-compressed uint8 file into a tensor of the right shape', () => {
    const file = write('images-idx3-ubyte.gz', zlib.gzipSync(idxBytes(0x08, [2, 3, 4], pixels)));
    const t = readIdx(file);
    expect(t.dtype).toBe('uint8');
    expect(t.shape).toEqual([2, 3, 4]);
    expect(Array.from(t.data() as Uint8Array)).toEqual(Array.from(pixels));
  });

  it('reads uncompressed files too, recognising gzip by its magic bytes rather than the name', () => {
    const file = write('labels.gz', idxBytes(0x08, [5], Uint8Array.of(9, 0, 3, 3, 7)));
    expect(readIdx(file).toArray()).toEqual([9, 0, 3, 3, 7]);
  });

  it('decodes big-endian int32 and float32 payloads', () => {
    const payload = Buffer.alloc(12);
    [1, -2, 70000].forEach((v, k) => payload.writeInt32BE(v, 4 * k));
    const t = decodeIdx(idxBytes(0x0c, [3], payload));
    expect(t.dtype).toBe('int32');
    expect(t.toArray()).toEqual([1, -2, 70000]);
    const f = Buffer.alloc(8);
    f.writeFloatBE(1.5, 0);
    f.writeFloatBE(-0.25, 4);
    expect(decodeIdx(idxBytes(0x0d, [1, 2], f)).toArray()).toEqual([[1.5, -0.25]]);
  });

  it('names the file when it is missing', () => {
    const file = path.join(dir, 'nope-idx1-ubyte.gz');
    expect(() => readIdx(file)).toThrow(TorchError);
    expect(() => readIdx(file)).toThrow(`IDX file '${file}': cannot read it (no such file)`);
  });

  it('reports a truncated payload, plain or gzip-compressed', () => {
    const full = idxBytes(0x08, [2, 3, 4], pixels);
    const plain = write('short-idx3-ubyte', full.subarray(0, full.length - 5));
    expect(() => readIdx(plain)).toThrow(/short-idx3-ubyte': truncated: the header promises 24 bytes of data for shape \[2,3,4\] but the file holds 19/);
    const gz = zlib.gzipSync(full);
    const cut = write('cut-idx3-ubyte.gz', gz.subarray(0, gz.length - 10));
    expect(() => readIdx(cut)).toThrow(/cut-idx3-ubyte.gz': cannot decompress \(truncated or corrupt gzip data/);
    const header = write('header-idx3-ubyte', full.subarray(0, 9));
    expect(() => readIdx(header)).toThrow(/header-idx3-ubyte': truncated: 9 bytes, too short for a 3-d header/);
  });

  it('reports a bad magic number and trailing bytes', () => {
    const png = write('image.png', Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0));
    expect(() => readIdx(png)).toThrow(/image.png': bad magic number 89 50 4e 47/);
    const badType = write('type-idx1-ubyte', idxBytes(0x07, [1], Uint8Array.of(1)));
    expect(() => readIdx(badType)).toThrow(/bad magic number 00 00 07 01/);
    const long = write('long-idx1-ubyte', idxBytes(0x08, [2], Uint8Array.of(1, 2, 3)));
    expect(() => readIdx(long)).toThrow(/long-idx1-ubyte': size mismatch: 1 bytes after the 2 bytes of data/);
  });
});

describe.skipIf(!hasFashionMNIST)('FashionMNIST', () => {
  let train: FashionMNIST;
  let test: FashionMNIST;
  setupOnce(() => {
    train = new FashionMNIST();
    test = new FashionMNIST({ train: false });
  });

  it('holds float32 (N, 1, 28, 28) images and int64 (N) labels', () => {
    expect(train.length).toBe(F.train.n);
    expect(test.length).toBe(F.test.n);
    expect(train.images.shape).toEqual([60000, 1, 28, 28]);
    expect(train.images.dtype).toBe('float32');
    expect(train.labels.shape).toEqual([60000]);
    expect(train.labels.dtype).toBe('int64');
    expect([train.mean, train.std]).toEqual([F.mean, F.std]);
  });

  it("normalises exactly as torchvision's ToTensor() + Normalize((0.1307,), (0.3081,))", () => {
    for (const [ds, summary] of [[train, F.train], [test, F.test]] as const) {
      for (const r of summary.rows) expectTensor(ds.images.select(0, r.image).select(0, 0).select(0, r.row), r.values);
      // Undo the normalisation to recover every raw pixel: their sum matches numpy's.
      const raw = ds.images.mul(F.std).add(F.mean).mul(255).round().sum(null, { dtype: 'float64' }).item();
      expect(raw).toBe(summary.pixelSum);
    }
  });

  it('has the labels and class balance of the Python reading', () => {
    for (const [ds, summary] of [[train, F.train], [test, F.test]] as const) {
      expect(ints(ds.labels.narrow(0, 0, 16))).toEqual(summary.firstLabels);
      const hist = new Array(10).fill(0);
      for (const l of ints(ds.labels)) hist[l]++;
      expect(hist).toEqual(summary.labelCounts);
    }
  });

  it('returns [image, label] samples and batches', () => {
    const [x, y] = test.get(0);
    expect(x.shape).toEqual([1, 28, 28]);
    expect(y.shape).toEqual([]);
    expect(y.item()).toBe(F.test.firstLabels[0]);
    const [xb, yb] = new DataLoader(test, { batchSize: 100 })[Symbol.iterator]().next().value as [Tensor, Tensor];
    expect(xb.shape).toEqual([100, 1, 28, 28]);
    expect(ints(yb)).toEqual(ints(test.labels.narrow(0, 0, 100)));
    expect(FashionMNIST.classes[9]).toBe('Ankle boot');
  });

  it('explains how to get the data when the folder lacks it', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-fm-'));
    try {
      expect(() => new FashionMNIST({ root: empty })).toThrow(
        /Fashion-MNIST not found in .*missing train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz.*apt-get install dataset-fashion-mnist.*--data DIR/,
      );
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('DataLoader', () => {
  let ds: TensorDataset<[Tensor]>;
  setupOnce(() => (ds = new TensorDataset(torch.arange(60000))));

  it('counts batches with and without dropLast', () => {
    expect(new DataLoader(ds, { batchSize: 64 }).length).toBe(938);
    expect(new DataLoader(ds, { batchSize: 64, dropLast: true }).length).toBe(937);
    expect(new DataLoader(ds).length).toBe(60000);
  });

  it("shuffles in exactly PyTorch's order after the same manual seed, epoch after epoch", () => {
    for (const [dropLast, expected] of [[false, F.orders.keepLast], [true, F.orders.dropLast]] as const) {
      torch.manualSeed(7);
      const loader = new DataLoader(ds, { batchSize: 64, shuffle: true, dropLast });
      for (const e of expected) expectEpoch(epoch(loader), e);
    }
  });

  it('draws a base seed for every epoch, shuffled or not (a test pass shifts the next training order)', () => {
    torch.manualSeed(7);
    const trainLoader = new DataLoader(ds, { batchSize: 64, shuffle: true });
    const testLoader = new DataLoader(new TensorDataset(torch.arange(10000)), { batchSize: 256 });
    const [first, testFirst, second, testBatches] = F.interleaved;
    expect(epoch(trainLoader)[0]).toEqual(first);
    const testEpoch = epoch(testLoader);
    expect(testEpoch[0]).toEqual(testFirst);
    expect(testEpoch.length).toBe(testBatches);
    expect(epoch(trainLoader)[0]).toEqual(second);
  });

  it('draws the same numbers when an epoch is abandoned early', () => {
    torch.manualSeed(7);
    const loader = new DataLoader(ds, { batchSize: 64, shuffle: true });
    const got: number[][] = [];
    for (const [x] of loader) {
      got.push(ints(x));
      if (got.length === 3) break;
    }
    expect(got).toEqual(F.partial.first);
    expect(epoch(loader)[0]).toEqual(F.partial.next);
  });

  it('gathers each batch with one index op per tensor (getBatch), not sample by sample', () => {
    let batchCalls = 0;
    let sampleCalls = 0;
    const x = torch.arange(10).reshape(5, 2);
    const inner = new TensorDataset(x, torch.arange(5));
    const spy: Dataset<Tensor[]> = {
      length: 5,
      get: (i) => (sampleCalls++, inner.get(i)),
      getBatch: (idx) => (batchCalls++, inner.getBatch(idx)),
    };
    const batches = [...new DataLoader(spy, { batchSize: 2 })];
    expect([batchCalls, sampleCalls]).toEqual([3, 0]);
    expect(batches.map(([a, b]) => [a.shape, b.toArray()])).toEqual([[[2, 2], [0, 1]], [[2, 2], [2, 3]], [[1, 2], [4]]]);
  });

  it('stacks samples for datasets without getBatch', () => {
    const x = torch.arange(12).reshape(6, 2);
    const plain: Dataset<[Tensor, Tensor]> = { length: 6, get: (i) => [x.select(0, i), torch.tensor(i % 3)] };
    const batches = [...new DataLoader(plain, { batchSize: 4, dropLast: true })];
    expect(batches.length).toBe(1);
    expect(batches[0][0].toArray()).toEqual([[0, 1], [2, 3], [4, 5], [6, 7]]);
    expect(batches[0][1].toArray()).toEqual([0, 1, 2, 0]);
  });

  it('validates its options as PyTorch does', () => {
    expect(() => new DataLoader(ds, { batchSize: 0 })).toThrow(/batchSize should be a positive integer/);
    expect(() => new DataLoader(ds, { shuffle: true, sampler: new SequentialSampler(ds) })).toThrow(/mutually exclusive/);
    expect(() => new DataLoader({} as Dataset)).toThrow(/expected a dataset/);
  });
});

describe('samplers and the validation split', () => {
  it('SequentialSampler and RandomSampler visit every index once', () => {
    expect([...new SequentialSampler(4)]).toEqual([0, 1, 2, 3]);
    torch.manualSeed(3);
    expect([...new RandomSampler(10)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("holds out floor(fraction·N) indices, deterministic from the seed (randperm of a seeded generator)", () => {
    const s = F.split;
    const { train, validation } = splitTrainValidation(60000, s.fraction, s.seed);
    expect(validation.size(0)).toBe(s.nValid);
    expect(train.size(0)).toBe(60000 - s.nValid);
    expect(ints(validation.narrow(0, 0, 20))).toEqual(s.validHead);
    expect(ints(train.narrow(0, 0, 20))).toEqual(s.trainHead);
    const all = ints(torch.cat([train, validation])).sort((a, b) => a - b);
    expect(all.every((v, i) => v === i)).toBe(true);
    expect(ints(splitTrainValidation({ length: 60000 }, s.fraction, s.seed).validation)).toEqual(ints(validation));
    expect(splitTrainValidation(10, 0.25, 0).validation.size(0)).toBe(2);
    expect(() => splitTrainValidation(10, 1, 0)).toThrow(RangeError);
  });

  it("SubsetRandomSampler loads in PyTorch's order", () => {
    const s = F.split;
    const ds = new TensorDataset(torch.arange(60000));
    const { train, validation } = splitTrainValidation(ds, s.fraction, s.seed);
    torch.manualSeed(7);
    const trainLoader = new DataLoader(ds, { batchSize: 64, sampler: new SubsetRandomSampler(train) });
    const validLoader = new DataLoader(ds, { batchSize: 64, sampler: new SubsetRandomSampler(ints(validation)) });
    for (const e of s.subset) expectEpoch(epoch(trainLoader), e);
    expectEpoch(epoch(validLoader), s.subsetValid[0]);
    expect(trainLoader.length).toBe(Math.ceil(54000 / 64));
  });
});
