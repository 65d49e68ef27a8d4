/**
 * torch.utils.data's argument checks, word for word: every check of lib/data (DataLoader, TensorDataset,
 * IndexedDataset, the samplers, splitTrainValidation, FashionMNIST, the IDX reader, DistributedSampler) with its class
 * and whole message, both sides of every bound, the defaults, and the small-file paths of FashionMNIST (synthetic IDX
 * files), so that a changed comparison or message fails a test. The orders against PyTorch are in 06-data.test.ts and
 * 11-distributed-sampler.test.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

import * as torch from '../lib/index';
import { TorchError, type Tensor } from '../lib/index';
import {
  DataLoader,
  DistributedSampler,
  FASHION_MNIST_DEFAULT_ROOT,
  FashionMNIST,
  IndexedDataset,
  RandomSampler,
  SequentialSampler,
  SubsetRandomSampler,
  TensorDataset,
  decodeIdx,
  parseIdxHeader,
  readIdx,
  splitTrainValidation,
  type Dataset,
} from '../lib/data/index';
import { HAS_CUDA, NEEDS_NO_CUDA, expectError, idxBytes, itWhen, type Rejection } from './helpers';

function expectCases(cases: Rejection[]): void {
  it.each(cases)('%s', (_title, fn, cls, message) => expectError(fn, cls, message));
}

const ints = (t: Tensor): number[] => Array.from(t.data() as BigInt64Array, Number);
const bad = (v: unknown): never => v as never;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-data-args-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));


/** The warnings emitted while process.emitWarning was mocked, as `type: text`. */
const warnings = (): string[] => (process.emitWarning as unknown as { mock: { calls: unknown[][] } }).mock.calls.map((c) => `${String(c[1])}: ${String(c[0])}`);
afterEach(() => vi.restoreAllMocks());

