/**
 * `torchkd train`: Distiller's loop with KD, outputs, resume equality, and clear errors for bad input.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import * as torch from '../lib/index';
import { parseTrainArgs, runTraining, UsageError } from '../lib/cli/train';
import type { Output } from '../lib/cli/progress';

const ROOT = path.resolve(__dirname, '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const HAS_DATA = fs.existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz');

function quiet(): Output & { lines: string[] } {
  const lines: string[] = [];
  return { lines, line: (t: string) => void lines.push(t) };
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'torchkd.js'), ...args], { encoding: 'utf8', cwd: tmp });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const QUICK = ['--max-batches', '8', '-b', '64', '--print-freq', '100', '--seed', '3', '--vs', '0.05'];

describe.skipIf(!HAS_DATA)('torchkd train', () => {
  it('distils a student from a teacher trained first, writing metrics, checkpoints and a report', () => {
    const out = path.join(tmp, 'kd');
    const io = quiet();
    const r = runTraining(parseTrainArgs([...QUICK, '--arch', 'mlp_small_mnist', '--epochs', '2', '--kd-teacher', 'mlp_mnist', '--teacher-epochs', '1', '--kd-temp', '4', '--out', out]), io);
    expect(r.teacherSource).toBe('trained');
    expect(io.lines.some((l) => l.includes('teacher: --kd-resume not given, training mlp_mnist first'))).toBe(true);
    for (const f of ['metrics.jsonl', 'checkpoint.pt', 'best.pt', 'teacher.pt', 'report.html', 'args.json']) expect(fs.existsSync(path.join(out, f))).toBe(true);
    const rows = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => `${x.epoch}:${x.split}`)).toEqual(['0:train', '0:val', '1:train', '1:val', '1:test']);
    // Distillation ran in both epochs: the train rows carry the loss components, overall = 0.5·objective + 0.5·T²·KL.
    for (const row of rows.filter((x) => x.split === 'train')) {
      expect(row.distillLoss).toBeGreaterThan(0);
      expect(row.overallLoss).toBeCloseTo(0.5 * row.objectiveLoss + 0.5 * 16 * row.distillLoss, 4);
    }
    expect(fs.readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('<svg');
  });

  it('--resume reaches the same weights and metrics as an uninterrupted run', () => {
    const full = path.join(tmp, 'full');
    const part = path.join(tmp, 'part');
    const args = [...QUICK, '--arch', 'mlp_small_mnist', '--kd-teacher', 'mlp_small_mnist', '--teacher-epochs', '1', '--lr-step-epochs', '1', '--lr-gamma', '0.5'];
    runTraining(parseTrainArgs([...args, '--epochs', '3', '--out', full]), quiet());
    runTraining(parseTrainArgs([...args, '--epochs', '1', '--out', part]), quiet());
    // Continue the 1-epoch run to 3 epochs.
    const argsJson = JSON.parse(fs.readFileSync(path.join(part, 'args.json'), 'utf8'));
    expect(argsJson.epochs).toBe(1);
    runTraining(parseTrainArgs(['--resume', part, '--epochs', '3']), quiet());
    const a = torch.load(path.join(full, 'checkpoint.pt')) as { model: Record<string, torch.Tensor> };
    const b = torch.load(path.join(part, 'checkpoint.pt')) as { model: Record<string, torch.Tensor> };
    for (const k of Object.keys(a.model)) expect(a.model[k].equal(b.model[k])).toBe(true);
    const ma = fs.readFileSync(path.join(full, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const mb = fs.readFileSync(path.join(part, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((x) => !(x.split === 'test' && x.epoch === 0));
    const strip = (x: Record<string, number>): Record<string, number> => ({ ...x, seconds: 0 });
    expect(mb.map(strip)).toEqual(ma.map(strip));
    // best.pt and the teacher too: the same epoch, score and weights.
    for (const f of ['best.pt', 'teacher.pt']) {
      const x = torch.load(path.join(full, f)) as { state_dict: Record<string, torch.Tensor>; epoch: number; top1: number };
      const y = torch.load(path.join(part, f)) as typeof x;
      expect([y.epoch, y.top1], f).toEqual([x.epoch, x.top1]);
      for (const k of Object.keys(x.state_dict)) expect(x.state_dict[k].equal(y.state_dict[k]), `${f} ${k}`).toBe(true);
    }
  });

  it('--resume keeps the saved device unless --device moves the run (a GPU run continued on the CPU)', () => {
    const full = path.join(tmp, 'dev-full');
    const part = path.join(tmp, 'dev-part');
    const args = [...QUICK, '--arch', 'mlp_small_mnist'];
    runTraining(parseTrainArgs([...args, '--epochs', '2', '--out', full]), quiet());
    runTraining(parseTrainArgs([...args, '--epochs', '1', '--out', part]), quiet());
    // Make the saved run a GPU one, as if trained on a GPU machine.
    const file = path.join(part, 'checkpoint.pt');
    const ck = torch.load(file) as Record<string, unknown> & { args: string };
    ck.args = JSON.stringify({ ...JSON.parse(ck.args), device: 'cuda' });
    torch.save(ck as Parameters<typeof torch.save>[0], file);
    // Not moved, it continues on the saved device: on a GPU machine it does (in a copy of the run); without one it is a
    // clear error and nothing is written.
    if (torch.cuda.isAvailable()) {
      const copy = path.join(tmp, 'dev-part-gpu');
      fs.cpSync(part, copy, { recursive: true });
      const gpu = quiet();
      runTraining(parseTrainArgs(['--resume', copy, '--epochs', '2']), gpu);
      expect(gpu.lines.some((l) => l.includes('on cuda'))).toBe(true);
    } else {
      const before = fs.readFileSync(file);
      expect(() => runTraining(parseTrainArgs(['--resume', part, '--epochs', '2']), quiet())).toThrow(expect.objectContaining({ code: 'CUDA_UNAVAILABLE' }));
      expect(fs.readFileSync(file).equals(before)).toBe(true);
    }
    const io = quiet();
    runTraining(parseTrainArgs(['--resume', part, '--epochs', '2', '--device', 'cpu']), io);
    expect(io.lines.some((l) => l.includes('on cpu'))).toBe(true);
    const a = torch.load(path.join(full, 'checkpoint.pt')) as { model: Record<string, torch.Tensor> };
    const b = torch.load(file) as { model: Record<string, torch.Tensor> };
    for (const k of Object.keys(a.model)) expect(a.model[k].equal(b.model[k])).toBe(true);
  });

  it('--amp bf16 distils under autocast; --amp fp16 also scales the loss and resumes with the scaler state', () => {
    const bf = path.join(tmp, 'amp-bf16');
    const io = quiet();
    runTraining(parseTrainArgs([...QUICK, '--arch', 'mlp_small_mnist', '--epochs', '1', '--kd-teacher', 'mlp_small_mnist', '--teacher-epochs', '1', '--amp', 'bf16', '--out', bf]), io);
    expect(io.lines).toContain('mixed precision: bfloat16 autocast on cpu');
    const rows = fs.readFileSync(path.join(bf, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    for (const row of rows) expect(Number.isFinite(row.loss) && row.top1 > 10).toBe(true); // better than chance (10 classes)
    expect(rows.find((x) => x.split === 'train').distillLoss).toBeGreaterThan(0);
    const bfCk = torch.load(path.join(bf, 'checkpoint.pt')) as { model: Record<string, torch.Tensor>; grad_scaler?: unknown };
    expect(bfCk.grad_scaler).toBeUndefined();
    expect(bfCk.model['fc1.weight'].dtype).toBe('float32'); // autocast keeps the parameters in float32

    const args = [...QUICK, '--arch', 'mlp_small_mnist', '--amp', 'fp16'];
    const full = path.join(tmp, 'amp-full');
    const part = path.join(tmp, 'amp-part');
    const fio = quiet();
    runTraining(parseTrainArgs([...args, '--epochs', '2', '--out', full]), fio);
    expect(fio.lines).toContain('mixed precision: float16 autocast on cpu, loss scaled by a GradScaler');
    runTraining(parseTrainArgs([...args, '--epochs', '1', '--out', part]), quiet());
    const mid = torch.load(path.join(part, 'checkpoint.pt')) as { grad_scaler: { scale: number; _growth_tracker: number } };
    // PyTorch's defaults; early float16 steps overflow at 2^16, so the scale has backed off by powers of 2.
    expect(mid.grad_scaler).toMatchObject({ growth_factor: 2, backoff_factor: 0.5, growth_interval: 2000 });
    expect(mid.grad_scaler.scale).toBeLessThanOrEqual(65536);
    expect(Number.isInteger(Math.log2(mid.grad_scaler.scale))).toBe(true);
    const skipped = Math.log2(65536 / mid.grad_scaler.scale);
    expect(mid.grad_scaler._growth_tracker).toBeLessThanOrEqual(8 - skipped); // clean steps since the last overflow
    runTraining(parseTrainArgs(['--resume', part, '--epochs', '2']), quiet());
    const a = torch.load(path.join(full, 'checkpoint.pt')) as { model: Record<string, torch.Tensor>; grad_scaler: unknown };
    const b = torch.load(path.join(part, 'checkpoint.pt')) as { model: Record<string, torch.Tensor>; grad_scaler: unknown };
    for (const k of Object.keys(a.model)) expect(a.model[k].equal(b.model[k])).toBe(true);
    expect(b.grad_scaler).toEqual(a.grad_scaler);
  });

  it('sets cuDNN as Distiller does: benchmark mode, or deterministic algorithms with --deterministic', () => {
    const args = ['--max-batches', '2', '-b', '64', '--print-freq', '100', '--vs', '0.05', '--arch', 'mlp_small_mnist', '--epochs', '1'];
    try {
      runTraining(parseTrainArgs([...args, '--seed', '1', '--out', path.join(tmp, 'bench-mode')]), quiet());
      expect([torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic]).toEqual([true, false]);
      runTraining(parseTrainArgs([...args, '--deterministic', '--out', path.join(tmp, 'det-mode')]), quiet());
      expect([torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic]).toEqual([false, true]);
      runTraining(parseTrainArgs([...args, '--seed', '2', '--out', path.join(tmp, 'bench-mode-2')]), quiet());
      expect([torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic]).toEqual([true, false]);
    } finally {
      torch.backends.cudnn.benchmark = false;
      torch.backends.cudnn.deterministic = false;
    }
  });

  it('loads the teacher from --kd-resume (a Distiller-style checkpoint) and says so', () => {
    const out = path.join(tmp, 'loaded');
    const teacherFile = path.join(tmp, 'kd', 'teacher.pt');
    const io = quiet();
    const r = runTraining(parseTrainArgs([...QUICK, '--arch', 'mlp_small_mnist', '--epochs', '1', '--kd-teacher', 'mlp_mnist', '--kd-resume', teacherFile, '--out', out]), io);
    expect(r.teacherSource).toBe('loaded');
    expect(io.lines.some((l) => l.startsWith(`teacher: mlp_mnist with weights from ${teacherFile}`))).toBe(true);
  });
});

describe('torchkd train: bad input gets a clear message and no stack trace', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown architecture', ['--arch', 'resnet9000'], /argument --arch\/-a: invalid choice: 'resnet9000'/],
    ['bad number', ['--lr', 'fast'], /argument --lr\/--learning-rate: invalid float value: 'fast'/],
    ['bad epochs', ['--epochs', '0'], /--epochs must be positive/],
    ['missing data', ['--data', '/nonexistent', '--out', 'x1'], /Fashion-MNIST not found in \/nonexistent: install Debian's dataset-fashion-mnist/],
    ['unknown teacher', ['--kd-teacher', 'nope'], /argument --kd-teacher: invalid choice: 'nope'/],
    ['bad temperature', ['--kd-temp', '-1'], /--kd-temperature must be a positive number/],
    ['unknown --amp mode', ['--amp', 'fp8'], /argument --amp: invalid choice: 'fp8'/],
    ['unknown flag', ['--frobnicate'], /unrecognized arguments: --frobnicate/],
    ['a CIFAR-10 architecture', ['--arch', 'resnet20_cifar', '--out', 'cifar'], /--arch resnet20_cifar is a CIFAR-10 model \(3×32×32 inputs\), but torchkd train trains on Fashion-MNIST \(1×28×28\): choose one of simplenet_mnist, /],
    ['a CIFAR-10 teacher', ['--arch', 'mlp_mnist', '--kd-teacher', 'resnet20_cifar', '--out', 'cifar'], /--kd-teacher resnet20_cifar is a CIFAR-10 model/],
    ['a teacher without a student architecture', ['--kd-teacher', 'mlp_mnist', '--out', 'noarch'], /--kd-teacher mlp_mnist needs the student's --arch too/],
  ];
  for (const [name, args, re] of cases) {
    it(name, () => {
      const r = cli(['train', ...args]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      // Checked before anything is written: the same command, corrected, is not refused for an existing folder.
      for (const d of ['x1', 'cifar', 'noarch']) expect(fs.existsSync(path.join(tmp, d)), d).toBe(false);
    });
  }

  it.skipIf(!HAS_DATA)('an unreadable --kd-resume checkpoint', () => {
    const bad = path.join(tmp, 'bad.pt');
    fs.writeFileSync(bad, 'garbage');
    const r = cli(['train', ...QUICK, '--arch', 'mlp_small_mnist', '--epochs', '1', '--kd-teacher', 'mlp_small_mnist', '--kd-resume', bad, '--out', 'x2']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--kd-resume .*bad\.pt: .*not a readable PyTorch file/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('an existing output folder is never overwritten without --force', () => {
    const out = path.join(tmp, 'exists');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'precious.txt'), 'keep me');
    expect(() => runTraining(parseTrainArgs(['--out', out]), quiet())).toThrow(UsageError);
    const r = cli(['train', '--out', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/already exists and is not empty; choose another --out, or pass --force/);
    expect(fs.readFileSync(path.join(out, 'precious.txt'), 'utf8')).toBe('keep me');
  });

  it('--resume of a folder without a checkpoint', () => {
    const r = cli(['train', '--resume', tmp]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--resume: .* holds no torchkd run \(no checkpoint.pt or args.json\)/);
  });
});

describe('torchkd --version and --help', () => {
  it('--version prints the package version and the libtorch it runs on', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = cli([flag]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe(`torchkd ${pkg.version}\nlibtorch ${torch.version.libtorch} (${torch.version.cuda === null ? 'CPU' : `CUDA ${torch.version.cuda}`})\n`);
    }
  });

  it('--version still answers where no libtorch loads, and says so', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'torchkd.js'), '--version'], {
      encoding: 'utf8',
      cwd: tmp,
      env: { ...process.env, TORCHKD_LIBTORCH: path.join(tmp, 'no-libtorch-here') },
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^torchkd \d+\.\d+\.\d+\nlibtorch: none loads \(.+\); `torchkd doctor` says why\n$/);
  });

  it('train --help shows each default once, and none where there is none', () => {
    const r = cli(['train', '--help']);
    expect(r.status).toBe(0);
    const help = r.stdout.replace(/\s+/g, ' ');
    expect(help).toContain('--lr LR, --learning-rate LR initial learning rate (default: 0.1)');
    expect(help).toContain('--momentum M SGD momentum (default: 0.9)');
    expect(help).toContain('-b N, --batch-size N minibatch size (default: 256)');
    expect(help).toContain('--kd-temperature TEMP, --kd-temp TEMP softmax temperature of distillation (default: 1)');
    expect(help).toContain("--teacher-epochs N epochs to train the teacher when --kd-teacher has no --kd-resume (default: --epochs) ");
    expect(help).not.toMatch(/\(default: (null|undefined|false|)\)/);
    expect(help).not.toMatch(/\(default:[^)]*\) \(default:/);
    expect(help).not.toMatch(/resnet20_cifar \|/); // offered only where train can load its inputs
  });
});
