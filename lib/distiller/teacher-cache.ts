/**
 * A teacher-logit cache: the frozen teacher run once over a dataset (eval mode, no autograd, in the dataset's order),
 * its logits stored per sample on disk, so that distillation reads them back by sample index instead of running the
 * teacher every epoch. Dense (every logit, in float32, float16 or bfloat16) or top-k (the k largest logits per row
 * and their class indices, for {@link topkKdLoss}).
 *
 * The file set, in one folder: `shard-00000.bin`, `shard-00001.bin`, … each holding `samples` consecutive samples as
 * raw little-endian arrays — the values (samples × valueShape, in the cache's dtype) and, for a top-k cache, then the
 * indices (samples × valueShape, int32 or int64) — and `manifest.json` (format version, dtype, k, sample count and
 * shape, classes, shards with their byte sizes and SHA-256, and fingerprints of the teacher and the dataset). Shards are
 * written whole and atomically (temporary name, fsync, rename), the manifest last, the same way: a build that is killed
 * leaves no manifest, and a folder without one never opens as a cache.
 *
 * Reading never loads the whole cache: shards are read whole and kept while they fit `maxResidentBytes` (256 MiB by
 * default), others are read row by row with positioned reads. Each shard's SHA-256 is checked before its first row is
 * served (or all at open with `verify: 'eager'`).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { noGrad } from '../autograd';
import { arange } from '../creation';
import { IndexedDataset, TensorDataset, type Dataset, type Sample } from '../data/dataset';
import { describe, dtypeCode, type Device, type DType } from '../dtype';
import { TorchError } from '../errors';
import { faultPoint } from '../fault';
import { Module } from '../nn/module';
import { stack } from '../ops';
import { writeAtomic } from '../serialization';
import { N, Tensor, tidy, wrap } from '../tensor';

/** The dtypes a cache stores logits (or top-k values) in. */
export type TeacherCacheDtype = 'float32' | 'float16' | 'bfloat16';

/** Options of {@link TeacherCache.build}. */
export interface TeacherCacheBuildOptions {
  /** The stored values' dtype (default 'float32'; read back as float32). */
  dtype?: TeacherCacheDtype;
  /** Keep only the k largest logits per row (along the last dim) and their indices (default: dense, every logit). */
  topK?: number | null;
  /** The dtype the top-k indices are stored in (default 'int32'). */
  indexDtype?: 'int32' | 'int64';
  /** Samples per teacher forward (default 256). */
  batchSize?: number;
  /** Samples per shard file (default: as many as fit in 64 MiB). */
  shardSize?: number;
  /** Where the inputs are sent (default: the device of the teacher's first parameter, else the CPU). */
  device?: Device;
  /** The teacher's architecture name, recorded in the manifest (information only). */
  arch?: string;
  /** Called after each shard is written: samples done and total. */
  progress?: (done: number, total: number) => void;
}

/** Options of {@link TeacherCache.open}. */
export interface TeacherCacheOpenOptions {
  /** The teacher (or its state dict): refused unless its weights are those the cache was built with. */
  teacher?: Module | Record<string, Tensor>;
  /** The dataset: refused unless it is the one the cache was built over (an IndexedDataset is looked through). */
  dataset?: Dataset;
  /** Shard checksums checked at each shard's first use (default 'lazy') or all now ('eager'). */
  verify?: 'lazy' | 'eager';
  /** Shards are kept in memory while their total stays under this many bytes (default 256 MiB); 0 reads rows only. */
  maxResidentBytes?: number;
}

/** The teacher's fingerprint: SHA-256 of each state-dict tensor (name, dtype, shape and bytes), and of the list. */
export interface TeacherFingerprint {
  sha256: string;
  /** `[name, dtype, shape, sha256 of the bytes]` per state-dict entry, in state-dict order. */
  tensors: [string, DType, number[], string][];
}

/**
 * The dataset's fingerprint: its length, the shape and dtype of each member of a sample, the SHA-256 of the labels
 * (member 1 of every sample, in order; null for samples with one member) and the SHA-256 of every member of
 * `sampled` evenly spaced samples (indices ⌊j·(n−1)/(sampled−1)⌋, the first and the last included).
 */