describe('DataLoader options', () => {
  const ds = new TensorDataset(torch.arange(10));
  const takes = "(it takes 'batchSize', 'shuffle', 'dropLast', 'sampler', 'pinMemory', 'numWorkers')";
  expectCases([
    ['null dataset', () => new DataLoader(bad(null)), TypeError, 'DataLoader: expected a dataset (with length and get()) but received null'],
    ['a number as dataset', () => new DataLoader(bad(5)), TypeError, 'DataLoader: expected a dataset (with length and get()) but received the number 5'],
    ['a dataset without get()', () => new DataLoader(bad({ length: 3 })), TypeError, 'DataLoader: expected a dataset (with length and get()) but received an object (Object)'],
    ['a dataset whose length is not a number', () => new DataLoader(bad({ length: '3', get: () => [] })), TypeError, 'DataLoader: expected a dataset (with length and get()) but received an object (Object)'],
    ['null options', () => new DataLoader(ds, bad(null)), TypeError, 'DataLoader: expected an options object but received null'],
    ['a string as options', () => new DataLoader(ds, bad('x')), TypeError, 'DataLoader: expected an options object but received the string "x"'],
    ['a Python keyword', () => new DataLoader(ds, bad({ batch_size: 4 })), TypeError, `DataLoader: got an unexpected option 'batch_size' ${takes}`],
    ['numWorkers -1', () => new DataLoader(ds, { numWorkers: -1 }), RangeError, 'DataLoader: numWorkers should be a non-negative integer, but got the number -1'],
    ['numWorkers 1.5', () => new DataLoader(ds, { numWorkers: 1.5 }), RangeError, 'DataLoader: numWorkers should be a non-negative integer, but got the number 1.5'],
    ['batchSize 0', () => new DataLoader(ds, { batchSize: 0 }), RangeError, 'DataLoader: batchSize should be a positive integer, but got the number 0'],
    ['batchSize -2', () => new DataLoader(ds, { batchSize: -2 }), RangeError, 'DataLoader: batchSize should be a positive integer, but got the number -2'],
    ['batchSize 2.5', () => new DataLoader(ds, { batchSize: 2.5 }), RangeError, 'DataLoader: batchSize should be a positive integer, but got the number 2.5'],
    ['batchSize as a string', () => new DataLoader(ds, { batchSize: bad('4') }), RangeError, 'DataLoader: batchSize should be a positive integer, but got the string "4"'],
    ['shuffle 1', () => new DataLoader(ds, { shuffle: bad(1) }), TypeError, 'DataLoader: expected a boolean for shuffle but received the number 1'],
    ['dropLast "yes"', () => new DataLoader(ds, { dropLast: bad('yes') }), TypeError, 'DataLoader: expected a boolean for dropLast but received the string "yes"'],
    ['pinMemory 1', () => new DataLoader(ds, { pinMemory: bad(1) }), TypeError, 'DataLoader: expected a boolean for pinMemory but received the number 1'],
    ['sampler with shuffle', () => new DataLoader(ds, { shuffle: true, sampler: new SequentialSampler(ds) }), RangeError, 'DataLoader: the sampler option is mutually exclusive with shuffle'],
    ['a null sampler', () => new DataLoader(ds, { sampler: bad(null) }), TypeError, 'DataLoader: expected a Sampler (with order()) for sampler but received null'],
    ['a sampler without order()', () => new DataLoader(ds, { sampler: bad({ length: 3 }) }), TypeError, 'DataLoader: expected a Sampler (with order()) for sampler but received an object (Object)'],
  ]);

  it('defaults to batches of one, in order, keeping the last batch, unpinned', () => {
    const loader = new DataLoader(ds);
    expect([loader.batchSize, loader.dropLast, loader.pinMemory, loader.dataset]).toEqual([1, false, false, ds]);
    expect(loader.sampler).toBeInstanceOf(SequentialSampler);
    expect([...loader].map(([x]) => x.toArray())).toEqual([[0], [1], [2], [3], [4], [5], [6], [7], [8], [9]]);
    expect(new DataLoader(ds, { shuffle: true }).sampler).toBeInstanceOf(RandomSampler);
    expect(new DataLoader(ds, {}).sampler).toBeInstanceOf(SequentialSampler);
  });

  it('accepts the smallest valid values and an explicit shuffle: false beside a sampler', () => {
    const sampler = new SubsetRandomSampler([4, 2]);
    const loader = new DataLoader(ds, { batchSize: 1, numWorkers: 0, shuffle: false, sampler });
    expect(loader.sampler).toBe(sampler);
    expect(loader.length).toBe(2);
  });

  it('counts and sizes batches: the short last batch kept or dropped, an exact multiple the same either way', () => {
    const sizes = (o: { batchSize: number; dropLast?: boolean }, n = 10): number[] => [...new DataLoader(new TensorDataset(torch.arange(n)), o)].map(([x]) => x.size(0));
    expect(sizes({ batchSize: 3 })).toEqual([3, 3, 3, 1]);
    expect(sizes({ batchSize: 3, dropLast: true })).toEqual([3, 3, 3]);
    expect(sizes({ batchSize: 5 })).toEqual([5, 5]);
    expect(sizes({ batchSize: 5, dropLast: true })).toEqual([5, 5]);
    expect(sizes({ batchSize: 12 })).toEqual([10]);
    expect(sizes({ batchSize: 12, dropLast: true })).toEqual([]);
    expect([new DataLoader(ds, { batchSize: 3 }).length, new DataLoader(ds, { batchSize: 3, dropLast: true }).length]).toEqual([4, 3]);
  });

  it('accepts numWorkers > 0 with a warning and loads the same batches; 0 warns nothing', () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const plain = [...new DataLoader(ds, { batchSize: 4, numWorkers: 0 })].map(([x]) => x.toArray());
    expect(warnings()).toEqual([]);
    const workers = [...new DataLoader(ds, { batchSize: 4, numWorkers: 2 })].map(([x]) => x.toArray());
    expect(warnings()).toEqual(['TorchkdWarning: DataLoader: numWorkers > 0 is ignored; torchkd gathers each batch natively on the calling thread']);
    expect(workers).toEqual(plain);
  });

  itWhen(!HAS_CUDA, NEEDS_NO_CUDA, 'pinMemory without a CUDA device: a warning, as PyTorch gives, and unpinned batches', () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    expect(new DataLoader(ds, { pinMemory: false }).pinMemory).toBe(false);
    expect(warnings()).toEqual([]);
    const loader = new DataLoader(ds, { pinMemory: true, batchSize: 5 });
    expect(loader.pinMemory).toBe(false);
    expect(warnings()).toEqual(["TorchkdWarning: DataLoader: 'pinMemory' is true but no CUDA device is usable, so batches are not pinned"]);
    expect([...loader].map(([x]) => x.isPinned())).toEqual([false, false]);
  });

  it('frees each epoch’s order, also when the epoch is left early', () => {
    const loader = new DataLoader(ds, { batchSize: 2, shuffle: true });
    for (const [x] of loader) x.dispose();
    const before = torch.memory().liveTensors;
    for (const [x] of loader) {
      x.dispose();
      break;
    }
    for (const [x] of loader) x.dispose();
    expect(torch.memory().liveTensors).toBe(before);
  });
});

