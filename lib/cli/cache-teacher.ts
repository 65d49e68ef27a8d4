/**
 * `torchkd cache-teacher`: runs a trained teacher once over the Fashion-MNIST training set and stores its logits as a
 * teacher-logit cache (lib/distiller/teacher-cache.ts), dense or top-k; `torchkd train --kd-teacher-cache DIR` then
 * distils from it without running the teacher. Flags as `torchkd train`'s: the teacher is `--arch`
 * with weights from `--kd-resume`, the data from `--data`, the device from `--device`.
 */
import { ArgumentParser } from 'argparse';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { cuda, setNumThreads } from '../cuda';
import type { Dataset } from '../data/dataset';
import { FashionMNIST, FASHION_MNIST_DEFAULT_ROOT } from '../data/fashion-mnist';
import { pythonTypes } from '../distiller/args';
import { readTeacherCheckpoint } from '../distiller/from-args';
import { KnowledgeDistillationPolicy, type Model } from '../distiller/knowledge-distillation';
import { DistillationLossWeights } from '../distiller/loss-weights';
import type { CompressionScheduler } from '../distiller/scheduler';
import { TeacherCache, type TeacherCacheDtype } from '../distiller/teacher-cache';
import { TorchError } from '../errors';
import { ARCHITECTURES, create as createModel, inputOf } from '../models';
import type { Module } from '../nn/module';
import type { Tensor } from '../tensor';
import { type Output, stdoutOutput } from './progress';
import { type TrainArgs, UsageError } from './train';

/** Parsed `torchkd cache-teacher` options. */
export interface CacheTeacherArgs {
  arch: string;
  kd_resume: string;
  out: string;
  dtype: TeacherCacheDtype;
  top_k: number | null;
  index_dtype: 'int32' | 'int64';
  batch_size: number;
  shard_size: number | null;
  data: string;
  split: 'train' | 'test';
  device: 'cpu' | 'cuda';
  threads: number | null;
}

/** The argument parser of `torchkd cache-teacher`. */
export function cacheTeacherParser(): ArgumentParser {
  const p = new ArgumentParser({
    prog: 'torchkd cache-teacher',
    description: "Run a trained teacher once over Fashion-MNIST and store its logits (dense or top-k) for `torchkd train --kd-teacher-cache`.",
    exit_on_error: false,
  });
  const mnist = ARCHITECTURES.filter((a) => inputOf(a).dataset === 'mnist');
  p.add_argument('--arch', '-a', { metavar: 'ARCH', dest: 'arch', default: null, choices: [...ARCHITECTURES], help: `the teacher's architecture: ${mnist.join(' | ')}` });
  p.add_argument('--kd-resume', { metavar: 'PATH', dest: 'kd_resume', default: null, help: "the teacher's checkpoint (a state dict, or {state_dict: ...}, as torchkd train --kd-resume reads)" });
  p.add_argument('--out', '-o', { metavar: 'DIR', default: null, help: 'the cache folder (created; a cache already there is replaced)' });
  p.add_argument('--dtype', { choices: ['float32', 'float16', 'bfloat16'], default: 'float32', help: 'stored dtype of the logits (default: float32; read back as float32)' });
  p.add_argument('--top-k', { type: pythonTypes.int, default: null, metavar: 'K', dest: 'top_k', help: 'store only the K largest logits per sample and their indices (default: every logit)' });
  p.add_argument('--index-dtype', { choices: ['int32', 'int64'], default: 'int32', dest: 'index_dtype', help: 'dtype of the stored top-k indices (default: int32)' });
  p.add_argument('-b', '--batch-size', { type: pythonTypes.int, default: 256, metavar: 'N', dest: 'batch_size', help: 'samples per teacher forward (default: 256)' });
  p.add_argument('--shard-size', { type: pythonTypes.int, default: null, metavar: 'N', dest: 'shard_size', help: 'samples per shard file (default: as many as fit 64 MiB)' });
  p.add_argument('--data', { metavar: 'DIR', default: FASHION_MNIST_DEFAULT_ROOT, help: 'folder with the Fashion-MNIST IDX files (default: Debian dataset-fashion-mnist)' });
  p.add_argument('--split', { choices: ['train', 'test'], default: 'train', help: 'which set to run the teacher over (default: train, what torchkd train distils on)' });
  p.add_argument('--device', { choices: ['cpu', 'cuda'], default: 'cpu', help: 'where the teacher runs (default: cpu)' });
  p.add_argument('--threads', { type: pythonTypes.int, default: null, metavar: 'N', help: "libtorch intra-op threads (default: libtorch's choice)" });
  return p;
}