export interface DatasetFingerprint {
  length: number;
  members: { shape: number[]; dtype: DType }[];
  labelsSha256: string | null;
  samplesSha256: string;
  sampled: number;
}

/** One shard file of a cache. */
export interface TeacherCacheShard {
  file: string;
  samples: number;
  bytes: number;
  sha256: string;
}

/** The contents of `manifest.json`. */
export interface TeacherCacheManifest {
  format: 'torchkd-teacher-cache';
  version: number;
  kind: 'dense' | 'topk';
  dtype: TeacherCacheDtype;
  topK: number | null;
  indexDtype: 'int32' | 'int64' | null;
  byteOrder: 'little';
  numSamples: number;
  /** The teacher's logits per sample (the batch dim left out); classes along the last dim. */
  sampleShape: number[];
  numClasses: number;
  shardSize: number;
  shards: TeacherCacheShard[];
  teacher: TeacherFingerprint & { arch: string | null };
  dataset: DatasetFingerprint;
}

/** A top-k lookup: the values (float32) and their class indices (int64), shape (batch, …, k). */
export interface TeacherTopK {
  values: Tensor;
  indices: Tensor;
}

const FORMAT = 'torchkd-teacher-cache';
const VERSION = 1;
const MANIFEST = 'manifest.json';
const SAMPLED = 64;
const DTYPES: readonly TeacherCacheDtype[] = ['float32', 'float16', 'bfloat16'];
const ELEMENT = { float32: 4, float16: 2, bfloat16: 2, int32: 4, int64: 8 } as const;

const shardName = (k: number): string => `shard-${String(k).padStart(5, '0')}.bin`;
const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const prod = (xs: number[]): number => xs.reduce((a, b) => a * b, 1);
const fmtShape = (s: number[]): string => `(${s.join(', ')})`;

function cacheError(message: string): TorchError {
  return new TorchError(`TeacherCache: ${message}`, 'VALUE_ERROR');
}

function checkByteOrder(): void {
  if (os.endianness() !== 'LE') throw cacheError('teacher caches are little-endian files; this machine is big-endian');
}

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number') throw new TypeError(`TeacherCache: expected a positive integer for ${what} but received ${describe(v)}`);
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`TeacherCache: ${what} must be a positive integer, got ${v}`);
  return v;
}

function checkDir(dir: unknown, fn: string): string {
  if (typeof dir !== 'string' || dir === '') throw new TypeError(`TeacherCache.${fn}: expected a folder path but received ${describe(dir)}`);
  return path.resolve(dir);
}

function isDataset(d: unknown): d is Dataset {
  return d !== null && typeof d === 'object' && typeof (d as Dataset).get === 'function' && typeof (d as Dataset).length === 'number';
}

/** Samples [start, end) of a dataset, stacked (one getBatch when the dataset has it). */
function samplesOf(ds: Dataset, start: number, end: number): Sample {
  if (typeof ds.getBatch === 'function') {
    const idx = arange(start, end, { dtype: 'int64' });
    try {
      return ds.getBatch(idx);
    } finally {
      idx.dispose();
    }
  }
  const samples: Sample[] = [];
  for (let i = start; i < end; i++) samples.push(ds.get(i));
  const out = samples[0].map((_, k) => stack(samples.map((s) => s[k])));
  for (const s of samples) for (const t of s) t.dispose();
  return out;
}

function hashTensor(h: ReturnType<typeof createHash>, t: Tensor): void {
  h.update(`${t.dtype}${JSON.stringify(t.shape)}`);
  h.update(N.rawBytes(t.h));
}

/**
 * The logits of a teacher over a dataset, stored on disk and read back by sample index (see the module comment).
 *
 * @example
 * const cache = distiller.TeacherCache.build(teacher, trainSet, 'cache/', { dtype: 'float16' });
 * const kd = new distiller.KnowledgeDistillationPolicy(student, cache, 4.0);  // policy.forward(x, { indices })
 */
export class TeacherCache {
  /** The manifest format version this torchkd writes and reads. */
  static readonly formatVersion = VERSION;
  /** The cache's folder. */
  readonly dir: string;
  /** The manifest as read. */
  readonly manifest: Readonly<TeacherCacheManifest>;
  private readonly verified: boolean[];
  private readonly resident = new Map<number, Buffer>();
  private residentBytes = 0;
  private readonly maxResident: number;
  private readonly valueRow: number[];

