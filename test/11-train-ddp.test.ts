/**
 * `torchkd train --nproc-per-node N`: distributed KD training through the launcher. A 2-rank run against a single
 * process fed the same global batches (weights within 1e-6) and against the single-process run on the same data
 * (accuracy within the seed-to-seed spread); only rank 0 writes, and what it writes is the single-process format
 * (PyTorch loads it, a single-process run takes its best.pt as a teacher); a rank killed with SIGKILL ends the job
 * naming the rank, and `--resume` finishes it to the uninterrupted run's files bit for bit, as does a SIGINT
 * mid-epoch; the same job under `torchkd run`; distilling from a teacher-logit cache gives the live-teacher run's
 * files; bad input is refused before anything is written.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { FashionMNIST } from '../lib/data/fashion-mnist';
import { splitTrainValidation } from '../lib/data/split';
import { CompressionScheduler } from '../lib/distiller/scheduler';
import type { Model } from '../lib/distiller/knowledge-distillation';
import { create as createModel } from '../lib/models';
import { MultiStepLR } from '../lib/optim/lr-scheduler';
import { SGD } from '../lib/optim/sgd';
import { ShardSampler, SubsetDistributedSampler } from '../lib/cli/train-dist';
import { evaluate, trainEpoch } from '../lib/cli/trainer';
import { parseTrainArgs, runTraining } from '../lib/cli/train';
import type { DataLoader } from '../lib/data/dataloader';
import { freePort } from './dist-helpers';
import { pythonWithTorch } from './helpers';
import { type Ck, expectSameRun, rows } from './run-files';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'torchkd.js');
const HAS_DATA = fs.existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz');
const DIST_OK = torch.distributed.isAvailable() && torch.distributed.isGlooAvailable();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-train-ddp-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `torchkd <args>` in `cwd` (a fresh folder by default); `onStdout` sees the output as it comes. */
function torchkd(args: string[], o: { cwd?: string; onStdout?: (all: string, child: ChildProcess) => void; timeoutMs?: number } = {}): Promise<Ran> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: o.cwd ?? tmp, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      o.onStdout?.(stdout, child);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 240_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** The pids of the launcher's rank processes, by rank (read from each child's RANK). */
function ranksOf(launcherPid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const d of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== launcherPid) continue;
      const env = fs.readFileSync(`/proc/${d}/environ`, 'utf8').split('\0');
      const rank = env.find((e) => e.startsWith('RANK='));
      if (rank) out.set(Number(rank.slice(5)), Number(d));
    } catch {
      // a process that ended while being read
    }
  }
  return out;
}

const PY = pythonWithTorch();
/** Every .pt file of a run loads in PyTorch (weights only); returns the checkpoint's world size and model keys. */
function loadInPython(dir: string): { files: number; worldSize: number; keys: string[] } | null {
  if (PY === null) return null;
  const files = [dir, path.join(dir, 'teacher')].flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d).filter((f) => f.endsWith('.pt')).map((f) => path.join(d, f)) : []));
  const code = [
    'import sys, json, torch',
    'for f in sys.argv[1:]: torch.load(f, weights_only=True)',
    `ck = torch.load(${JSON.stringify(path.join(dir, 'checkpoint.pt'))}, weights_only=True)`,
    "print(json.dumps({'files': len(sys.argv) - 1, 'worldSize': ck['world_size'], 'keys': list(ck['model'].keys())}))",
  ].join('\n');
  const r = spawnSync(PY, ['-c', code, ...files], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { files: number; worldSize: number; keys: string[] };
}