describe('TensorDataset and IndexedDataset', () => {
  const x = torch.arange(8).reshape(4, 2);
  const y = torch.arange(4);
  const ds = new TensorDataset(x, y);
  expectCases([
    ['no tensors', () => new TensorDataset(), RangeError, 'TensorDataset: expected at least one tensor'],
    ['a number among the tensors', () => new TensorDataset(x, bad(3)), TypeError, 'TensorDataset: expected a Tensor for tensor 1 but received the number 3'],
    ['a 0-d tensor', () => new TensorDataset(x, torch.tensor(1)), RangeError, 'TensorDataset: tensor 1 is 0-d; every tensor needs a first (sample) dimension'],
    ['a 0-d first tensor', () => new TensorDataset(torch.tensor(1)), RangeError, 'TensorDataset: tensor 0 is 0-d; every tensor needs a first (sample) dimension'],
    ['first dimensions that differ', () => new TensorDataset(x, y, torch.arange(3)), RangeError, 'TensorDataset: size mismatch between tensors (tensor 0 has 4 samples, tensor 2 has 3)'],
    ['a fractional index', () => ds.get(1.5), TypeError, 'TensorDataset.get(): expected an integer index but received the number 1.5'],
    ['a string index', () => ds.get(bad('1')), TypeError, 'TensorDataset.get(): expected an integer index but received the string "1"'],
    ['index = length', () => ds.get(4), RangeError, 'TensorDataset.get(): index 4 is out of range for 4 samples'],
    ['index = -length - 1', () => ds.get(-5), RangeError, 'TensorDataset.get(): index -5 is out of range for 4 samples'],
    ['IndexedDataset over null', () => new IndexedDataset(bad(null)), TypeError, 'IndexedDataset: expected a dataset (with length and get()) but received null'],
    ['IndexedDataset over an array', () => new IndexedDataset(bad([x])), TypeError, 'IndexedDataset: expected a dataset (with length and get()) but received an array'],
    ['IndexedDataset over {length}', () => new IndexedDataset(bad({ length: 2 })), TypeError, 'IndexedDataset: expected a dataset (with length and get()) but received an object (Object)'],
    ['IndexedDataset over a string length', () => new IndexedDataset(bad({ length: '2', get: () => [] })), TypeError, 'IndexedDataset: expected a dataset (with length and get()) but received an object (Object)'],
    ['IndexedDataset index = length', () => new IndexedDataset(ds).get(4), RangeError, 'IndexedDataset.get(): index 4 is out of range for 4 samples'],
    ['IndexedDataset fractional index', () => new IndexedDataset(ds).get(0.5), TypeError, 'IndexedDataset.get(): expected an integer index but received the number 0.5'],
  ]);

  it('indexes from either end, as Python does: 0 and length-1, -1 and -length', () => {
    const at = (i: number): unknown[] => ds.get(i).map((t) => t.toArray());
    expect([at(0), at(3), at(-1), at(-4)]).toEqual([[[0, 1], 0], [[6, 7], 3], [[6, 7], 3], [[0, 1], 0]]);
    expect(ds.length).toBe(4);
    expect(ds.tensors).toEqual([x, y]);
  });

  it('gathers batches with indexSelect on every tensor', () => {
    const [bx, by] = ds.getBatch(torch.tensor([3, 0], { dtype: 'int64' }));
    expect([bx.toArray(), by.toArray()]).toEqual([[[6, 7], [0, 1]], [3, 0]]);
  });

  it('IndexedDataset appends the resolved index as a 0-d int64 tensor', () => {
    const ids = new IndexedDataset(ds);
    expect(ids.length).toBe(4);
    expect(ids.dataset).toBe(ds);
    const sample = ids.get(-1);
    expect(sample.length).toBe(3);
    expect([sample[2].dtype, sample[2].shape, sample[2].item()]).toEqual(['int64', [], 3]);
    expect(sample[0].toArray()).toEqual([6, 7]);
  });

  it('IndexedDataset batches: the inner getBatch or stacked samples, then a copy of the indices', () => {
    const plain: Dataset<[Tensor]> = { length: 4, get: (i) => [x.select(0, i)] };
    for (const inner of [ds, plain] as Dataset[]) {
      const indices = torch.tensor([2, 1], { dtype: 'int64' });
      const batch = new IndexedDataset(inner).getBatch(indices);
      expect(batch[0].toArray()).toEqual([[4, 5], [2, 3]]);
      const last = batch[batch.length - 1];
      expect(last).not.toBe(indices);
      indices.dispose();
      expect(last.toArray()).toEqual([2, 1]);
    }
  });
});

