/**
 * `torchkd setup`: what the package's install step does, on demand — installs the pinned PyTorch into the per-user
 * cache when no libtorch is found (CPU, or the CUDA build when an NVIDIA driver is present), then makes sure a torchkd
 * binary fits it (a prebuilt one, or a source build). The work is scripts/install.js's, run with --setup.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { packageRoot } from '../loader';

const HELP = `usage: torchkd setup [--cpu | --cuda] [--force]

Installs PyTorch into the per-user cache ($TORCHKD_CACHE_DIR, else $XDG_CACHE_HOME/torchkd, else ~/.cache/torchkd)
when no libtorch is found, through pip as this machine configures it, and makes sure a torchkd binary fits it.

  --cpu, --cuda   install this flavour of PyTorch into the cache (default: CUDA when an NVIDIA driver is present)
  --force         reinstall the cache entry and rebuild torchkd from source`;

/** The `torchkd setup` command; resolves to the exit code. */
export async function setupCommand(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    console.log(HELP);
    return 0;
  }
  const bad = argv.filter((a) => !['--cpu', '--cuda', '--force'].includes(a));
  if (bad.length || (argv.includes('--cpu') && argv.includes('--cuda'))) {
    console.error(`torchkd setup: ${bad.length ? `unknown argument ${bad[0]}` : '--cpu and --cuda exclude each other'}\n\n${HELP}`);
    return 2;
  }
  const r = spawnSync(process.execPath, [path.join(packageRoot(), 'scripts', 'install.js'), '--setup', ...argv], { stdio: 'inherit' });
  return r.status ?? 1;
}