/** Parses argv; bad input becomes a UsageError with argparse's message. */
export function parseCacheTeacherArgs(argv: string[]): CacheTeacherArgs {
  const p = cacheTeacherParser();
  let ns: CacheTeacherArgs;
  try {
    const [known, extras] = p.parse_known_args(argv) as [CacheTeacherArgs, string[]];
    if (extras.length) throw new Error(`unrecognized arguments: ${extras.join(' ')}`);
    ns = known;
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replace(/^ArgumentError: /, '')}\n${p.format_usage()}`);
  }
  const check = (ok: boolean, msg: string): void => {
    if (!ok) throw new UsageError(msg);
  };
  // Checked here, not by argparse's `required` (which exits the process itself).
  const missing = [['--arch', ns.arch], ['--kd-resume', ns.kd_resume], ['--out', ns.out]].filter(([, v]) => !v).map(([f]) => f);
  check(missing.length === 0, `the following arguments are required: ${missing.join(', ')}\n${p.format_usage()}`);
  check(ns.top_k === null || ns.top_k > 0, `--top-k must be a positive integer, got ${ns.top_k}`);
  check(ns.batch_size > 0, '--batch-size must be positive');
  check(ns.shard_size === null || ns.shard_size > 0, '--shard-size must be positive');
  check(ns.threads === null || ns.threads > 0, '--threads must be positive');
  check(inputOf(ns.arch).dataset === 'mnist', `--arch ${ns.arch} is a CIFAR-10 model, but the cache is built over Fashion-MNIST (1×28×28)`);
  return ns;
}

/** Builds the cache as the arguments say; returns it. */
export function runCacheTeacher(args: CacheTeacherArgs, io: Output = stdoutOutput()): TeacherCache {
  if (args.threads) setNumThreads(args.threads);
  if (!fs.existsSync(args.kd_resume)) throw new UsageError(`--kd-resume: no such file ${args.kd_resume}`);
  if (args.device === 'cuda' && !cuda.isAvailable()) throw new UsageError('--device cuda: no CUDA device is usable here');
  let dataset: FashionMNIST;
  try {
    dataset = new FashionMNIST({ root: args.data, train: args.split === 'train' });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const teacher = createModel(args.arch);
  if (args.device === 'cuda') teacher.to('cuda');
  try {
    teacher.loadStateDict(readTeacherCheckpoint(args.kd_resume, args.device));
  } catch (e) {
    if (e instanceof TorchError) throw new UsageError(`--kd-resume ${args.kd_resume}: ${e.message.split('\n')[0]}`);
    throw e;
  }
  const what = args.top_k === null ? `dense ${args.dtype}` : `top-${args.top_k} ${args.dtype} (indices ${args.index_dtype})`;
  io.line(`cache-teacher: ${args.arch} from ${args.kd_resume} over ${dataset.length} ${args.split} samples on ${args.device}, ${what} -> ${path.resolve(args.out)}`);
  const t0 = Date.now();
  const cache = TeacherCache.build(teacher, dataset, args.out, {
    dtype: args.dtype,
    topK: args.top_k,
    indexDtype: args.index_dtype,
    batchSize: args.batch_size,
    ...(args.shard_size !== null ? { shardSize: args.shard_size } : {}),
    device: args.device,
    arch: args.arch,
    progress: (done, total) => io.line(`cache-teacher: ${done}/${total} samples written`),
  });
  const bytes = cache.manifest.shards.reduce((a, s) => a + s.bytes, 0);
  io.line(
    `cache-teacher: wrote ${cache.manifest.shards.length} shard(s), ${(bytes / 1e6).toFixed(2)} MB, and manifest.json in ${((Date.now() - t0) / 1000).toFixed(1)} s: ` +
      `torchkd train --kd-teacher-cache ${args.out} ...`,
  );
  return cache;
}

/** The `torchkd cache-teacher` command. */
export async function cacheTeacherCommand(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(cacheTeacherParser().format_help());
    return 0;
  }
  const args = parseCacheTeacherArgs(argv);
  try {
    runCacheTeacher(args);
  } catch (e) {
    // The library's argument errors (a top-k larger than the classes, ...) are usage errors here.
    if (e instanceof RangeError || e instanceof TypeError) throw new UsageError(e.message);
    throw e;
  }
  return 0;
}

/** `torchkd train --kd-teacher-cache DIR`: the manifest is there and readable (checked before a run folder is made). */
export function checkTeacherCacheArg(dir: string): void {
  try {
    TeacherCache.open(dir);
  } catch (e) {
    if (e instanceof TorchError || e instanceof TypeError || e instanceof RangeError) throw new UsageError(`--kd-teacher-cache: ${e.message}`);
    throw e;
  }
}

/**
 * The KD policy of `torchkd train --kd-teacher-cache DIR`, added to the scheduler as `--kd-*` say: the cache opened
 * and checked against the training set (and against `--kd-teacher`/`--kd-resume` when given).
 */
export function teacherCachePolicy(
  args: TrainArgs,
  ctx: { student: Module<[Tensor], Tensor>; scheduler: CompressionScheduler<Model>; dataset: Dataset; io: Output },
): KnowledgeDistillationPolicy {
  const dir = args.kd_teacher_cache as string;
  let cache: TeacherCache;
  try {
    let teacher: Record<string, Tensor> | undefined;
    if (args.kd_teacher && args.kd_resume) {
      const m = createModel(args.kd_teacher);
      m.loadStateDict(readTeacherCheckpoint(args.kd_resume));
      teacher = m.stateDict();
    }
    cache = TeacherCache.open(dir, { dataset: ctx.dataset, ...(teacher ? { teacher } : {}) });
  } catch (e) {
    if (e instanceof TorchError || e instanceof TypeError || e instanceof RangeError) throw new UsageError(`--kd-teacher-cache ${dir}: ${e.message}`);
    throw e;
  }
  const weights = DistillationLossWeights(args.kd_distill_wt, args.kd_student_wt, args.kd_teacher_wt);
  const policy = new KnowledgeDistillationPolicy(ctx.student, cache, args.kd_temp, weights);
  ctx.scheduler.addPolicy(policy, { startingEpoch: args.kd_start_epoch, endingEpoch: args.epochs, frequency: 1 });
  const m = cache.manifest;
  ctx.io.line(
    `distillation: from the teacher cache ${cache.dir} (${m.teacher.arch ?? 'teacher'}, ${m.topK === null ? `dense ${m.dtype}` : `top-${m.topK} ${m.dtype}`}, ${m.numSamples} samples), ` +
      `T=${args.kd_temp}, weights distill ${args.kd_distill_wt} / student ${args.kd_student_wt}, epochs ${args.kd_start_epoch}..${args.epochs - 1}`,
  );
  return policy;
}