  private constructor(dir: string, manifest: TeacherCacheManifest, maxResidentBytes: number) {
    this.dir = dir;
    this.manifest = Object.freeze(manifest);
    this.verified = manifest.shards.map(() => false);
    this.maxResident = maxResidentBytes;
    this.valueRow = manifest.topK === null ? manifest.sampleShape : [...manifest.sampleShape.slice(0, -1), manifest.topK];
  }

  /** Number of samples. */
  get length(): number {
    return this.manifest.numSamples;
  }

  /** Classes of the teacher's logits (their last dim). */
  get numClasses(): number {
    return this.manifest.numClasses;
  }

  /** k of a top-k cache; null for a dense one. */
  get topK(): number | null {
    return this.manifest.topK;
  }

  /** The dtype the values are stored in. */
  get dtype(): TeacherCacheDtype {
    return this.manifest.dtype;
  }

  /** The teacher's logits per sample (without the batch dim). */
  get sampleShape(): number[] {
    return [...this.manifest.sampleShape];
  }

  /**
   * Runs the frozen teacher (eval mode, no autograd) once over `dataset` in its order — member 0 of each sample is
   * the teacher's input — and writes the cache to `dir` (created if needed; a cache already there is replaced, other
   * files are left alone). The teacher's training mode is restored afterwards.
   *
   * @example
   * const cache = distiller.TeacherCache.build(teacher, trainSet, 'cache/', { topK: 8, dtype: 'bfloat16' });
   */
  static build(teacher: Module, dataset: Dataset, dir: string, options: TeacherCacheBuildOptions = {}): TeacherCache {
    if (!(teacher instanceof Module)) throw new TypeError(`TeacherCache.build: expected a Module for the teacher but received ${describe(teacher)}`);
    if (!isDataset(dataset)) throw new TypeError(`TeacherCache.build: expected a dataset (with length and get()) but received ${describe(dataset)}`);
    const out = checkDir(dir, 'build');
    if (options === null || typeof options !== 'object') throw new TypeError(`TeacherCache.build: expected an options object but received ${describe(options)}`);
    const dtype = options.dtype ?? 'float32';
    if (!DTYPES.includes(dtype)) throw new TypeError(`TeacherCache.build: dtype must be one of ${DTYPES.join(', ')}, got ${describe(dtype)}`);
    const topK = options.topK ?? null;
    if (topK !== null) positiveInt(topK, 'topK');
    const indexDtype = options.indexDtype ?? 'int32';
    if (indexDtype !== 'int32' && indexDtype !== 'int64') throw new TypeError(`TeacherCache.build: indexDtype must be 'int32' or 'int64', got ${describe(indexDtype)}`);
    const batchSize = positiveInt(options.batchSize ?? 256, 'batchSize');
    if (options.shardSize !== undefined) positiveInt(options.shardSize, 'shardSize');
    const n = dataset.length;
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`TeacherCache.build: the dataset is empty (length ${n})`);
    checkByteOrder();
    const device = options.device ?? teacher.parameters()[0]?.device ?? 'cpu';

    const fingerprint = { ...TeacherCache.teacherFingerprint(teacher), arch: options.arch ?? null };
    const datasetPrint = TeacherCache.datasetFingerprint(dataset);
    fs.mkdirSync(out, { recursive: true });

