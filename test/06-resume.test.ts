/**
 * `torchkd train` stopped and resumed in this process (runTraining's `stop` hook is what SIGINT/SIGTERM drive): a KD
 * run (teacher trained in the same run, then the student) is stopped at steps and evaluation batches of both phases,
 * sometimes stopped again while resuming, and continued with a bare `--resume` until it finishes; every file it wrote
 * must equal the uninterrupted run's. A run folder holding what a kill leaves behind (a temporary file, metrics rows
 * past the checkpoint) resumes to the same result too. test/06-crash.test.ts does the same with real kills in child
 * processes; this suite runs the resume logic in-process, where mutation testing can see it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { Interrupted, parseTrainArgs, planRun, runTraining, UsageError } from '../lib/cli/train';
import type { Output } from '../lib/cli/progress';
import { type Ck, expectBestIsBest, expectSameRun, expectSameTensors, rows } from './run-files';
import { trainEpoch } from '../lib/cli/trainer';
import { CompressionScheduler } from '../lib/distiller/scheduler';
import { DataLoader, TensorDataset } from '../lib/data';

const HAS_DATA = fs.existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-resume-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Teacher 1 epoch, student 3 epochs with a learning-rate step, 3 minibatches of 256 per epoch, validation (1200
// images) and the test pass (10000).
const RUN = [
  '--arch', 'mlp_small_mnist', '--kd-teacher', 'mlp_small_mnist', '--teacher-epochs', '1', '--epochs', '3',
  '--max-batches', '3', '-b', '256', '--vs', '0.02', '--seed', '5', '--threads', '2', '--print-freq', '100',
  '--lr-step-epochs', '1', '--lr-gamma', '0.5', '--kd-temp', '3',
];

function quiet(): Output & { lines: string[] } {
  const lines: string[] = [];
  return { lines, line: (t: string) => void lines.push(t) };
}

/** A stop hook that answers `signal` at its n-th poll (1-based) and 0 before; counts its polls. */
function stopAt(n: number, signal = 2): { stop: () => number; polls: () => number } {
  let polls = 0;
  return {
    stop: () => (++polls >= n ? signal : 0),
    polls: () => polls,
  };
}

/** Runs to the end, or to an Interrupted; returns the signal it stopped with (0: finished). */
function runUntil(argv: string[], n: number, signal = 2): number {
  try {
    runTraining(parseTrainArgs(argv), quiet(), { stop: stopAt(n, signal).stop });
    return 0;
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    expect(e.signal).toBe(signal);
    expect(e.message).toMatch(new RegExp(`stopped by ${signal === 15 ? 'SIGTERM' : 'SIGINT'}; the run is saved in .*: continue it with \`torchkd train --resume `));
    return e.signal;
  }
}

const ref = path.join(tmp, 'reference');
let totalPolls = 0;
/** The poll a fraction of the way through the reference run (at least the first). */
const at = (f: number): number => Math.max(1, Math.round(f * totalPolls));

