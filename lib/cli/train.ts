/**
 * `torchkd train`: trains a classifier on Fashion-MNIST with optional knowledge distillation, as Distiller's
 * compress_classifier.py does (flags modelled on it, plus every `--kd-*` flag through addDistillationArgs).
 *
 * Output folder: metrics.jsonl (one row per pass), checkpoint.pt (last) and best.pt (best validation top-1), both
 * written atomically, teacher.pt when the teacher was trained here, args.json and report.html. `--resume DIR`
 * continues an interrupted run to the same result as an uninterrupted one (model, optimizer, schedules and the CPU RNG
 * state are in the checkpoint); on a GPU that takes --deterministic, since cuDNN's benchmark mode (Distiller's
 * default) may pick different algorithms in the resumed process.
 */
import { ArgumentParser, HelpFormatter, SUPPRESS } from 'argparse';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { GradScaler, type GradScalerState } from '../amp';
import { cudnn } from '../backends';
import { cuda, setNumThreads } from '../cuda';
import { getRngState, manualSeed, setRngState } from '../creation';
import { DataLoader } from '../data/dataloader';
import { FashionMNIST, FASHION_MNIST_DEFAULT_ROOT } from '../data/fashion-mnist';
import { IndexedDataset, TensorDataset, type Dataset } from '../data/dataset';
import { SubsetRandomSampler } from '../data/sampler';
import { splitTrainValidation } from '../data/split';
import { addDistillationArgs, pythonTypes, type DistillationArgs } from '../distiller/args';
import { createKdPolicyFromArgs } from '../distiller/from-args';
import type { KnowledgeDistillationPolicy, Model } from '../distiller/knowledge-distillation';
import { CompressionScheduler, type CompressionSchedulerState } from '../distiller/scheduler';
import { TorchError } from '../errors';
import { ARCHITECTURES, create as createModel, inputOf } from '../models';
import type { Module } from '../nn/module';
import { MultiStepLR, type SchedulerStateDict } from '../optim/lr-scheduler';
import type { OptimizerStateDict } from '../optim/optimizer';
import { SGD } from '../optim/sgd';
import { load, save, writeAtomic } from '../serialization';
import { Tensor } from '../tensor';
import { Output, progressBar, stdoutOutput } from './progress';
import { MetricsRow, writeReport } from './report';
import { AmpSetup, type EpochProgress, type EvalSums, PassResult, type ProgressFn, evalResult, evaluate, evaluateSums, metricsRow, passResult, trainEpoch } from './trainer';
import { DistRun, type RankEnv, ShardSampler, SubsetDistributedSampler, checkDistributedAvailable, launchRanks, rankFromEnv } from './train-dist';
import { native } from '../binding';
import { packageRoot } from '../loader';
import { UsageError } from './usage-error';
import { checkTeacherCacheArg, teacherCachePolicy } from './cache-teacher';

const N = native();

/** Parsed `torchkd train` options (Python dest names, as Distiller's parser gives them). */
export interface TrainArgs extends DistillationArgs {
  arch: string;
  data: string;
  epochs: number;
  lr: number;
  momentum: number;
  weight_decay: number;
  batch_size: number;
  seed: number | null;
  deterministic: boolean;
  device: 'cpu' | 'cuda';
  /** Mixed precision: autocast in bfloat16, or in float16 with a GradScaler; null for float32. */
  amp: 'bf16' | 'fp16' | null;
  out: string | null;
  resume: string | null;
  print_freq: number;
  validation_split: number;
  force: boolean;
  lr_step_epochs: number[];
  lr_gamma: number;
  teacher_epochs: number | null;
  max_batches: number | null;
  threads: number | null;
  name: string | null;
  /** Ranks of a distributed run on this machine (null: one process, or the job's size when started by a launcher). */
  nproc_per_node: number | null;
  /** The store's port for a distributed run (null: a free one). */
  master_port: number | null;
  /** Seconds a collective of a distributed run may wait for the other ranks. */
  dist_timeout: number;
  /** A teacher-logit cache (`torchkd cache-teacher`) that stands in for the teacher. */
  kd_teacher_cache?: string | null;
}

export { UsageError };

function intList(v: string): number[] {
  if (v.trim() === '') return [];
  return v.split(',').map((x) => pythonTypes.int(x.trim()));
}

/**
 * argparse's ArgumentDefaultsHelpFormatter without its noise: no "(default: null)", "(default: )" or "(default: false)",
 * and no second default where the help text names its own.
 */
class DefaultsHelpFormatter extends (HelpFormatter as unknown as new () => object) {
  _get_help_string(action: { help?: string | null; default?: unknown; option_strings: string[] }): string {
    const help = action.help ?? '';
    const d = action.default;
    const none = d === null || d === undefined || d === '' || d === false || d === SUPPRESS || (Array.isArray(d) && d.length === 0);
    return none || !action.option_strings.length || help.includes('(default') ? help : `${help} (default: %(default)s)`;
  }
}

