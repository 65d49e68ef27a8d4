/**
 * `torchkd train` survives being killed at any moment. A KD run (teacher trained in the same run, then the student) is
 * killed with SIGKILL at many points — training steps and evaluation batches of both phases, inside and between the
 * writes of each kind of file (fault injection: lib/fault.ts) — then continued with a bare `--resume` until it
 * finishes. Every time, the final weights, optimizer state, best.pt, teacher.pt and metrics.jsonl (row for row,
 * timings aside) equal the uninterrupted run's, no temporary file is left, and every .pt file loads in PyTorch.
 * SIGINT mid-epoch writes a checkpoint, exits with 130 and resumes to the same result; a second SIGINT exits at once.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { pythonWithTorch } from './helpers';
import { type Ck, expectBestIsBest, expectSameRun, rows } from './run-files';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'torchkd.js');
const HAS_DATA = fs.existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-crash-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// A small KD run: the teacher (2 epochs) trained first in the same run, then the student (3 epochs, a learning-rate
// step), 6 minibatches per epoch, validation, and the test pass.
const RUN = [
  'train', '--arch', 'mlp_small_mnist', '--kd-teacher', 'mlp_small_mnist', '--teacher-epochs', '2', '--epochs', '3',
  '--max-batches', '6', '-b', '64', '--vs', '0.05', '--seed', '7', '--threads', '2', '--print-freq', '1',
  '--lr-step-epochs', '2', '--lr-gamma', '0.5',
];

function train(args: string[], env: Record<string, string> = {}): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: tmp, env: { ...process.env, ...env }, timeout: 300_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const PY = pythonWithTorch();
/** Every .pt file of a run loads in PyTorch (weights only, as a cautious user would). */
function expectLoadsInPython(dir: string): void {
  if (PY === null) return;
  const files = [dir, path.join(dir, 'teacher')].flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d).filter((f) => f.endsWith('.pt')).map((f) => path.join(d, f)) : []));
  const code = `import sys, torch\nfor f in sys.argv[1:]: torch.load(f, weights_only=True)\nprint(len(sys.argv) - 1)`;
  const r = spawnSync(PY, ['-c', code, ...files], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout.trim()).toBe(String(files.length));
}

const ref = path.join(tmp, 'reference');

describe.skipIf(!HAS_DATA)('a KD run killed at any moment resumes to the uninterrupted result', () => {
  beforeAll(() => {
    const r = train([...RUN, '--out', ref]);
    expect(r.status, r.stderr).toBe(0);
  });

  // Fault points (lib/fault.ts) in the order the run meets them. The teacher phase has 2 × 6 steps and 2 × 3
  // validation batches; the student phase follows.
  const faults: [string, string][] = [
    ['step:2', 'a teacher training step, before the first checkpoint'],
    ['write-half:checkpoint.pt:1', "halfway through writing the teacher's first checkpoint"],
    ['step:9', "a step of the teacher's second epoch"],
    ['write:best.pt:2', "the teacher's second best.pt written, not yet renamed into place"],
    ['write:teacher.pt:1', 'teacher.pt copied to its temporary name, the student phase about to start'],
    ['step:14', 'the second step of the student'],
    ['eval:8', "a validation batch of the student's first epoch"],
    ['write:best.pt:3', "between the student's best.pt and its checkpoint"],
    ['write-half:checkpoint.pt:4', "halfway through the student's second checkpoint"],
    ['write:metrics.jsonl:8', 'metrics.jsonl written to its temporary name'],
    ['step:30', "a step of the student's last epoch (after the learning-rate step)"],
    ['eval:30', 'a batch of the final test pass'],
  ];
  // And three seeded random steps anywhere in the run (xorshift, seed 2026).
  let s = 2026;
  const rand = (n: number): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  for (let i = 0; i < 3; i++) {
    const step = 1 + rand(30);
    faults.push([`step:${step}`, `seeded random step ${step}`]);
  }

  for (const [fault, where] of faults) {
    it(`killed at ${fault} (${where})`, () => {
      const out = path.join(tmp, `run-${fault.replace(/[^a-z0-9]+/gi, '-')}`);
      const killed = train([...RUN, '--out', out], { TORCHKD_FAULT: fault });
      expect(killed.signal, `${killed.stdout}\n${killed.stderr}`).toBe('SIGKILL');
      expectLoadsInPython(out);
      const r = train(['train', '--resume', out]);
      expect(r.status, r.stderr).toBe(0);
      expectSameRun(ref, out);
      expectLoadsInPython(out);
    });
  }
});