// What `torchkd train` plans before anything runs (planRun, also where the launcher learns how many ranks to start):
// the saved run's arguments with the flags given now, and its number of processes, from a checkpoint or, for a run
// stopped before its first one, from args.json; each kind of unusable folder is a UsageError naming it.
describe('planning a resumed run', () => {
  const base = { arch: 'mlp_small_mnist', epochs: 3, lr: 0.1, seed: 5, kd_temp: 3, nproc_per_node: null as number | null };
  const folder = (name: string, files: Record<string, string | Buffer | object>): string => {
    const dir = path.join(tmp, 'plan', name);
    fs.mkdirSync(dir, { recursive: true });
    for (const [f, v] of Object.entries(files)) {
      if (f === 'checkpoint.pt' && typeof v === 'object' && !Buffer.isBuffer(v)) torch.save(v as never, path.join(dir, f));
      else fs.writeFileSync(path.join(dir, f), v as string | Buffer);
    }
    return dir;
  };
  const plan = (argv: string[]) => planRun(parseTrainArgs(argv));
  const usage = (argv: string[]): string => {
    try {
      plan(argv);
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      return (e as Error).message;
    }
    throw new Error('planRun did not refuse');
  };

  it('a new run: its own arguments, one process unless --nproc-per-node says more', () => {
    expect(plan(['--arch', 'mlp_small_mnist']).worldSize).toBe(1);
    const p = plan(['--arch', 'mlp_small_mnist', '--nproc-per-node', '3', '--epochs', '7']);
    expect(p.worldSize).toBe(3);
    expect(p.args.epochs).toBe(7);
    expect(p.args.resume).toBeNull();
  });

  it('from a checkpoint: the saved arguments, the world size the checkpoint records, the flags that may change', () => {
    const dir = folder('ck', { 'checkpoint.pt': { format: 'torchkd-train-2', args: JSON.stringify({ ...base, nproc_per_node: 1 }), world_size: 2 } });
    const p = plan(['--resume', dir, '--epochs', '5', '--print-freq', '7']);
    expect(p.worldSize).toBe(2);
    expect(p.args).toMatchObject({ arch: 'mlp_small_mnist', epochs: 5, print_freq: 7, lr: 0.1, seed: 5, kd_temp: 3, resume: dir });
    // A checkpoint of the first format (no world_size): the saved --nproc-per-node, else one process.
    const v1 = folder('ck-v1', { 'checkpoint.pt': { format: 'torchkd-train-1', args: JSON.stringify({ ...base, nproc_per_node: 4 }) } });
    expect(plan(['--resume', v1]).worldSize).toBe(4);
    const old = folder('ck-old', { 'checkpoint.pt': { format: 'torchkd-train-1', args: JSON.stringify(base) } });
    expect(plan(['--resume', old]).worldSize).toBe(1);
    // Its --nproc-per-node compared as the number of processes it ran with (none saved: one), not as the saved null.
    expect(plan(['--resume', old, '--nproc-per-node', '1']).worldSize).toBe(1);
    expect(usage(['--resume', old, '--nproc-per-node', '2'])).toMatch(/^--resume: --nproc-per-node 2 \(the run has 1\)/);
    // Given again with the saved value: no conflict; another value: refused, naming both.
    const two = folder('ck-2', { 'checkpoint.pt': { format: 'torchkd-train-2', args: JSON.stringify({ ...base, nproc_per_node: 2 }), world_size: 2 } });
    expect(plan(['--resume', two, '--nproc-per-node', '2', '--kd-temp', '3']).worldSize).toBe(2);
    expect(usage(['--resume', two, '--nproc-per-node', '3'])).toMatch(/^--resume: --nproc-per-node 3 \(the run has 2\): a resumed run keeps its configuration\. .*only --epochs, --device, --data, --threads, --print-freq, --name, --master-port, --dist-timeout may change\.$/);
    expect(usage(['--resume', two, '--lr', '0.5', '--seed', '6'])).toMatch(/--lr 0\.5 \(the run has 0\.1\); --seed 6 \(the run has 5\)/);
  });

  it('in this process, a run of several processes is not resumed and a new one is not started', () => {
    const two = folder('ck-2-here', { 'checkpoint.pt': { format: 'torchkd-train-2', args: JSON.stringify({ ...base, nproc_per_node: 2 }), world_size: 2 } });
    const refused = (argv: string[]): string => {
      try {
        runTraining(parseTrainArgs(argv), quiet());
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
      throw new Error('runTraining did not refuse');
    };
    expect(refused(['--resume', two])).toBe(`--resume: the run was trained by 2 processes; continue it with \`torchkd train --resume ${two}\` (which starts them), not in this process`);
    expect(refused(['--arch', 'mlp_small_mnist', '--nproc-per-node', '2', '--out', path.join(tmp, 'plan', 'never')])).toBe(
      '--nproc-per-node 2: the ranks are started by the `torchkd train` command, not in this process',
    );
    expect(fs.existsSync(path.join(tmp, 'plan', 'never'))).toBe(false);
    const missing = path.join(tmp, 'plan', 'missing-here');
    expect(refused(['--resume', missing])).toBe(`--resume: no such folder ${missing}`);
    expect(fs.readdirSync(two)).toEqual(['checkpoint.pt']);
  });

  it('stopped before its first checkpoint: the arguments of args.json', () => {
    const dir = folder('args-only', { 'args.json': JSON.stringify({ ...base, nproc_per_node: 2 }) });
    const p = plan(['--resume', dir]);
    expect(p.worldSize).toBe(2);
    expect(p.args).toMatchObject({ arch: 'mlp_small_mnist', epochs: 3, seed: 5, resume: dir });
  });

  it('folders that hold no usable run are refused, naming the file and why', () => {
    const missing = path.join(tmp, 'plan', 'missing');
    expect(usage(['--resume', missing])).toBe(`--resume: no such folder ${missing}`);
    const empty = folder('empty', {});
    expect(usage(['--resume', empty])).toBe(`--resume: ${empty} holds no torchkd run (no checkpoint.pt or args.json)`);
    const garbage = folder('garbage', { 'checkpoint.pt': Buffer.from('not a checkpoint') });
    expect(usage(['--resume', garbage])).toMatch(new RegExp(`^--resume: cannot read ${path.join(garbage, 'checkpoint.pt').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .+`));
    const other = folder('other', { 'checkpoint.pt': { format: 'something-else', args: '{}' } });
    expect(usage(['--resume', other])).toBe(`--resume: ${path.join(other, 'checkpoint.pt')} is not a torchkd train checkpoint`);
    const badArgs = folder('bad-args', { 'args.json': '{ not json' });
    expect(usage(['--resume', badArgs])).toMatch(new RegExp(`^--resume: cannot read ${path.join(badArgs, 'args.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*JSON`));
  });
});

describe.skipIf(!HAS_DATA)('a KD run stopped and resumed in-process ends as the uninterrupted run', () => {
  beforeAll(() => {
    const counter = stopAt(Number.POSITIVE_INFINITY);
    runTraining(parseTrainArgs([...RUN, '--out', ref]), quiet(), { stop: counter.stop });
    totalPolls = counter.polls();
    // Teacher: 3 steps, 5 validation batches, one at the epoch's end, the 40-batch test pass; the student: 3 such
    // epochs and the test pass.
    expect(totalPolls).toBe(3 + 5 + 1 + 40 + 3 * (3 + 5 + 1) + 40);
  });

  // Where to stop: the n-th poll of the stop hook. Per epoch it is polled after each step but the last (2), before
  // validation (1), after each validation batch (5) and at the epoch's end (1); then once per test batch (40).
  const TEACHER = 9 + 40;
  // Each with what the stop saved: whose checkpoint ('teacher' is the teacher phase's, in teacher/), the epochs it
  // records as done, and the step a stop inside an epoch stood at (a stop during validation keeps the epoch's steps).
  const points: [number, string, 'teacher' | 'student', number, number | null][] = [
    [1, "the teacher's first step", 'teacher', 0, 1],
    [3, "before the teacher's validation", 'teacher', 0, 3],
    [5, "the teacher's validation", 'teacher', 0, 3],
    [9, "the teacher's epoch end", 'teacher', 1, null],
    [20, "the teacher's test pass", 'teacher', 1, null],
    [TEACHER + 1, "the student's first step", 'student', 0, 1],
    [TEACHER + 3, "before the student's first validation", 'student', 0, 3],
    [TEACHER + 6, "the student's first validation", 'student', 0, 3],
    [TEACHER + 9, "the student's first epoch end", 'student', 1, null],
    [TEACHER + 10, "the student's second epoch (after the learning-rate step)", 'student', 1, 1],
    [TEACHER + 22, "the student's last validation", 'student', 2, 3],
    [TEACHER + 27, "the student's last epoch end", 'student', 3, null],
    [TEACHER + 60, "the final test pass", 'student', 3, null],
  ];
  for (const [n, where, phase, epoch, step] of points) {
    it(`stopped at poll ${n} (${where}), resumed with a bare --resume`, () => {
      const out = path.join(tmp, `stop-${n}`);
      expect(runUntil([...RUN, '--out', out], n)).toBe(2);
      expect(fs.existsSync(path.join(out, 'args.json'))).toBe(true);
      // Where the stop saved the run: the student's checkpoint once it has one, else the teacher's.
      const saved = phase === 'student' ? out : path.join(out, 'teacher');
      expect(fs.existsSync(path.join(out, 'checkpoint.pt'))).toBe(phase === 'student');
      const ck = torch.load<Ck & { epoch: number; mid_epoch?: string }>(path.join(saved, 'checkpoint.pt'));
      expect([ck.epoch, ck.mid_epoch === undefined ? null : (JSON.parse(ck.mid_epoch) as { step: number }).step]).toEqual([epoch, step]);
      const io = quiet();
      const counter = stopAt(Number.POSITIVE_INFINITY);
      runTraining(parseTrainArgs(['--resume', out]), io, { stop: counter.stop });
      expectSameRun(ref, out);
      // Continued, not redone: the run says where it resumed, and polls at most the rest of the run plus one
      // evaluation pass (a stop during one redoes it). A run restarted from scratch with the same seed would write the
      // same files; this is what tells the two apart.
      expect(io.lines).toContain(`resuming ${saved} at epoch ${epoch}${step === null ? '' : ` (step ${step})`}`);
      expect(counter.polls()).toBeLessThanOrEqual(totalPolls - n + 46);
    });
  }

  it('stopped three times (SIGTERM, then SIGINT twice while resuming) and still the same run', () => {
    const out = path.join(tmp, 'thrice');
    expect(runUntil([...RUN, '--out', out], at(0.01), 15)).toBe(15); // in the teacher's training
    expect(runUntil(['--resume', out], at(0.5))).toBe(2); // in the student's first epochs
    expect(runUntil(['--resume', out], at(0.1))).toBe(2); // a little further
    expect(runUntil(['--resume', out], Number.POSITIVE_INFINITY)).toBe(0);
    expectSameRun(ref, out);
  });

  it('what a kill leaves behind (temporary files, metrics rows past the checkpoint) is cleaned up on resume', () => {
    const out = path.join(tmp, 'leftovers');
    expect(runUntil([...RUN, '--out', out], at(0.7))).toBe(2);
    const ck = torch.load<Ck & { metrics: string }>(path.join(out, 'checkpoint.pt'));
    const saved = (JSON.parse(ck.metrics) as unknown[]).length;
    // A kill after a metrics row was written for an epoch the checkpoint does not hold, and inside two writes.
    fs.appendFileSync(path.join(out, 'metrics.jsonl'), `${JSON.stringify({ epoch: 9, split: 'val', top1: 99 })}\n`);
    fs.writeFileSync(path.join(out, '.checkpoint.pt.tmp-4242-1765000000000-k3x9'), 'half a checkpoint');
    fs.writeFileSync(path.join(out, 'teacher', '.best.pt.tmp-4243-1765000000000-q7z1'), 'half a best.pt');
    expect(rows(out).length).toBe(saved + 1);
    // Dropped as soon as the run resumes, before its first step.
    expect(runUntil(['--resume', out], 1)).toBe(2);
    expect(rows(out).length).toBe(saved);
    expect(runUntil(['--resume', out], Number.POSITIVE_INFINITY)).toBe(0);
    expectSameRun(ref, out);
  });

  it('resume says what it restored, keeps the saved flags, and refuses a conflicting one before writing anything', () => {
    const out = path.join(tmp, 'config');
    expect(runUntil([...RUN, '--out', out], at(0.6))).toBe(2);
    const before = fs.readFileSync(path.join(out, 'checkpoint.pt'));
    expect(() => runTraining(parseTrainArgs(['--resume', out, '--kd-temp', '4']), quiet())).toThrow(UsageError);
    expect(() => runTraining(parseTrainArgs(['--resume', out, '--kd-temp', '4']), quiet())).toThrow(/--kd-temperature 4 \(the run has 3\)|--kd-temp 4 \(the run has 3\)/);
    expect(fs.readFileSync(path.join(out, 'checkpoint.pt')).equals(before)).toBe(true);
    const io = quiet();
    runTraining(parseTrainArgs(['--resume', out, '--print-freq', '50']), io);
    const line = io.lines.find((l) => l.startsWith('resume: restored '));
    expect(line).toBe('resume: restored --arch mlp_small_mnist --epochs 3 --lr 0.1 --momentum 0.9 --weight-decay 0.0001 --batch-size 256 --seed 5 --device cpu --threads 2 --validation-split 0.02 --max-batches 3 --kd-teacher mlp_small_mnist --kd-temp 3');
    expect(io.lines).toContain(`training mlp_small_mnist for 3 epochs on cpu (batch 256, lr 0.1, seed 5) -> ${out}`);
    expectSameRun(ref, out);
  });

  it("a resumed epoch's time includes the time spent before the stop", () => {
    const out = path.join(tmp, 'elapsed');
    expect(runUntil([...RUN, '--out', out], TEACHER + 10)).toBe(2); // inside the student's second epoch
    const file = path.join(out, 'checkpoint.pt');
    const ck = torch.load<Record<string, unknown> & { epoch: number; mid_epoch: string }>(file);
    const progress = JSON.parse(ck.mid_epoch) as { step: number; seconds: number };
    expect(progress.step).toBeGreaterThan(0);
    // As if the first part of the epoch had taken 1000 s.
    torch.save({ ...ck, mid_epoch: JSON.stringify({ ...progress, seconds: 1000 }) } as never, file);
    expect(runUntil(['--resume', out], Number.POSITIVE_INFINITY)).toBe(0);
    const train = (fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)) as { epoch: number; split: string; seconds: number }[]).filter((r) => r.split === 'train');
    expect(train.map((r) => r.epoch)).toEqual([0, 1, 2]);
    const resumed = train[ck.epoch];
    expect(resumed.seconds).toBeGreaterThanOrEqual(1000);
    expect(resumed.seconds).toBeLessThan(1000 + 120);
    for (const r of train.filter((r) => r.epoch !== ck.epoch)) expect(r.seconds).toBeLessThan(120);
  });

  it('the best epoch is the first of equal validation scores', () => {
    // A learning rate too small to change a float32 weight: every epoch scores the same.
    const out = path.join(tmp, 'ties');
    const r = runTraining(parseTrainArgs(['--arch', 'mlp_small_mnist', '--epochs', '3', '--max-batches', '1', '-b', '256', '--vs', '0.02', '--seed', '5', '--threads', '2', '--print-freq', '100', '--lr', '1e-30', '--out', out]), quiet());
    const val = rows(out).filter((x) => x.split === 'val') as { epoch: number; top1: number }[];
    expect(val.map((x) => x.epoch)).toEqual([0, 1, 2]);
    expect(new Set(val.map((x) => x.top1)).size).toBe(1);
    expect([r.bestEpoch, r.bestTop1]).toEqual([0, val[0].top1]);
    expectBestIsBest(out);
  });

  it('a resumed run may be given more epochs: it continues past the saved end, as the longer run would', () => {
    const longer = path.join(tmp, 'longer-reference');
    runTraining(parseTrainArgs([...RUN.map((a, i) => (RUN[i - 1] === '--epochs' ? '4' : a)), '--out', longer]), quiet());
    const out = path.join(tmp, 'extended');
    expect(runUntil([...RUN, '--out', out], at(0.65))).toBe(2);
    expect(runUntil(['--resume', out, '--epochs', '4'], Number.POSITIVE_INFINITY)).toBe(0);
    expectSameRun(longer, out);
  });
});