/** The argument parser of `torchkd train`. */
export function trainParser(): ArgumentParser {
  const p = new ArgumentParser({
    prog: 'torchkd train',
    description: 'Train a classifier on Fashion-MNIST, with knowledge distillation (Distiller compress_classifier flags).',
    exit_on_error: false,
    formatter_class: DefaultsHelpFormatter,
  });
  p.add_argument('--arch', '-a', { metavar: 'ARCH', default: 'simplenet_mnist', choices: [...ARCHITECTURES], help: `model architecture: ${ARCHITECTURES.filter((a) => inputOf(a).dataset === 'mnist').join(' | ')} (the *_cifar models take CIFAR-10 inputs, which train does not load)` });
  p.add_argument('--data', { metavar: 'DIR', default: FASHION_MNIST_DEFAULT_ROOT, help: 'folder with the Fashion-MNIST IDX files (default: Debian dataset-fashion-mnist)' });
  p.add_argument('--epochs', { type: pythonTypes.int, default: 10, metavar: 'N', help: 'number of epochs' });
  p.add_argument('--lr', '--learning-rate', { type: pythonTypes.float, default: 0.1, metavar: 'LR', dest: 'lr', help: 'initial learning rate' });
  p.add_argument('--momentum', { type: pythonTypes.float, default: 0.9, metavar: 'M', help: 'SGD momentum' });
  p.add_argument('--weight-decay', '--wd', { type: pythonTypes.float, default: 1e-4, metavar: 'W', dest: 'weight_decay', help: 'SGD weight decay' });
  p.add_argument('-b', '--batch-size', { type: pythonTypes.int, default: 256, metavar: 'N', dest: 'batch_size', help: 'minibatch size' });
  p.add_argument('--seed', { type: pythonTypes.int, default: null, help: 'seed for weights, data order and dropout' });
  p.add_argument('--deterministic', '--det', { action: 'store_true', help: 'reproducible run (seed 0 unless --seed)' });
  // null here, so that a resumed run can tell a --device given now (moving the run to another machine) from none.
  p.add_argument('--device', { choices: ['cpu', 'cuda'], default: null, help: "cpu or cuda (default: cpu; with --resume, the saved run's)" });
  p.add_argument('--amp', { choices: ['bf16', 'fp16'], default: null, help: 'mixed precision: torch.autocast in bfloat16, or in float16 with a GradScaler (default: float32)' });
  p.add_argument('--out', '-o', { metavar: 'DIR', default: null, help: 'output folder (default: runs/<arch>-<time>)' });
  p.add_argument('--resume', { metavar: 'DIR', default: null, help: 'continue the run saved in DIR (its checkpoint.pt)' });
  p.add_argument('--print-freq', '-p', { type: pythonTypes.int, default: 50, metavar: 'N', dest: 'print_freq', help: 'print a progress line every N minibatches' });
  p.add_argument('--validation-split', '--vs', { type: pythonTypes.float, default: 0.1, metavar: 'FRACTION', dest: 'validation_split', help: 'fraction of training data held out for validation' });
  p.add_argument('--force', { action: 'store_true', help: 'allow writing into an existing output folder' });
  p.add_argument('--lr-step-epochs', { type: intList, default: [], dest: 'lr_step_epochs', metavar: 'E1,E2', help: 'epochs at which the learning rate is multiplied by --lr-gamma' });
  p.add_argument('--lr-gamma', { type: pythonTypes.float, default: 0.1, metavar: 'GAMMA', dest: 'lr_gamma', help: 'learning-rate multiplier at each --lr-step-epochs epoch' });
  p.add_argument('--teacher-epochs', { type: pythonTypes.int, default: null, metavar: 'N', dest: 'teacher_epochs', help: 'epochs to train the teacher when --kd-teacher has no --kd-resume (default: --epochs)' });
  p.add_argument('--max-batches', { type: pythonTypes.int, default: null, metavar: 'N', dest: 'max_batches', help: 'stop each training pass after N minibatches (quick runs)' });
  p.add_argument('--threads', { type: pythonTypes.int, default: null, metavar: 'N', help: "libtorch intra-op threads (default: libtorch's choice)" });
  p.add_argument('--name', { default: null, help: 'run name in the report' });
  p.add_argument('--nproc-per-node', { type: pythonTypes.int, default: null, metavar: 'N', dest: 'nproc_per_node', help: 'train with N processes on this machine (DistributedDataParallel over Gloo; -b is the global batch, B/N per process) (default: 1; with --resume, the saved run\'s)' });
  p.add_argument('--master-port', { type: pythonTypes.int, default: null, metavar: 'P', dest: 'master_port', help: 'port of the rendezvous store of a --nproc-per-node run (default: a free port)' });
  p.add_argument('--dist-timeout', { type: pythonTypes.float, default: 300, metavar: 'S', dest: 'dist_timeout', help: 'seconds a --nproc-per-node run waits for a rank that stopped answering before it fails' });
  addDistillationArgs(p, [...ARCHITECTURES], false);
  p.add_argument('--kd-teacher-cache', { metavar: 'DIR', default: null, dest: 'kd_teacher_cache', help: "distil from the teacher's logits cached in DIR by `torchkd cache-teacher` (the teacher is not run)" });
  return p;
}

/** Parses argv (TypeError-free: bad input becomes a UsageError with argparse's message). */
export function parseTrainArgs(argv: string[]): TrainArgs {
  const p = trainParser();
  let ns: TrainArgs;
  try {
    // parse_known_args: argparse would exit the process itself on unrecognized arguments.
    const [known, extras] = p.parse_known_args(argv) as [TrainArgs, string[]];
    if (extras.length) throw new Error(`unrecognized arguments: ${extras.join(' ')}`);
    ns = known;
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${p.format_usage()}`);
  }
  // Symbols: not saved with the args.
  (ns as TrainArgs & { [GIVEN]?: Set<string> })[GIVEN] = givenDests(argv);
  if (ns.device === null) ns.device = 'cpu';
  const check = (ok: boolean, msg: string): void => {
    if (!ok) throw new UsageError(msg);
  };
  check(ns.epochs > 0, '--epochs must be positive');
  check(ns.batch_size > 0, '--batch-size must be positive');
  check(ns.lr > 0 && Number.isFinite(ns.lr), '--lr must be a positive number');
  check(ns.momentum >= 0 && ns.weight_decay >= 0, '--momentum and --weight-decay must be >= 0');
  check(ns.validation_split >= 0 && ns.validation_split < 1, '--validation-split must be in [0, 1)');
  check(ns.print_freq > 0, '--print-freq must be positive');
  check(ns.kd_temp > 0 && Number.isFinite(ns.kd_temp), '--kd-temperature must be a positive number');
  check(ns.kd_start_epoch >= 0 && ns.kd_start_epoch < ns.epochs, '--kd-start-epoch must be in [0, --epochs)');
  check([ns.kd_distill_wt, ns.kd_student_wt, ns.kd_teacher_wt].every((w) => w >= 0 && Number.isFinite(w)), 'the --kd-*-wt weights must be >= 0');
  check(ns.max_batches === null || ns.max_batches > 0, '--max-batches must be positive');
  check(ns.threads === null || ns.threads > 0, '--threads must be positive');
  check(ns.nproc_per_node === null || ns.nproc_per_node > 0, `--nproc-per-node must be a positive integer but is ${ns.nproc_per_node}`);
  check(ns.master_port === null || (ns.master_port > 0 && ns.master_port <= 65535), `--master-port must be a port number (1-65535) but is ${ns.master_port}`);
  check(ns.dist_timeout > 0 && Number.isFinite(ns.dist_timeout), '--dist-timeout must be a positive number of seconds');
  // Checked against each other before anything is written.
  const given = (ns as TrainArgs & { [GIVEN]?: Set<string> })[GIVEN] as Set<string>;
  if (ns.resume === null) {
    check(
      !ns.kd_teacher || given.has('arch'),
      `--kd-teacher ${ns.kd_teacher} needs the student's --arch too (the student is the model being trained; the teacher only guides it)`,
    );
    check(!ns.kd_teacher_cache || given.has('arch'), "--kd-teacher-cache needs the student's --arch too (the student is the model being trained)");
    check(
      !ns.kd_teacher_cache || !ns.kd_teacher || Boolean(ns.kd_resume),
      '--kd-teacher with --kd-teacher-cache needs --kd-resume (the weights the cache is checked against); or leave --kd-teacher out',
    );
    check(!ns.kd_teacher_cache || ns.kd_teacher_wt === 0, '--kd-teacher-cache: the cached teacher is not trained, so --kd-teacher-wt must be 0');
    const mnist = ARCHITECTURES.filter((a) => inputOf(a).dataset === 'mnist').join(', ');
    for (const [flag, arch] of [['--arch', ns.arch], ['--kd-teacher', ns.kd_teacher]] as const) {
      if (!arch) continue;
      const input = inputOf(arch);
      check(
        input.dataset === 'mnist',
        `${flag} ${arch} is a CIFAR-10 model (${input.shape.join('×')} inputs), but torchkd train trains on Fashion-MNIST (1×28×28): choose one of ${mnist}`,
      );
    }
  }
  if (ns.deterministic && ns.seed === null) ns.seed = 0;
  return ns;
}

