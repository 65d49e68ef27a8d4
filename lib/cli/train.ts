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
import { ArgumentParser } from 'argparse';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { GradScaler, type GradScalerState } from '../amp';
import { cudnn } from '../backends';
import { cuda, setNumThreads } from '../cuda';
import { getRngState, manualSeed, setRngState } from '../creation';
import { DataLoader } from '../data/dataloader';
import { FashionMNIST, FASHION_MNIST_DEFAULT_ROOT } from '../data/fashion-mnist';
import { TensorDataset } from '../data/dataset';
import { SubsetRandomSampler } from '../data/sampler';
import { splitTrainValidation } from '../data/split';
import { addDistillationArgs, pythonTypes, type DistillationArgs } from '../distiller/args';
import { createKdPolicyFromArgs } from '../distiller/from-args';
import type { KnowledgeDistillationPolicy, Model } from '../distiller/knowledge-distillation';
import { CompressionScheduler } from '../distiller/scheduler';
import { TorchError } from '../errors';
import { ARCHITECTURES, create as createModel } from '../models';
import type { Module } from '../nn/module';
import { MultiStepLR, type SchedulerStateDict } from '../optim/lr-scheduler';
import type { OptimizerStateDict } from '../optim/optimizer';
import { SGD } from '../optim/sgd';
import { load, save, writeAtomic } from '../serialization';
import { Tensor } from '../tensor';
import { Output, progressBar, stdoutOutput } from './progress';
import { MetricsRow, writeReport } from './report';
import { AmpSetup, PassResult, evaluate, metricsRow, trainEpoch } from './trainer';

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
}

/** A usage error: reported without a stack trace. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function intList(v: string): number[] {
  if (v.trim() === '') return [];
  return v.split(',').map((x) => pythonTypes.int(x.trim()));
}

/** The argument parser of `torchkd train`. */
export function trainParser(): ArgumentParser {
  const p = new ArgumentParser({ prog: 'torchkd train', description: 'Train a classifier on Fashion-MNIST, with knowledge distillation (Distiller compress_classifier flags).', exit_on_error: false });
  p.add_argument('--arch', '-a', { metavar: 'ARCH', default: 'simplenet_mnist', choices: [...ARCHITECTURES], help: `model architecture: ${ARCHITECTURES.join(' | ')}` });
  p.add_argument('--data', { metavar: 'DIR', default: FASHION_MNIST_DEFAULT_ROOT, help: 'folder with the Fashion-MNIST IDX files (default: Debian dataset-fashion-mnist)' });
  p.add_argument('--epochs', { type: pythonTypes.int, default: 10, metavar: 'N', help: 'number of epochs' });
  p.add_argument('--lr', '--learning-rate', { type: pythonTypes.float, default: 0.1, metavar: 'LR', dest: 'lr', help: 'initial learning rate' });
  p.add_argument('--momentum', { type: pythonTypes.float, default: 0.9, metavar: 'M' });
  p.add_argument('--weight-decay', '--wd', { type: pythonTypes.float, default: 1e-4, metavar: 'W', dest: 'weight_decay' });
  p.add_argument('-b', '--batch-size', { type: pythonTypes.int, default: 256, metavar: 'N', dest: 'batch_size' });
  p.add_argument('--seed', { type: pythonTypes.int, default: null, help: 'seed for weights, data order and dropout' });
  p.add_argument('--deterministic', '--det', { action: 'store_true', help: 'reproducible run (seed 0 unless --seed)' });
  // null here, so that a resumed run can tell a --device given now (moving the run to another machine) from none.
  p.add_argument('--device', { choices: ['cpu', 'cuda'], default: null, help: "cpu or cuda (default: cpu; with --resume, the saved run's)" });
  p.add_argument('--amp', { choices: ['bf16', 'fp16'], default: null, help: 'mixed precision: torch.autocast in bfloat16, or in float16 with a GradScaler (default: float32)' });
  p.add_argument('--out', '-o', { metavar: 'DIR', default: null, help: 'output folder (default runs/<arch>-<time>)' });
  p.add_argument('--resume', { metavar: 'DIR', default: null, help: 'continue the run saved in DIR (its checkpoint.pt)' });
  p.add_argument('--print-freq', '-p', { type: pythonTypes.int, default: 50, metavar: 'N', dest: 'print_freq' });
  p.add_argument('--validation-split', '--vs', { type: pythonTypes.float, default: 0.1, dest: 'validation_split', help: 'fraction of training data held out for validation' });
  p.add_argument('--force', { action: 'store_true', help: 'allow writing into an existing output folder' });
  p.add_argument('--lr-step-epochs', { type: intList, default: [], dest: 'lr_step_epochs', metavar: 'E1,E2', help: 'epochs at which the learning rate is multiplied by --lr-gamma' });
  p.add_argument('--lr-gamma', { type: pythonTypes.float, default: 0.1, dest: 'lr_gamma' });
  p.add_argument('--teacher-epochs', { type: pythonTypes.int, default: null, dest: 'teacher_epochs', help: 'epochs to train the teacher when --kd-teacher has no --kd-resume (default: --epochs)' });
  p.add_argument('--max-batches', { type: pythonTypes.int, default: null, dest: 'max_batches', help: 'stop each training pass after N minibatches (quick runs)' });
  p.add_argument('--threads', { type: pythonTypes.int, default: null, help: 'libtorch intra-op threads' });
  p.add_argument('--name', { default: null, help: 'run name in the report' });
  addDistillationArgs(p, [...ARCHITECTURES], false);
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
  (ns as TrainArgs & { [GIVEN_DEVICE]?: boolean })[GIVEN_DEVICE] = ns.device !== null; // a symbol: not saved with the args
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
  if (ns.deterministic && ns.seed === null) ns.seed = 0;
  return ns;
}

