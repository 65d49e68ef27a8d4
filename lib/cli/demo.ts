/**
 * `torchkd demo` (what `npm start` runs): the default recipe on Fashion-MNIST, on the CPU in a few minutes —
 * a teacher (simplenet_mnist, 10 epochs) trained first, a small student (mlp_small_mnist, 784→32→10, 8 epochs)
 * trained without and with distillation (T=4, weights 0.5/0.5) from the same initial weights and data order, and a
 * table of their test top-1, with an HTML report comparing the runs.
 */
import { ArgumentParser } from 'argparse';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { pythonTypes } from '../distiller/args';
import { stdoutOutput } from './progress';
import { readMetrics, writeReport } from './report';
import { TrainArgs, UsageError, parseTrainArgs, runTraining } from './train';

function demoParser(): ArgumentParser {
  const p = new ArgumentParser({ prog: 'torchkd demo', description: 'Teacher, student and student+KD on Fashion-MNIST.', exit_on_error: false });
  p.add_argument('--teacher-epochs', { type: pythonTypes.int, default: 10, dest: 'teacher_epochs' });
  p.add_argument('--epochs', { type: pythonTypes.int, default: 8 });
  p.add_argument('--teacher', { default: 'simplenet_mnist' });
  p.add_argument('--student', { default: 'mlp_small_mnist' });
  p.add_argument('--kd-temp', { type: pythonTypes.float, default: 4.0, dest: 'kd_temp' });
  p.add_argument('--out', { default: null });
  p.add_argument('--seed', { type: pythonTypes.int, default: 1 });
  p.add_argument('--max-batches', { type: pythonTypes.int, default: null, dest: 'max_batches' });
  p.add_argument('--data', { default: null });
  return p;
}

/** The `torchkd demo` command. */
export async function demoCommand(argv: string[]): Promise<number> {
  const p = demoParser();
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(p.format_help());
    return 0;
  }
  let o: { teacher_epochs: number; epochs: number; teacher: string; student: string; kd_temp: number; out: string | null; seed: number; max_batches: number | null; data: string | null };
  try {
    o = p.parse_args(argv);
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^ArgumentError: /, ''));
  }
  const out = path.resolve(o.out ?? path.join('runs', `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`));
  if (fs.existsSync(out) && fs.readdirSync(out).length) throw new UsageError(`output folder ${out} already exists and is not empty; choose another --out`);
  const io = stdoutOutput();
  const t0 = Date.now();
  // Hyper-parameters: the teacher at lr 0.05; both students at lr 0.02 (with distillation at T=4 the KD gradient adds
  // to the labels' one, and 0.05+ made this small student unstable); Distiller's default weights 0.5/0.5.
  const common = [
    '--seed', String(o.seed), '--momentum', '0.9', '-b', '128', '--print-freq', '100', '--vs', '0.1',
    ...(o.max_batches ? ['--max-batches', String(o.max_batches)] : []), ...(o.data ? ['--data', o.data] : []),
  ];
  const run = (name: string, extra: string[]): ReturnType<typeof runTraining> => {
    io.line(`\n=== ${name} ===`);
    const args: TrainArgs = parseTrainArgs([...common, ...extra, '--out', path.join(out, name), '--name', name]);
    return runTraining(args, io);
  };
  const teacher = run('teacher', ['--arch', o.teacher, '--epochs', String(o.teacher_epochs), '--lr', '0.05']);
  const student = run('student', ['--arch', o.student, '--epochs', String(o.epochs), '--lr', '0.02']);
  const kd = run('student+kd', [
    '--arch', o.student, '--epochs', String(o.epochs), '--lr', '0.02', '--kd-teacher', o.teacher, '--kd-resume', path.join(out, 'teacher', 'best.pt'),
    '--kd-temp', String(o.kd_temp), '--kd-dw', '0.5', '--kd-sw', '0.5',
  ]);
  const runs = ['teacher', 'student', 'student+kd'].map((name) => ({ name, metrics: readMetrics(path.join(out, name, 'metrics.jsonl')) }));
  writeReport(path.join(out, 'report.html'), runs, { title: 'torchkd demo: knowledge distillation on Fashion-MNIST' });
  const rows = [
    ['teacher', o.teacher, teacher.test.top1],
    ['student', o.student, student.test.top1],
    ['student+KD', `${o.student} (T=${o.kd_temp}, from ${o.teacher})`, kd.test.top1],
  ] as const;
  io.line('\n| model | architecture | test top-1 (%) |');
  io.line('| --- | --- | --- |');
  for (const [name, arch, top1] of rows) io.line(`| ${name} | ${arch} | ${top1.toFixed(2)} |`);
  io.line(`\nKD gain over the plain student: ${(kd.test.top1 - student.test.top1 >= 0 ? '+' : '')}${(kd.test.top1 - student.test.top1).toFixed(2)} points`);
  io.line(`report: ${path.join(out, 'report.html')}  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  return 0;
}