interface Checkpoint {
  format: string;
  /** Epochs completed. */
  epoch: number;
  arch: string;
  model: Record<string, Tensor>;
  optimizer: OptimizerStateDict;
  lr_scheduler: SchedulerStateDict;
  compression_scheduler: string;
  rng_state: Tensor;
  /** The GradScaler's state (--amp fp16), in PyTorch's keys. */
  grad_scaler?: GradScalerState;
  best_top1: number;
  best_epoch: number;
  args: string;
  /** The metrics.jsonl rows up to this checkpoint (JSON), so that the file is rewritten from it on resume. */
  metrics?: string;
  /** Set when the run stopped inside epoch `epoch` (SIGINT/SIGTERM): where the epoch stood (JSON of EpochProgress). */
  mid_epoch?: string;
  /** With mid_epoch: the random state the epoch's data order was drawn with. */
  epoch_rng_state?: Tensor;
  /** The number of ranks that trained the run (1: one process). */
  world_size?: number;
  /** With mid_epoch, in a distributed run: every rank's EpochProgress (JSON array, by rank). */
  mid_epoch_ranks?: string;
}

/** Checkpoint formats this version reads (2 adds the metrics rows and mid-epoch state). */
const FORMATS = new Set(['torchkd-train-1', 'torchkd-train-2']);

// Set by parseTrainArgs: the option dests given on the command line.
const GIVEN = Symbol('flags given');

/**
 * The dests of the options present in argv (abbreviations included): argv parsed again with every default replaced by
 * a marker, so whatever differs from it was given.
 */
function givenDests(argv: string[]): Set<string> {
  const marker = Object.freeze({ notGiven: true }); // not a string: argparse runs string defaults through `type`
  const p = trainParser();
  const actions = (p as unknown as { _actions: { dest: string; default: unknown }[] })._actions;
  for (const a of actions) a.default = marker;
  const [ns] = p.parse_known_args(argv) as [Record<string, unknown>, string[]];
  return new Set(Object.entries(ns).filter(([, v]) => v !== marker).map(([k]) => k));
}

/**
 * Flags that may differ when a run is resumed (the rest must match the saved run or be left out): --epochs extends the
 * run, --device moves it to another machine, --data finds the same dataset elsewhere, --threads changes libtorch's
 * thread count (the last bits of results may then differ from an uninterrupted run), --print-freq / --name only
 * change the output, and --master-port / --dist-timeout only how the ranks of a distributed run meet. The number of
 * ranks (--nproc-per-node) stays: it decides each rank's share of every batch and the data order.
 */
export const RESUME_MAY_CHANGE: readonly string[] = ['epochs', 'device', 'data', 'threads', 'print_freq', 'name', 'master_port', 'dist_timeout'];


/** What a finished run reports. */
export interface TrainResult {
  out: string;
  test: PassResult;
  bestTop1: number;
  bestEpoch: number;
  teacherTest?: PassResult;
  teacherSource: 'none' | 'loaded' | 'trained';
  metrics: MetricsRow[];
}

/** A new run's output folder (--out, or runs/<arch>-<time>), refused when it holds files and --force is not given. */
function newOutFolder(args: TrainArgs): string {
  const out = path.resolve(args.out ?? path.join('runs', `${args.arch}-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  if (fs.existsSync(out) && fs.readdirSync(out).length > 0 && !args.force) {
    throw new UsageError(`output folder ${out} already exists and is not empty; choose another --out, or pass --force to write into it`);
  }
  return out;
}

function prepareOut(args: TrainArgs): string {
  if (args.resume) return path.resolve(args.resume);
  const out = newOutFolder(args);
  fs.mkdirSync(out, { recursive: true });
  return out;
}

/** The dataset is there (checked before the output folder is made, and again when loading). */
function checkData(root: string): void {
  if (!fs.existsSync(path.join(root, 'train-images-idx3-ubyte.gz')) && !fs.existsSync(path.join(root, 'train-images-idx3-ubyte'))) {
    throw new UsageError(
      `Fashion-MNIST not found in ${root}: install Debian's dataset-fashion-mnist package (sudo apt-get install dataset-fashion-mnist) or pass --data DIR with train-images-idx3-ubyte.gz and friends`,
    );
  }
}

interface Loaders {
  /** Training batches: [x, y], or [x, y, indices] with a teacher-logit cache. */
  train: DataLoader<[Tensor, Tensor, ...Tensor[]]>;
  val: DataLoader<[Tensor, Tensor]> | null;
  test: DataLoader<[Tensor, Tensor]>;
  /** The training set (a teacher-logit cache is checked against it). */
  trainSet: FashionMNIST;
  /** A distributed run's training sampler (setEpoch before each epoch). */
  sampler?: SubsetDistributedSampler;
}