    const wasTraining = teacher.training;
    teacher.eval();
    try {
      let sampleShape: number[] | null = null;
      let valueBytes = 0; // per sample
      let indexBytes = 0;
      let shardSize = 0;
      const shards: TeacherCacheShard[] = [];
      let pendingValues: Buffer[] = [];
      let pendingIndices: Buffer[] = [];
      let pending = 0;
      const flush = (): void => {
        const bytes = Buffer.concat([...pendingValues, ...pendingIndices]);
        const file = shardName(shards.length);
        writeAtomic(path.join(out, file), bytes);
        shards.push({ file, samples: pending, bytes: bytes.length, sha256: sha256(bytes) });
        pendingValues = [];
        pendingIndices = [];
        pending = 0;
        faultPoint('cache-shard');
        options.progress?.(shards.reduce((a, s) => a + s.samples, 0), n);
      };
      for (let start = 0; start < n; start += batchSize) {
        const end = Math.min(n, start + batchSize);
        const [values, indices] = tidy(() =>
          noGrad(() => {
            const batch = samplesOf(dataset, start, end);
            const x = device === 'cpu' || batch[0].device === device ? batch[0] : batch[0].to(device);
            const y: unknown = teacher.call(x);
            if (!(y instanceof Tensor)) throw new TypeError(`TeacherCache.build: the teacher must return a Tensor (its logits) but returned ${describe(y)}`);
            if (!y.isFloatingPoint()) throw new TypeError(`TeacherCache.build: the teacher's logits must be floating point, got ${y.dtype}`);
            if (y.ndim < 2 || y.size(0) !== end - start) {
              throw new RangeError(`TeacherCache.build: the teacher returned ${fmtShape(y.shape)} for a batch of ${end - start}; expected (batch, …, classes)`);
            }
            const shape = y.shape.slice(1);
            if (sampleShape === null) {
              const classes = shape[shape.length - 1];
              if (topK !== null && topK > classes) throw new RangeError(`TeacherCache.build: topK ${topK} is more than the teacher's ${classes} classes`);
              sampleShape = shape;
              const row = topK === null ? shape : [...shape.slice(0, -1), topK];
              valueBytes = prod(row) * ELEMENT[dtype];
              indexBytes = topK === null ? 0 : prod(row) * ELEMENT[indexDtype];
              shardSize = options.shardSize ?? Math.max(1, Math.floor((64 << 20) / (valueBytes + indexBytes)));
              removeCacheFiles(out); // the arguments fit the teacher: from here the folder holds no cache until the manifest
            } else if (JSON.stringify(shape) !== JSON.stringify(sampleShape)) {
              throw new RangeError(`TeacherCache.build: the teacher's logits changed shape from ${fmtShape(sampleShape)} to ${fmtShape(shape)} per sample at sample ${start}`);
            }
            if (topK === null) return [N.rawBytes(y.to(dtype).h), null] as const;
            const top = y.topk(topK, -1, true, true);
            return [N.rawBytes(top.values.to(dtype).h), N.rawBytes(top.indices.to(indexDtype).h)] as const;
          }),
        );
        // Into shards of shardSize samples, a batch split where a shard ends.
        let row = 0;
        while (row < end - start) {
          const take = Math.min(shardSize - pending, end - start - row);
          pendingValues.push(values.subarray(row * valueBytes, (row + take) * valueBytes));
          if (indices) pendingIndices.push(indices.subarray(row * indexBytes, (row + take) * indexBytes));
          pending += take;
          row += take;
          if (pending === shardSize) flush();
        }
      }
      if (pending > 0) flush();
      const shape = sampleShape as unknown as number[];
      const manifest: TeacherCacheManifest = {
        format: FORMAT,
        version: VERSION,
        kind: topK === null ? 'dense' : 'topk',
        dtype,
        topK,
        indexDtype: topK === null ? null : indexDtype,
        byteOrder: 'little',
        numSamples: n,
        sampleShape: shape,
        numClasses: shape[shape.length - 1],
        shardSize,
        shards,
        teacher: fingerprint,
        dataset: datasetPrint,
      };
      // Last, atomically: only now does the folder read as a cache.
      writeAtomic(path.join(out, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`);
      return new TeacherCache(out, manifest, 256 << 20);
    } finally {
      teacher.train(wasTraining);
    }
  }

  /**
   * Opens the cache in `dir`: reads and checks the manifest and the shards' sizes; with `teacher` / `dataset`, refuses
   * (a TorchError naming what differs) a cache built with other weights or over other data.
   *
   * @example
   * const cache = distiller.TeacherCache.open('cache/', { dataset: trainSet });
   */
  static open(dir: string, options: TeacherCacheOpenOptions = {}): TeacherCache {
    const where = checkDir(dir, 'open');
    if (options === null || typeof options !== 'object') throw new TypeError(`TeacherCache.open: expected an options object but received ${describe(options)}`);
    const verify = options.verify ?? 'lazy';
    if (verify !== 'lazy' && verify !== 'eager') throw new TypeError(`TeacherCache.open: verify must be 'lazy' or 'eager', got ${describe(verify)}`);
    const maxResident = options.maxResidentBytes ?? 256 << 20;
    if (typeof maxResident !== 'number' || !(maxResident >= 0)) throw new RangeError(`TeacherCache.open: maxResidentBytes must be a number >= 0, got ${describe(maxResident)}`);
    checkByteOrder();
    if (!fs.existsSync(where)) throw cacheError(`no cache in ${where}: the folder does not exist`);
    const file = path.join(where, MANIFEST);
    if (!fs.existsSync(file)) {
      throw cacheError(
        `${where} holds no complete cache: manifest.json is missing (a build that was stopped before its end leaves none). ` +
          'Build it again (torchkd cache-teacher, or TeacherCache.build) into the same folder.',
      );
    }
    let manifest: TeacherCacheManifest;
    try {
      manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as TeacherCacheManifest;
    } catch (e) {
      throw cacheError(`${file} is not readable JSON (${(e as Error).message}); build the cache again`);
    }
    checkManifest(manifest, file);
    for (const s of manifest.shards) {
      const f = path.join(where, s.file);
      if (!fs.existsSync(f)) throw cacheError(`${s.file} is missing from ${where}: the cache is damaged; build it again`);
      const size = fs.statSync(f).size;
      if (size !== s.bytes) throw cacheError(`${s.file} in ${where} has ${size} bytes, the manifest records ${s.bytes}: the cache is damaged; build it again`);
    }
    const cache = new TeacherCache(where, manifest, maxResident);
    if (options.teacher !== undefined) cache.checkTeacher(options.teacher);
    if (options.dataset !== undefined) cache.checkDataset(options.dataset);
    if (verify === 'eager') cache.verify();
    return cache;
  }

  /**
   * The fingerprint of a teacher's weights: every state-dict entry (parameters and buffers) by name, dtype, shape and
   * bytes.
   */
  static teacherFingerprint(teacher: Module | Record<string, Tensor>): TeacherFingerprint {
    const sd = teacher instanceof Module ? teacher.stateDict() : teacher;
    if (sd === null || typeof sd !== 'object') throw new TypeError(`TeacherCache: expected a Module or a state dict for the teacher but received ${describe(teacher)}`);
    const tensors: TeacherFingerprint['tensors'] = [];
    for (const [name, t] of Object.entries(sd)) {
      if (!(t instanceof Tensor)) throw new TypeError(`TeacherCache: state dict entry '${name}' is ${describe(t)}, not a Tensor`);
      tensors.push([name, t.dtype, t.shape, sha256(N.rawBytes(t.h))]);
    }
    return { sha256: sha256(JSON.stringify(tensors)), tensors };
  }

  /** The fingerprint of a dataset (see {@link DatasetFingerprint} for what it covers). */
  static datasetFingerprint(dataset: Dataset): DatasetFingerprint {
    const ds = dataset instanceof IndexedDataset ? (dataset.dataset as Dataset) : dataset;
    if (!isDataset(ds)) throw new TypeError(`TeacherCache: expected a dataset (with length and get()) but received ${describe(dataset)}`);
    const n = ds.length;
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`TeacherCache: the dataset is empty (length ${n})`);
    const first = ds.get(0);
    const members = first.map((t) => ({ shape: t.shape, dtype: t.dtype }));
    for (const t of first) t.dispose();
    let labelsSha256: string | null = null;
    if (members.length >= 2) {
      const h = createHash('sha256');
      if (ds instanceof TensorDataset) {
        h.update(N.rawBytes((ds.tensors as Tensor[])[1].h));
      } else {
        for (let start = 0; start < n; start += 4096) {
          const batch = samplesOf(ds, start, Math.min(n, start + 4096));
          h.update(N.rawBytes(batch[1].h));
          for (const t of batch) t.dispose();
        }
      }
      labelsSha256 = h.digest('hex');
    }
    const sampled = Math.min(SAMPLED, n);
    const h = createHash('sha256');
    for (let j = 0; j < sampled; j++) {
      const i = sampled === 1 ? 0 : Math.floor((j * (n - 1)) / (sampled - 1));
      const sample = ds.get(i);
      for (const t of sample) {
        hashTensor(h, t);
        t.dispose();
      }
    }
    return { length: n, members, labelsSha256, samplesSha256: h.digest('hex'), sampled };
  }

  /** Refuses (TorchError) a teacher whose weights are not those the cache was built with, naming the first difference. */
  checkTeacher(teacher: Module | Record<string, Tensor>): void {
    const now = TeacherCache.teacherFingerprint(teacher);
    const then = this.manifest.teacher;
    if (now.sha256 === then.sha256) return;
    const before = new Map(then.tensors.map((e) => [e[0], e]));
    const after = new Map(now.tensors.map((e) => [e[0], e]));
    let what = 'the state dict lists its tensors in another order';
    for (const [name, dt, shape, digest] of now.tensors) {
      const old = before.get(name);
      if (!old) what = `it has '${name}', which the cache's teacher had not`;
      else if (old[1] !== dt || JSON.stringify(old[2]) !== JSON.stringify(shape)) what = `'${name}' is ${dt} ${fmtShape(shape)}, the cache's teacher had ${old[1]} ${fmtShape(old[2])}`;
      else if (old[3] !== digest) what = `the values of '${name}' differ`;
      else continue;
      break;
    }
    if (what.startsWith('the state dict')) {
      const missing = then.tensors.find((e) => !after.has(e[0]));
      if (missing) what = `it lacks '${missing[0]}'`;
    }
    throw cacheError(
      `the teacher's weights are not those the cache in ${this.dir} was built with (${what}). ` +
        'Build the cache again with this teacher (torchkd cache-teacher), or use the teacher it was built with.',
    );
  }

  /** Refuses (TorchError) a dataset other than the one the cache was built over, saying what differs. */
  checkDataset(dataset: Dataset): void {
    const now = TeacherCache.datasetFingerprint(dataset);
    const then = this.manifest.dataset;
    const members = (m: DatasetFingerprint['members']): string => `[${m.map((x) => `${x.dtype} ${fmtShape(x.shape)}`).join(', ')}]`;
    let what: string | null = null;
    if (now.length !== then.length) what = `the dataset has ${now.length} samples, the cache ${then.length}`;
    else if (members(now.members) !== members(then.members)) what = `the dataset's samples are ${members(now.members)}, the cache's were ${members(then.members)}`;
    else if (now.labelsSha256 !== then.labelsSha256) what = "the dataset's labels (member 1 of each sample) differ";
    else if (now.samplesSha256 !== then.samplesSha256) what = `the dataset's inputs differ (in ${then.sampled} evenly spaced samples hashed)`;
    if (what === null) return;
    throw cacheError(
      `the dataset is not the one the cache in ${this.dir} was built over (${what}). ` +
        'A cache is read by sample index, so it only fits the data (and order) it was built from: build it again over this dataset.',
    );
  }

  /** Checks every shard's SHA-256 now (otherwise each is checked at its first use). */
  verify(): void {
    this.manifest.shards.forEach((_, k) => this.ensureVerified(k));
  }

  /**
   * The dense logits of samples `indices` as float32, shape (batch, …sampleShape). A top-k cache has none
   * (use {@link topk}).
   */
  logits(indices: Tensor | number[]): Tensor {
    if (this.manifest.topK !== null) throw new TypeError(`TeacherCache.logits: the cache in ${this.dir} holds the top-${this.manifest.topK} logits only; use topk()`);
    const rows = this.rowIndices(indices, 'logits');
    const raw = this.gather(rows, 0, prod(this.valueRow) * ELEMENT[this.manifest.dtype]);
    return this.toTensor(raw, this.manifest.dtype, [rows.length, ...this.valueRow], 'float32');
  }

  /** The top-k values (float32) and class indices (int64) of samples `indices`, shape (batch, …, k). */
  topk(indices: Tensor | number[]): TeacherTopK {
    const k = this.manifest.topK;
    if (k === null) throw new TypeError(`TeacherCache.topk: the cache in ${this.dir} is dense; use logits()`);
    const rows = this.rowIndices(indices, 'topk');
    const per = prod(this.valueRow);
    const valueBytes = per * ELEMENT[this.manifest.dtype];
    const indexDtype = this.manifest.indexDtype as 'int32' | 'int64';
    const values = this.toTensor(this.gather(rows, 0, valueBytes), this.manifest.dtype, [rows.length, ...this.valueRow], 'float32');
    const idx = this.toTensor(this.gather(rows, valueBytes, per * ELEMENT[indexDtype]), indexDtype, [rows.length, ...this.valueRow], 'int64');
    return { values, indices: idx };
  }

  /** Drops the shards kept in memory. */
  close(): void {
    this.resident.clear();
    this.residentBytes = 0;
  }

  private rowIndices(indices: Tensor | number[], fn: string): number[] {
    let rows: number[];
    if (indices instanceof Tensor) {
      if (indices.ndim !== 1 || !['int64', 'int32'].includes(indices.dtype)) {
        throw new TypeError(`TeacherCache.${fn}: expected 1-D int64 sample indices but received a ${indices.dtype} tensor of shape ${fmtShape(indices.shape)}`);
      }
      rows = Array.from(indices.data() as ArrayLike<number | bigint>, Number);
    } else if (Array.isArray(indices)) {
      rows = indices;
    } else {
      throw new TypeError(`TeacherCache.${fn}: expected sample indices (a 1-D int64 tensor or an array) but received ${describe(indices)}`);
    }
    const n = this.manifest.numSamples;
    for (const i of rows) {
      if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`TeacherCache.${fn}: sample index ${i} is out of range for the cache's ${n} samples`);
    }
    return rows;
  }

