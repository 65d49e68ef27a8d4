/**
 * `torchkd parity`: the same distillation recipe for K steps in Python (lib/python/parity.py, the project venv's
 * PyTorch, Distiller's formula) and in Node, from the same initial weights and data order; prints per-step loss
 * differences and final-weight differences, and exits non-zero past the tolerance.
 */
import { ArgumentParser } from 'argparse';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { getNumThreads } from '../cuda';
import { manualSeed } from '../creation';
import { DataLoader } from '../data/dataloader';
import { FashionMNIST, FASHION_MNIST_DEFAULT_ROOT } from '../data/fashion-mnist';
import { pythonTypes } from '../distiller/args';
import { DistillationLossWeights } from '../distiller/loss-weights';
import { KnowledgeDistillationPolicy } from '../distiller/knowledge-distillation';
import * as F from '../functional';
import { packageRoot } from '../loader';
import { create as createModel } from '../models';
import { SGD } from '../optim/sgd';
import { load, save } from '../serialization';
import { Tensor, tidy } from '../tensor';
import { UsageError } from './train';

interface ParityOptions {
  steps: number;
  batch_size: number;
  impl: 'fused' | 'composite';
  tolerance: number;
  seed: number;
  data: string;
  python: string | null;
  teacher: string;
  student: string;
}

function parser(): ArgumentParser {
  const p = new ArgumentParser({ prog: 'torchkd parity', description: 'Distillation in Node and in Python PyTorch, step by step.', exit_on_error: false });
  p.add_argument('--steps', { type: pythonTypes.int, default: 200 });
  p.add_argument('-b', '--batch-size', { type: pythonTypes.int, default: 64, dest: 'batch_size' });
  p.add_argument('--impl', { choices: ['fused', 'composite'], default: 'fused', help: 'torchkd KD loss implementation (PyTorch side: composite)' });
  p.add_argument('--tolerance', { type: pythonTypes.float, default: 1e-4, help: 'max relative loss difference and max absolute weight difference' });
  p.add_argument('--seed', { type: pythonTypes.int, default: 0 });
  p.add_argument('--data', { default: FASHION_MNIST_DEFAULT_ROOT });
  p.add_argument('--python', { default: null, help: 'Python with torch (default: the one libtorch was found through)' });
  p.add_argument('--teacher', { default: 'simplenet_mnist' });
  p.add_argument('--student', { default: 'mlp_small_mnist' });
  return p;
}

/** The `torchkd parity` command. */
export async function parityCommand(argv: string[]): Promise<number> {
  const p = parser();
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(p.format_help());
    return 0;
  }
  let o: ParityOptions;
  try {
    o = p.parse_args(argv);
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^ArgumentError: /, ''));
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const info = require(path.join(packageRoot(), 'lib', 'libtorch.js')).discover();
  const python = o.python ?? process.env.TORCHKD_PYTHON ?? info.python;
  if (!python) throw new UsageError('no Python with torch found: pass --python, or set TORCHKD_PYTHON');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-parity-'));
  try {
    const train = new FashionMNIST({ root: o.data, train: true });
    manualSeed(o.seed);
    const teacher = createModel(o.teacher);
    const student = createModel(o.student);
    save({ teacher: teacher.stateDict(), student: student.stateDict() }, path.join(dir, 'init.pt'));
    const cfg = {
      steps: o.steps, batch_size: o.batch_size, seed: o.seed, data: o.data, init: path.join(dir, 'init.pt'), teacher: o.teacher, student: o.student,
      lr: 0.1, momentum: 0.9, weight_decay: 1e-4, T: 4.0, distill_wt: 0.7, student_wt: 0.3, mean: train.mean, std: train.std, threads: getNumThreads(),
    };
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
    console.log(`parity: ${o.steps} steps of KD (${o.teacher} -> ${o.student}, T=4, weights 0.7/0.3, SGD), batch ${o.batch_size}, KD loss '${o.impl}' in Node`);
    const py = spawnSync(python, [path.join(packageRoot(), 'lib', 'python', 'parity.py'), path.join(dir, 'config.json')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (py.status !== 0) throw new UsageError(`the Python side failed (${python}):\n${py.stderr.trim().split('\n').slice(-5).join('\n')}`);
    process.stdout.write(py.stdout);

    const opt = new SGD(student.parameters(), { lr: cfg.lr, momentum: cfg.momentum, weightDecay: cfg.weight_decay });
    const policy = new KnowledgeDistillationPolicy(student, teacher, cfg.T, DistillationLossWeights(cfg.distill_wt, cfg.student_wt, 0), { impl: o.impl });
    policy.onEpochBegin(student, {}, { startingEpoch: 0, endingEpoch: 1, frequency: 1 });
    manualSeed(o.seed);
    const loader = new DataLoader(train, { batchSize: o.batch_size, shuffle: true });
    const losses: { overall: number; objective: number; distill: number }[] = [];
    while (losses.length < o.steps) {
      for (const [x, y] of loader) {
        if (losses.length >= o.steps) {
          x.dispose();
          y.dispose();
          break;
        }
        tidy(() => {
          student.train();
          const out = policy.forward(x);
          const loss = F.crossEntropy(out, y);
          const pl = policy.beforeBackwardPass(student, 0, losses.length, o.steps, loss, {});
          if (!pl) throw new Error('distillation was not active');
          opt.zeroGrad();
          pl.overallLoss.backward();
          opt.step();
          losses.push({ overall: pl.overallLoss.item() as number, objective: loss.item() as number, distill: pl.lossComponents[0].value.item() as number });
        });
        x.dispose();
        y.dispose();
      }
    }
    const pyLosses = JSON.parse(fs.readFileSync(path.join(dir, 'python_losses.json'), 'utf8')).losses as typeof losses;
    const pyFinal = load(path.join(dir, 'python_final.pt')) as Record<string, Tensor>;
    console.log('\n| step | overall (node) | overall (python) | rel. diff |');
    console.log('| ---: | ---: | ---: | ---: |');
    let worstLoss = 0;
    losses.forEach((l, i) => {
      const rel = Math.abs(l.overall - pyLosses[i].overall) / Math.max(Math.abs(pyLosses[i].overall), 1e-12);
      worstLoss = Math.max(worstLoss, rel);
      if (i % Math.max(1, Math.floor(o.steps / 10)) === 0 || i === losses.length - 1) {
        console.log(`| ${i} | ${l.overall.toFixed(7)} | ${pyLosses[i].overall.toFixed(7)} | ${rel.toExponential(2)} |`);
      }
    });
    let worstWeight = 0;
    const sd = student.stateDict();
    console.log('\n| parameter | max abs diff |');
    console.log('| --- | ---: |');
    for (const [k, v] of Object.entries(sd)) {
      const d = v.sub(pyFinal[k]).abs().max().item() as number;
      worstWeight = Math.max(worstWeight, d);
      console.log(`| ${k} | ${d.toExponential(2)} |`);
    }
    const ok = worstLoss <= o.tolerance && worstWeight <= o.tolerance;
    console.log(`\nmax relative loss difference ${worstLoss.toExponential(2)}, max weight difference ${worstWeight.toExponential(2)} (tolerance ${o.tolerance}): ${ok ? 'PASS' : 'FAIL'}`);
    return ok ? 0 : 1;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