describe('samplers', () => {
  expectCases([
    ['SequentialSampler(-1)', () => new SequentialSampler(-1), TypeError, 'SequentialSampler: expected a dataset or a non-negative integer length but received the number -1'],
    ['SequentialSampler(2.5)', () => new SequentialSampler(2.5), TypeError, 'SequentialSampler: expected a dataset or a non-negative integer length but received the number 2.5'],
    ['SequentialSampler(null)', () => new SequentialSampler(bad(null)), TypeError, 'SequentialSampler: expected a dataset or a non-negative integer length but received null'],
    ['SequentialSampler({length: "3"})', () => new SequentialSampler(bad({ length: '3' })), TypeError, 'SequentialSampler: expected a dataset or a non-negative integer length but received an object (Object)'],
    ['RandomSampler(-1)', () => new RandomSampler(-1), TypeError, 'RandomSampler: expected a dataset or a non-negative integer length but received the number -1'],
    ['RandomSampler(true)', () => new RandomSampler(bad(true)), TypeError, 'RandomSampler: expected a dataset or a non-negative integer length but received a boolean true'],
    ['a 2-d index tensor', () => new SubsetRandomSampler(torch.zeros([2, 2], { dtype: 'int64' })), TypeError, 'SubsetRandomSampler: expected a 1-D int64 tensor of indices but received a 2-d int64 tensor'],
    ['a float index tensor', () => new SubsetRandomSampler(torch.zeros(3)), TypeError, 'SubsetRandomSampler: expected a 1-D int64 tensor of indices but received a 1-d float32 tensor'],
    ['a negative index', () => new SubsetRandomSampler([0, 1, -1]), RangeError, 'SubsetRandomSampler: index 2 is the number -1; expected a non-negative integer'],
    ['a fractional index', () => new SubsetRandomSampler([0.5]), RangeError, 'SubsetRandomSampler: index 0 is the number 0.5; expected a non-negative integer'],
    ['a string index', () => new SubsetRandomSampler(bad([1, '2'])), RangeError, 'SubsetRandomSampler: index 1 is the string "2"; expected a non-negative integer'],
    ['a string of indices', () => new SubsetRandomSampler(bad('1,2')), TypeError, 'SubsetRandomSampler: expected an array of indices or an int64 tensor but received the string "1,2"'],
  ]);

  it('take a length or a dataset; 0 is an empty epoch', () => {
    expect([...new SequentialSampler(new TensorDataset(torch.arange(3)))]).toEqual([0, 1, 2]);
    expect(new RandomSampler({ length: 6 }).length).toBe(6);
    expect([new SequentialSampler(0).length, [...new SequentialSampler(0)], [...new RandomSampler(0)]]).toEqual([0, [], []]);
  });

  it('RandomSampler: a seed drawn from the default generator, then randperm of a generator seeded with it', () => {
    torch.manualSeed(11);
    const order = [...new RandomSampler(20)];
    torch.manualSeed(11);
    const again = [...new RandomSampler(20)];
    expect(order).toEqual(again);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    torch.manualSeed(11);
    torch.randint(0, 2, [1]); // another draw first moves the seed the sampler takes
    expect([...new RandomSampler(20)]).not.toEqual(order);
  });

  it('SubsetRandomSampler: indices[randperm(n)] from the default generator; index 0 accepted; a tensor kept as given', () => {
    const idxs = [0, 10, 20, 30, 40];
    torch.manualSeed(5);
    const got = [...new SubsetRandomSampler(idxs)];
    torch.manualSeed(5);
    const perm = ints(torch.randperm(5));
    expect(got).toEqual(perm.map((p) => idxs[p]));
    const t = torch.tensor(idxs, { dtype: 'int64' });
    const s = new SubsetRandomSampler(t);
    expect([s.indices, s.length]).toEqual([t, 5]);
    expect(new SubsetRandomSampler([]).length).toBe(0);
  });
});