  // The bytes of `rows`, `rowBytes` each, from the section at `section` bytes per sample into each shard (values at
  // 0; a top-k cache's indices after all of its shard's values).
  private gather(rows: number[], sectionPerSample: number, rowBytes: number): Buffer {
    const size = this.manifest.shardSize;
    const out = Buffer.allocUnsafe(rows.length * rowBytes);
    const byShard = new Map<number, number[]>();
    rows.forEach((r, pos) => {
      const k = Math.floor(r / size);
      const list = byShard.get(k);
      if (list) list.push(pos);
      else byShard.set(k, [pos]);
    });
    for (const [k, positions] of byShard) {
      this.ensureVerified(k);
      const shard = this.manifest.shards[k];
      const base = sectionPerSample * shard.samples;
      const buf = this.residentShard(k);
      if (buf) {
        for (const pos of positions) {
          const at = base + (rows[pos] - k * size) * rowBytes;
          buf.copy(out, pos * rowBytes, at, at + rowBytes);
        }
        continue;
      }
      const fd = fs.openSync(path.join(this.dir, shard.file), 'r');
      try {
        for (const pos of positions) {
          const at = base + (rows[pos] - k * size) * rowBytes;
          if (fs.readSync(fd, out, pos * rowBytes, rowBytes, at) !== rowBytes) throw cacheError(`${shard.file} in ${this.dir} is truncated: build the cache again`);
        }
      } finally {
        fs.closeSync(fd);
      }
    }
    return out;
  }