describe.skipIf(!HAS_DATA)('SIGINT and SIGTERM', () => {
  /** Starts a run and sends `signals` once its output shows `when`; resolves with how it ended. */
  function interrupt(out: string, when: RegExp, signals: NodeJS.Signals[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, ...RUN, '--out', out], { cwd: tmp });
      let stdout = '';
      let stderr = '';
      let sent = false;
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (!sent && when.test(stdout)) {
          sent = true;
          for (const sig of signals) child.kill(sig);
        }
      });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
    });
  }

  it('SIGINT mid-epoch: the step finishes, a checkpoint is written, exit 130 with how to resume; --resume gives the same run', async () => {
    const out = path.join(tmp, 'sigint');
    const r = await interrupt(out, /distillation: T=[\s\S]*train 1 .*3\/6/, ['SIGINT']);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/stopped by SIGINT; the run is saved in .*: continue it with `torchkd train --resume /);
    const ck = torch.load<{ epoch: number; mid_epoch?: string }>(path.join(out, 'checkpoint.pt'));
    expect(ck.mid_epoch).toBeDefined();
    const res = train(['train', '--resume', out]);
    expect(res.status, res.stderr).toBe(0);
    expectSameRun(ref, out);
  });

  it('SIGTERM during the teacher phase: exit 143, and the whole run resumes', async () => {
    const out = path.join(tmp, 'sigterm');
    const r = await interrupt(out, /teacher: --kd-resume not given[\s\S]*train 0 .*2\/6/, ['SIGTERM']);
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toContain(`torchkd train --resume ${out}`);
    const res = train(['train', '--resume', out]);
    expect(res.status, res.stderr).toBe(0);
    expectSameRun(ref, out);
  });

  it('a second SIGINT exits at once, leaving no half-written file; --resume still gives the same run', async () => {
    const out = path.join(tmp, 'sigint-twice');
    const r = await interrupt(out, /train 0 .*4\/6/, ['SIGINT', 'SIGINT']);
    expect(r.signal === 'SIGINT' || r.code === 130, `${r.code} ${r.signal} ${r.stderr}`).toBe(true);
    expectLoadsInPython(out);
    const res = train(['train', '--resume', out]);
    expect(res.status, res.stderr).toBe(0);
    expectSameRun(ref, out);
  });
});

describe.skipIf(!HAS_DATA)('--resume restores the saved configuration', () => {
  it('restores --threads, --seed and the rest, says so, and refuses flags that would change the run', () => {
    const out = path.join(tmp, 'config');
    const first = train([...RUN.map((a) => (a === '3' ? '1' : a)), '--out', out]);
    expect(first.status, first.stderr).toBe(0);
    const bad = train(['train', '--resume', out, '--lr', '0.5', '--arch', 'mlp_mnist']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--resume: --arch "mlp_mnist" \(the run has "mlp_small_mnist"\); --lr 0\.5 \(the run has 0\.1\): a resumed run keeps its configuration/);
    const ok = train(['train', '--resume', out, '--epochs', '2', '--print-freq', '100']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/resume: restored --arch mlp_small_mnist --epochs 2 .*--seed 7 .*--threads 2/);
  });
});

describe.skipIf(!HAS_DATA)('the best epoch survives a resume', () => {
  // A plain run whose validation accuracy peaks in its first epoch (lr 0.4) and then falls: a resumed run that forgot
  // the best score would overwrite best.pt with a worse, later epoch.
  const PLAIN = ['train', '--arch', 'mlp_small_mnist', '--epochs', '4', '--max-batches', '6', '-b', '64', '--vs', '0.05', '--seed', '7', '--threads', '2', '--lr', '0.4'];
  const plainRef = path.join(tmp, 'plain-reference');
  beforeAll(() => {
    const r = train([...PLAIN, '--out', plainRef]);
    expect(r.status, r.stderr).toBe(0);
    const val = rows(plainRef).filter((r) => r.split === 'val') as { epoch: number; top1: number }[];
    expect(val.length).toBe(4);
    expect(Math.max(...val.slice(1).map((r) => r.top1))).toBeLessThan(val[0].top1); // the premise: epoch 0 is the best
  });

  it('killed in a later epoch, the resumed run keeps best.pt at epoch 0', () => {
    const out = path.join(tmp, 'plain-killed');
    expect(train([...PLAIN, '--out', out], { TORCHKD_FAULT: 'step:15' }).signal).toBe('SIGKILL');
    const r = train(['train', '--resume', out]);
    expect(r.status, r.stderr).toBe(0);
    expectSameRun(plainRef, out);
  });

  it('a finished run extended with --resume --epochs keeps its best epoch', () => {
    const out = path.join(tmp, 'plain-extended');
    const short = train([...PLAIN.map((a, i) => (PLAIN[i - 1] === '--epochs' ? '2' : a)), '--out', out]);
    expect(short.status, short.stderr).toBe(0);
    const r = train(['train', '--resume', out, '--epochs', '4']);
    expect(r.status, r.stderr).toBe(0);
    expectBestIsBest(out);
    expect(torch.load<{ epoch: number }>(path.join(out, 'best.pt')).epoch).toBe(0);
  });
});