interface Checkpoint {
  format: string;
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
}

// Set by parseTrainArgs when --device was given on the command line.
const GIVEN_DEVICE = Symbol('--device given');

/** The epoch count of a resumed run: the one given on the command line when it differs from the default. */
function resumedEpochs(given: TrainArgs, saved: TrainArgs): number {
  const defaultEpochs = trainParser().get_default('epochs') as number;
  return given.epochs !== defaultEpochs ? given.epochs : saved.epochs;
}

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

function prepareOut(args: TrainArgs): string {
  if (args.resume) return path.resolve(args.resume);
  const out = path.resolve(args.out ?? path.join('runs', `${args.arch}-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  if (fs.existsSync(out) && fs.readdirSync(out).length > 0 && !args.force) {
    throw new UsageError(`output folder ${out} already exists and is not empty; choose another --out, or pass --force to write into it`);
  }
  fs.mkdirSync(out, { recursive: true });
  return out;
}

function loaders(args: TrainArgs, seed: number): { train: DataLoader<[Tensor, Tensor]>; val: DataLoader<[Tensor, Tensor]> | null; test: DataLoader<[Tensor, Tensor]> } {
  const root = args.data;
  if (!fs.existsSync(path.join(root, 'train-images-idx3-ubyte.gz')) && !fs.existsSync(path.join(root, 'train-images-idx3-ubyte'))) {
    throw new UsageError(
      `Fashion-MNIST not found in ${root}: install Debian's dataset-fashion-mnist package (sudo apt-get install dataset-fashion-mnist) or pass --data DIR with train-images-idx3-ubyte.gz and friends`,
    );
  }
  const train = new FashionMNIST({ root, train: true });
  const test = new FashionMNIST({ root, train: false });
  const bs = args.batch_size;
  // On a GPU, batches come in pinned memory so that the trainer's copies to the device are asynchronous.
  const pinMemory = args.device === 'cuda' && cuda.isAvailable(); // (without a device, training stops with a clear error)
  if (args.validation_split > 0) {
    const split = splitTrainValidation(train, args.validation_split, seed);
    const valSet = new TensorDataset(train.images.indexSelect(0, split.validation), train.labels.indexSelect(0, split.validation));
    return {
      train: new DataLoader(train, { batchSize: bs, sampler: new SubsetRandomSampler(split.train), pinMemory }),
      val: new DataLoader(valSet, { batchSize: bs, pinMemory }),
      test: new DataLoader(test, { batchSize: bs, pinMemory }),
    };
  }
  return {
    train: new DataLoader(train, { batchSize: bs, shuffle: true, pinMemory }),
    val: null,
    test: new DataLoader(test, { batchSize: bs, pinMemory }),
  };
}