describe('splitTrainValidation', () => {
  expectCases([
    ['a negative length', () => splitTrainValidation(-1, 0.1), TypeError, 'splitTrainValidation: expected a dataset or a length but received the number -1'],
    ['a fractional length', () => splitTrainValidation(2.5, 0.1), TypeError, 'splitTrainValidation: expected a dataset or a length but received the number 2.5'],
    ['null', () => splitTrainValidation(bad(null), 0.1), TypeError, 'splitTrainValidation: expected a dataset or a length but received null'],
    ['fraction 1', () => splitTrainValidation(10, 1), RangeError, 'splitTrainValidation: the validation fraction must be in [0, 1) but is the number 1'],
    ['fraction -0.1', () => splitTrainValidation(10, -0.1), RangeError, 'splitTrainValidation: the validation fraction must be in [0, 1) but is the number -0.1'],
    ['fraction NaN', () => splitTrainValidation(10, NaN), RangeError, 'splitTrainValidation: the validation fraction must be in [0, 1) but is NaN'],
    ['fraction as a string', () => splitTrainValidation(10, bad('0.1')), RangeError, 'splitTrainValidation: the validation fraction must be in [0, 1) but is the string "0.1"'],
    ['a fractional seed', () => splitTrainValidation(10, 0.1, 1.5), TypeError, 'splitTrainValidation: expected an integer seed but received the number 1.5'],
    ['a string seed', () => splitTrainValidation(10, 0.1, bad('1')), TypeError, 'splitTrainValidation: expected an integer seed but received the string "1"'],
  ]);

  it('holds out floor(fraction·N): fraction 0 keeps everything, just under 1 holds out all but one', () => {
    const sizes = (n: number, f: number): number[] => {
      const { train, validation } = splitTrainValidation(n, f, 3);
      return [train.size(0), validation.size(0)];
    };
    expect([sizes(10, 0), sizes(10, 0.25), sizes(10, 0.99), sizes(0, 0.5)]).toEqual([[10, 0], [8, 2], [1, 9], [0, 0]]);
    const { train, validation } = splitTrainValidation(10, 0.3, 3);
    expect([...ints(train), ...ints(validation)].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('the seed alone decides (default 0, a bigint the same as its number), and the default generator is untouched', () => {
    const v = (seed?: number | bigint): number[] => ints(splitTrainValidation({ length: 50 }, 0.2, seed).validation);
    expect(v()).toEqual(v(0));
    expect(v(9n)).toEqual(v(9));
    expect(v(9)).not.toEqual(v(0));
    torch.manualSeed(1);
    const expected = torch.rand(3).toArray();
    torch.manualSeed(1);
    splitTrainValidation(50, 0.2, 4);
    expect(torch.rand(3).toArray()).toEqual(expected);
  });
});

describe('the IDX reader', () => {
  expectCases([
    ['fewer than 4 bytes', () => parseIdxHeader(Uint8Array.of(0, 0, 8)), TorchError, "IDX file '<buffer>': truncated: 3 bytes, too short for the 4-byte magic number"],
    ['a non-zero first byte', () => parseIdxHeader(Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 0), 'a'), TorchError, "IDX file 'a': bad magic number 01 00 08 01 (expected 00 00 <type 08|09|0b|0c|0d|0e> <ndim>); is this an IDX file?"],
    ['a non-zero second byte', () => parseIdxHeader(Uint8Array.of(0, 1, 8, 1, 0, 0, 0, 0), 'b'), TorchError, "IDX file 'b': bad magic number 00 01 08 01 (expected 00 00 <type 08|09|0b|0c|0d|0e> <ndim>); is this an IDX file?"],
    ['an unknown type code', () => parseIdxHeader(Uint8Array.of(0, 0, 0x0a, 1, 0, 0, 0, 0), 'c'), TorchError, "IDX file 'c': bad magic number 00 00 0a 01 (expected 00 00 <type 08|09|0b|0c|0d|0e> <ndim>); is this an IDX file?"],
    ['a header cut inside the sizes', () => parseIdxHeader(Uint8Array.of(0, 0, 8, 2, 0, 0, 0, 1, 0, 0, 0)), TorchError, "IDX file '<buffer>': truncated: 11 bytes, too short for a 2-d header"],
    ['gzip magic only in its first byte', () => decodeIdx(Uint8Array.of(0x1f, 0x8c, 8, 1)), TorchError, "IDX file '<buffer>': bad magic number 1f 8c 08 01 (expected 00 00 <type 08|09|0b|0c|0d|0e> <ndim>); is this an IDX file?"],
    ['one 0x1f byte', () => decodeIdx(Uint8Array.of(0x1f)), TorchError, "IDX file '<buffer>': truncated: 1 bytes, too short for the 4-byte magic number"],
    ['gzip magic only in its second byte', () => decodeIdx(Uint8Array.of(0, 0x8b, 8, 1)), TorchError, "IDX file '<buffer>': bad magic number 00 8b 08 01 (expected 00 00 <type 08|09|0b|0c|0d|0e> <ndim>); is this an IDX file?"],
    ['the two gzip magic bytes alone', () => decodeIdx(Uint8Array.of(0x1f, 0x8b)), TorchError, "IDX file '<buffer>': cannot decompress (truncated or corrupt gzip data: unexpected end of file)"],
    ['payload one byte short', () => decodeIdx(idxBytes(0x0b, [2], [0, 1, 0])), TorchError, "IDX file '<buffer>': truncated: the header promises 4 bytes of data for shape [2] but the file holds 3"],
    ['payload one byte long', () => decodeIdx(idxBytes(0x0b, [2], [0, 1, 0, 2, 9])), TorchError, "IDX file '<buffer>': size mismatch: 1 bytes after the 4 bytes of data that shape [2] needs"],
    ['a number as path', () => readIdx(bad(3)), TypeError, 'readIdx(): expected a file path but received number'],
    ['a folder as path', () => readIdx(tmp), TorchError, `IDX file '${tmp}': cannot read it (is a directory)`],
    ['a path through a file', () => readIdx(path.join(__filename, 'x')), TorchError, `IDX file '${path.join(__filename, 'x')}': cannot read it (ENOTDIR: not a directory, open '${path.join(__filename, 'x')}')`],
  ]);

  it('parses the header: type, sizes (big-endian) and where the data starts', () => {
    expect(parseIdxHeader(idxBytes(0x08, [60000, 28, 28]))).toEqual({ dtype: 'uint8', shape: [60000, 28, 28], dataOffset: 16 });
    expect(parseIdxHeader(idxBytes(0x0e, []))).toEqual({ dtype: 'float64', shape: [], dataOffset: 4 });
    expect(parseIdxHeader(Uint8Array.of(0, 0, 0x0c, 1, 1, 2, 3, 4))).toEqual({ dtype: 'int32', shape: [0x01020304], dataOffset: 8 });
  });

  it('decodes every IDX type, big-endian, into its dtype', () => {
    const be = (n: number, write: (b: Buffer) => void): number[] => {
      const b = Buffer.alloc(n);
      write(b);
      return [...b];
    };
    const cases: [number, number[], string, number[]][] = [
      [0x08, [0, 200, 255], 'uint8', [0, 200, 255]],
      [0x09, [0x80, 0xff, 5], 'int8', [-128, -1, 5]],
      [0x0b, be(4, (b) => (b.writeInt16BE(-2, 0), b.writeInt16BE(300, 2))), 'int16', [-2, 300]],
      [0x0c, be(8, (b) => (b.writeInt32BE(-70000, 0), b.writeInt32BE(123456789, 4))), 'int32', [-70000, 123456789]],
      [0x0d, be(8, (b) => (b.writeFloatBE(-1.5, 0), b.writeFloatBE(0.25, 4))), 'float32', [-1.5, 0.25]],
      [0x0e, be(16, (b) => (b.writeDoubleBE(Math.PI, 0), b.writeDoubleBE(-1e300, 8))), 'float64', [Math.PI, -1e300]],
    ];
    for (const [code, payload, dtype, values] of cases) {
      const t = decodeIdx(idxBytes(code, [values.length], payload));
      expect([t.dtype, t.shape, t.toArray()]).toEqual([dtype, [values.length], values]);
    }
    const empty = decodeIdx(idxBytes(0x08, [0, 28]));
    expect([empty.shape, empty.dtype]).toEqual([[0, 28], 'uint8']);
    const gz = decodeIdx(zlib.gzipSync(idxBytes(0x08, [2, 2], [1, 2, 3, 4])), 'x.gz');
    expect(gz.toArray()).toEqual([[1, 2], [3, 4]]);
  });
});

describe('FashionMNIST options and files', () => {
  /** A folder with n synthetic 28×28 images (pixel value = image index × 10 + 5, the first pixel 0 and the last 255). */
  function folder(name: string, files: { images?: Buffer; labels?: Buffer; gzip?: boolean; test?: boolean }): string {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir, { recursive: true });
    const [img, lab] = files.test ? ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'] : ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'];
    const write = (base: string, data: Buffer): void => fs.writeFileSync(path.join(dir, files.gzip ? `${base}.gz` : base), files.gzip ? zlib.gzipSync(data) : data);
    if (files.images) write(img, files.images);
    if (files.labels) write(lab, files.labels);
    return dir;
  }
  const pixels = (n: number): number[] =>
    Array.from({ length: n * 784 }, (_, k) => (k === 0 ? 0 : k === n * 784 - 1 ? 255 : Math.floor(k / 784) * 10 + 5));
  const images = (n: number): Buffer => idxBytes(0x08, [n, 28, 28], pixels(n));
  const labels = (values: number[]): Buffer => idxBytes(0x08, [values.length], values);
  const missingText = (root: string, missing: string): string =>
    `Fashion-MNIST not found in '${root}' (missing ${missing}). Install Debian's package with \`sudo apt-get install dataset-fashion-mnist\` (it fills ${FASHION_MNIST_DEFAULT_ROOT}), ` +
    'or point `--data DIR` (the `root` option) at a folder holding the four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz).';

  it.each([
    ['a number as root', { root: 5 }, TypeError, 'FashionMNIST: root must be a folder path'],
    ['std 0', { root: tmp, std: 0 }, RangeError, 'FashionMNIST: mean must be a number and std a positive number (got 0.1307, 0)'],
    ['std -1', { root: tmp, std: -1 }, RangeError, 'FashionMNIST: mean must be a number and std a positive number (got 0.1307, -1)'],
    ['std NaN', { root: tmp, std: NaN }, RangeError, 'FashionMNIST: mean must be a number and std a positive number (got 0.1307, NaN)'],
    ['std as a string', { root: tmp, std: '1' }, RangeError, 'FashionMNIST: mean must be a number and std a positive number (got 0.1307, 1)'],
    ['mean as a string', { root: tmp, mean: '0' }, RangeError, 'FashionMNIST: mean must be a number and std a positive number (got 0, 0.3081)'],
  ] as const)('%s', (_t, options, cls, message) => expectError(() => new FashionMNIST(bad(options)), cls, message));

  it('names only the missing files, for the split asked for', () => {
    const onlyImages = folder('only-images', { images: images(1), gzip: true });
    expectError(() => new FashionMNIST({ root: onlyImages }), TorchError, missingText(onlyImages, 'train-labels-idx1-ubyte.gz'));
    expectError(() => new FashionMNIST({ root: onlyImages, train: false }), TorchError, missingText(onlyImages, 't10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz'));
    const onlyLabels = folder('only-labels', { labels: labels([1]) });
    expectError(() => new FashionMNIST({ root: onlyLabels }), TorchError, missingText(onlyLabels, 'train-images-idx3-ubyte.gz'));
  });

  it('reads the split asked for, gzip-compressed or plain, and normalises (x/255 − mean)/std in float32', () => {
    const trainDir = folder('train', { images: images(3), labels: labels([9, 0, 4]), gzip: true });
    const ds = new FashionMNIST({ root: trainDir, mean: 0.5, std: 0.25 });
    expect([ds.root, ds.train, ds.mean, ds.std, ds.length]).toEqual([trainDir, true, 0.5, 0.25, 3]);
    expect([ds.images.shape, ds.images.dtype, ds.labels.dtype, ds.labels.toArray()]).toEqual([[3, 1, 28, 28], 'float32', 'int64', [9, 0, 4]]);
    const flat = ds.images.flatten().data() as Float32Array;
    expect([flat[0], flat[flat.length - 1]]).toEqual([-2, 2]);
    const expect15 = Math.fround((Math.fround(Math.fround(15 / 255) - 0.5)) / 0.25);
    expect(flat[784 + 1]).toBe(expect15);
    const testDir = folder('test', { images: images(2), labels: labels([7, 1]), test: true });
    const test = new FashionMNIST({ root: testDir, train: false });
    expect([test.train, test.mean, test.std, test.labels.toArray()]).toEqual([false, 0.1307, 0.3081, [7, 1]]);
    expect(() => new FashionMNIST({ root: testDir })).toThrow(TorchError); // the training files are not there
    const [image, label] = test.get(1);
    expect([image.shape, label.item()]).toEqual([[1, 28, 28], 1]);
  });

  it('refuses files that are not 28×28 uint8 images with one label each', () => {
    const file = (dir: string, base: string): string => path.join(dir, base);
    const wrongSize = folder('wrong-size', { images: idxBytes(0x08, [2, 27, 28], new Array(2 * 27 * 28).fill(0)), labels: labels([1, 2]) });
    expectError(() => new FashionMNIST({ root: wrongSize }), TorchError, `FashionMNIST: '${file(wrongSize, 'train-images-idx3-ubyte')}' holds a uint8 [2,27,28] array, not uint8 [N, 28, 28] images`);
    const wrongWidth = folder('wrong-width', { images: idxBytes(0x08, [1, 28, 27], new Array(28 * 27).fill(0)), labels: labels([1]) });
    expectError(() => new FashionMNIST({ root: wrongWidth }), TorchError, `FashionMNIST: '${file(wrongWidth, 'train-images-idx3-ubyte')}' holds a uint8 [1,28,27] array, not uint8 [N, 28, 28] images`);
    const wrongType = folder('wrong-type', { images: idxBytes(0x09, [1, 28, 28], new Array(784).fill(0)), labels: labels([1]) });
    expectError(() => new FashionMNIST({ root: wrongType }), TorchError, `FashionMNIST: '${file(wrongType, 'train-images-idx3-ubyte')}' holds a int8 [1,28,28] array, not uint8 [N, 28, 28] images`);
    const wrongRank = folder('wrong-rank', { images: idxBytes(0x08, [1, 28, 28, 1], new Array(784).fill(0)), labels: labels([1]) });
    expectError(() => new FashionMNIST({ root: wrongRank }), TorchError, `FashionMNIST: '${file(wrongRank, 'train-images-idx3-ubyte')}' holds a uint8 [1,28,28,1] array, not uint8 [N, 28, 28] images`);
    const fewLabels = folder('few-labels', { images: images(2), labels: labels([1]) });
    expectError(() => new FashionMNIST({ root: fewLabels }), TorchError, `FashionMNIST: '${file(fewLabels, 'train-labels-idx1-ubyte')}' holds [1] labels for 2 images`);
    const labelMatrix = folder('label-matrix', { images: images(2), labels: idxBytes(0x08, [2, 1], [1, 2]) });
    expectError(() => new FashionMNIST({ root: labelMatrix }), TorchError, `FashionMNIST: '${file(labelMatrix, 'train-labels-idx1-ubyte')}' holds [2,1] labels for 2 images`);
  });

  it('lists its ten classes in label order', () => {
    expect(FashionMNIST.classes).toEqual(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
  });
});

describe('DistributedSampler arguments', () => {
  const o = (extra: object): object => ({ numReplicas: 2, rank: 0, ...extra });
  const D = (n: unknown, options: object): DistributedSampler => new DistributedSampler(bad(n), bad(options));
  expectCases([
    ['a negative length', () => D(-1, o({})), TypeError, 'DistributedSampler: expected a dataset or a non-negative integer length but received the number -1'],
    ['a fractional length', () => D(1.5, o({})), TypeError, 'DistributedSampler: expected a dataset or a non-negative integer length but received the number 1.5'],
    ['null', () => D(null, o({})), TypeError, 'DistributedSampler: expected a dataset or a non-negative integer length but received null'],
    ['numReplicas 0', () => D(10, o({ numReplicas: 0 })), RangeError, 'DistributedSampler: numReplicas should be a positive integer, but got the number 0'],
    ['numReplicas 1.5', () => D(10, o({ numReplicas: 1.5 })), RangeError, 'DistributedSampler: numReplicas should be a positive integer, but got the number 1.5'],
    ['rank 0.5', () => D(10, o({ rank: 0.5 })), TypeError, 'DistributedSampler: expected an integer for rank but received the number 0.5'],
    ['rank = numReplicas', () => D(10, o({ rank: 2 })), RangeError, 'DistributedSampler: Invalid rank 2, rank should be in the interval [0, 1]'],
    ['rank -1', () => D(10, o({ rank: -1 })), RangeError, 'DistributedSampler: Invalid rank -1, rank should be in the interval [0, 1]'],
    ['shuffle 1', () => D(10, o({ shuffle: 1 })), TypeError, 'DistributedSampler: expected a boolean for shuffle but received the number 1'],
    ['dropLast "no"', () => D(10, o({ dropLast: 'no' })), TypeError, 'DistributedSampler: expected a boolean for dropLast but received the string "no"'],
    ['seed 0.5', () => D(10, o({ seed: 0.5 })), TypeError, 'DistributedSampler: expected an integer for seed but received the number 0.5'],
    ['seed 2^53', () => D(10, o({ seed: 2 ** 53 })), TypeError, 'DistributedSampler: expected an integer for seed but received the number 9007199254740992'],
    ['an unknown option', () => D(10, o({ epoch: 1 })), TypeError, "DistributedSampler: got an unexpected option 'epoch' (it takes 'numReplicas', 'rank', 'shuffle', 'seed', 'dropLast')"],
    ['setEpoch(1.5)', () => D(10, o({})).setEpoch(1.5), TypeError, 'DistributedSampler.setEpoch: expected an integer but received the number 1.5'],
  ]);

  it('defaults: shuffled, seed 0, epoch 0, the tail padded; the last rank accepted', () => {
    const s = new DistributedSampler(10, { numReplicas: 3, rank: 2 });
    expect([s.shuffle, s.seed, s.epoch, s.dropLast, s.rank, s.numReplicas]).toEqual([true, 0, 0, false, 2, 3]);
    s.setEpoch(4);
    expect(s.epoch).toBe(4);
  });

  it("sizes each rank's share as Python: ceil(n/r), or ceil((n−r)/r) with dropLast unless r divides n", () => {
    const size = (n: number, r: number, dropLast: boolean): [number, number] => {
      const s = new DistributedSampler(n, { numReplicas: r, rank: 0, dropLast });
      return [s.numSamples, s.totalSize];
    };
    expect([size(10, 3, false), size(10, 3, true), size(9, 3, true), size(9, 3, false), size(11, 3, true)]).toEqual([[4, 12], [3, 9], [3, 9], [3, 9], [3, 9]]);
    const tiny = new DistributedSampler(2, { numReplicas: 3, rank: 0, dropLast: true });
    expect(Object.is(tiny.numSamples, 0)).toBe(true);
    expect([...tiny]).toEqual([]);
  });

  it('pads a dataset smaller than the padding by repeating it, as Python does', () => {
    // Python: indices += (indices * math.ceil(padding / len(indices)))[:padding] → [0, 1, 0, 1, 0]
    const ranks = [0, 1, 2, 3, 4].map((rank) => [...new DistributedSampler(2, { numReplicas: 5, rank, shuffle: false })]);
    expect(ranks).toEqual([[0], [1], [0], [1], [0]]);
    const short = [0, 1, 2].map((rank) => [...new DistributedSampler(4, { numReplicas: 3, rank, shuffle: false })]);
    expect(short).toEqual([[0, 3], [1, 0], [2, 1]]);
    const cut = [0, 1, 2].map((rank) => [...new DistributedSampler(5, { numReplicas: 3, rank, shuffle: false, dropLast: true })]);
    expect(cut).toEqual([[0], [1], [2]]);
  });

  it('takes Python’s positional order (numReplicas, rank, shuffle, seed, dropLast)', () => {
    const s = new DistributedSampler(10, 2, 1, false, 3, true);
    expect([s.numReplicas, s.rank, s.shuffle, s.seed, s.dropLast, [...s]]).toEqual([2, 1, false, 3, true, [1, 3, 5, 7, 9]]);
  });
});
