#!/usr/bin/env node
'use strict';
/**
 * Compiles one .cu file to an object file with nvcc (binding.gyp's rule for .cu sources), or, with --check,
 * compiles every CUDA source listed in scripts/native-sources.json into a temporary folder and reports — the
 * compile-only switch that keeps the CUDA path from rotting on machines without a GPU or a CUDA libtorch.
 *
 * Architectures: TORCHKD_CUDA_ARCH (e.g. "90" or "80;90"), default 80 and 90 machine code plus compute_90 PTX.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { cudaToolkit } = require('../lib/libtorch.js');

function nvccPath() {
  const tk = cudaToolkit();
  if (!tk) return null;
  return path.join(tk, 'bin', 'nvcc');
}

function archFlags() {
  const archs = (process.env.TORCHKD_CUDA_ARCH || '80;90').split(/[;,\s]+/).filter(Boolean);
  const flags = [];
  for (const a of archs) flags.push('-gencode', `arch=compute_${a},code=sm_${a}`);
  const newest = archs[archs.length - 1];
  flags.push('-gencode', `arch=compute_${newest},code=compute_${newest}`);
  return flags;
}

function compile(src, out) {
  const nvcc = nvccPath();
  if (!nvcc) {
    process.stderr.write('torchkd: nvcc not found (set CUDA_HOME or install the CUDA toolkit)\n');
    return 1;
  }
  const args = ['-c', src, '-o', out, '-O3', '-std=c++17', '--expt-relaxed-constexpr', '-Xcompiler', '-fPIC',
    '-I', path.join(__dirname, '..', 'native'), ...archFlags()];
  const r = spawnSync(nvcc, args, { stdio: 'inherit' });
  return r.status === null ? 1 : r.status;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  if (args[0] === '--check') {
    const sources = require('./native-sources.json').cuda;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'torchkd-nvcc-'));
    let failed = 0;
    for (const src of sources) {
      const out = path.join(dir, path.basename(src) + '.o');
      const rc = compile(path.join(__dirname, '..', src), out);
      if (rc !== 0) failed++;
      else process.stdout.write(`compiled ${src} (${fs.statSync(out).size} bytes of object code)\n`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(failed ? 1 : 0);
  } else {
    if (args.length < 2) {
      process.stderr.write('usage: nvcc.js SRC.cu OUT.o | --check\n');
      process.exit(2);
    }
    fs.mkdirSync(path.dirname(args[1]), { recursive: true });
    process.exit(compile(args[0], args[1]));
  }
}

module.exports = { nvccPath, archFlags };