/** Every file under a folder, relative to it. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name), path.join(rel, e.name));
      else out.push(path.join(rel, e.name));
    }
  };
  walk(dir, '');
  return out.sort();
}

// A KD run on 2 ranks: the teacher (1 epoch) trained first in the same run, in DDP, then the student (3 epochs, a
// learning-rate step), 6 global batches of 64 (2 × 32) per epoch, validation and the test pass.
const KD = [
  'train', '--nproc-per-node', '2', '--arch', 'mlp_small_mnist', '--kd-teacher', 'mlp_small_mnist', '--teacher-epochs', '1',
  '--epochs', '3', '--max-batches', '6', '-b', '64', '--vs', '0.05', '--seed', '7', '--threads', '1', '--print-freq', '1',
  '--lr-step-epochs', '2', '--lr-gamma', '0.5', '--kd-temp', '3', '--dist-timeout', '60',
];
// The demo recipe's student (lr 0.02, momentum 0.9, batch 128, 10% validation), 2 epochs of 40 batches.
const PLAIN = ['--arch', 'mlp_small_mnist', '--epochs', '2', '--max-batches', '40', '-b', '128', '--lr', '0.02', '--momentum', '0.9', '--vs', '0.1', '--seed', '1', '--threads', '1', '--print-freq', '1000'];

const kdRef = path.join(tmp, 'kd-reference');

describe.skipIf(!HAS_DATA || !DIST_OK)('torchkd train --nproc-per-node 2', () => {
  beforeAll(async () => {
    const cwd = path.join(tmp, 'kd-cwd');
    fs.mkdirSync(cwd);
    const r = await torchkd([...KD, '--out', kdRef], { cwd });
    expect(r.code, r.stderr).toBe(0);
    // Nothing but the run folder is written (the ranks' working folder stays empty).
    expect(fs.readdirSync(cwd)).toEqual([]);
  }, 240_000);

  it('a KD run with its teacher trained first: only rank 0 prints and writes, in the single-process format', async () => {
    expect(tree(kdRef)).toEqual(['args.json', 'best.pt', 'checkpoint.pt', 'metrics.jsonl', 'report.html', 'teacher.pt', 'teacher/args.json', 'teacher/best.pt', 'teacher/checkpoint.pt', 'teacher/metrics.jsonl', 'teacher/report.html'].sort());
    const ck = torch.load<Ck & { format: string; world_size: number; args: string }>(path.join(kdRef, 'checkpoint.pt'));
    expect([ck.format, ck.world_size, ck.epoch, JSON.parse(ck.args).nproc_per_node]).toEqual(['torchkd-train-2', 2, 3, 2]);
    // The plain student's names (no 'module.'): the checkpoint loads into an unwrapped model as before.
    expect(Object.keys(ck.model)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    createModel('mlp_small_mnist').loadStateDict(ck.model);
    const py = loadInPython(kdRef);
    if (py) expect(py).toEqual({ files: 5, worldSize: 2, keys: ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'] });
    const m = rows(kdRef);
    expect(m.map((x) => `${x.epoch}:${x.split}`)).toEqual(['0:train', '0:val', '1:train', '1:val', '2:train', '2:val', '2:test']);
    for (const row of m.filter((x) => x.split === 'train')) expect(row.distillLoss).toBeGreaterThan(0);
    // A single-process run distils from the 2-rank run's best.pt (the format --kd-resume reads).
    const single = path.join(tmp, 'single-from-ddp');
    const r = await torchkd(['train', '--arch', 'mlp_small_mnist', '--kd-teacher', 'mlp_small_mnist', '--kd-resume', path.join(kdRef, 'best.pt'), '--epochs', '1', '--max-batches', '2', '-b', '64', '--vs', '0.05', '--seed', '1', '--out', single]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`teacher: mlp_small_mnist with weights from ${path.join(kdRef, 'best.pt')}`);
  }, 240_000);

  it('matches one process fed the same global batches (weights within 1e-6), and the single-process run within the seed spread', async () => {
    const out = path.join(tmp, 'plain-2');
    const r = await torchkd(['train', '--nproc-per-node', '2', ...PLAIN, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    // Only rank 0's output: one line per epoch and split.
    expect(r.stdout.split('\n').filter((l) => l.startsWith('[rank1]:'))).toEqual([]);
    expect(r.stdout).toContain('training mlp_small_mnist for 2 epochs on 2 processes, DDP over Gloo (batch 128 = 2 × 64, lr 0.02, seed 1)');

    // One process, batch 128, each step fed rank 0's 64 samples then rank 1's: the same global batches. The loss of
    // 128 samples is the mean of the two ranks' losses, so its gradient is DDP's average; only rounding differs.
    torch.manualSeed(1);
    const model = createModel('mlp_small_mnist'); // train draws nothing before the model (the split has its own generator)
    const optimizer = new SGD(model.parameters(), { lr: 0.02, momentum: 0.9, weightDecay: 1e-4 });
    const lrs = new MultiStepLR(optimizer, [], 0.1);
    const scheduler = new CompressionScheduler<Model>(model);
    const train = new FashionMNIST({ train: true });
    const split = splitTrainValidation(train, 0.1, 1);
    const samplers = [0, 1].map((rank) => new SubsetDistributedSampler(split.train, rank, 2, 1));
    for (let epoch = 0; epoch < 2; epoch++) {
      const orders = samplers.map((s) => {
        s.setEpoch(epoch);
        return s.order();
      });
      const batches = {
        length: 40,
        *[Symbol.iterator](): Generator<[torch.Tensor, torch.Tensor]> {
          for (let b = 0; b < 40; b++) yield train.getBatch(torch.cat(orders.map((o) => o.narrow(0, b * 64, 64))));
        },
      } as unknown as DataLoader<[torch.Tensor, torch.Tensor]>;
      scheduler.onEpochBegin(epoch, optimizer);
      trainEpoch({ epoch, model, loader: batches, optimizer, scheduler, policy: null, device: 'cpu' });
      scheduler.onEpochEnd(epoch, optimizer);
      lrs.step();
    }
    const ddp = torch.load<Ck>(path.join(out, 'checkpoint.pt')).model;
    let worst = 0;
    for (const [k, p] of Object.entries(model.stateDict())) worst = Math.max(worst, ddp[k].sub(p).abs().max().item() as number);
    expect(worst).toBeLessThan(1e-6); // measured: 1.6e-7

    // The test row the ranks reported from their shards is one process's evaluation of the saved model on the whole
    // test set: the same counts, the loss up to the order of the float additions.
    const saved = createModel('mlp_small_mnist');
    saved.loadStateDict(ddp);
    const whole = evaluate(saved, new torch.data.DataLoader(new FashionMNIST({ train: false }), { batchSize: 128 }), 'cpu');
    const reported = rows(out).find((x) => x.split === 'test') as { top1: number; top5: number; loss: number };
    expect([reported.top1, reported.top5]).toEqual([whole.top1, whole.top5]);
    expect(Math.abs(reported.loss - whole.loss)).toBeLessThan(1e-5); // float32 batch means over other batches

    // The single-process run on the same data (its own sampler: another order, so other weights). Tolerance: 6 points
    // of test top-1, over the spread of the same run across seeds 1-8 (76.23-80.52, sd 1.35; measured with
    // `torchkd train <PLAIN flags> --seed S`); the run is deterministic, so the check cannot flake.
    const single = path.join(tmp, 'plain-1');
    const s = await torchkd(['train', ...PLAIN, '--out', single]);
    expect(s.code, s.stderr).toBe(0);
    const top1 = (dir: string): number => rows(dir).find((x) => x.split === 'test')!.top1 as number;
    expect(Math.abs(top1(out) - top1(single))).toBeLessThan(6);
    expect(top1(out)).toBeGreaterThan(70);
  }, 240_000);

  it('under `torchkd run --nproc-per-node 2` the train command runs as the ranks and ends as `train --nproc-per-node 2` does', async () => {
    const direct = path.join(tmp, 'plain-2');
    const out = path.join(tmp, 'plain-run');
    const r = await torchkd(['run', '--standalone', '--nproc-per-node', '2', BIN, 'train', ...PLAIN, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expectSameRun(direct, out);
  }, 240_000);

  it('two nodes on one host (`torchkd run --nnodes 2`, one rank each) end as `train --nproc-per-node 2` does', async () => {
    const direct = path.join(tmp, 'plain-2');
    const out = path.join(tmp, 'plain-2-nodes');
    const port = String(await freePort());
    const node = (rank: number) =>
      torchkd(['run', '--nnodes', '2', '--node-rank', String(rank), '--nproc-per-node', '1', '--master-addr', '127.0.0.1', '--master-port', port, BIN, 'train', ...PLAIN, '--out', out]);
    const [n0, n1] = await Promise.all([node(0), node(1)]);
    expect(n0.code, n0.stderr).toBe(0);
    expect(n1.code, n1.stderr).toBe(0);
    // Rank 1 (the second node's only rank) prints nothing of the run; rank 0 reports the job's two processes.
    expect(n1.stdout).not.toMatch(/training mlp_small_mnist/);
    expect(n0.stdout).toMatch(/2 processes, DDP over Gloo/);
    expectSameRun(direct, out);
  }, 240_000);

  it('a rank killed with SIGKILL ends the job naming it; `--resume` (no other flag) finishes to the uninterrupted run bit for bit', async () => {
    const out = path.join(tmp, 'killed');
    let killed = 0;
    let killedAt = 0;
    const r = await torchkd([...KD, '--out', out], {
      onStdout: (all, child) => {
        // The student's second epoch, third step.
        if (killed === 0 && /distillation: T=[\s\S]*\[rank0\]:train 1 \[3\/6\]/.test(all)) {
          const pids = ranksOf(child.pid!);
          killed = pids.get(1)!;
          process.kill(killed, 'SIGKILL');
          killedAt = Date.now();
        }
      },
    });
    const endedAfter = Date.now() - killedAt;
    expect(killed).toBeGreaterThan(0);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`torchkd train: rank 1 \\(local rank 1, pid ${killed}\\) failed: it was killed by signal SIGKILL; the other ranks were stopped`));
    // Within --dist-timeout (60 s); in practice about 2 s: Gloo sees the dead peer's sockets close.
    expect(endedAfter).toBeLessThan(60_000);
    const res = await torchkd(['train', '--resume', out]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/\[rank0\]:resume: restored .*--nproc-per-node 2/);
    expectSameRun(kdRef, out);
  }, 240_000);

  it('rank 0 (the store and the writer) killed in the teacher phase: the same', async () => {
    const out = path.join(tmp, 'killed-0');
    let killed = 0;
    const r = await torchkd([...KD, '--out', out], {
      onStdout: (all, child) => {
        if (killed === 0 && /teacher: --kd-resume not given[\s\S]*\[rank0\]:train 0 \[4\/6\]/.test(all)) {
          killed = ranksOf(child.pid!).get(0)!;
          process.kill(killed, 'SIGKILL');
        }
      },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/torchkd train: rank 0 \(local rank 0, pid \d+\) failed: it was killed by signal SIGKILL/);
    const res = await torchkd(['train', '--resume', out]);
    expect(res.code, res.stderr).toBe(0);
    expectSameRun(kdRef, out);
  }, 240_000);

  it('SIGINT to the launcher mid-epoch: every rank stops after the same step, rank 0 saves, exit 130; --resume gives the same run', async () => {
    const out = path.join(tmp, 'sigint');
    let sent = false;
    const r = await torchkd([...KD, '--out', out], {
      onStdout: (all, child) => {
        if (!sent && /distillation: T=[\s\S]*\[rank0\]:train 1 \[2\/6\]/.test(all)) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/\[rank0\]:stopped by SIGINT; the run is saved in .*: continue it with `torchkd train --resume /);
    expect(r.stderr).not.toMatch(/\[rank1\]:stopped by/);
    const ck = torch.load<{ epoch: number; mid_epoch?: string; mid_epoch_ranks?: string }>(path.join(out, 'checkpoint.pt'));
    expect(ck.epoch).toBe(1);
    const ranks = JSON.parse(ck.mid_epoch_ranks!) as { step: number; seen: number }[];
    expect(ranks.length).toBe(2);
    expect(ranks[1].step).toBe(ranks[0].step);
    expect(ranks[0].seen).toBe(32 * ranks[0].step);
    expect(JSON.parse(ck.mid_epoch!)).toEqual(ranks[0]);
    const res = await torchkd(['train', '--resume', out]);
    expect(res.code, res.stderr).toBe(0);
    expectSameRun(kdRef, out);
  }, 240_000);

  it("with a teacher-logit cache each rank reads its share's rows: the live-teacher run bit for bit, also after a killed rank resumes", async () => {
    const teacherPt = path.join(kdRef, 'teacher.pt');
    const cacheDir = path.join(tmp, 'teacher-cache');
    const built = await torchkd(['cache-teacher', '--arch', 'mlp_small_mnist', '--kd-resume', teacherPt, '--out', cacheDir]);
    expect(built.code, built.stderr).toBe(0);
    const flags = [
      'train', '--nproc-per-node', '2', '--arch', 'mlp_small_mnist', '--kd-teacher', 'mlp_small_mnist', '--kd-resume', teacherPt, '--epochs', '2',
      '--max-batches', '6', '-b', '64', '--vs', '0.05', '--seed', '7', '--threads', '1', '--print-freq', '1', '--kd-temp', '3', '--dist-timeout', '60',
    ];
    const live = path.join(tmp, 'cache-live');
    const r = await torchkd([...flags, '--out', live]);
    expect(r.code, r.stderr).toBe(0);
    const cached = path.join(tmp, 'cache-read');
    const c = await torchkd([...flags, '--kd-teacher-cache', cacheDir, '--out', cached]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/\[rank0\]:distillation: from the teacher cache .* \(mlp_small_mnist, dense float32, 60000 samples\)/);
    for (const row of rows(cached).filter((x) => x.split === 'train')) expect(row.distillLoss).toBeGreaterThan(0);
    expectSameRun(live, cached);
    // Rank 1 killed in the second epoch; a bare --resume reads the cache again and ends with the same files.
    const out = path.join(tmp, 'cache-killed');
    let killed = 0;
    const k = await torchkd([...flags, '--kd-teacher-cache', cacheDir, '--out', out], {
      onStdout: (all, child) => {
        if (killed === 0 && /from the teacher cache[\s\S]*\[rank0\]:train 1 \[3\/6\]/.test(all)) {
          killed = ranksOf(child.pid!).get(1)!;
          process.kill(killed, 'SIGKILL');
        }
      },
    });
    expect(killed).toBeGreaterThan(0);
    expect(k.code).toBe(1);
    expect(k.stderr).toMatch(/rank 1 \(local rank 1, pid \d+\) failed: it was killed by signal SIGKILL/);
    const res = await torchkd(['train', '--resume', out]);
    expect(res.code, res.stderr).toBe(0);
    expectSameRun(live, out);
  }, 240_000);

  it('--resume keeps the number of processes: a conflicting --nproc-per-node, a job of another size, or this process are refused', async () => {
    const before = fs.readFileSync(path.join(kdRef, 'checkpoint.pt'));
    const r = await torchkd(['train', '--resume', kdRef, '--nproc-per-node', '3']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--resume: --nproc-per-node 3 \(the run has 2\): a resumed run keeps its configuration/);
    const j = await torchkd(['run', '--standalone', '--nproc-per-node', '3', BIN, 'train', '--resume', kdRef, '--epochs', '4']);
    expect(j.code).toBe(1);
    expect(j.stderr).toMatch(/--resume: the run was trained by 2 process\(es\) but this job has 3 ranks/);
    expect(() => runTraining(parseTrainArgs(['--resume', kdRef, '--epochs', '4']), { line: () => undefined })).toThrow(/--resume: the run was trained by 2 processes; continue it with `torchkd train --resume /);
    expect(fs.readFileSync(path.join(kdRef, 'checkpoint.pt')).equals(before)).toBe(true);
  }, 240_000);
});

describe('the samplers of a distributed run', () => {
  it('evaluation shards cover every sample once, without padding; training shares are DistributedSampler orders mapped to the indices', () => {
    for (const [n, w] of [[10, 3], [7, 2], [2, 3], [0, 2]]) {
      const all = Array.from({ length: w }, (_, r) => new ShardSampler(n, r, w)).flatMap((s) => {
        const o = Array.from(s.order().data() as BigInt64Array, Number);
        expect(o.length).toBe(s.length);
        return o;
      });
      expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
    const indices = torch.tensor([50, 40, 30, 20, 10], { dtype: 'int64' });
    const mine = new SubsetDistributedSampler(indices, 1, 2, 9);
    const plain = new torch.data.DistributedSampler(5, { numReplicas: 2, rank: 1, seed: 9 });
    mine.setEpoch(3);
    plain.setEpoch(3);
    expect(mine.length).toBe(3);
    expect(Array.from(mine.order().data() as BigInt64Array, Number)).toEqual([...plain].map((i) => [50, 40, 30, 20, 10][i]));
  });
});

describe.skipIf(!DIST_OK)('torchkd train --nproc-per-node: bad input is refused before anything is written', () => {
  const cases: [string, string[], RegExp][] = [
    ['zero processes', ['--nproc-per-node', '0'], /--nproc-per-node must be a positive integer but is 0/],
    ['a negative count', ['--nproc-per-node', '-1'], /--nproc-per-node must be a positive integer but is -1/],
    ['not a number', ['--nproc-per-node', 'abc'], /argument --nproc-per-node: invalid int value: 'abc'/],
    ['a port out of range', ['--nproc-per-node', '2', '--master-port', '70000'], /--master-port must be a port number \(1-65535\) but is 70000/],
    ['a timeout of zero', ['--nproc-per-node', '2', '--dist-timeout', '0'], /--dist-timeout must be a positive number of seconds/],
    ['a global batch the ranks cannot share', ['--nproc-per-node', '2', '-b', '63'], /--batch-size 63 is the global batch of the 2 processes: it must be a multiple of 2/],
    [
      '--device cuda',
      ['--nproc-per-node', '2', '--device', 'cuda'],
      torch.cuda.isAvailable() ? /--device cuda with --nproc-per-node: distributed torchkd train runs CPU processes over Gloo/ : /--device cuda with --nproc-per-node: no CUDA device is usable on this machine/,
    ],
    ['missing data', ['--nproc-per-node', '2', '--data', '/nonexistent'], /Fashion-MNIST not found in \/nonexistent/],
  ];
  for (const [name, args, re] of cases) {
    it(name, async () => {
      const cwd = fs.mkdtempSync(path.join(tmp, 'bad-'));
      const r = await torchkd(['train', ...args, '--out', 'out'], { cwd });
      expect(r.code, r.stdout).toBe(1);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toMatch(/\n\s+at |\[rank\d\]/); // one message from the command, no rank started
      expect(fs.readdirSync(cwd)).toEqual([]);
    }, 60_000);
  }

  it('an existing output folder is refused by the command, before any rank starts', async () => {
    const out = path.join(tmp, 'exists');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'precious.txt'), 'keep me');
    const r = await torchkd(['train', '--nproc-per-node', '2', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already exists and is not empty; choose another --out, or pass --force/);
    expect(r.stderr).not.toMatch(/\[rank\d\]/);
    expect(fs.readdirSync(out)).toEqual(['precious.txt']);
  }, 60_000);

  it('under a launcher, a --nproc-per-node that is not the job size is refused on every rank', async () => {
    const cwd = fs.mkdtempSync(path.join(tmp, 'bad-'));
    const r = await torchkd(['run', '--standalone', '--nproc-per-node', '2', BIN, 'train', '--nproc-per-node', '3', '--out', 'out'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--nproc-per-node 3 does not match this job's 2 processes per node/);
    expect(fs.readdirSync(cwd)).toEqual([]);
  }, 60_000);

  it('train --help lists the distributed flags with their defaults', async () => {
    const r = await torchkd(['train', '--help']);
    expect(r.code).toBe(0);
    const help = r.stdout.replace(/\s+/g, ' ');
    expect(help).toContain('--nproc-per-node N train with N processes on this machine');
    expect(help).toContain("(default: 1; with --resume, the saved run's)");
    expect(help).toContain('--master-port P port of the rendezvous store of a --nproc-per-node run (default: a free port)');
    expect(help).toContain('--dist-timeout S seconds a --nproc-per-node run waits for a rank that stopped answering before it fails (default: 300)');
  }, 60_000);
});