// The trainer's part of a resume, with a model that draws from the generator at every step (dropout): the skipped
// steps are drawn but not trained, and the random state saved at the stop is restored exactly where the stopped epoch
// stood, so the masks (and so the weights, the running sums and the generator afterwards) are the uninterrupted ones.
describe("the trainer's continuation of a stopped epoch", () => {
  type Snapshot = { model: Record<string, torch.Tensor>; optimizer: ReturnType<torch.optim.SGD['stateDict']> };
  const data = (() => {
    torch.manualSeed(3);
    return new TensorDataset(torch.randn(40, 8), torch.randint(0, 3, [40]));
  })();
  const setup = (from: Snapshot | null) => {
    torch.manualSeed(11);
    const model = new torch.nn.Sequential(new torch.nn.Linear(8, 16), new torch.nn.ReLU(), new torch.nn.Dropout(0.5), new torch.nn.Linear(16, 3));
    const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    if (from) {
      model.loadStateDict(from.model);
      optimizer.loadStateDict(from.optimizer);
    }
    const scheduler = new CompressionScheduler(model);
    const loader = new DataLoader(data, { batchSize: 8, shuffle: true });
    return { model, optimizer, scheduler, loader };
  };
  const epoch = (s: ReturnType<typeof setup>, more: Partial<Parameters<typeof trainEpoch>[0]> = {}) =>
    trainEpoch({ epoch: 0, model: s.model as never, loader: s.loader as never, optimizer: s.optimizer, scheduler: s.scheduler as never, policy: null, device: 'cpu', ...more });

  it.each([1, 2, 4])('stopped after step %i of 5 and continued: the same weights, sums and generator state', (k) => {
    const ref = setup(null);
    torch.manualSeed(99);
    const whole = epoch(ref);
    const after = torch.getRngState();
    expect(whole.stopped).toBe(false);

    const first = setup(null);
    torch.manualSeed(99);
    const epochRng = torch.getRngState();
    let polls = 0;
    const part = epoch(first, { stop: () => ++polls >= k });
    expect([part.stopped, part.progress.step, polls]).toEqual([true, k, k]);
    const saved = torch.getRngState(); // what a mid-epoch checkpoint holds
    const snapshot: Snapshot = { model: first.model.stateDict(), optimizer: first.optimizer.stateDict() };

    torch.manualSeed(1234); // a fresh process's generator, whatever it holds
    const rest = setup(snapshot);
    torch.setRngState(epochRng);
    let restored = 0;
    const done = epoch(rest, { start: part.progress, resumeRng: () => { restored++; torch.setRngState(saved); } });
    expect(restored).toBe(1);
    expect(done.stopped).toBe(false);
    expect({ ...done.progress, seconds: 0 }).toEqual({ ...whole.progress, seconds: 0 });
    expectSameTensors(ref.model.stateDict(), rest.model.stateDict(), 'weights');
    expect(torch.getRngState().equal(after)).toBe(true);
  });
});