  private toTensor(raw: Buffer, dtype: DType, shape: number[], as: DType): Tensor {
    const numel = prod(shape);
    const t = wrap(N.fromBytes(raw, dtypeCode(dtype), numel, 0, shape, shape.map((_, i) => prod(shape.slice(i + 1)))));
    if (dtype === as) return t;
    const converted = t.to(as);
    t.dispose();
    return converted;
  }

  // A shard kept in memory (read, verified and kept the first time while the budget allows), else null.
  private residentShard(k: number): Buffer | null {
    const kept = this.resident.get(k);
    if (kept) return kept;
    const shard = this.manifest.shards[k];
    if (this.residentBytes + shard.bytes > this.maxResident) return null;
    const bytes = fs.readFileSync(path.join(this.dir, shard.file));
    this.checkDigest(k, sha256(bytes));
    this.resident.set(k, bytes);
    this.residentBytes += bytes.length;
    return bytes;
  }

  private ensureVerified(k: number): void {
    if (this.verified[k]) return;
    if (this.residentShard(k) !== null) return; // read whole and checked
    const shard = this.manifest.shards[k];
    const h = createHash('sha256');
    const fd = fs.openSync(path.join(this.dir, shard.file), 'r');
    try {
      const chunk = Buffer.allocUnsafe(4 << 20);
      for (let at = 0; at < shard.bytes; ) {
        const got = fs.readSync(fd, chunk, 0, Math.min(chunk.length, shard.bytes - at), at);
        if (got <= 0) throw cacheError(`${shard.file} in ${this.dir} is truncated: build the cache again`);
        h.update(chunk.subarray(0, got));
        at += got;
      }
    } finally {
      fs.closeSync(fd);
    }
    this.checkDigest(k, h.digest('hex'));
  }