function loaders(args: TrainArgs, seed: number, D: DistRun | null = null): Loaders {
  const root = args.data;
  checkData(root);
  const train = new FashionMNIST({ root, train: true });
  // With a teacher-logit cache, training batches carry their samples' indices (the cache's rows).
  const trainSource: Dataset<[Tensor, Tensor, ...Tensor[]]> = args.kd_teacher_cache ? new IndexedDataset(train) : train;
  const test = new FashionMNIST({ root, train: false });
  const bs = args.batch_size;
  // On a GPU, batches come in pinned memory so that the trainer's copies to the device are asynchronous.
  const pinMemory = args.device === 'cuda' && cuda.isAvailable(); // (without a device, training stops with a clear error)
  if (D) {
    // Each rank: its share of the (global) batch from a DistributedSampler over the training indices, and a shard
    // of the validation and test sets.
    const split = splitTrainValidation(train, args.validation_split, seed);
    const sampler = new SubsetDistributedSampler(split.train, D.rank, D.worldSize, seed);
    const shard = (n: number): ShardSampler => new ShardSampler(n, D.rank, D.worldSize);
    const valSet = args.validation_split > 0 ? new TensorDataset(train.images.indexSelect(0, split.validation), train.labels.indexSelect(0, split.validation)) : null;
    return {
      train: new DataLoader(trainSource, { batchSize: bs / D.worldSize, sampler, pinMemory }),
      val: valSet ? new DataLoader(valSet, { batchSize: bs, sampler: shard(valSet.length), pinMemory }) : null,
      test: new DataLoader(test, { batchSize: bs, sampler: shard(test.length), pinMemory }),
      trainSet: train,
      sampler,
    };
  }
  if (args.validation_split > 0) {
    const split = splitTrainValidation(train, args.validation_split, seed);
    const valSet = new TensorDataset(train.images.indexSelect(0, split.validation), train.labels.indexSelect(0, split.validation));
    return {
      train: new DataLoader(trainSource, { batchSize: bs, sampler: new SubsetRandomSampler(split.train), pinMemory }),
      val: new DataLoader(valSet, { batchSize: bs, pinMemory }),
      test: new DataLoader(test, { batchSize: bs, pinMemory }),
      trainSet: train,
    };
  }
  return {
    train: new DataLoader(trainSource, { batchSize: bs, shuffle: true, pinMemory }),
    val: null,
    test: new DataLoader(test, { batchSize: bs, pinMemory }),
    trainSet: train,
  };
}

