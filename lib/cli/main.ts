/**
 * The `torchkd` command line: `train`, `cache-teacher`, `parity`, `doctor`, `demo`, `setup`, `run`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { doctor } from './doctor';
import { packageRoot } from '../loader';

const USAGE = `usage: torchkd <command> [options]

commands:
  train    train a classifier with knowledge distillation (Distiller's compress_classifier KD flow)
  cache-teacher  run a trained teacher once over the data and store its logits (for train --kd-teacher-cache)
  parity   run the same recipe for K steps in Python and in Node and compare
  demo     the default recipe: teacher, student, student+KD on Fashion-MNIST (what \`npm start\` runs)
  doctor   show which libtorch and which binary torchkd uses, and why loading fails if it does
  setup    install PyTorch into the per-user cache when none is found, and make sure a torchkd binary fits it
  run      start N ranks of a script for torch.distributed, as torchrun does (--nproc-per-node N script.js)

run \`torchkd <command> --help\` for a command's options; \`torchkd --version\` prints the versions in use`;

/**
 * `torchkd --version`: the package's version, then the libtorch it runs on (and its CUDA), or why none loads. The
 * first line needs nothing native, so it answers even where the binary does not load.
 */
async function printVersion(): Promise<number> {
  let own = 'unknown';
  try {
    own = (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // a broken install still reports what it can
  }
  console.log(`torchkd ${own}`);
  try {
    const { version } = await import('../version');
    console.log(`libtorch ${version.libtorch} (${version.cuda === null ? 'CPU' : `CUDA ${version.cuda}`})`);
    return 0;
  } catch (e) {
    console.log(`libtorch: none loads (${(e as Error).message.split('\n')[0]}); \`torchkd doctor\` says why`);
    return 1;
  }
}

/** Runs a command; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'doctor':
        return doctor();
      case 'setup':
        return await (await import('./setup')).setupCommand(rest);
      case 'parity':
        return await (await import('./parity')).parityCommand(rest);
      case 'demo':
        return await (await import('./demo')).demoCommand(rest);
      case 'train':
        return await (await import('./train')).trainCommand(rest);
      case 'cache-teacher':
        return await (await import('./cache-teacher')).cacheTeacherCommand(rest);
      case 'run':
        return await (await import('./run')).runCommand(rest);
      case '--version':
      case '-V':
      case 'version':
        return await printVersion();
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        console.log(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        console.error(`torchkd: unknown command '${cmd}'\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    // Expected failures (bad flags, missing data, unreadable files) are reported without a stack trace.
    const err = e as Error;
    // argparse reports bad flags as 'ArgumentError: ...'; usage errors carry their own text.
    console.error(`torchkd ${cmd}: ${err.message.replace(/^ArgumentError: /, '')}`);
    if (process.env.TORCHKD_DEBUG) console.error(err.stack);
    return 1;
  }
}