  private checkDigest(k: number, digest: string): void {
    const shard = this.manifest.shards[k];
    if (digest !== shard.sha256) {
      throw cacheError(`${shard.file} in ${this.dir} is corrupted (its SHA-256 is ${digest}, the manifest records ${shard.sha256}): build the cache again`);
    }
    this.verified[k] = true;
  }
}

/** Removes a previous cache's manifest (first, durably), shards and the temporary files of a killed build. */
function removeCacheFiles(dir: string): void {
  const manifest = path.join(dir, MANIFEST);
  if (fs.existsSync(manifest)) {
    fs.rmSync(manifest);
    try {
      const dfd = fs.openSync(dir, 'r');
      fs.fsyncSync(dfd);
      fs.closeSync(dfd);
    } catch {
      // Some filesystems do not allow fsync on directories.
    }
  }
  for (const f of fs.readdirSync(dir)) {
    if (/^shard-\d{5,}\.bin$/.test(f) || /^\.(shard-\d{5,}\.bin|manifest\.json)\.tmp-\d+-/.test(f)) fs.rmSync(path.join(dir, f), { force: true });
  }
}

function checkManifest(m: TeacherCacheManifest, file: string): void {
  const bad = (what: string): never => {
    throw cacheError(`${file} is not a valid teacher-cache manifest (${what}); build the cache again`);
  };
  if (m === null || typeof m !== 'object' || m.format !== FORMAT) bad(`its format is not '${FORMAT}'`);
  if (typeof m.version !== 'number') bad('no version');
  if (m.version > VERSION) throw cacheError(`${file} is version ${m.version} of the cache format; this torchkd reads version ${VERSION}: update torchkd`);
  if (!DTYPES.includes(m.dtype)) bad(`dtype ${JSON.stringify(m.dtype)}`);
  if (m.byteOrder !== 'little') bad(`byte order ${JSON.stringify(m.byteOrder)}`);
  if (!Array.isArray(m.sampleShape) || m.sampleShape.length < 1 || !m.sampleShape.every((d) => Number.isInteger(d) && d > 0)) bad('sampleShape');
  if (m.numClasses !== m.sampleShape[m.sampleShape.length - 1]) bad('numClasses');
  if (m.topK !== null && !(Number.isInteger(m.topK) && m.topK > 0 && m.topK <= m.numClasses)) bad(`topK ${JSON.stringify(m.topK)}`);
  if (m.topK !== null && m.indexDtype !== 'int32' && m.indexDtype !== 'int64') bad(`indexDtype ${JSON.stringify(m.indexDtype)}`);
  if (!(Number.isInteger(m.numSamples) && m.numSamples > 0 && Number.isInteger(m.shardSize) && m.shardSize > 0)) bad('numSamples/shardSize');
  if (!Array.isArray(m.shards) || m.shards.length !== Math.ceil(m.numSamples / m.shardSize)) bad('shard count');
  const row = m.topK === null ? m.sampleShape : [...m.sampleShape.slice(0, -1), m.topK];
  const perSample = prod(row) * (ELEMENT[m.dtype] + (m.topK === null ? 0 : ELEMENT[m.indexDtype as 'int32' | 'int64']));
  m.shards.forEach((s, k) => {
    const samples = k < m.shards.length - 1 ? m.shardSize : m.numSamples - k * m.shardSize;
    if (s.file !== shardName(k) || s.samples !== samples || s.bytes !== samples * perSample || typeof s.sha256 !== 'string') bad(`shard ${k}`);
  });
  if (!m.teacher || typeof m.teacher.sha256 !== 'string' || !Array.isArray(m.teacher.tensors)) bad('teacher fingerprint');
  if (!m.dataset || typeof m.dataset.length !== 'number' || !Array.isArray(m.dataset.members)) bad('dataset fingerprint');
}