/** Limits a loader to the first `n` batches of each pass (for quick runs). */
function limited<T extends Tensor[]>(loader: DataLoader<T>, n: number | null): DataLoader<T> {
  if (n === null || n >= loader.length) return loader;
  return new Proxy(loader, {
    get(target, prop, receiver) {
      if (prop === 'length') return n;
      if (prop === Symbol.iterator) {
        return function* limitedIterator() {
          let i = 0;
          for (const b of target) {
            if (i++ >= n) {
              for (const t of b) t.dispose();
              break;
            }
            yield b;
          }
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

// metrics.jsonl is rewritten whole (atomically) from the rows of the run so far, so that it always agrees with the
// latest checkpoint.
function writeMetrics(out: string, rows: MetricsRow[]): void {
  writeAtomic(path.join(out, 'metrics.jsonl'), rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

/** Removes temporary files a killed save left behind (.<name>.tmp-<pid>-...), in a run folder and its teacher/. */
function removeLeftovers(out: string): void {
  for (const dir of [out, path.join(out, 'teacher')]) {
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir)) if (/^\..+\.tmp-\d+-/.test(f)) fs.rmSync(path.join(dir, f), { force: true });
  }
}

/** A run stopped by SIGINT/SIGTERM after saving its state: `torchkd train --resume` continues it. */
export class Interrupted extends Error {
  constructor(
    readonly signal: number,
    readonly out: string,
  ) {
    super(`stopped by ${signal === 15 ? 'SIGTERM' : 'SIGINT'}; the run is saved in ${out}: continue it with \`torchkd train --resume ${out}\``);
    this.name = 'Interrupted';
  }
}

function summary(row: MetricsRow): string {
  const parts = [`epoch ${row.epoch}`, row.split.padEnd(5), `loss ${row.loss.toFixed(4)}`, `top1 ${row.top1.toFixed(2)}`, `top5 ${row.top5.toFixed(2)}`, `lr ${row.lr.toPrecision(3)}`, `${row.seconds.toFixed(1)}s`];
  if (row.distillLoss !== undefined) parts.splice(3, 0, `objective ${row.objectiveLoss?.toFixed(4)}`, `distill ${row.distillLoss.toFixed(4)}`);
  return parts.join('  ');
}

/**
 * Trains a teacher alone (no distillation) in `out/teacher/` and saves its best weights as `out/teacher.pt`; returns its
 * test result. A teacher phase that was interrupted is resumed from its own checkpoint.
 */
function trainTeacher(args: TrainArgs, out: string, io: Output, stop: StopFn, D: DistRun | null): { file: string; test: PassResult } {
  const arch = args.kd_teacher as string;
  const epochs = args.teacher_epochs ?? args.epochs;
  const teacherOut = path.join(out, 'teacher');
  const startedBefore = (): boolean => fs.existsSync(path.join(teacherOut, 'args.json'));
  const started = D ? D.agree(startedBefore) : startedBefore();
  io.line(started ? `teacher: resuming the training of ${arch} in ${teacherOut}` : `teacher: --kd-resume not given, training ${arch} first for ${epochs} epoch(s)`);
  // The command line's flags are the student run's: the teacher run has its own (a copy without them).
  const base = JSON.parse(JSON.stringify(args)) as TrainArgs;
  const teacherArgs: TrainArgs = started
    ? { ...base, resume: teacherOut }
    : { ...base, arch, epochs, kd_teacher: null, kd_resume: '', out: teacherOut, resume: null, force: true, name: `teacher ${arch}`, lr_step_epochs: args.lr_step_epochs.filter((e) => e < epochs) };
  let result: TrainResult;
  try {
    result = runTraining(teacherArgs, io, { stop, resumeQuietly: true, dist: D });
  } catch (e) {
    // Resuming the whole run (not the teacher's folder) is what continues it.
    if (e instanceof Interrupted) throw new Interrupted(e.signal, out);
    throw e;
  }
  const file = path.join(out, 'teacher.pt');
  if (!D || D.main) writeAtomic(file, fs.readFileSync(path.join(teacherOut, 'best.pt')));
  D?.barrier(); // every rank loads teacher.pt next
  return { file, test: result.test };
}

/** Polled between steps: the signal that asks the run to stop (0 for none). */
export type StopFn = () => number;

// --amp: autocast on the run's device type; float16 also scales the loss (bfloat16 has float32's range, so needs none).
function ampSetup(args: TrainArgs): AmpSetup | null {
  const mode = args.amp ?? null; // runs saved before --amp existed have none
  if (mode === null) return null;
  const deviceType = args.device;
  return { deviceType, dtype: mode === 'bf16' ? 'bfloat16' : 'float16', scaler: mode === 'fp16' ? new GradScaler(deviceType) : null };
}

/** Options of {@link runTraining} beyond the arguments. */
export interface RunOptions {
  /** Polled between steps and batches; a signal number makes the run save its state and throw {@link Interrupted}. */
  stop?: StopFn;
  /** @internal A teacher phase being resumed inside its run: no restored-configuration line. */
  resumeQuietly?: boolean;
  /**
   * This process as one rank of a distributed run (lib/cli/train-dist.ts): the run trains in DDP on the rank's share
   * of the data, and only rank 0 writes files. `stop` must then be a poll every rank answers alike (DistRun.pollStop).
   */
  dist?: DistRun | null;
}

/** The flags given on the command line of parsed arguments (none for arguments built in code). */
function givenFlags(args: TrainArgs): Set<string> {
  return (args as TrainArgs & { [GIVEN]?: Set<string> })[GIVEN] ?? new Set<string>();
}

/** Why a distributed run cannot use `device` (distributed torchkd train trains CPU processes over Gloo). */
function distributedDeviceError(device: string): string {
  if (!cuda.isAvailable()) return `--device ${device} with --nproc-per-node: no CUDA device is usable on this machine; a distributed run trains CPU processes (leave --device out)`;
  return (
    `--device ${device} with --nproc-per-node: distributed torchkd train runs CPU processes over Gloo; it does not put one process on each GPU ` +
    '(train on one GPU without --nproc-per-node, or write the loop with torch.distributed and nn.parallel.DistributedDataParallel)'
  );
}

/** The saved arguments of a run folder: its checkpoint's, else (stopped before the first one) its args.json. */
function savedRun(dir: string): { ck: Checkpoint | null; saved: TrainArgs } {
  const file = path.join(dir, 'checkpoint.pt');
  if (fs.existsSync(file)) {
    let ck: Checkpoint;
    try {
      // Read onto the CPU: loadStateDict copies to the model's device, and a run may resume on another machine.
      ck = load<Checkpoint>(file, { mapLocation: 'cpu' });
    } catch (e) {
      throw new UsageError(`--resume: cannot read ${file}: ${(e as Error).message}`);
    }
    if (!ck || !FORMATS.has(ck.format)) throw new UsageError(`--resume: ${file} is not a torchkd train checkpoint`);
    return { ck, saved: JSON.parse(ck.args) as TrainArgs };
  }
  const argsFile = path.join(dir, 'args.json');
  if (!fs.existsSync(argsFile)) throw new UsageError(`--resume: ${dir} holds no torchkd run (no checkpoint.pt or args.json)`);
  try {
    return { ck: null, saved: JSON.parse(fs.readFileSync(argsFile, 'utf8')) as TrainArgs };
  } catch (e) {
    throw new UsageError(`--resume: cannot read ${argsFile}: ${(e as Error).message}`);
  }
}

/** The number of ranks a saved run was trained with (runs saved before distributed training had one). */
function savedWorldSize(saved: TrainArgs, ck: Checkpoint | null): number {
  return ck?.world_size ?? saved.nproc_per_node ?? 1;
}

/**
 * The configuration `torchkd train` runs with: the arguments (for --resume, the saved run's with the flags given
 * now) and the number of ranks. Throws a UsageError for flags that conflict with the saved run.
 */
export function planRun(args: TrainArgs): { args: TrainArgs; worldSize: number } {
  if (args.resume === null) return { args, worldSize: args.nproc_per_node ?? 1 };
  const dir = path.resolve(args.resume);
  if (!fs.existsSync(dir)) throw new UsageError(`--resume: no such folder ${dir}`);
  const run = savedRun(dir);
  return { args: resumedArgs(args, run.saved), worldSize: savedWorldSize(run.saved, run.ck) };
}

/** The arguments of a resumed run: the saved ones, with the flags given now that may change; others must agree. */
function resumedArgs(given: TrainArgs, saved: TrainArgs): TrainArgs {
  const flags = (given as TrainArgs & { [GIVEN]?: Set<string> })[GIVEN] ?? new Set<string>();
  const conflicts: string[] = [];
  const changed: Partial<TrainArgs> = {};
  for (const dest of flags) {
    if (dest === 'resume') continue;
    const now = (given as unknown as Record<string, unknown>)[dest];
    let then = (saved as unknown as Record<string, unknown>)[dest];
    if (dest === 'nproc_per_node') then = savedWorldSize(saved, null);
    if (RESUME_MAY_CHANGE.includes(dest)) (changed as Record<string, unknown>)[dest] = now;
    else if (JSON.stringify(now) !== JSON.stringify(then)) conflicts.push(`--${dest.replace(/_/g, '-')} ${JSON.stringify(now)} (the run has ${JSON.stringify(then)})`);
  }
  if (conflicts.length) {
    throw new UsageError(
      `--resume: ${conflicts.join('; ')}: a resumed run keeps its configuration. Leave these out, or start a new run; ` +
        `only ${RESUME_MAY_CHANGE.map((f) => `--${f.replace(/_/g, '-')}`).join(', ')} may change.`,
    );
  }
  return { ...saved, ...changed, resume: given.resume };
}

/** Runs a whole training job (what `torchkd train` does after parsing). */
export function runTraining(args: TrainArgs, io: Output = stdoutOutput(), options: RunOptions = {}): TrainResult {
  const stopSignal = options.stop ?? (() => 0);
  let interrupted = 0;
  const stop = (): boolean => {
    if (interrupted === 0) interrupted = stopSignal();
    return interrupted !== 0;
  };
  const D = options.dist ?? null;
  const main = D === null || D.main;
  const resuming = args.resume !== null;
  let ck: Checkpoint | null = null;
  const givenRanks = givenFlags(args).has('nproc_per_node') ? args.nproc_per_node : null;
  let savedRanks = 1;
  if (resuming) {
    const dir = path.resolve(args.resume as string);
    if (!fs.existsSync(dir)) throw new UsageError(`--resume: no such folder ${dir}`);
    const run = savedRun(dir);
    ck = run.ck;
    savedRanks = savedWorldSize(run.saved, ck);
    args = resumedArgs(args, run.saved);
  }
  const worldSize = D?.worldSize ?? 1;
  if (resuming && savedRanks !== worldSize) {
    throw new UsageError(
      D === null
        ? `--resume: the run was trained by ${savedRanks} processes; continue it with \`torchkd train --resume ${args.resume}\` (which starts them), not in this process`
        : `--resume: the run was trained by ${savedRanks} process(es) but this job has ${worldSize} ranks; a resumed run keeps its number of processes`,
    );
  }
  if (!resuming && givenRanks !== null && givenRanks !== (D?.localWorldSize ?? 1)) {
    throw new UsageError(
      D === null
        ? `--nproc-per-node ${givenRanks}: the ranks are started by the \`torchkd train\` command, not in this process`
        : `--nproc-per-node ${givenRanks} does not match this job's ${D.localWorldSize} processes per node (started by a launcher: leave --nproc-per-node out)`,
    );
  }
  args = { ...args, nproc_per_node: worldSize };
  if (D && args.batch_size % worldSize !== 0) {
    throw new UsageError(`--batch-size ${args.batch_size} is the global batch of the ${worldSize} processes: it must be a multiple of ${worldSize}`);
  }
  if (D && args.device !== 'cpu') throw new UsageError(distributedDeviceError(args.device));
  // Threads first: the thread count decides the last bits of parallel reductions.
  if (args.threads) setNumThreads(args.threads);
  // Inputs checked before the output folder is made, so that a corrected command is not refused for it.
  checkData(args.data);
  if (args.kd_teacher && args.kd_resume && !fs.existsSync(args.kd_resume)) throw new UsageError(`--kd-resume: no such file ${args.kd_resume}`);
  if (args.kd_teacher_cache) checkTeacherCacheArg(args.kd_teacher_cache); // read and checked before anything is written
  // The folder and the seed: rank 0's, for every rank.
  const chosen = (): { out: string; seed: number } => {
    const o = prepareOut(args);
    removeLeftovers(o);
    return { out: o, seed: args.seed ?? Math.floor(Math.random() * 2 ** 31) };
  };
  const { out, seed } = D ? D.agree(chosen) : chosen();
  if (!resuming && main) writeAtomic(path.join(out, 'args.json'), JSON.stringify({ ...args, seed }, null, 2));
  if (resuming && !options.resumeQuietly) {
    const keys = ['arch', 'epochs', 'lr', 'momentum', 'weight_decay', 'batch_size', 'seed', 'device', 'amp', 'threads', 'validation_split', 'max_batches', 'kd_teacher', 'kd_temp', 'nproc_per_node'] as const;
    const shown = keys
      .filter((k) => args[k] !== null && args[k] !== undefined && args[k] !== '' && !(k === 'nproc_per_node' && args[k] === 1))
      .map((k) => `--${k.replace(/_/g, '-')} ${k === 'seed' ? seed : String(args[k])}`);
    io.line(`resume: restored ${shown.join(' ')}`);
  }
  manualSeed(seed);
  // As Distiller's compress_classifier: --deterministic asks cuDNN for deterministic algorithms; otherwise cuDNN may
  // time its algorithms and keep the fastest (input sizes do not change during a run).
  if (args.deterministic) {
    cudnn.deterministic = true;
    cudnn.benchmark = false;
  } else {
    cudnn.deterministic = false; // a fresh process's value, where Distiller ran (runs may share a process here)
    cudnn.benchmark = true;
  }

  // Teacher: loaded (--kd-resume), trained here first (or earlier in this run), or none.
  let teacherSource: TrainResult['teacherSource'] = 'none';
  let teacherTest: PassResult | undefined;
  if (args.kd_teacher && !args.kd_teacher_cache) {
    const trainedEarlier = (): boolean => fs.existsSync(path.join(out, 'teacher.pt'));
    if (args.kd_resume && !(resuming && args.kd_resume === path.join(out, 'teacher.pt'))) {
      teacherSource = 'loaded';
      if (!fs.existsSync(args.kd_resume)) throw new UsageError(`--kd-resume: no such file ${args.kd_resume}`);
      io.line(`teacher: ${args.kd_teacher} with weights from ${args.kd_resume}`);
    } else if (D ? D.agree(trainedEarlier) : trainedEarlier()) {
      teacherSource = 'trained';
      args = { ...args, kd_resume: path.join(out, 'teacher.pt') };
      io.line(`teacher: ${args.kd_teacher} trained earlier in this run (${args.kd_resume})`);
    } else {
      teacherSource = 'trained';
      const t = trainTeacher(args, out, io, () => (stop() ? interrupted : 0), D);
      teacherTest = t.test;
      args = { ...args, kd_resume: t.file };
      if (main) writeAtomic(path.join(out, 'args.json'), JSON.stringify({ ...args, seed }, null, 2));
      manualSeed(seed);
    }
  }

  const data = loaders(args, seed, D);
  const train = limited(data.train, args.max_batches);
  const model = createModel(args.arch);
  if (args.device === 'cuda') model.to('cuda');
  // What trains: the model, or in a distributed run the model in DDP (checkpoints hold the plain model's weights).
  const net = D ? D.wrap(model) : model;
  const optimizer = new SGD(model.parameters(), { lr: args.lr, momentum: args.momentum, weightDecay: args.weight_decay });
  const lrScheduler = new MultiStepLR(optimizer, args.lr_step_epochs, args.lr_gamma);
  const amp = ampSetup(args);
  const scheduler = new CompressionScheduler<Model>(model);
  let policy: KnowledgeDistillationPolicy | null = null;
  let teacher: Module<[Tensor], Tensor> | null = null;
  if (args.kd_teacher_cache) {
    // Each rank reads its own share's rows; the student is the DDP module, as with a live teacher.
    policy = teacherCachePolicy(args, { student: net, scheduler, dataset: data.trainSet, io });
  } else if (args.kd_teacher) {
    let made;
    try {
      made = createKdPolicyFromArgs(args, net, { createModel: (a) => createModel(a), scheduler, epochs: args.epochs, device: args.device });
    } catch (e) {
      if (e instanceof TorchError) throw new UsageError(`--kd-resume ${args.kd_resume}: ${e.message.split('\n')[0]}`);
      throw e;
    }
    policy = made?.policy ?? null;
    teacher = made?.teacher ?? null;
    io.line(`distillation: T=${args.kd_temp}, weights distill ${args.kd_distill_wt} / student ${args.kd_student_wt} / teacher ${args.kd_teacher_wt}, epochs ${args.kd_start_epoch}..${args.epochs - 1}`);
  }

  let startEpoch = 0;
  let bestTop1 = -1;
  let bestEpoch = -1;
  let rows: MetricsRow[] = [];
  let midEpoch: EpochProgress | null = null;
  let resumeRng: Tensor | null = null;
  if (ck) {
    model.loadStateDict(ck.model);
    optimizer.loadStateDict(ck.optimizer);
    lrScheduler.loadStateDict(ck.lr_scheduler);
    // The policies' saved state (the KD policy active mid-epoch) with the schedule built from the arguments: a run
    // extended by --epochs distils in its new epochs as a run started with that many would.
    const savedScheduler = JSON.parse(ck.compression_scheduler) as CompressionSchedulerState;
    scheduler.loadStateDict({ ...savedScheduler, schedule: scheduler.stateDict().schedule });
    if (ck.grad_scaler && amp?.scaler) amp.scaler.loadStateDict(ck.grad_scaler);
    startEpoch = ck.epoch;
    bestTop1 = ck.best_top1;
    bestEpoch = ck.best_epoch;
    rows = ck.metrics ? (JSON.parse(ck.metrics) as MetricsRow[]) : [];
    if (ck.mid_epoch && ck.epoch_rng_state) {
      midEpoch = (D && ck.mid_epoch_ranks ? (JSON.parse(ck.mid_epoch_ranks) as EpochProgress[])[D.rank] : JSON.parse(ck.mid_epoch)) as EpochProgress;
      setRngState(ck.epoch_rng_state); // the epoch's order is drawn again from here
      resumeRng = ck.rng_state;
    } else {
      setRngState(ck.rng_state);
    }
    io.line(`resuming ${out} at epoch ${startEpoch}${midEpoch ? ` (step ${midEpoch.step})` : ''}`);
  }
  // metrics.jsonl holds exactly the rows of the latest checkpoint (rows a killed run wrote after it are dropped).
  if (main) writeMetrics(out, rows);
  const where = D ? `${D.worldSize} processes, DDP over Gloo` : args.device;
  const batch = D ? `${args.batch_size} = ${D.worldSize} × ${args.batch_size / D.worldSize}` : `${args.batch_size}`;
  io.line(`training ${args.arch} for ${args.epochs} epochs on ${where} (batch ${batch}, lr ${args.lr}, seed ${seed}) -> ${out}`);
  if (amp) io.line(`mixed precision: ${amp.dtype} autocast on ${amp.deviceType}${amp.scaler ? ', loss scaled by a GradScaler' : ''}`);

  const checkpoint = (epochsDone: number, mid: { progress: EpochProgress; epochRng: Tensor; ranks: EpochProgress[] | null } | null): Checkpoint => ({
    format: 'torchkd-train-2',
    epoch: epochsDone,
    arch: args.arch,
    model: model.stateDict(),
    optimizer: optimizer.stateDict(),
    lr_scheduler: lrScheduler.stateDict(),
    compression_scheduler: JSON.stringify(scheduler.stateDict()),
    rng_state: getRngState(),
    ...(amp?.scaler ? { grad_scaler: amp.scaler.stateDict() } : {}),
    best_top1: bestTop1,
    best_epoch: bestEpoch,
    args: JSON.stringify({ ...args, resume: null, seed }),
    metrics: JSON.stringify(rows),
    world_size: worldSize,
    ...(mid ? { mid_epoch: JSON.stringify(mid.progress), epoch_rng_state: mid.epochRng } : {}),
    ...(mid?.ranks ? { mid_epoch_ranks: JSON.stringify(mid.ranks) } : {}),
  });
  // A stop inside an epoch saves where it stood (in a distributed run, where every rank stood); `torchkd train
  // --resume` continues from that step.
  const stopInside = (epoch: number, progress: EpochProgress, epochRng: Tensor): never => {
    const ranks = D ? D.gatherProgress(progress) : null;
    if (main) save(checkpoint(epoch, { progress, epochRng, ranks }), path.join(out, 'checkpoint.pt'));
    throw new Interrupted(interrupted, out);
  };
  // An evaluation pass; in a distributed run each rank evaluates its shard and the sums are added over the ranks.
  const evalPass = (m: Module<[Tensor], Tensor>, loader: DataLoader<[Tensor, Tensor]>, bar: ProgressFn | undefined, stoppable: boolean): PassResult | null => {
    if (!D) return stoppable ? evaluate(m, loader, args.device, bar, amp, stop) : evaluate(m, loader, args.device, bar, amp);
    D.syncBuffers(m);
    return evalResult(D.sumEval(evaluateSums(m, loader, args.device, bar, amp) as EvalSums));
  };

  for (let epoch = startEpoch; epoch < args.epochs; epoch++) {
    const lr = optimizer.paramGroups[0].lr;
    const resumedHere = epoch === startEpoch && midEpoch !== null;
    if (!resumedHere) scheduler.onEpochBegin(epoch, optimizer);
    const epochRng = getRngState(); // the state this epoch's data order is drawn with
    const bar = progressBar(io, `train ${epoch}`, args.print_freq);
    const saved = resumeRng;
    data.sampler?.setEpoch(epoch);
    const outcome = trainEpoch({
      epoch,
      model: net,
      loader: train,
      optimizer,
      scheduler,
      policy,
      device: args.device,
      amp,
      progress: bar,
      start: resumedHere ? midEpoch : null,
      resumeRng: resumedHere && saved ? () => setRngState(saved) : undefined,
      stop,
    });
    bar.finish();
    if (outcome.stopped) stopInside(epoch, outcome.progress, epochRng);
    const trained = D ? passResult(D.sumProgress(outcome.progress), policy?.active ?? false) : outcome.result;
    const trRow = metricsRow(epoch, 'train', trained, lr);
    io.line(summary(trRow));
    let score = trained.top1;
    const epochRows = [trRow];
    if (data.val) {
      if (stop()) stopInside(epoch, outcome.progress, epochRng);
      // A stop during validation saves the state at the end of training (the validation loader draws from the
      // generator too): the resumed run redoes the whole pass from there.
      const trainedRng = getRngState();
      const vbar = progressBar(io, `valid ${epoch}`, args.print_freq);
      const vr = evalPass(model, data.val, vbar, true);
      vbar.finish();
      if (vr === null) {
        setRngState(trainedRng);
        stopInside(epoch, outcome.progress, epochRng);
      }
      const vRow = metricsRow(epoch, 'val', vr as PassResult, lr);
      epochRows.push(vRow);
      io.line(summary(vRow));
      score = (vr as PassResult).top1;
    }
    scheduler.onEpochEnd(epoch, optimizer);
    lrScheduler.step();
    const isBest = score > bestTop1;
    if (isBest) {
      bestTop1 = score;
      bestEpoch = epoch;
      // best.pt before the checkpoint that records it: a kill between the two redoes this epoch, which rewrites it.
      if (main) save({ state_dict: model.stateDict(), arch: args.arch, epoch, top1: score }, path.join(out, 'best.pt'));
    }
    rows = [...rows, ...epochRows];
    if (main) {
      save(checkpoint(epoch + 1, null), path.join(out, 'checkpoint.pt'));
      writeMetrics(out, rows);
    }
    if (stop()) throw new Interrupted(interrupted, out); // after the last epoch too: --resume runs the test pass
  }

  // Test set, with the last weights (Distiller tests after training too).
  const tbar = progressBar(io, 'test', args.print_freq);
  const test = evalPass(model, data.test, tbar, true);
  tbar.finish();
  if (test === null) throw new Interrupted(interrupted, out);
  const testRow = metricsRow(args.epochs - 1, 'test', test, optimizer.paramGroups[0].lr);
  rows = [...rows, testRow];
  if (main) writeMetrics(out, rows);
  io.line(`test: top1 ${test.top1.toFixed(2)}  top5 ${test.top5.toFixed(2)}  loss ${test.loss.toFixed(4)}`);
  if (teacher && teacherTest === undefined && teacherSource !== 'none') teacherTest = evalPass(teacher, data.test, undefined, false) as PassResult;
  if (main) writeReport(path.join(out, 'report.html'), [{ name: args.name ?? `${args.arch}${args.kd_teacher_cache ? ' + KD from a teacher cache' : args.kd_teacher ? ` + KD from ${args.kd_teacher}` : ''}`, metrics: rows }]);
  io.line(`report: ${path.join(out, 'report.html')}`);
  return { out, test, bestTop1, bestEpoch, teacherTest, teacherSource, metrics: rows };
}

/**
 * The `torchkd train` command. SIGINT/SIGTERM (Ctrl-C) finish the current step, write a checkpoint and exit with
 * 130/143 and how to resume; a second one exits at once (files are written atomically, so none is left half written).
 * With --nproc-per-node N > 1 (or --resume of a run trained so), it starts N ranks of itself through `torchkd run`'s
 * launcher; with WORLD_SIZE > 1 in the environment (a rank of such a job, or of `torchkd run` / torchrun) it trains
 * as that rank.
 */
export async function trainCommand(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(trainParser().format_help());
    return 0;
  }
  const args = parseTrainArgs(argv);
  const rank = rankFromEnv();
  if (rank !== null) return trainAsRank(args, rank);
  const plan = planRun(args);
  if (plan.worldSize > 1) return launchDistributed(argv, plan.args, plan.worldSize);
  N.trapSignals(true);
  try {
    runTraining(args, stdoutOutput(), { stop: () => N.pendingSignal() });
    return 0;
  } catch (e) {
    if (e instanceof Interrupted) {
      process.stderr.write(`\n${e.message}\n`);
      return 128 + e.signal;
    }
    throw e;
  } finally {
    N.trapSignals(false);
  }
}

/**
 * Starts the ranks of a distributed run, after checking what can be checked here (so that bad input is one clear
 * error, before any rank starts or anything is written).
 */
async function launchDistributed(argv: string[], args: TrainArgs, worldSize: number): Promise<number> {
  checkDistributedAvailable();
  if (args.device !== 'cpu') throw new UsageError(distributedDeviceError(args.device));
  if (args.batch_size % worldSize !== 0) {
    throw new UsageError(`--batch-size ${args.batch_size} is the global batch of the ${worldSize} processes: it must be a multiple of ${worldSize}`);
  }
  checkData(args.data);
  if (args.kd_teacher && args.kd_resume && !fs.existsSync(args.kd_resume)) throw new UsageError(`--kd-resume: no such file ${args.kd_resume}`);
  const rankArgv = [...argv];
  // Every rank gets the same folder (a default one is named here, once).
  if (args.resume === null) {
    const out = newOutFolder(args);
    if (args.out === null) rankArgv.push('--out', out);
  }
  return launchRanks({
    argv: rankArgv,
    nproc: worldSize,
    masterPort: args.master_port,
    timeout: args.dist_timeout,
    command: [process.execPath, [path.join(packageRoot(), 'bin', 'torchkd.js'), 'train']],
  });
}

/** Trains as one rank of a job: only rank 0 prints and writes; a stop is agreed by all ranks at each poll. */
function trainAsRank(args: TrainArgs, rank: RankEnv): number {
  const D = DistRun.init(rank, args.dist_timeout);
  N.trapSignals(true);
  try {
    runTraining(args, D.main ? stdoutOutput() : { line: () => undefined }, { stop: () => D.pollStop(N.pendingSignal()), dist: D });
    D.finish();
    return 0;
  } catch (e) {
    if (e instanceof Interrupted) {
      if (D.main) process.stderr.write(`\n${e.message}\n`);
      return 128 + e.signal;
    }
    throw e;
  } finally {
    N.trapSignals(false);
  }
}