/** Limits a loader to the first `n` batches of each pass (for quick runs). */
function limited<T extends [Tensor, Tensor]>(loader: DataLoader<T>, n: number | null): DataLoader<T> {
  if (n === null || n >= loader.length) return loader;
  return new Proxy(loader, {
    get(target, prop, receiver) {
      if (prop === 'length') return n;
      if (prop === Symbol.iterator) {
        return function* limitedIterator() {
          let i = 0;
          for (const b of target) {
            if (i++ >= n) {
              b[0].dispose();
              b[1].dispose();
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

function appendMetrics(out: string, row: MetricsRow): void {
  fs.appendFileSync(path.join(out, 'metrics.jsonl'), `${JSON.stringify(row)}\n`);
}

function summary(row: MetricsRow): string {
  const parts = [`epoch ${row.epoch}`, row.split.padEnd(5), `loss ${row.loss.toFixed(4)}`, `top1 ${row.top1.toFixed(2)}`, `top5 ${row.top5.toFixed(2)}`, `lr ${row.lr.toPrecision(3)}`, `${row.seconds.toFixed(1)}s`];
  if (row.distillLoss !== undefined) parts.splice(3, 0, `objective ${row.objectiveLoss?.toFixed(4)}`, `distill ${row.distillLoss.toFixed(4)}`);
  return parts.join('  ');
}

/** Trains a teacher alone (no distillation) and saves it; returns its test result. */
function trainTeacher(args: TrainArgs, out: string, io: Output): { file: string; test: PassResult } {
  const arch = args.kd_teacher as string;
  const epochs = args.teacher_epochs ?? args.epochs;
  io.line(`teacher: --kd-resume not given, training ${arch} first for ${epochs} epoch(s)`);
  const teacherOut = path.join(out, 'teacher');
  const result = runTraining(
    { ...args, arch, epochs, kd_teacher: null, kd_resume: '', out: teacherOut, resume: null, force: true, name: `teacher ${arch}`, lr_step_epochs: args.lr_step_epochs.filter((e) => e < epochs) },
    io,
  );
  const file = path.join(out, 'teacher.pt');
  fs.copyFileSync(path.join(teacherOut, 'best.pt'), file);
  return { file, test: result.test };
}

// --amp: autocast on the run's device type; float16 also scales the loss (bfloat16 has float32's range, so needs none).
function ampSetup(args: TrainArgs): AmpSetup | null {
  const mode = args.amp ?? null; // runs saved before --amp existed have none
  if (mode === null) return null;
  const deviceType = args.device;
  return { deviceType, dtype: mode === 'bf16' ? 'bfloat16' : 'float16', scaler: mode === 'fp16' ? new GradScaler(deviceType) : null };
}

/** Runs a whole training job (what `torchkd train` does after parsing). */
export function runTraining(args: TrainArgs, io: Output = stdoutOutput()): TrainResult {
  if (args.threads) setNumThreads(args.threads);
  const resuming = args.resume !== null;
  let ck: Checkpoint | null = null;
  if (resuming) {
    const file = path.join(path.resolve(args.resume as string), 'checkpoint.pt');
    if (!fs.existsSync(file)) throw new UsageError(`--resume: no checkpoint.pt in ${args.resume}`);
    try {
      // Read onto the CPU: loadStateDict copies to the model's device, and a run may resume on another machine.
      ck = load(file, { mapLocation: 'cpu' }) as Checkpoint;
    } catch (e) {
      throw new UsageError(`--resume: cannot read ${file}: ${(e as Error).message}`);
    }
    if (!ck || ck.format !== 'torchkd-train-1') throw new UsageError(`--resume: ${file} is not a torchkd train checkpoint`);
    const saved = JSON.parse(ck.args) as TrainArgs;
    // The saved arguments win, except --epochs, which may extend the run, and --device, which may move it (a run
    // saved on a GPU machine continues on the CPU with --device cpu, and the other way round).
    const epochs = resumedEpochs(args, saved);
    const device = (args as TrainArgs & { [GIVEN_DEVICE]?: boolean })[GIVEN_DEVICE] ? args.device : saved.device;
    args = { ...saved, resume: args.resume, epochs, device };
  }
  const out = prepareOut(args);
  const seed = args.seed ?? Math.floor(Math.random() * 2 ** 31);
  if (!resuming) {
    writeAtomic(path.join(out, 'args.json'), JSON.stringify({ ...args, seed }, null, 2));
    fs.rmSync(path.join(out, 'metrics.jsonl'), { force: true });
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

  // Teacher: loaded (--kd-resume), trained here first, or none.
  let teacherSource: TrainResult['teacherSource'] = 'none';
  let teacherTest: PassResult | undefined;
  if (args.kd_teacher) {
    if (args.kd_resume) {
      teacherSource = 'loaded';
      if (!fs.existsSync(args.kd_resume)) throw new UsageError(`--kd-resume: no such file ${args.kd_resume}`);
      io.line(`teacher: ${args.kd_teacher} with weights from ${args.kd_resume}`);
    } else if (fs.existsSync(path.join(out, 'teacher.pt'))) {
      teacherSource = 'trained';
      args = { ...args, kd_resume: path.join(out, 'teacher.pt') };
      io.line(`teacher: ${args.kd_teacher} trained earlier in this run (${args.kd_resume})`);
    } else {
      teacherSource = 'trained';
      const t = trainTeacher(args, out, io);
      teacherTest = t.test;
      args = { ...args, kd_resume: t.file };
      writeAtomic(path.join(out, 'args.json'), JSON.stringify({ ...args, seed }, null, 2));
      manualSeed(seed);
    }
  }

  const data = loaders(args, seed);
  const train = limited(data.train, args.max_batches);
  const model = createModel(args.arch);
  if (args.device === 'cuda') model.to('cuda');
  const optimizer = new SGD(model.parameters(), { lr: args.lr, momentum: args.momentum, weightDecay: args.weight_decay });
  const lrScheduler = new MultiStepLR(optimizer, args.lr_step_epochs, args.lr_gamma);
  const amp = ampSetup(args);
  const scheduler = new CompressionScheduler<Model>(model);
  let policy: KnowledgeDistillationPolicy | null = null;
  let teacher: Module<[Tensor], Tensor> | null = null;
  if (args.kd_teacher) {
    let made;
    try {
      made = createKdPolicyFromArgs(args, model, { createModel: (a) => createModel(a), scheduler, epochs: args.epochs, device: args.device });
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
  if (ck) {
    model.loadStateDict(ck.model);
    optimizer.loadStateDict(ck.optimizer);
    lrScheduler.loadStateDict(ck.lr_scheduler);
    // The KD schedule is rebuilt from the arguments; the saved one is loaded when the run is not being extended
    // (at an epoch boundary the KD policy is inactive either way, so both give the same run).
    if (JSON.parse(ck.args).epochs === args.epochs) scheduler.loadStateDict(JSON.parse(ck.compression_scheduler));
    setRngState(ck.rng_state);
    if (ck.grad_scaler && amp?.scaler) amp.scaler.loadStateDict(ck.grad_scaler);
    startEpoch = ck.epoch;
    bestTop1 = ck.best_top1;
    bestEpoch = ck.best_epoch;
    io.line(`resuming ${out} at epoch ${startEpoch}`);
  }
  io.line(`training ${args.arch} for ${args.epochs} epochs on ${args.device} (batch ${args.batch_size}, lr ${args.lr}, seed ${seed}) -> ${out}`);
  if (amp) io.line(`mixed precision: ${amp.dtype} autocast on ${amp.deviceType}${amp.scaler ? ', loss scaled by a GradScaler' : ''}`);

  for (let epoch = startEpoch; epoch < args.epochs; epoch++) {
    const lr = optimizer.paramGroups[0].lr;
    scheduler.onEpochBegin(epoch, optimizer);
    const bar = progressBar(io, `train ${epoch}`, args.print_freq);
    const tr = trainEpoch({ epoch, model, loader: train, optimizer, scheduler, policy, device: args.device, amp, progress: bar });
    bar.finish();
    const trRow = metricsRow(epoch, 'train', tr, lr);
    appendMetrics(out, trRow);
    io.line(summary(trRow));
    let score = tr.top1;
    if (data.val) {
      const vbar = progressBar(io, `valid ${epoch}`, args.print_freq);
      const vr = evaluate(model, data.val, args.device, vbar, amp);
      vbar.finish();
      const vRow = metricsRow(epoch, 'val', vr, lr);
      appendMetrics(out, vRow);
      io.line(summary(vRow));
      score = vr.top1;
    }
    scheduler.onEpochEnd(epoch, optimizer);
    lrScheduler.step();
    const isBest = score > bestTop1;
    if (isBest) {
      bestTop1 = score;
      bestEpoch = epoch;
    }
    const checkpoint: Checkpoint = {
      format: 'torchkd-train-1',
      epoch: epoch + 1,
      arch: args.arch,
      model: model.stateDict(),
      optimizer: optimizer.stateDict(),
      lr_scheduler: lrScheduler.stateDict(),
      compression_scheduler: JSON.stringify(scheduler.stateDict()),
      rng_state: getRngState(),
      ...(amp?.scaler ? { grad_scaler: amp.scaler.stateDict() } : {}),
      best_top1: bestTop1,
      best_epoch: bestEpoch,
      args: JSON.stringify({ ...args, seed }),
    };
    save(checkpoint, path.join(out, 'checkpoint.pt'));
    if (isBest) save({ state_dict: model.stateDict(), arch: args.arch, epoch, top1: score }, path.join(out, 'best.pt'));
  }

  // Test set, with the last weights (Distiller tests after training too).
  const tbar = progressBar(io, 'test', args.print_freq);
  const test = evaluate(model, data.test, args.device, tbar, amp);
  tbar.finish();
  const testRow = metricsRow(args.epochs - 1, 'test', test, optimizer.paramGroups[0].lr);
  appendMetrics(out, testRow);
  io.line(`test: top1 ${test.top1.toFixed(2)}  top5 ${test.top5.toFixed(2)}  loss ${test.loss.toFixed(4)}`);
  if (teacher && teacherTest === undefined && teacherSource !== 'none') teacherTest = evaluate(teacher, data.test, args.device, undefined, amp);
  const metrics = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as MetricsRow);
  writeReport(path.join(out, 'report.html'), [{ name: args.name ?? `${args.arch}${args.kd_teacher ? ` + KD from ${args.kd_teacher}` : ''}`, metrics }]);
  io.line(`report: ${path.join(out, 'report.html')}`);
  return { out, test, bestTop1, bestEpoch, teacherTest, teacherSource, metrics };
}

/** The `torchkd train` command. */
export async function trainCommand(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(trainParser().format_help());
    return 0;
  }
  runTraining(parseTrainArgs(argv));
  return 0;
}
